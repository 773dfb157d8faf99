package collector

import (
	"sort"
	"sync"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
	"google.golang.org/protobuf/proto"

	"github.com/zk-monitor/zk_monitor/compliance"
)

// Snapshotter is the source of a scrape; *Watcher implements it.
type Snapshotter interface {
	Snapshot() []*PathState
}

// Gatherer serves the znode metric families from the Watcher's cached
// snapshot, after the families of the registry it wraps. It never talks to
// ZooKeeper.
//
// It builds the exposition structures itself instead of being a
// prometheus.Collector: with 100,000 paths a Collector's million const
// metrics cost the registry more than a second per scrape in checks and
// sorting. A PathState is immutable, so each path's series are built once
// per change and reused by every later scrape.
type Gatherer struct {
	source Snapshotter
	next   prometheus.Gatherer

	mu    sync.Mutex
	cache map[*PathState]*pathSeries
}

// NewGatherer returns a Gatherer serving next's families and the znode
// families of source.
func NewGatherer(source Snapshotter, next prometheus.Gatherer) *Gatherer {
	return &Gatherer{source: source, next: next, cache: map[*PathState]*pathSeries{}}
}

type family struct {
	name, help string
}

// The znode families, in exposition order.
var (
	famCheck       = family{"zk_monitor_znode_check_passing", "Whether one configured check of the znode (children, max_children, exists or data) passed (1) or failed (0) when the znode was last read."}
	famChildren    = family{"zk_monitor_znode_children", "Number of direct children of the znode when last read (0 when it does not exist)."}
	famCompliant   = family{"zk_monitor_znode_compliant", "Whether the znode met its configured checks (1) or not (0) when last read; absent when that is unknown."}
	famState       = family{"zk_monitor_znode_compliance_state", "Compliance state of the znode: 1 for the current state (ok, error or unknown), 0 for the others."}
	famExists      = family{"zk_monitor_znode_exists", "Whether the znode existed when last read (1) or not (0)."}
	famLastChange  = family{"zk_monitor_znode_last_change_timestamp_seconds", "Unix time at which a change of the znode's children, existence or data was last observed."}
	famMaxChildren = family{"zk_monitor_znode_max_children", "Maximum number of children the configuration allows for the znode."}
	famMinChildren = family{"zk_monitor_znode_min_children", "Minimum number of children the configuration requires for the znode."}
	famStale       = family{"zk_monitor_znode_stale", "Whether the exported values of the znode may be out of date because the ZooKeeper connection was lost and it was not read again yet (1) or not (0)."}
	famWatched     = family{"zk_monitor_watched_paths", "Number of znode paths being monitored, glob matches included."}
)

// pathSeries are one path's series; nil where a series is absent.
type pathSeries struct {
	checks                                                                   []*dto.Metric // one per configured check, in label order
	children, compliant, exists, lastChange, maxChildren, minChildren, stale *dto.Metric
	states                                                                   [3]*dto.Metric // error, ok, unknown: label order
}

var stateOrder = [3]compliance.State{compliance.Error, compliance.OK, compliance.Unknown}

