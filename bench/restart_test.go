package bench

import (
	"testing"
	"time"

	"github.com/go-zookeeper/zk"

	"github.com/zk-monitor/zk_monitor/internal/testenv"
	"github.com/zk-monitor/zk_monitor/zkclient"
)

// restartSessionTimeout is the session timeout of BenchmarkZooKeeperRestart,
// as in the README's `--zookeeper.session-timeout=4s` example.
const restartSessionTimeout = 4 * time.Second

// BenchmarkZooKeeperRestart restarts the standalone ZooKeeper that a
// zkclient and, as the baseline, a plain go-zookeeper client are connected
// to (SIGTERM, then the same port and data directory). One iteration is one
// restart. It reports, in milliseconds, the median and the maximum time
// from the restarted server serving requests again (srvr answers with a
// mode) until each client has a session again (reconnect- and
// raw-reconnect-), and for the zkclient from the server process starting
// (restart-). The goal: reconnect within the session timeout + 2 s. A
// client that connects while the server starts may get no answer to its
// handshake; go-zookeeper alone then waits 10 × 2/3 of the session timeout.
func BenchmarkZooKeeperRestart(b *testing.B) {
	zkServer := testenv.StartZooKeeper(b)
	client := testenv.ZKClient(b, zkclient.Options{ConnectString: zkServer.Addr(), SessionTimeout: restartSessionTimeout})
	raw := testenv.RawZK(b, zkServer.Addr(), restartSessionTimeout)
	rawUp := func() bool { return raw.State() == zk.StateHasSession }
	var reconnect, rawReconnect, restart latencies
	b.ResetTimer()
	for range b.N {
		zkServer.Stop()
		testenv.Eventually(b, waitFor, time.Millisecond, func() bool { return !client.Connected() && !rawUp() }, "the stop was not noticed")
		started := time.Now()
		zkServer.Start()
		ready := time.Now()
		var up, rawAt time.Time
		testenv.Eventually(b, waitFor, time.Millisecond, func() bool {
			now := time.Now()
			if up.IsZero() && client.Connected() {
				up = now
			}
			if rawAt.IsZero() && rawUp() {
				rawAt = now
			}
			return !up.IsZero() && !rawAt.IsZero()
		}, "no session after the restart")
		reconnect = append(reconnect, max(up.Sub(ready), 0))
		rawReconnect = append(rawReconnect, max(rawAt.Sub(ready), 0))
		restart = append(restart, up.Sub(started))
	}
	b.StopTimer()
	for prefix, l := range map[string]latencies{"reconnect-": reconnect, "raw-reconnect-": rawReconnect, "restart-": restart} {
		b.ReportMetric(ms(l.percentile(50)), prefix+"p50-ms")
		b.ReportMetric(ms(l.percentile(100)), prefix+"max-ms")
	}
}
