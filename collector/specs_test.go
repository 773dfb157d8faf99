package collector_test

import (
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/go-zookeeper/zk"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/zk-monitor/zk_monitor/collector"
	"github.com/zk-monitor/zk_monitor/compliance"
	"github.com/zk-monitor/zk_monitor/config"
	"github.com/zk-monitor/zk_monitor/internal/testenv"
	"github.com/zk-monitor/zk_monitor/zkclient"
)

// The richer checks of a path spec (max_children, exists, data regex and
// JSON field, glob patterns, alert settings) against a real ZooKeeper.

// specRecorder is a recorder that also keeps the last spec the listener
// was given for each path.
type specRecorder struct {
	recorder
	specMu sync.Mutex
	specs  map[string]config.PathSpec
}

func (r *specRecorder) Update(spec config.PathSpec, res compliance.Result) {
	r.specMu.Lock()
	if r.specs == nil {
		r.specs = map[string]config.PathSpec{}
	}
	r.specs[spec.Path] = spec
	r.specMu.Unlock()
	r.recorder.Update(spec, res)
}

func (r *specRecorder) spec(path string) (config.PathSpec, bool) {
	r.specMu.Lock()
	defer r.specMu.Unlock()
	s, ok := r.specs[path]
	return s, ok
}

func (r *specRecorder) wasRemoved(path string) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Contains(r.removed, path)
}

// specHarness is a synced Watcher on a real ZooKeeper with its own
// registry, and an admin client to change the tree.
type specHarness struct {
	*harness
	specs *specRecorder
	// reg serves the znode families and the watcher's client metrics.
	reg   prometheus.Gatherer
	admin *zkclient.Client
	zk    *testenv.ZooKeeper
}

func startSpecs(t *testing.T, yaml string, setup func(admin *zkclient.Client)) *specHarness {
	t.Helper()
	zkServer := testenv.StartZooKeeper(t)
	admin := newClient(t, zkServer.Addr(), 5*time.Second, "", "")
	if setup != nil {
		setup(admin)
	}
	clientReg := prometheus.NewRegistry()
	client := testenv.ZKClient(t, zkclient.Options{ConnectString: zkServer.Addr(), SessionTimeout: 5 * time.Second, Registerer: clientReg})
	rec := &specRecorder{}
	w := testenv.RunWatcher(t, client, mustParse(t, yaml), rec, collector.Options{RetryInterval: 200 * time.Millisecond})
	reg := collector.NewGatherer(w, clientReg, collector.GathererOptions{})
	return &specHarness{
		harness: &harness{t: t, watcher: w, rec: &rec.recorder, client: client},
		specs:   rec,
		reg:     reg,
		admin:   admin,
		zk:      zkServer,
	}
}

func failed(msg string) compliance.Result {
	return compliance.Result{State: compliance.Error, Message: msg, Read: compliance.OK}
}

// createData creates p (its parents must exist) holding data.
func createData(t *testing.T, c *zkclient.Client, p, data string) {
	t.Helper()
	if _, err := c.Create(p, []byte(data), 0, zk.WorldACL(zk.PermAll)); err != nil {
		t.Fatalf("create %s: %v", p, err)
	}
}

func setData(t *testing.T, c *zkclient.Client, p, data string) {
	t.Helper()
	if _, err := c.Set(p, []byte(data), -1); err != nil {
		t.Fatalf("set %s: %v", p, err)
	}
}

// metrics compares the named families with the expected exposition text
// (HELP and TYPE lines included).
func (h *specHarness) metrics(expected string, names ...string) {
	h.t.Helper()
	if err := testutil.GatherAndCompare(h.reg, strings.NewReader(expected), names...); err != nil {
		h.t.Fatal(err)
	}
}

