package bench

import (
	"testing"
	"time"

	"github.com/zk-monitor/zk_monitor/internal/testenv"
	"github.com/zk-monitor/zk_monitor/zkclient"
)

// restartSessionTimeout is the session timeout of BenchmarkZooKeeperRestart,
// as in the README's `--zookeeper.session-timeout=4s` example.
const restartSessionTimeout = 4 * time.Second

// BenchmarkZooKeeperRestart restarts the standalone ZooKeeper a zkclient is
// connected to (SIGTERM, then the same port and data directory). One
// iteration is one restart. It reports, in milliseconds, the median and
// the maximum time from the restarted server serving requests again (srvr
// answers with a mode) until the client has a session again (reconnect-),
// and from the server process starting until then (restart-). The goal:
// reconnect within the session timeout + 2 s.
func BenchmarkZooKeeperRestart(b *testing.B) {
	zkServer := testenv.StartZooKeeper(b)
	client := testenv.ZKClient(b, zkclient.Options{ConnectString: zkServer.Addr(), SessionTimeout: restartSessionTimeout})
	var reconnect, restart latencies
	b.ResetTimer()
	for range b.N {
		zkServer.Stop()
		eventually(b, time.Millisecond, func() bool { return !client.Connected() }, "the stop was not noticed")
		started := time.Now()
		zkServer.Start()
		ready := time.Now()
		eventually(b, time.Millisecond, client.Connected, "no session after the restart")
		up := time.Now()
		reconnect = append(reconnect, max(up.Sub(ready), 0))
		restart = append(restart, up.Sub(started))
	}
	b.StopTimer()
	for prefix, l := range map[string]latencies{"reconnect-": reconnect, "restart-": restart} {
		b.ReportMetric(ms(l.percentile(50)), prefix+"p50-ms")
		b.ReportMetric(ms(l.percentile(100)), prefix+"max-ms")
	}
}
