package testenv

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/zk-monitor/zk_monitor/collector"
	"github.com/zk-monitor/zk_monitor/config"
)

// watcherSyncTimeout bounds RunWatcher's wait, stretched by the scale knob.
const watcherSyncTimeout = 60 * time.Second

// RunWatcher starts a Watcher over cfg, stopped when the test ends, and
// waits until it has read every path once; a Watcher that does not sync
// fails the test with what it knows of each path.
func RunWatcher(tb testing.TB, zk collector.ZooKeeper, cfg *config.Config, listener collector.Listener, opts collector.Options) *collector.Watcher {
	tb.Helper()
	w := collector.NewWatcher(zk, cfg, listener, opts)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { w.Run(ctx); close(done) }()
	tb.Cleanup(func() { cancel(); <-done })
	select {
	case <-w.Synced():
	case <-time.After(Scaled(watcherSyncTimeout)):
		var states []string
		for _, st := range w.Snapshot() {
			states = append(states, fmt.Sprintf("%s %+v %q", st.Spec.Path, st.Observation, st.Pattern))
		}
		tb.Fatalf("watcher did not sync; state:\n%s", strings.Join(states, "\n"))
	}
	return w
}