// Gather implements prometheus.Gatherer.
func (g *Gatherer) Gather() ([]*dto.MetricFamily, error) {
	families, err := g.next.Gather()
	snapshot := g.source.Snapshot()

	g.mu.Lock()
	cache := make(map[*PathState]*pathSeries, len(snapshot))
	series := make([]*pathSeries, len(snapshot))
	for i, st := range snapshot {
		s := g.cache[st]
		if s == nil {
			s = newPathSeries(st)
		}
		cache[st] = s
		series[i] = s
	}
	g.cache = cache
	g.mu.Unlock()

	pick := func(f family, get func(*pathSeries) *dto.Metric) {
		var metrics []*dto.Metric
		for _, s := range series {
			if m := get(s); m != nil {
				metrics = append(metrics, m)
			}
		}
		if len(metrics) > 0 {
			families = append(families, gaugeFamily(f, metrics))
		}
	}
	var checks []*dto.Metric
	for _, s := range series {
		checks = append(checks, s.checks...)
	}
	if len(checks) > 0 {
		families = append(families, gaugeFamily(famCheck, checks))
	}
	pick(famChildren, func(s *pathSeries) *dto.Metric { return s.children })
	pick(famCompliant, func(s *pathSeries) *dto.Metric { return s.compliant })
	if len(series) > 0 {
		states := make([]*dto.Metric, 0, 3*len(series))
		for _, s := range series {
			states = append(states, s.states[:]...)
		}
		families = append(families, gaugeFamily(famState, states))
	}
	pick(famExists, func(s *pathSeries) *dto.Metric { return s.exists })
	pick(famLastChange, func(s *pathSeries) *dto.Metric { return s.lastChange })
	pick(famMaxChildren, func(s *pathSeries) *dto.Metric { return s.maxChildren })
	pick(famMinChildren, func(s *pathSeries) *dto.Metric { return s.minChildren })
	pick(famStale, func(s *pathSeries) *dto.Metric { return s.stale })
	families = append(families, gaugeFamily(famWatched, []*dto.Metric{gauge(nil, float64(len(snapshot)))}))

	sort.Slice(families, func(i, j int) bool { return families[i].GetName() < families[j].GetName() })
	return families, err
}

func newPathSeries(st *PathState) *pathSeries {
	path := []*dto.LabelPair{{Name: proto.String("path"), Value: proto.String(st.Spec.Path)}}
	obs := st.Observation
	s := &pathSeries{}
	var results []compliance.CheckResult
	if obs.Known {
		results = compliance.Checks(st.Spec, obs)
		sort.Slice(results, func(i, j int) bool { return results[i].Check < results[j].Check })
		for _, r := range results {
			labels := []*dto.LabelPair{{Name: proto.String("check"), Value: proto.String(r.Check)}, path[0]}
			s.checks = append(s.checks, gauge(labels, boolValue(r.Passed)))
		}
		s.children = gauge(path, float64(obs.Children))
		s.exists = gauge(path, boolValue(obs.Exists))
		s.lastChange = gauge(path, float64(st.LastChange.UnixNano())/1e9)
	}
	if st.Spec.MinChildren != nil {
		s.minChildren = gauge(path, float64(*st.Spec.MinChildren))
	}
	if st.Spec.MaxChildren != nil {
		s.maxChildren = gauge(path, float64(*st.Spec.MaxChildren))
	}
	// While stale the state is Unknown (nothing alerts on it), but the last
	// known verdict stays exported beside zk_monitor_znode_stale 1, like the
	// other last known values, so dashboards and rules do not lose it: it
	// is the checks' results above, not evaluated again.
	verdict := st.Result.State
	if verdict == compliance.Unknown && obs.Stale && len(results) > 0 {
		verdict = compliance.OK
		for _, r := range results {
			if !r.Passed {
				verdict = compliance.Error
			}
		}
	}
	if verdict != compliance.Unknown {
		s.compliant = gauge(path, boolValue(verdict == compliance.OK))
	}
	for i, state := range stateOrder {
		labels := []*dto.LabelPair{path[0], {Name: proto.String("state"), Value: proto.String(state.String())}}
		s.states[i] = gauge(labels, boolValue(st.Result.State == state))
	}
	s.stale = gauge(path, boolValue(obs.Stale || !obs.Known))
	return s
}

func gauge(labels []*dto.LabelPair, v float64) *dto.Metric {
	return &dto.Metric{Label: labels, Gauge: &dto.Gauge{Value: proto.Float64(v)}}
}

func gaugeFamily(f family, metrics []*dto.Metric) *dto.MetricFamily {
	return &dto.MetricFamily{
		Name:   proto.String(f.name),
		Help:   proto.String(f.help),
		Type:   dto.MetricType_GAUGE.Enum(),
		Metric: metrics,
	}
}

func boolValue(b bool) float64 {
	if b {
		return 1
	}
	return 0
}