const (
	helpCompliant = `# HELP zk_monitor_znode_compliant Whether the znode met its configured checks (1) or not (0) when last read; absent when that is unknown.
# TYPE zk_monitor_znode_compliant gauge
`
	helpExists = `# HELP zk_monitor_znode_exists Whether the znode existed when last read (1) or not (0).
# TYPE zk_monitor_znode_exists gauge
`
	helpSpec = `# HELP zk_monitor_znode_spec_info The limits the configuration sets for the znode, as labels (min_children, max_children, children_matching, ephemeral, min_data_bytes, max_data_bytes, max_age_seconds); always 1.
# TYPE zk_monitor_znode_spec_info gauge
`
	helpChildren = `# HELP zk_monitor_znode_children Number of direct children of the znode when last read (0 when it does not exist); only those whose names match children_matching when it is set.
# TYPE zk_monitor_znode_children gauge
`
)

func TestMaxChildren(t *testing.T) {
	h := startSpecs(t, `
/mx: {max_children: 2}
/range: {children: 1, max_children: 2}
/missing: {max_children: 0}
`, func(admin *zkclient.Client) { create(t, admin, "/mx/a", "/mx/b", "/range/a") })

	h.waitResult("/mx", ok())
	h.waitResult("/range", ok())
	h.waitResult("/missing", ok()) // a missing path has no children
	h.metrics(helpCompliant+`zk_monitor_znode_compliant{path="/missing"} 1
zk_monitor_znode_compliant{path="/mx"} 1
zk_monitor_znode_compliant{path="/range"} 1
`+helpSpec+`zk_monitor_znode_spec_info{max_children="0",path="/missing"} 1
zk_monitor_znode_spec_info{max_children="2",path="/mx"} 1
zk_monitor_znode_spec_info{max_children="2",min_children="1",path="/range"} 1
`, "zk_monitor_znode_compliant", "zk_monitor_znode_spec_info")

	create(t, h.admin, "/mx/c", "/range/b", "/range/c")
	h.waitResult("/mx", failed("Found children (3) more than maximum (2)"))
	h.waitResult("/range", failed("Found children (3) more than maximum (2)"))
	h.metrics(helpCompliant+`zk_monitor_znode_compliant{path="/missing"} 1
zk_monitor_znode_compliant{path="/mx"} 0
zk_monitor_znode_compliant{path="/range"} 0
`+helpChildren+`zk_monitor_znode_children{path="/missing"} 0
zk_monitor_znode_children{path="/mx"} 3
zk_monitor_znode_children{path="/range"} 3
`, "zk_monitor_znode_compliant", "zk_monitor_znode_children")

	// Both bounds of a range, each with its own message.
	remove(t, h.admin, "/range/a", "/range/b", "/range/c")
	h.waitResult("/range", tooFew(0, 1))
	create(t, h.admin, "/missing/x")
	h.waitResult("/missing", failed("Found children (1) more than maximum (0)"))
	remove(t, h.admin, "/mx/c")
	h.waitResult("/mx", ok())
}

