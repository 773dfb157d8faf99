package collector

import (
	"github.com/prometheus/client_golang/prometheus"

	"github.com/zk-monitor/zk_monitor/compliance"
)

// Snapshotter is the source of a scrape; *Watcher implements it.
type Snapshotter interface {
	Snapshot() []*PathState
}

// Collector exports the Watcher's cached state. Collect never talks to
// ZooKeeper.
type Collector struct {
	source Snapshotter

	children    *prometheus.Desc
	exists      *prometheus.Desc
	minChildren *prometheus.Desc
	maxChildren *prometheus.Desc
	compliant   *prometheus.Desc
	state       *prometheus.Desc
	stale       *prometheus.Desc
	lastChange  *prometheus.Desc
	watched     *prometheus.Desc
}

// New returns a Collector reading from source.
func New(source Snapshotter) *Collector {
	path := []string{"path"}
	return &Collector{
		source: source,
		children: prometheus.NewDesc("zk_monitor_znode_children",
			"Number of direct children of the znode when last read (0 when it does not exist).", path, nil),
		exists: prometheus.NewDesc("zk_monitor_znode_exists",
			"Whether the znode existed when last read (1) or not (0).", path, nil),
		minChildren: prometheus.NewDesc("zk_monitor_znode_min_children",
			"Minimum number of children the configuration requires for the znode.", path, nil),
		maxChildren: prometheus.NewDesc("zk_monitor_znode_max_children",
			"Maximum number of children the configuration allows for the znode.", path, nil),
		compliant: prometheus.NewDesc("zk_monitor_znode_compliant",
			"Whether the znode meets its configured checks (1) or not (0); absent while its state is unknown.", path, nil),
		state: prometheus.NewDesc("zk_monitor_znode_compliance_state",
			"Compliance state of the znode: 1 for the current state (ok, error or unknown), 0 for the others.", []string{"path", "state"}, nil),
		stale: prometheus.NewDesc("zk_monitor_znode_stale",
			"Whether the exported values of the znode may be out of date because the ZooKeeper connection was lost and it was not read again yet (1) or not (0).", path, nil),
		lastChange: prometheus.NewDesc("zk_monitor_znode_last_change_timestamp_seconds",
			"Unix time at which a change of the znode's children, existence or data was last observed.", path, nil),
		watched: prometheus.NewDesc("zk_monitor_watched_paths",
			"Number of znode paths being monitored, glob matches included.", nil, nil),
	}
}

// Describe implements prometheus.Collector.
func (c *Collector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{c.children, c.exists, c.minChildren, c.maxChildren, c.compliant, c.state, c.stale, c.lastChange, c.watched} {
		ch <- d
	}
}

var states = []compliance.State{compliance.OK, compliance.Error, compliance.Unknown}

// Collect implements prometheus.Collector.
func (c *Collector) Collect(ch chan<- prometheus.Metric) {
	snapshot := c.source.Snapshot()
	ch <- prometheus.MustNewConstMetric(c.watched, prometheus.GaugeValue, float64(len(snapshot)))
	for _, st := range snapshot {
		p := st.Spec.Path
		obs := st.Observation
		if obs.Known {
			ch <- prometheus.MustNewConstMetric(c.children, prometheus.GaugeValue, float64(obs.Children), p)
			ch <- prometheus.MustNewConstMetric(c.exists, prometheus.GaugeValue, boolValue(obs.Exists), p)
			ch <- prometheus.MustNewConstMetric(c.lastChange, prometheus.GaugeValue, float64(st.LastChange.UnixNano())/1e9, p)
		}
		if st.Spec.MinChildren != nil {
			ch <- prometheus.MustNewConstMetric(c.minChildren, prometheus.GaugeValue, float64(*st.Spec.MinChildren), p)
		}
		if st.Spec.MaxChildren != nil {
			ch <- prometheus.MustNewConstMetric(c.maxChildren, prometheus.GaugeValue, float64(*st.Spec.MaxChildren), p)
		}
		if st.Result.State != compliance.Unknown {
			ch <- prometheus.MustNewConstMetric(c.compliant, prometheus.GaugeValue, boolValue(st.Result.State == compliance.OK), p)
		}
		for _, s := range states {
			ch <- prometheus.MustNewConstMetric(c.state, prometheus.GaugeValue, boolValue(st.Result.State == s), p, s.String())
		}
		ch <- prometheus.MustNewConstMetric(c.stale, prometheus.GaugeValue, boolValue(obs.Stale || !obs.Known), p)
	}
}

func boolValue(b bool) float64 {
	if b {
		return 1
	}
	return 0
}
