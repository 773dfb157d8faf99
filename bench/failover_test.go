package bench

import (
	"fmt"
	"testing"
	"time"

	"github.com/zk-monitor/zk_monitor/internal/testenv"
)

// BenchmarkFailover times the hand-over of alerting from a leader to the
// other agent of a two-agent cluster (daemon.Run in-process, 2 s ZooKeeper
// session, one path out of spec so that a leader always has an alert to
// send). One iteration is one run with fresh agents:
//
//	kill      the leader's ZooKeeper connection is blackholed through a
//	          loopback proxy, as if its process were killed with -9: nobody
//	          tells ZooKeeper, the session must expire first (2 s).
//	graceful  the leader is stopped (its context cancelled): it deletes
//	          its election node on the way out.
//
// Reported: lead-p50 (until the other agent's /status says is_leader) and
// send-p50 (until its zk_monitor_alertmanager_alerts_sent_total moved: the
// new leader is sending), medians over the runs, and dual-leader, the runs
// in which the old leader still claimed leadership when the new one did.
// failoverPoll is the resolution of the failover figures; failovers take
// milliseconds to seconds, and each poll reads /status and /metrics.
const failoverPoll = 2 * time.Millisecond

func BenchmarkFailover(b *testing.B) {
	zkServer := testenv.StartZooKeeper(b)
	am := testenv.StartAlertmanager(b, nullReceiverConfig)
	cfg := testenv.WriteFile(b, "zk_monitor.yaml", "/failover/down: {children: 1}\n")
	for _, mode := range []string{"kill", "graceful"} {
		b.Run(mode, func(b *testing.B) {
			var lead, send latencies
			dual := 0
			for i := range b.N {
				b.StopTimer()
				cluster := fmt.Sprintf("failover-%s-%d-%d", mode, b.N, i)
				leaderZK := zkServer.Addr()
				var proxy *testenv.Proxy
				if mode == "kill" {
					proxy = testenv.NewProxy(b, zkServer.Addr())
					leaderZK = proxy.Addr()
				}
				oldOpts, err := agentOptions(leaderZK, cfg, cluster, agentName("old", i), am.URL())
				if err != nil {
					b.Fatal(err)
				}
				old := startAgent(b, oldOpts)
				testenv.Eventually(b, waitFor, 10*time.Millisecond, func() bool {
					return old.cluster().IsLeader && old.alertsSent() > 0
				}, "first agent never led and sent")
				newOpts, err := agentOptions(zkServer.Addr(), cfg, cluster, agentName("new", i), am.URL())
				if err != nil {
					b.Fatal(err)
				}
				next := startAgent(b, newOpts)
				testenv.Eventually(b, waitFor, 10*time.Millisecond, func() bool {
					return next.ready() && len(next.cluster().Agents) == 2 && !next.cluster().IsLeader
				}, "second agent never joined as a follower")

				b.StartTimer()
				start := time.Now()
				if mode == "kill" {
					proxy.Blackhole()
				} else {
					old.cancel()
				}
				var led, sent time.Time
				deadline := start.Add(testenv.Scaled(waitFor))
				for led.IsZero() || sent.IsZero() {
					if led.IsZero() && next.cluster().IsLeader {
						led = time.Now()
						if mode == "kill" && old.cluster().IsLeader {
							dual++
						}
					}
					if sent.IsZero() && next.alertsSent() > 0 {
						sent = time.Now()
					}
					if time.Now().After(deadline) {
						b.Fatalf("%s: no new leader after %v", mode, testenv.Scaled(waitFor))
					}
					time.Sleep(failoverPoll)
				}
				b.StopTimer()
				lead = append(lead, led.Sub(start))
				send = append(send, sent.Sub(start))
				if proxy != nil {
					proxy.Restore()
				}
				old.stop(b)
				next.stop(b)
			}
			b.ReportMetric(ms(lead.percentile(50)), "lead-p50-ms")
			b.ReportMetric(ms(send.percentile(50)), "send-p50-ms")
			b.ReportMetric(ms(lead.percentile(100)), "lead-max-ms")
			b.ReportMetric(float64(dual), "dual-leader")
		})
	}
}