func TestExists(t *testing.T) {
	h := startSpecs(t, `
/must: {exists: true}
/mustnot: {exists: false}
/lock/held: {exists: true, children: 1}
`, nil)

	h.waitResult("/must", failed("Path does not exist"))
	h.waitResult("/mustnot", ok())
	h.waitResult("/lock/held", failed("Found children (0) less than minimum (1); Path does not exist"))
	h.metrics(helpCompliant+`zk_monitor_znode_compliant{path="/lock/held"} 0
zk_monitor_znode_compliant{path="/must"} 0
zk_monitor_znode_compliant{path="/mustnot"} 1
`+helpExists+`zk_monitor_znode_exists{path="/lock/held"} 0
zk_monitor_znode_exists{path="/must"} 0
zk_monitor_znode_exists{path="/mustnot"} 0
`, "zk_monitor_znode_compliant", "zk_monitor_znode_exists")

	// Created later: the exists watches fire.
	create(t, h.admin, "/must", "/mustnot", "/lock/held")
	h.waitResult("/must", ok())
	h.waitResult("/mustnot", failed("Path exists but should not"))
	h.waitResult("/lock/held", tooFew(0, 1))
	create(t, h.admin, "/lock/held/owner")
	h.waitResult("/lock/held", ok())
	h.metrics(helpCompliant+`zk_monitor_znode_compliant{path="/lock/held"} 1
zk_monitor_znode_compliant{path="/must"} 1
zk_monitor_znode_compliant{path="/mustnot"} 0
`+helpExists+`zk_monitor_znode_exists{path="/lock/held"} 1
zk_monitor_znode_exists{path="/must"} 1
zk_monitor_znode_exists{path="/mustnot"} 1
`, "zk_monitor_znode_compliant", "zk_monitor_znode_exists")

	// Deleted again, and the watches are re-armed for the next time.
	remove(t, h.admin, "/must", "/mustnot")
	h.waitResult("/must", failed("Path does not exist"))
	h.waitResult("/mustnot", ok())
	create(t, h.admin, "/mustnot")
	h.waitResult("/mustnot", failed("Path exists but should not"))
}

// TestDataRegex changes only a znode's data (no child, no existence
// change): the data watch must fire and the data be read again.
func TestDataRegex(t *testing.T) {
	h := startSpecs(t, `
/cfg/mode:
  data: {regex: '^mode=(primary|standby)$'}
/cfg/late:
  data: {regex: 'ready'}
`, func(admin *zkclient.Client) {
		create(t, admin, "/cfg")
		createData(t, admin, "/cfg/mode", "mode=primary")
	})
	badMode := failed("Data does not match regex /^mode=(primary|standby)$/")

	h.waitResult("/cfg/mode", ok())
	h.waitResult("/cfg/late", failed("Path does not exist"))

	for i, tc := range []struct {
		data string
		want compliance.Result
	}{
		{"mode=broken", badMode},
		{"mode=standby", ok()},
		{"", badMode},
		{"mode=primary", ok()},
		{"mode=primary\n", badMode}, // $ is end of text
	} {
		t.Run(fmt.Sprintf("%d:%q", i, tc.data), func(t *testing.T) {
			setData(t, h.admin, "/cfg/mode", tc.data)
			h.waitResult("/cfg/mode", tc.want)
			if got := string(h.state("/cfg/mode").Observation.Data); got != tc.data {
				t.Fatalf("observed data %q, want %q", got, tc.data)
			}
		})
	}
	before := h.state("/cfg/mode").LastChange
	setData(t, h.admin, "/cfg/mode", "mode=standby")
	h.waitResult("/cfg/mode", ok())
	if !h.state("/cfg/mode").LastChange.After(before) {
		t.Error("a data change did not move the last-change time")
	}
	h.metrics(helpCompliant+`zk_monitor_znode_compliant{path="/cfg/late"} 0
zk_monitor_znode_compliant{path="/cfg/mode"} 1
`, "zk_monitor_znode_compliant")

	// Deleted, then created with data: the exists watch leads to a data read.
	remove(t, h.admin, "/cfg/mode")
	h.waitResult("/cfg/mode", failed("Path does not exist"))
	createData(t, h.admin, "/cfg/mode", "mode=standby")
	h.waitResult("/cfg/mode", ok())
	createData(t, h.admin, "/cfg/late", "not yet")
	h.waitResult("/cfg/late", failed("Data does not match regex /ready/"))
	setData(t, h.admin, "/cfg/late", "ready!")
	h.waitResult("/cfg/late", ok())
}

