package collector

import (
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/zk-monitor/zk_monitor/compliance"
	"github.com/zk-monitor/zk_monitor/config"
)

// snapshot is a fixed Snapshotter for the Gatherer's unit tests.
type snapshot []*PathState

func (s snapshot) Snapshot() []*PathState { return s }

func intp(i int) *int    { return &i }
func boolp(b bool) *bool { return &b }

// read returns the state of a path read once with the given observation.
func read(spec config.PathSpec, obs compliance.Observation) *PathState {
	obs.Known = true
	at := time.Unix(1700000000, 0)
	return &PathState{Spec: spec, Observation: obs, Result: compliance.Evaluate(spec, obs, at), LastChange: at, Evaluated: at}
}

// TestGathererSeriesPerPath checks which series a path costs: six for a
// children-only spec, check_passing only with two checks or more, the
// spec's limits as labels of one info series, and compliance_state only
// when asked for.
func TestGathererSeriesPerPath(t *testing.T) {
	tests := []struct {
		name  string
		state *PathState
		opts  GathererOptions
		want  string
	}{
		{
			name:  "children only",
			state: read(config.PathSpec{Path: "/a", MinChildren: intp(2)}, compliance.Observation{Exists: true, Children: 1}),
			want: `zk_monitor_znode_children{path="/a"} 1
zk_monitor_znode_compliant{path="/a"} 0
zk_monitor_znode_exists{path="/a"} 1
zk_monitor_znode_last_change_timestamp_seconds{path="/a"} 1.7e+09
zk_monitor_znode_spec_info{min_children="2",path="/a"} 1
zk_monitor_znode_stale{path="/a"} 0
`,
		},
		{
			name:  "two checks",
			state: read(config.PathSpec{Path: "/b", MinChildren: intp(1), MaxChildren: intp(3)}, compliance.Observation{Exists: true, Children: 4}),
			want: `zk_monitor_znode_check_passing{check="children",path="/b"} 1
zk_monitor_znode_check_passing{check="max_children",path="/b"} 0
zk_monitor_znode_children{path="/b"} 4
zk_monitor_znode_compliant{path="/b"} 0
zk_monitor_znode_exists{path="/b"} 1
zk_monitor_znode_last_change_timestamp_seconds{path="/b"} 1.7e+09
zk_monitor_znode_spec_info{max_children="3",min_children="1",path="/b"} 1
zk_monitor_znode_stale{path="/b"} 0
`,
		},
		{
			name:  "exists only: no limits, no info series",
			state: read(config.PathSpec{Path: "/c", Exists: boolp(true)}, compliance.Observation{Exists: true}),
			want: `zk_monitor_znode_children{path="/c"} 0
zk_monitor_znode_compliant{path="/c"} 1
zk_monitor_znode_exists{path="/c"} 1
zk_monitor_znode_last_change_timestamp_seconds{path="/c"} 1.7e+09
zk_monitor_znode_stale{path="/c"} 0
`,
		},
		{
			name:  "never read, with compliance_state",
			state: &PathState{Spec: config.PathSpec{Path: "/d", MinChildren: intp(1)}},
			opts:  GathererOptions{ComplianceState: true},
			want: `zk_monitor_znode_compliance_state{path="/d",state="error"} 0
zk_monitor_znode_compliance_state{path="/d",state="ok"} 0
zk_monitor_znode_compliance_state{path="/d",state="unknown"} 1
zk_monitor_znode_spec_info{min_children="1",path="/d"} 1
zk_monitor_znode_stale{path="/d"} 1
`,
		},
		{
			name:  "children only, with compliance_state",
			state: read(config.PathSpec{Path: "/e", MinChildren: intp(1)}, compliance.Observation{Exists: true, Children: 1}),
			opts:  GathererOptions{ComplianceState: true},
			want: `zk_monitor_znode_children{path="/e"} 1
zk_monitor_znode_compliance_state{path="/e",state="error"} 0
zk_monitor_znode_compliance_state{path="/e",state="ok"} 1
zk_monitor_znode_compliance_state{path="/e",state="unknown"} 0
zk_monitor_znode_compliant{path="/e"} 1
zk_monitor_znode_exists{path="/e"} 1
zk_monitor_znode_last_change_timestamp_seconds{path="/e"} 1.7e+09
zk_monitor_znode_spec_info{min_children="1",path="/e"} 1
zk_monitor_znode_stale{path="/e"} 0
`,
		},
		// The checks on the Stat and on matching children: their limits join
		// spec_info, and only data age and size get a series of their own.
		{
			name: "heartbeat: max_age only",
			state: read(config.PathSpec{Path: "/hb", MaxAge: 5 * time.Minute},
				compliance.Observation{Exists: true, Modified: time.Unix(1700000000, 0).Add(-90 * time.Second)}),
			want: `zk_monitor_znode_children{path="/hb"} 0
zk_monitor_znode_compliant{path="/hb"} 1
zk_monitor_znode_data_age_seconds{path="/hb"} 120
zk_monitor_znode_exists{path="/hb"} 1
zk_monitor_znode_last_change_timestamp_seconds{path="/hb"} 1.7e+09
zk_monitor_znode_spec_info{max_age_seconds="300",path="/hb"} 1
zk_monitor_znode_stale{path="/hb"} 0
`,
		},
		{
			name:  "heartbeat missing: no age",
			state: read(config.PathSpec{Path: "/hb", MaxAge: 1500 * time.Millisecond}, compliance.Observation{}),
			want: `zk_monitor_znode_children{path="/hb"} 0
zk_monitor_znode_compliant{path="/hb"} 0
zk_monitor_znode_exists{path="/hb"} 0
zk_monitor_znode_last_change_timestamp_seconds{path="/hb"} 1.7e+09
zk_monitor_znode_spec_info{max_age_seconds="1.5",path="/hb"} 1
zk_monitor_znode_stale{path="/hb"} 0
`,
		},
		{
			name:  "ephemeral only: no series of its own",
			state: read(config.PathSpec{Path: "/leader", Ephemeral: boolp(true)}, compliance.Observation{Exists: true, EphemeralOwner: 7}),
			want: `zk_monitor_znode_children{path="/leader"} 0
zk_monitor_znode_compliant{path="/leader"} 1
zk_monitor_znode_exists{path="/leader"} 1
zk_monitor_znode_last_change_timestamp_seconds{path="/leader"} 1.7e+09
zk_monitor_znode_spec_info{ephemeral="true",path="/leader"} 1
zk_monitor_znode_stale{path="/leader"} 0
`,
		},
		{
			name: "matching children: counted in children",
			state: read(config.PathSpec{Path: "/ids", MinChildren: intp(3), ChildrenMatching: regexp.MustCompile(`^[0-9]+$`)},
				compliance.Observation{Exists: true, Children: 2}),
			want: `zk_monitor_znode_children{path="/ids"} 2
zk_monitor_znode_compliant{path="/ids"} 0
zk_monitor_znode_exists{path="/ids"} 1
zk_monitor_znode_last_change_timestamp_seconds{path="/ids"} 1.7e+09
zk_monitor_znode_spec_info{children_matching="^[0-9]+$",min_children="3",path="/ids"} 1
zk_monitor_znode_stale{path="/ids"} 0
`,
		},
		{
			name:  "data size bounds",
			state: read(config.PathSpec{Path: "/blob", MinDataBytes: intp(1), MaxDataBytes: intp(16)}, compliance.Observation{Exists: true, DataLength: 17}),
			want: `zk_monitor_znode_check_passing{check="max_data_bytes",path="/blob"} 0
zk_monitor_znode_check_passing{check="min_data_bytes",path="/blob"} 1
zk_monitor_znode_children{path="/blob"} 0
zk_monitor_znode_compliant{path="/blob"} 0
zk_monitor_znode_data_bytes{path="/blob"} 17
zk_monitor_znode_exists{path="/blob"} 1
zk_monitor_znode_last_change_timestamp_seconds{path="/blob"} 1.7e+09
zk_monitor_znode_spec_info{max_data_bytes="16",min_data_bytes="1",path="/blob"} 1
zk_monitor_znode_stale{path="/blob"} 0
`,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			g := NewGatherer(snapshot{tt.state}, prometheus.NewRegistry(), tt.opts)
			// Data ages are taken at the scrape: 30 s after the read.
			g.now = func() time.Time { return time.Unix(1700000030, 0) }
			families, err := g.Gather()
			if err != nil {
				t.Fatal(err)
			}
			var got strings.Builder
			for _, f := range families {
				if !strings.HasPrefix(f.GetName(), "zk_monitor_znode_") {
					continue
				}
				for _, m := range f.GetMetric() {
					var labels []string
					for _, l := range m.GetLabel() {
						labels = append(labels, l.GetName()+"="+`"`+l.GetValue()+`"`)
					}
					got.WriteString(f.GetName() + "{" + strings.Join(labels, ",") + "} " + strconv.FormatFloat(m.GetGauge().GetValue(), 'g', -1, 64) + "\n")
				}
			}
			if got.String() != tt.want {
				t.Errorf("series:\n%s\nwant:\n%s", got.String(), tt.want)
			}
			// The exposition is valid and its families are lint-clean.
			problems, err := testutil.GatherAndLint(g)
			if err != nil {
				t.Fatal(err)
			}
			for _, p := range problems {
				t.Errorf("lint: %s: %s", p.Metric, p.Text)
			}
		})
	}
}
