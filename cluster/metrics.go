package cluster

import (
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promauto"
)

// metrics are exported by every agent, leader or not, so that "masterness"
// can be resolved in PromQL.
type metrics struct {
	leader        prometheus.Gauge
	agents        prometheus.Gauge
	leaderChanges prometheus.Counter
	elections     prometheus.Counter
}

func newMetrics(reg prometheus.Registerer) *metrics {
	if reg == nil {
		reg = prometheus.NewRegistry()
	}
	f := promauto.With(reg)
	return &metrics{
		leader: f.NewGauge(prometheus.GaugeOpts{
			Name: "zk_monitor_cluster_leader",
			Help: "Whether this agent is the elected leader that sends alerts (1) or not (0).",
		}),
		agents: f.NewGauge(prometheus.GaugeOpts{
			Name: "zk_monitor_cluster_agents",
			Help: "Number of agents registered in the cluster workspace, as last seen by this agent.",
		}),
		leaderChanges: f.NewCounter(prometheus.CounterOpts{
			Name: "zk_monitor_cluster_leader_changes_total",
			Help: "Number of times this agent observed the elected leader change.",
		}),
		elections: f.NewCounter(prometheus.CounterOpts{
			Name: "zk_monitor_cluster_elections_total",
			Help: "Number of times this agent won the election and became the leader.",
		}),
	}
}