func TestDataJSONField(t *testing.T) {
	h := startSpecs(t, `
/svc/leader:
  data: {json_field: status.state, equals: active}
/svc/replicas:
  data: {json_field: spec.replicas, equals: 3}
/svc/first:
  data: {json_field: hosts.0, equals: db1}
`, func(admin *zkclient.Client) {
		create(t, admin, "/svc")
		createData(t, admin, "/svc/leader", `{"status": {"state": "active"}}`)
		createData(t, admin, "/svc/replicas", `{"spec": {"replicas": 3}}`)
		createData(t, admin, "/svc/first", `{"hosts": ["db1", "db2"]}`)
	})
	h.waitResult("/svc/leader", ok())
	h.waitResult("/svc/replicas", ok())
	h.waitResult("/svc/first", ok())

	cases := []struct {
		path, data string
		want       compliance.Result
	}{
		{"/svc/leader", `{"status": {"state": "draining"}}`, failed(`Data field status.state is "draining", expected "active"`)},
		{"/svc/leader", `{"status": {}}`, failed("Data has no field status.state")},
		{"/svc/leader", `{"status": {"state": "active"}, "extra": [1, 2]}`, ok()},
		{"/svc/leader", `{"status": {"state": true}}`, failed(`Data field status.state is "true", expected "active"`)},
		{"/svc/replicas", `{"spec": {"replicas": 2}}`, failed(`Data field spec.replicas is "2", expected "3"`)},
		{"/svc/replicas", `{"spec": {"replicas": "3"}}`, ok()},
		{"/svc/first", `{"hosts": ["db2", "db1"]}`, failed(`Data field hosts.0 is "db2", expected "db1"`)},
		{"/svc/first", `{"hosts": []}`, failed("Data has no field hosts.0")},
	}
	for _, tc := range cases {
		t.Run(tc.path+" "+tc.data, func(t *testing.T) {
			setData(t, h.admin, tc.path, tc.data)
			h.waitResult(tc.path, tc.want)
		})
	}

	// Not JSON: the message says so.
	setData(t, h.admin, "/svc/leader", "active")
	testenv.Eventually(t, waitFor, 10*time.Millisecond, func() bool {
		r := h.state("/svc/leader").Result
		return r.State == compliance.Error && strings.HasPrefix(r.Message, "Data is not JSON: ")
	}, "non-JSON data: have %+v", h.state("/svc/leader").Result)
	h.metrics(helpCompliant+`zk_monitor_znode_compliant{path="/svc/first"} 0
zk_monitor_znode_compliant{path="/svc/leader"} 0
zk_monitor_znode_compliant{path="/svc/replicas"} 1
`, "zk_monitor_znode_compliant")
}

