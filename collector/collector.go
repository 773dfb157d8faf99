package collector

import (
	"sort"
	"strconv"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
	"google.golang.org/protobuf/proto"

	"github.com/zk-monitor/zk_monitor/compliance"
	"github.com/zk-monitor/zk_monitor/config"
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
//
// Every agent of a cluster exports every path, so each series a path costs
// is multiplied by the agents and the paths in Prometheus. By default a path
// with a children check has six: children, exists, compliant, stale, last
// change and one info series holding its spec's limits. What would repeat
// those is left out: compliance_state (the same verdict as compliant, three
// series a path, only with GathererOptions.ComplianceState) and
// check_passing for a path with a single check (it equals compliant).
type Gatherer struct {
	source Snapshotter
	next   prometheus.Gatherer
	opts   GathererOptions
	now    func() time.Time // data ages are taken at the scrape

	mu    sync.Mutex
	cache map[*PathState]*pathSeries
}

// GathererOptions choose the optional znode families.
type GathererOptions struct {
	// ComplianceState adds zk_monitor_znode_compliance_state{path,state}
	// (--collector.compliance-state).
	ComplianceState bool
}

// NewGatherer returns a Gatherer serving next's families and the znode
// families of source.
func NewGatherer(source Snapshotter, next prometheus.Gatherer, opts GathererOptions) *Gatherer {
	return &Gatherer{source: source, next: next, opts: opts, now: time.Now, cache: map[*PathState]*pathSeries{}}
}

type family struct {
	name, help string
}

// The znode families, in exposition order.
var (
	famCheck      = family{"zk_monitor_znode_check_passing", "Whether one configured check of the znode (children, max_children, exists, data, ephemeral, min_data_bytes, max_data_bytes or max_age) passed (1) or failed (0) when the znode was last evaluated; only for znodes with two checks or more."}
	famChildren   = family{"zk_monitor_znode_children", "Number of direct children of the znode when last read (0 when it does not exist); only those whose names match children_matching when it is set."}
	famCompliant  = family{"zk_monitor_znode_compliant", "Whether the znode met its configured checks (1) or not (0) when last read; absent when that is unknown."}
	famState      = family{"zk_monitor_znode_compliance_state", "Compliance state of the znode: 1 for the current state (ok, error or unknown), 0 for the others."}
	famDataAge    = family{"zk_monitor_znode_data_age_seconds", "Seconds since the znode's data was last written (its Stat mtime, by ZooKeeper's clock, against the agent's clock at the scrape); only for znodes with a max_age check."}
	famDataBytes  = family{"zk_monitor_znode_data_bytes", "Size of the znode's data in bytes when last read (its Stat dataLength; 0 when it does not exist); only for znodes with a min_data_bytes or max_data_bytes check."}
	famExists     = family{"zk_monitor_znode_exists", "Whether the znode existed when last read (1) or not (0)."}
	famLastChange = family{"zk_monitor_znode_last_change_timestamp_seconds", "Unix time at which a change of the znode's children, existence or data was last observed."}
	famSpec       = family{"zk_monitor_znode_spec_info", "The limits the configuration sets for the znode, as labels (min_children, max_children, children_matching, ephemeral, min_data_bytes, max_data_bytes, max_age_seconds); always 1."}
	famStale      = family{"zk_monitor_znode_stale", "Whether the exported values of the znode may be out of date because the ZooKeeper connection was lost and it was not read again yet (1) or not (0)."}
	famWatched    = family{"zk_monitor_watched_paths", "Number of znode paths being monitored, glob matches included."}
	famUnreadable = family{"zk_monitor_unreadable_paths", "Number of monitored znode paths with checks whose last read failed (no permission, or any error other than a missing znode)."}
)

// pathSeries are one path's series; nil where a series is absent.
type pathSeries struct {
	checks                                               []*dto.Metric // one per configured check, in label order; none for a single check
	children, compliant, exists, lastChange, spec, stale *dto.Metric
	dataBytes                                            *dto.Metric
	states                                               [3]*dto.Metric // error, ok, unknown: label order
	// modified is the last write of a znode with a max_age check; its age
	// is taken at each scrape. Zero when there is none to show.
	modified time.Time
	path     []*dto.LabelPair
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
			s = newPathSeries(st, g.opts)
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
	now := g.now()
	pick(famDataAge, func(s *pathSeries) *dto.Metric {
		if s.modified.IsZero() {
			return nil
		}
		return gauge(s.path, now.Sub(s.modified).Seconds())
	})
	pick(famDataBytes, func(s *pathSeries) *dto.Metric { return s.dataBytes })
	if g.opts.ComplianceState && len(series) > 0 {
		states := make([]*dto.Metric, 0, 3*len(series))
		for _, s := range series {
			states = append(states, s.states[:]...)
		}
		families = append(families, gaugeFamily(famState, states))
	}
	pick(famExists, func(s *pathSeries) *dto.Metric { return s.exists })
	pick(famLastChange, func(s *pathSeries) *dto.Metric { return s.lastChange })
	pick(famSpec, func(s *pathSeries) *dto.Metric { return s.spec })
	pick(famStale, func(s *pathSeries) *dto.Metric { return s.stale })
	families = append(families, gaugeFamily(famWatched, []*dto.Metric{gauge(nil, float64(len(snapshot)))}))
	// One series for the agent rather than one per path: a path that can
	// be read costs nothing, and which paths cannot is on /status and in
	// their ZnodeUnreadable alerts.
	unreadable := 0
	for _, st := range snapshot {
		if st.Unreadable() {
			unreadable++
		}
	}
	families = append(families, gaugeFamily(famUnreadable, []*dto.Metric{gauge(nil, float64(unreadable))}))

	sort.Slice(families, func(i, j int) bool { return families[i].GetName() < families[j].GetName() })
	return families, err
}

func newPathSeries(st *PathState, opts GathererOptions) *pathSeries {
	path := []*dto.LabelPair{{Name: proto.String("path"), Value: proto.String(st.Spec.Path)}}
	obs := st.Observation
	s := &pathSeries{path: path}
	var results []compliance.CheckResult
	if obs.Known {
		results = compliance.Checks(st.Spec, obs, st.Evaluated)
		sort.Slice(results, func(i, j int) bool { return results[i].Check < results[j].Check })
		// A single check's verdict is the path's: compliant says it.
		if len(results) > 1 {
			for _, r := range results {
				labels := []*dto.LabelPair{{Name: proto.String("check"), Value: proto.String(r.Check)}, path[0]}
				s.checks = append(s.checks, gauge(labels, boolValue(r.Passed)))
			}
		}
		s.children = gauge(path, float64(obs.Children))
		s.exists = gauge(path, boolValue(obs.Exists))
		s.lastChange = gauge(path, float64(st.LastChange.UnixNano())/1e9)
		if st.Spec.MinDataBytes != nil || st.Spec.MaxDataBytes != nil {
			size := 0
			if obs.Exists {
				size = obs.DataLength
			}
			s.dataBytes = gauge(path, float64(size))
		}
		// No gauge for ephemeral: whether the znode is owned repeats
		// compliant (or check_passing) and exists; its owner is on /status.
		if st.Spec.MaxAge > 0 && obs.Exists {
			s.modified = obs.Modified
		}
	}
	s.spec = specInfo(st.Spec, path[0])
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
	if opts.ComplianceState {
		for i, state := range stateOrder {
			labels := []*dto.LabelPair{path[0], {Name: proto.String("state"), Value: proto.String(state.String())}}
			s.states[i] = gauge(labels, boolValue(st.Result.State == state))
		}
	}
	s.stale = gauge(path, boolValue(obs.Stale || !obs.Known))
	return s
}

// specInfo returns the series of the limits spec sets, nil without any.
// The limits are labels of one series, not a gauge each: they change only
// with the configuration, and a query needs them beside the observed
// values rather than in arithmetic (compliant and check_passing already say
// whether they are met). Labels are in name order, the path last.
func specInfo(spec config.PathSpec, path *dto.LabelPair) *dto.Metric {
	var limits []*dto.LabelPair
	add := func(name, value string) {
		limits = append(limits, &dto.LabelPair{Name: proto.String(name), Value: proto.String(value)})
	}
	if spec.ChildrenMatching != nil {
		add("children_matching", spec.ChildrenMatching.String())
	}
	if spec.Ephemeral != nil {
		add("ephemeral", strconv.FormatBool(*spec.Ephemeral))
	}
	if spec.MaxAge > 0 {
		add("max_age_seconds", strconv.FormatFloat(spec.MaxAge.Seconds(), 'g', -1, 64))
	}
	if spec.MaxChildren != nil {
		add("max_children", strconv.Itoa(*spec.MaxChildren))
	}
	if spec.MaxDataBytes != nil {
		add("max_data_bytes", strconv.Itoa(*spec.MaxDataBytes))
	}
	if spec.MinChildren != nil {
		add("min_children", strconv.Itoa(*spec.MinChildren))
	}
	if spec.MinDataBytes != nil {
		add("min_data_bytes", strconv.Itoa(*spec.MinDataBytes))
	}
	if len(limits) == 0 {
		return nil
	}
	return gauge(append(limits, path), 1)
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
