package cluster

import (
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promauto"
)

// metrics are exported by every agent, leader or not, so that "masterness"
// can be resolved in PromQL. They carry the cluster's name as a label so
// that one Prometheus scraping several clusters in one job can aggregate
// them per cluster (sum by (job, cluster)).
type metrics struct {
	leader        prometheus.Gauge
	agents        prometheus.Gauge
	leaderChanges prometheus.Counter
	elections     prometheus.Counter
}

// identity is which cluster an agent belongs to, as its metrics say.
type identity struct {
	// name is the cluster's name (--cluster_name), the value of the
	// cluster label.
	name string
	// workspace is the cluster's ZooKeeper path.
	workspace string
	// zookeeper is the ensemble in use: servers and chroot, never
	// credentials.
	zookeeper string
}

func newMetrics(reg prometheus.Registerer, id identity) *metrics {
	if reg == nil {
		reg = prometheus.NewRegistry()
	}
	f := promauto.With(reg)
	cluster := prometheus.Labels{"cluster": id.name}
	f.NewGauge(prometheus.GaugeOpts{
		Name: "zk_monitor_cluster_info",
		Help: "Which zk_monitor cluster this agent belongs to, its workspace and the ZooKeeper servers and chroot it uses; always 1.",
		ConstLabels: prometheus.Labels{
			"cluster":   id.name,
			"workspace": id.workspace,
			"zookeeper": id.zookeeper,
		},
	}).Set(1)
	return &metrics{
		leader: f.NewGauge(prometheus.GaugeOpts{
			Name:        "zk_monitor_cluster_leader",
			Help:        "Whether this agent is the elected leader that sends alerts (1) or not (0).",
			ConstLabels: cluster,
		}),
		agents: f.NewGauge(prometheus.GaugeOpts{
			Name:        "zk_monitor_cluster_agents",
			Help:        "Number of agents registered in the cluster workspace, as last seen by this agent.",
			ConstLabels: cluster,
		}),
		leaderChanges: f.NewCounter(prometheus.CounterOpts{
			Name:        "zk_monitor_cluster_leader_changes_total",
			Help:        "Number of times this agent observed the elected leader change.",
			ConstLabels: cluster,
		}),
		elections: f.NewCounter(prometheus.CounterOpts{
			Name:        "zk_monitor_cluster_elections_total",
			Help:        "Number of times this agent won the election and became the leader.",
			ConstLabels: cluster,
		}),
	}
}
