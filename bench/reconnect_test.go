package bench

import (
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/zk-monitor/zk_monitor/collector"
	"github.com/zk-monitor/zk_monitor/config"
	"github.com/zk-monitor/zk_monitor/internal/testenv"
)

// reconnectPaths is the number of watched paths of BenchmarkReconnect.
const reconnectPaths = 10000

// BenchmarkReconnect cuts the Watcher's connection (through a loopback
// proxy, well inside the session timeout) and restores it. One iteration is
// one cut, until the Watcher saw the loss, plus the restore, until every
// path was read again in the same session. It reports resync-ms (restore →
// nothing stale) and heap-KB/reconnect: how much the heap in use grew per
// reconnect, with no znode changing in between. A design that leaves no
// garbage behind shows about 0.
func BenchmarkReconnect(b *testing.B) {
	zkServer := testenv.StartZooKeeper(b)
	admin := testenv.RawZK(b, zkServer.Addr(), 10*time.Second)
	createTree(b, admin, "/reconnect", reconnectPaths)
	one := 1
	cfg := &config.Config{}
	for i := range reconnectPaths {
		cfg.Paths = append(cfg.Paths, config.PathSpec{Path: pathName("/reconnect", i), MinChildren: &one})
	}
	proxy := testenv.NewProxy(b, zkServer.Addr())
	client := newClient(b, proxy.Addr(), prometheus.NewRegistry())
	w := testenv.RunWatcher(b, client, cfg, nil, collector.Options{})
	fresh := func() bool {
		if !w.Connected() {
			return false
		}
		for _, st := range w.Snapshot() {
			if st.Observation.Stale {
				return false
			}
		}
		return true
	}
	session := client.SessionID()
	var resync latencies
	before := measureMemory()
	b.ResetTimer()
	for range b.N {
		proxy.Cut()
		testenv.Eventually(b, waitFor, time.Millisecond, func() bool { return !w.Connected() }, "disconnect not seen")
		start := time.Now()
		proxy.Restore()
		testenv.Eventually(b, waitFor, time.Millisecond, fresh, "paths not read again after the reconnect")
		resync = append(resync, time.Since(start))
	}
	b.StopTimer()
	after := measureMemory()
	if client.SessionID() != session {
		b.Fatal("the session changed: the cut outlasted the session timeout")
	}
	b.ReportMetric((float64(after.heapInUse)-float64(before.heapInUse))/1024/float64(b.N), "heap-KB/reconnect")
	resync.report(b, "resync-")
}