// TestGlobMatchesComeAndGo: znodes matching a pattern become monitored
// paths when they appear, at any depth of the pattern, and stop being
// monitored (the listener is told) when they disappear.
func TestGlobMatchesComeAndGo(t *testing.T) {
	h := startSpecs(t, `
/fleet/*/ready: {exists: true}
/zones/*/hosts/h-*: {max_children: 1}
/late/*/x: {children: 0}
`, func(admin *zkclient.Client) {
		create(t, admin, "/fleet/a/ready", "/fleet/b", "/zones/eu/hosts/h-1", "/zones/eu/hosts/other")
	})

	h.waitResult("/fleet/a/ready", ok())
	h.waitResult("/zones/eu/hosts/h-1", ok())
	monitored := func() []string {
		var out []string
		for _, st := range h.watcher.Snapshot() {
			out = append(out, st.Spec.Path)
		}
		return out
	}
	if got, want := monitored(), []string{"/fleet/a/ready", "/zones/eu/hosts/h-1"}; !slices.Equal(got, want) {
		t.Fatalf("monitored %v, want %v (no match for /fleet/b, /zones/eu/hosts/other or under the missing /late)", got, want)
	}
	if st := h.state("/fleet/a/ready"); st.Pattern != "/fleet/*/ready" {
		t.Errorf("pattern of /fleet/a/ready = %q", st.Pattern)
	}

	// Matches appear at every level of the patterns, and under a root that
	// did not exist.
	create(t, h.admin, "/fleet/b/ready", "/fleet/c/ready", "/zones/us/hosts/h-9/x", "/zones/eu/hosts/h-2", "/late/one/x")
	h.waitResult("/fleet/b/ready", ok())
	h.waitResult("/fleet/c/ready", ok())
	h.waitResult("/zones/us/hosts/h-9", ok())
	h.waitResult("/zones/eu/hosts/h-2", ok())
	h.waitResult("/late/one/x", ok())
	create(t, h.admin, "/zones/us/hosts/h-9/y")
	h.waitResult("/zones/us/hosts/h-9", failed("Found children (2) more than maximum (1)"))
	h.metrics(helpExists+`zk_monitor_znode_exists{path="/fleet/a/ready"} 1
zk_monitor_znode_exists{path="/fleet/b/ready"} 1
zk_monitor_znode_exists{path="/fleet/c/ready"} 1
zk_monitor_znode_exists{path="/late/one/x"} 1
zk_monitor_znode_exists{path="/zones/eu/hosts/h-1"} 1
zk_monitor_znode_exists{path="/zones/eu/hosts/h-2"} 1
zk_monitor_znode_exists{path="/zones/us/hosts/h-9"} 1
`+`# HELP zk_monitor_watched_paths Number of znode paths being monitored, glob matches included.
# TYPE zk_monitor_watched_paths gauge
zk_monitor_watched_paths 7
`, "zk_monitor_znode_exists", "zk_monitor_watched_paths")

	// Matches disappear: the match itself, its parent, a whole subtree.
	remove(t, h.admin, "/fleet/a/ready", "/fleet/b", "/zones/us")
	gone := []string{"/fleet/a/ready", "/fleet/b/ready", "/zones/us/hosts/h-9"}
	testenv.Eventually(t, waitFor, 10*time.Millisecond, func() bool {
		for _, p := range gone {
			if h.state(p) != nil || !h.specs.wasRemoved(p) {
				return false
			}
		}
		return true
	}, "matches not dropped (monitored %v)", monitored())
	if got, want := monitored(), []string{"/fleet/c/ready", "/late/one/x", "/zones/eu/hosts/h-1", "/zones/eu/hosts/h-2"}; !slices.Equal(got, want) {
		t.Fatalf("monitored %v, want %v", got, want)
	}
	h.metrics(`# HELP zk_monitor_watched_paths Number of znode paths being monitored, glob matches included.
# TYPE zk_monitor_watched_paths gauge
zk_monitor_watched_paths 4
`, "zk_monitor_watched_paths")

	// And come back: the watches on the intermediate levels were re-armed.
	create(t, h.admin, "/fleet/b/ready", "/zones/us/hosts/h-1")
	h.waitResult("/fleet/b/ready", ok())
	h.waitResult("/zones/us/hosts/h-1", ok())
}

