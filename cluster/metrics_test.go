package cluster

import (
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
)

func TestMetricsLint(t *testing.T) {
	reg := prometheus.NewRegistry()
	m := newMetrics(reg, identity{name: "team-a", workspace: "/zk_monitor/team-a", zookeeper: "zk1:2181/apps"})
	m.leaderChanges.Inc()
	m.elections.Inc()
	problems, err := testutil.GatherAndLint(reg)
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range problems {
		t.Errorf("%s: %s", p.Metric, p.Text)
	}
	if n, err := testutil.GatherAndCount(reg); err != nil || n != 5 {
		t.Errorf("%d metrics (%v), want 5", n, err)
	}
}

// TestMetricsIdentity checks that every cluster metric names the cluster,
// so rules can aggregate by (job, cluster), and that the info series says
// which workspace and ensemble the agent uses.
func TestMetricsIdentity(t *testing.T) {
	reg := prometheus.NewRegistry()
	m := newMetrics(reg, identity{name: "team-a", workspace: "/zk_monitor/team-a", zookeeper: "zk1:2181,zk2:2181/apps"})
	m.leader.Set(1)
	m.agents.Set(2)
	want := `
# HELP zk_monitor_cluster_agents Number of agents registered in the cluster workspace, as last seen by this agent.
# TYPE zk_monitor_cluster_agents gauge
zk_monitor_cluster_agents{cluster="team-a"} 2
# HELP zk_monitor_cluster_elections_total Number of times this agent won the election and became the leader.
# TYPE zk_monitor_cluster_elections_total counter
zk_monitor_cluster_elections_total{cluster="team-a"} 0
# HELP zk_monitor_cluster_info Which zk_monitor cluster this agent belongs to, its workspace and the ZooKeeper servers and chroot it uses; always 1.
# TYPE zk_monitor_cluster_info gauge
zk_monitor_cluster_info{cluster="team-a",workspace="/zk_monitor/team-a",zookeeper="zk1:2181,zk2:2181/apps"} 1
# HELP zk_monitor_cluster_leader Whether this agent is the elected leader that sends alerts (1) or not (0).
# TYPE zk_monitor_cluster_leader gauge
zk_monitor_cluster_leader{cluster="team-a"} 1
# HELP zk_monitor_cluster_leader_changes_total Number of times this agent observed the elected leader change.
# TYPE zk_monitor_cluster_leader_changes_total counter
zk_monitor_cluster_leader_changes_total{cluster="team-a"} 0
`
	if err := testutil.GatherAndCompare(reg, strings.NewReader(want)); err != nil {
		t.Error(err)
	}
}
