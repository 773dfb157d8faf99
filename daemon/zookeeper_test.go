package daemon_test

import (
	"strings"
	"testing"
	"time"

	"github.com/zk-monitor/zk_monitor/internal/testenv"
)

// TestHungServerUnderLeader: the leading agent of two on a 3-server
// ensemble loses its server while the next server it tries hangs (accepts
// connections, never answers the handshake). It must go on to the third
// server within its session, so that its session and its place in the
// election survive and the other agent never takes over. go-zookeeper alone
// would wait 26.7 s (10 × 2/3 of the 4 s session) on the hung server, the
// session would expire and the other agent would lead.
func TestHungServerUnderLeader(t *testing.T) {
	testenv.SkipIfShort(t, "needs a real ZooKeeper ensemble")
	ens := testenv.StartEnsemble(t, 3)
	var proxies []*testenv.Proxy
	var addrs []string
	for _, z := range ens.Servers() {
		p := testenv.NewProxy(t, z.Addr())
		proxies = append(proxies, p)
		addrs = append(addrs, p.Addr())
	}
	opts := baseOptions(strings.Join(addrs, ","), "")
	opts.SessionTimeout = 4 * time.Second
	a := startAgent(t, opts)
	metric := func(series string) float64 {
		v, _ := faultMetric(t, a.URL, series)
		return v
	}
	testenv.Eventually(t, waitFor, pollEvery, func() bool { return metric(`zk_monitor_cluster_leader{cluster="`+opts.ClusterName+`"}`) == 1 }, "the first agent does not lead")
	// The other agent talks to the servers directly, untouched by the proxies.
	otherOpts := baseOptions(ens.ConnectString(), "")
	otherOpts.AgentName += "-other"
	other := startAgent(t, otherOpts)
	otherMetric := func(series string) float64 {
		v, _ := faultMetric(t, other.URL, series)
		return v
	}
	testenv.Eventually(t, waitFor, pollEvery, func() bool { return otherMetric(`zk_monitor_cluster_agents{cluster="`+opts.ClusterName+`"}`) == 2 }, "the second agent did not join")
	hung := -1
	// current is the server the agent is connected through.
	current := func() int {
		for i, p := range proxies {
			if i != hung && p.Conns() > 0 {
				return i
			}
		}
		return -1
	}
	var k int
	testenv.Eventually(t, waitFor, pollEvery, func() bool { k = current(); return k >= 0 }, "no connection through the proxies")
	// go-zookeeper tries the servers in a shuffled but fixed cyclic order.
	// Hang one of the other two and drop the current one: if the client goes
	// to the healthy one first, the hung one comes right after it in the
	// cycle, so dropping that next covers the hung-next order on every run.
	hung = (k + 1) % 3
	proxies[hung].Blackhole()
	for round := 1; round <= 2 && proxies[hung].Accepted() == 0; round++ {
		reconnects := metric("zk_monitor_zookeeper_reconnects_total")
		proxies[k].Cut()
		testenv.Eventually(t, waitFor, pollEvery, func() bool {
			return metric("zk_monitor_zookeeper_reconnects_total") > reconnects && metric("zk_monitor_zookeeper_connected") == 1
		}, "round %d: no reconnect", round)
		proxies[k].Restore()
		testenv.Eventually(t, waitFor, pollEvery, func() bool { k = current(); return k >= 0 }, "round %d: no connection through the proxies", round)
	}
	if proxies[hung].Accepted() == 0 {
		t.Fatal("the hung server was never tried")
	}
	if v := metric("zk_monitor_zookeeper_session_expirations_total"); v != 0 {
		t.Errorf("%v session expirations: the hung server held the client past the session", v)
	}
	testenv.Eventually(t, waitFor, pollEvery, func() bool { return metric(`zk_monitor_cluster_leader{cluster="`+opts.ClusterName+`"}`) == 1 }, "the first agent does not lead again")
	if v := otherMetric(`zk_monitor_cluster_elections_total{cluster="` + opts.ClusterName + `"}`); v != 0 {
		t.Errorf("the other agent won %v elections: leadership failed over", v)
	}
}
