package testenv

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/zk-monitor/zk_monitor/collector"
	"github.com/zk-monitor/zk_monitor/config"
)

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
	case <-time.After(60 * time.Second):
		var states []string
		for _, st := range w.Snapshot() {
			states = append(states, fmt.Sprintf("%s %+v %q", st.Spec.Path, st.Observation, st.Pattern))
		}
		tb.Fatalf("watcher did not sync; state:\n%s", strings.Join(states, "\n"))
	}
	return w
}

// BuildZKMonitor builds the zk_monitor binary from the module at
// moduleDir into a new temporary directory, with extra go build flags, for
// tests that need real processes. It is meant for TestMain: it returns the
// binary and a function removing it.
func BuildZKMonitor(moduleDir string, flags ...string) (binary string, remove func(), err error) {
	dir, err := os.MkdirTemp("", "zk_monitor-test")
	if err != nil {
		return "", nil, err
	}
	binary = filepath.Join(dir, "zk_monitor")
	args := append([]string{"build", "-o", binary}, flags...)
	build := exec.Command("go", append(args, ".")...)
	build.Dir = moduleDir
	if out, err := build.CombinedOutput(); err != nil {
		os.RemoveAll(dir)
		return "", nil, fmt.Errorf("building zk_monitor: %v\n%s", err, out)
	}
	return binary, func() { os.RemoveAll(dir) }, nil
}