// TestAlertSettingsReachListener: labels, severity, summary, runbook_url
// and the hold-down (cancel_timeout or its alias for) are carried, for
// literal paths and glob matches, into the spec the listener (the alerting
// layer) receives with each result.
func TestAlertSettingsReachListener(t *testing.T) {
	h := startSpecs(t, `
/lit:
  children: 2
  cancel_timeout: 90
  labels: {team: storage, tier: "1"}
  severity: critical
  summary: Too few storage nodes
  runbook_url: https://runbooks.example.com/storage
  alerter:
    email: a@example.com b@example.com
    slack: {channel: "#storage"}
/glob/*:
  exists: true
  for: 1m30s
  labels: {team: edge}
  severity: page
  runbook_url: https://runbooks.example.com/edge
`, func(admin *zkclient.Client) { create(t, admin, "/lit/a", "/glob/m1") })

	h.waitResult("/lit", tooFew(1, 2))
	h.waitResult("/glob/m1", ok())
	cases := []struct {
		path          string
		labels        map[string]string
		severity      string
		summary       string
		runbook       string
		cancelTimeout time.Duration
		email         []string
		slack         string
	}{
		{"/lit", map[string]string{"team": "storage", "tier": "1"}, "critical", "Too few storage nodes", "https://runbooks.example.com/storage", 90 * time.Second, []string{"a@example.com", "b@example.com"}, "#storage"},
		{"/glob/m1", map[string]string{"team": "edge"}, "page", "", "https://runbooks.example.com/edge", 90 * time.Second, nil, ""},
	}
	for _, tc := range cases {
		t.Run(tc.path, func(t *testing.T) {
			spec, ok := h.specs.spec(tc.path)
			if !ok {
				t.Fatal("the listener was never told about the path")
			}
			if spec.Path != tc.path {
				t.Errorf("spec.Path = %q, want the concrete path %q", spec.Path, tc.path)
			}
			if fmt.Sprint(spec.Labels) != fmt.Sprint(tc.labels) || spec.Severity != tc.severity || spec.Summary != tc.summary || spec.RunbookURL != tc.runbook {
				t.Errorf("alert settings = labels %v severity %q summary %q runbook %q, want %v %q %q %q",
					spec.Labels, spec.Severity, spec.Summary, spec.RunbookURL, tc.labels, tc.severity, tc.summary, tc.runbook)
			}
			if spec.CancelTimeout != tc.cancelTimeout {
				t.Errorf("hold-down = %v, want %v", spec.CancelTimeout, tc.cancelTimeout)
			}
			if !slices.Equal(spec.Alerter.Email, tc.email) || spec.Alerter.SlackChannel != tc.slack {
				t.Errorf("alerter = %+v, want email %v slack %q", spec.Alerter, tc.email, tc.slack)
			}
		})
	}

	// for: is the same setting as cancel_timeout: swapping one for the
	// other is no change at all, so the paths keep their state.
	lit, glob := h.state("/lit"), h.state("/glob/m1")
	h.watcher.SetConfig(mustParse(t, `
/lit:
  children: 2
  for: 1m30s
  labels: {team: storage, tier: "1"}
  severity: critical
  summary: Too few storage nodes
  runbook_url: https://runbooks.example.com/storage
  alerter:
    email: [a@example.com, b@example.com]
    slack: {channel: "#storage"}
/glob/*:
  exists: true
  cancel_timeout: 90
  labels: {team: edge}
  severity: page
  runbook_url: https://runbooks.example.com/edge
`))
	if h.state("/lit") != lit || h.state("/glob/m1") != glob {
		t.Error("swapping cancel_timeout and for changed the paths' state")
	}

	// A changed setting reaches the listener with the path's result.
	h.watcher.SetConfig(mustParse(t, `
/lit:
  children: 2
  for: 5s
  severity: warning
/glob/*:
  exists: true
  labels: {team: edge, zone: eu}
`))
	testenv.Eventually(t, waitFor, 10*time.Millisecond, func() bool {
		l, _ := h.specs.spec("/lit")
		g, _ := h.specs.spec("/glob/m1")
		return l.CancelTimeout == 5*time.Second && l.Severity == "warning" && l.Labels == nil && g.Labels["zone"] == "eu" && g.Severity == ""
	}, "changed alert settings did not reach the listener")
	h.waitResult("/lit", tooFew(1, 2))
	h.waitResult("/glob/m1", ok())
	// A glob match whose settings changed is a changed path, not a removed
	// and re-found one: its alert must not be resolved and started again.
	if h.specs.wasRemoved("/glob/m1") {
		t.Error("changing a glob's alert settings removed its match")
	}
	for _, r := range h.rec.history("/glob/m1") {
		if r.State != compliance.OK {
			t.Errorf("changing a glob's alert settings passed /glob/m1 through %+v", r)
		}
	}
}

