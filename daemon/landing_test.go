package daemon_test

import (
	"strings"
	"testing"

	"github.com/zk-monitor/zk_monitor/internal/testenv"
)

// TestLandingPageShowsCluster runs an agent on a real ZooKeeper: its landing
// page names the cluster and, once elected, the agent as its leader.
func TestLandingPageShowsCluster(t *testing.T) {
	testenv.SkipIfShort(t, "needs a real ZooKeeper")
	zkServer := testenv.StartZooKeeper(t)
	opts := baseOptions(zkServer.Addr(), "")
	opts.ClusterName = "landing"
	a := startAgent(t, opts)
	want := []string{"Cluster <b>landing</b>", "leader: <b>" + opts.AgentName + "</b>", "1 agent: " + opts.AgentName}
	var body string
	testenv.Eventually(t, waitFor, pollEvery, func() bool {
		_, body = a.get("/")
		for _, w := range want {
			if !strings.Contains(body, w) {
				return false
			}
		}
		return true
	}, "landing page lacks one of %q", want)
}