// TestReloadLiteralAndGlobOverlap: an exact entry wins over a pattern that
// also matches its path; when a reload removes the exact entry, the
// pattern takes the path over (and gives it back when the entry returns).
func TestReloadLiteralAndGlobOverlap(t *testing.T) {
	h := startSpecs(t, `
/svc/*/x: {children: 1}
/svc/a/x: {children: 0}
`, func(admin *zkclient.Client) { create(t, admin, "/svc/a/x", "/svc/b/x") })
	h.waitResult("/svc/a/x", ok())
	h.waitResult("/svc/b/x", tooFew(0, 1))
	if st := h.state("/svc/a/x"); st.Pattern != "" {
		t.Fatalf("/svc/a/x monitored through pattern %q, want the exact entry", st.Pattern)
	}

	h.watcher.SetConfig(mustParse(t, "/svc/*/x: {children: 1}\n"))
	h.waitResult("/svc/a/x", tooFew(0, 1))
	if st := h.state("/svc/a/x"); st.Pattern != "/svc/*/x" {
		t.Fatalf("/svc/a/x pattern = %q after the exact entry was removed, want /svc/*/x", st.Pattern)
	}
	create(t, h.admin, "/svc/a/x/child")
	h.waitResult("/svc/a/x", ok())

	h.watcher.SetConfig(mustParse(t, "/svc/*/x: {children: 1}\n/svc/a/x: {children: 2}\n"))
	h.waitResult("/svc/a/x", tooFew(1, 2))
	h.waitResult("/svc/b/x", tooFew(0, 1))
}

// TestReloadGlobOverlap: when two patterns match the same path, the first
// one found monitors it; removing that pattern hands the path to the other.
func TestReloadGlobOverlap(t *testing.T) {
	h := startSpecs(t, `
/o/*/x: {children: 1}
/o/a/*: {children: 2}
`, func(admin *zkclient.Client) { create(t, admin, "/o/a/x/c") })
	testenv.Eventually(t, waitFor, 10*time.Millisecond, func() bool {
		st := h.state("/o/a/x")
		return st != nil && st.Observation.Known
	}, "/o/a/x not monitored")
	first := h.state("/o/a/x").Pattern
	other := map[string]string{"/o/*/x": "/o/a/*", "/o/a/*": "/o/*/x"}[first]
	want := map[string]compliance.Result{"/o/*/x": ok(), "/o/a/*": tooFew(1, 2)}
	h.waitResult("/o/a/x", want[first])

	h.watcher.SetConfig(mustParse(t, other+": {children: "+map[string]string{"/o/*/x": "1", "/o/a/*": "2"}[other]+"}\n"))
	h.waitResult("/o/a/x", want[other])
	if st := h.state("/o/a/x"); st.Pattern != other {
		t.Fatalf("/o/a/x pattern = %q, want %q", st.Pattern, other)
	}
}

// TestGlobUnreadableDirectoryRetried: a pattern's directory that cannot be
// listed (not authorized) is tried again, so matches appear once it can be.
func TestGlobUnreadableDirectoryRetried(t *testing.T) {
	var owner *zkclient.Client
	acl := zk.DigestACL(zk.PermAll, "owner", "pw")
	h := startSpecs(t, "/prot/*/x: {children: 0}\n", func(admin *zkclient.Client) {
		owner = newClient(t, admin.Server(), 5*time.Second, "owner", "pw")
		for _, p := range []string{"/prot", "/prot/a", "/prot/a/x"} {
			if _, err := owner.Create(p, nil, 0, acl); err != nil {
				t.Fatalf("create %s: %v", p, err)
			}
		}
	})
	if len(h.watcher.Snapshot()) != 0 {
		t.Fatalf("matches under a directory the watcher cannot list: %v", h.watcher.Snapshot())
	}
	// Replace the protected tree by an open one: no watch is left on it,
	// only the retry can find the match.
	remove(t, owner, "/prot")
	create(t, h.admin, "/prot/a/x")
	h.waitResult("/prot/a/x", ok())
}
