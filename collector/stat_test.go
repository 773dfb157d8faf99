package collector_test

import (
	"fmt"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/go-zookeeper/zk"

	"github.com/zk-monitor/zk_monitor/compliance"
	"github.com/zk-monitor/zk_monitor/internal/testenv"
	"github.com/zk-monitor/zk_monitor/zkclient"
)

// The checks on a znode's Stat (max_age, ephemeral, data size) and on
// matching children, against a real ZooKeeper.

// sample returns the value of the series of family name whose label key
// is value, and whether it is exported.
func (h *specHarness) sample(name, key, value string) (float64, bool) {
	h.t.Helper()
	families, err := h.reg.Gather()
	if err != nil {
		h.t.Fatal(err)
	}
	for _, f := range families {
		if f.GetName() != name {
			continue
		}
		for _, m := range f.GetMetric() {
			for _, l := range m.GetLabel() {
				if l.GetName() == key && l.GetValue() == value {
					return m.GetGauge().GetValue() + m.GetCounter().GetValue(), true
				}
			}
		}
	}
	return 0, false
}

// gauge returns the value of the series of family name for path, and
// whether it is exported.
func (h *specHarness) gauge(name, path string) (float64, bool) {
	h.t.Helper()
	return h.sample(name, "path", path)
}

// zkActivity sums the requests the watcher's client sent and the watch
// notifications it received.
func (h *specHarness) zkActivity() float64 {
	return testenv.CounterSum(h.t, h.reg, "zk_monitor_zookeeper_requests_total") +
		testenv.CounterSum(h.t, h.reg, "zk_monitor_zookeeper_watch_events_total")
}

// waitMessage waits until path's result is in state with a message
// matching re.
func (h *specHarness) waitMessage(path string, state compliance.State, re string) compliance.Result {
	h.t.Helper()
	pattern := regexp.MustCompile(re)
	var last compliance.Result
	testenv.Eventually(h.t, waitFor, 10*time.Millisecond, func() bool {
		if st := h.state(path); st != nil {
			last = st.Result
		}
		return last.State == state && pattern.MatchString(last.Message)
	}, "%s: want %s matching %s, have %+v", path, state, re, last)
	return last
}

// TestHeartbeatStops is a heartbeat znode whose writer stops: each write
// keeps it compliant, and max_age fires when the data gets too old with no
// ZooKeeper event and no request, from ZooKeeper's mtime.
func TestHeartbeatStops(t *testing.T) {
	testenv.SkipIfShort(t, "needs a real ZooKeeper")
	const maxAge = 2 * time.Second
	h := startSpecs(t, "/hb: {max_age: 2s}\n/never: {max_age: 1m}\n", func(admin *zkclient.Client) {
		createData(t, admin, "/hb", "0")
	})
	h.waitResult("/hb", ok())
	h.waitResult("/never", failed("Path does not exist"))

	// The writer beats a few times; each write is seen (its mtime moves)
	// and keeps the path compliant.
	var mtime time.Time
	for i := 1; i <= 3; i++ {
		stat, err := h.admin.Set("/hb", []byte(fmt.Sprint(i)), -1)
		if err != nil {
			t.Fatal(err)
		}
		mtime = time.UnixMilli(stat.Mtime)
		testenv.Eventually(t, waitFor, 5*time.Millisecond, func() bool {
			st := h.state("/hb")
			return st.Observation.Modified.Equal(mtime)
		}, "the watcher did not see write %d (mtime %v)", i, mtime)
		if st := h.state("/hb"); st.Result != ok() && st.Evaluated.Before(mtime.Add(maxAge)) {
			t.Fatalf("after write %d: %+v", i, st.Result)
		}
	}
	age, exported := h.gauge("zk_monitor_znode_data_age_seconds", "/hb")
	if !exported || age < -1 || age > maxAge.Seconds()+60 {
		t.Errorf("zk_monitor_znode_data_age_seconds{path=\"/hb\"} = %v (exported %v) right after a write", age, exported)
	}
	if _, exported := h.gauge("zk_monitor_znode_data_age_seconds", "/never"); exported {
		t.Error("a data age is exported for a znode that does not exist")
	}

	// The writer stops. Nothing reaches the watcher any more.
	before := h.zkActivity()
	got := h.waitMessage("/hb", compliance.Error, `^Data last written [0-9]+s ago \(at [0-9T:.-]+Z\), not within max_age \(2s\)$`)
	if want := mtime.UTC().Format("2006-01-02T15:04:05.000Z"); !strings.Contains(got.Message, "(at "+want+")") {
		t.Errorf("message %q does not name the last write's mtime %s", got.Message, want)
	}
	if after := h.zkActivity(); after != before {
		t.Errorf("max_age fired after %v ZooKeeper requests and watch events; want none", after-before)
	}
	st := h.state("/hb")
	if st.Evaluated.Before(mtime.Add(maxAge)) {
		t.Errorf("evaluated as too old at %v, before mtime %v + max_age", st.Evaluated, mtime)
	}
	if hist := h.rec.history("/hb"); len(hist) == 0 || hist[len(hist)-1] != got {
		t.Errorf("the listener was not told: last updates %+v", hist)
	}
	if age, _ := h.gauge("zk_monitor_znode_data_age_seconds", "/hb"); age < maxAge.Seconds() {
		t.Errorf("zk_monitor_znode_data_age_seconds = %v once too old", age)
	}
	if v, _ := h.gauge("zk_monitor_znode_compliant", "/hb"); v != 0 {
		t.Errorf("zk_monitor_znode_compliant = %v, want 0", v)
	}
	if n := h.watcher.PendingAges(); n != 0 {
		t.Errorf("%d max_age deadlines pending with every check failing", n)
	}

	// It beats again: compliant, and watched for the next stop.
	setData(t, h.admin, "/hb", "4")
	h.waitResult("/hb", ok())
	if n := h.watcher.PendingAges(); n != 1 {
		t.Errorf("%d max_age deadlines pending, want 1", n)
	}
	h.waitMessage("/hb", compliance.Error, `not within max_age \(2s\)$`)
}

// TestEphemeralOwnerExpires watches a controller znode that must be
// ephemeral: compliant while its owner's session lives, non-compliant when
// the session expires and the node vanishes, and still when the node is
// created again as a persistent one. A znode that must not be ephemeral
// names its owner's session in hex.
func TestEphemeralOwnerExpires(t *testing.T) {
	testenv.SkipIfShort(t, "needs a real ZooKeeper")
	h := startSpecs(t, "/controller: {ephemeral: true}\n/config: {ephemeral: false}\n", nil)
	proxy := testenv.NewProxy(t, h.zk.Addr())
	owner := newClient(t, proxy.Addr(), 1500*time.Millisecond, "", "")
	session := owner.SessionID()
	for _, p := range []string{"/controller", "/config"} {
		if _, err := owner.Create(p, []byte("agent-1"), zk.FlagEphemeral, zk.WorldACL(zk.PermAll)); err != nil {
			t.Fatal(err)
		}
	}
	h.waitResult("/controller", ok())
	if got := h.state("/controller").Observation.EphemeralOwner; got != session {
		t.Errorf("EphemeralOwner = %#x, want the owner's session %#x", got, session)
	}
	h.waitResult("/config", failed(fmt.Sprintf("Path is ephemeral, owned by session 0x%x, but should be persistent", session)))

	// The owner is cut off; the server expires its session and deletes
	// its nodes.
	proxy.Blackhole()
	h.waitResult("/controller", failed("Path does not exist"))
	h.waitResult("/config", ok())
	proxy.Restore()

	// Someone creates it again, by hand, as a persistent node.
	createData(t, h.admin, "/controller", "manual")
	h.waitResult("/controller", failed("Path is persistent but should be ephemeral"))
	if v, _ := h.gauge("zk_monitor_znode_compliant", "/controller"); v != 0 {
		t.Errorf("zk_monitor_znode_compliant{path=\"/controller\"} = %v, want 0", v)
	}
}

// TestDataGrowsPastLimit writes ever more data into a config blob with
// size bounds: checked from the Stat, without reading the data.
func TestDataGrowsPastLimit(t *testing.T) {
	testenv.SkipIfShort(t, "needs a real ZooKeeper")
	h := startSpecs(t, "/blob: {min_data_bytes: 1, max_data_bytes: 16}\n", func(admin *zkclient.Client) {
		createData(t, admin, "/blob", "")
	})
	h.waitResult("/blob", failed("Data size (0 bytes) less than minimum (1)"))
	setData(t, h.admin, "/blob", "12345678")
	h.waitResult("/blob", ok())
	setData(t, h.admin, "/blob", strings.Repeat("x", 16))
	h.waitResult("/blob", ok())
	setData(t, h.admin, "/blob", strings.Repeat("x", 17))
	h.waitResult("/blob", failed("Data size (17 bytes) more than maximum (16)"))
	if v, _ := h.gauge("zk_monitor_znode_data_bytes", "/blob"); v != 17 {
		t.Errorf("zk_monitor_znode_data_bytes = %v, want 17", v)
	}
	// Two checks: each has its verdict.
	h.metrics(`# HELP zk_monitor_znode_check_passing Whether one configured check of the znode (children, max_children, exists, data, ephemeral, min_data_bytes, max_data_bytes or max_age) passed (1) or failed (0) when the znode was last evaluated; only for znodes with two checks or more.
# TYPE zk_monitor_znode_check_passing gauge
zk_monitor_znode_check_passing{check="max_data_bytes",path="/blob"} 0
zk_monitor_znode_check_passing{check="min_data_bytes",path="/blob"} 1
`, "zk_monitor_znode_check_passing")
	if gets, _ := h.sample("zk_monitor_zookeeper_requests_total", "op", "get"); gets != 0 {
		t.Errorf("%v reads of the data; the size comes from the Stat", gets)
	}
	setData(t, h.admin, "/blob", "small")
	h.waitResult("/blob", ok())
}

// TestChildrenMatching is a registry where only some child names count:
// children added with names that do not match change nothing, those that
// match count toward children and max_children, and the messages say
// "matching".
func TestChildrenMatching(t *testing.T) {
	testenv.SkipIfShort(t, "needs a real ZooKeeper")
	h := startSpecs(t, "/brokers/ids: {children: 2, max_children: 3, children_matching: '^[0-9]+$'}\n", func(admin *zkclient.Client) {
		create(t, admin, "/brokers/ids/1")
	})
	h.waitResult("/brokers/ids", failed("Found matching children (1) less than minimum (2)"))

	// Names that do not match, then one that does: the last read sees all
	// of them, and counts two.
	create(t, h.admin, "/brokers/ids/lock", "/brokers/ids/seqid-7", "/brokers/ids/2")
	h.waitResult("/brokers/ids", ok())
	if v, _ := h.gauge("zk_monitor_znode_children", "/brokers/ids"); v != 2 {
		t.Errorf("zk_monitor_znode_children = %v, want the 2 matching", v)
	}
	// More names that do not match: 7 children in all, 3 matching once
	// the last one is in, within max_children.
	create(t, h.admin, "/brokers/ids/a", "/brokers/ids/b", "/brokers/ids/c", "/brokers/ids/3")
	testenv.Eventually(t, waitFor, 10*time.Millisecond, func() bool {
		return h.state("/brokers/ids").Observation.Children == 3
	}, "matching children never 3: %+v", h.state("/brokers/ids").Observation)
	for _, r := range h.rec.history("/brokers/ids")[1:] {
		if r != ok() {
			t.Errorf("names that do not match counted: %+v", r)
		}
	}
	create(t, h.admin, "/brokers/ids/4")
	h.waitResult("/brokers/ids", failed("Found matching children (4) more than maximum (3)"))
	remove(t, h.admin, "/brokers/ids/1", "/brokers/ids/2", "/brokers/ids/3")
	h.waitResult("/brokers/ids", failed("Found matching children (1) less than minimum (2)"))
}

// TestReloadChangesStatLimits swaps in files that tighten and then relax
// every new key. A tighter max_age fires on time alone; checks that need
// other reads than before (another children_matching) are not judged on
// the old read, which would raise a false alert.
func TestReloadChangesStatLimits(t *testing.T) {
	testenv.SkipIfShort(t, "needs a real ZooKeeper")
	const loose = `
/hb: {max_age: 1h}
/blob: {max_data_bytes: 100}
/ids: {children: 1, children_matching: '^a'}
/owner: {ephemeral: false}
`
	h := startSpecs(t, loose, func(admin *zkclient.Client) {
		createData(t, admin, "/hb", "beat")
		createData(t, admin, "/blob", strings.Repeat("x", 10))
		create(t, admin, "/ids/a1", "/ids/b1", "/owner")
	})
	for _, p := range []string{"/hb", "/blob", "/ids", "/owner"} {
		h.waitResult(p, ok())
	}
	if n := h.watcher.PendingAges(); n != 1 {
		t.Fatalf("%d max_age deadlines pending, want 1", n)
	}

	// Children that neither regex counts, each read again as it comes:
	// the reload below finds reads for the old regex in flight, whose
	// count must not be judged by the new one.
	for i := range 30 {
		create(t, h.admin, fmt.Sprintf("/ids/c%d", i))
	}
	h.watcher.SetConfig(mustParse(t, `
/hb: {max_age: 1s}
/blob: {max_data_bytes: 4}
/ids: {children: 2, children_matching: '^[ab]'}
/owner: {ephemeral: true}
`))
	h.waitResult("/blob", failed("Data size (10 bytes) more than maximum (4)"))
	h.waitResult("/owner", failed("Path is persistent but should be ephemeral"))
	h.waitResult("/ids", ok()) // a1 and b1 match the new regex
	h.waitMessage("/hb", compliance.Error, `not within max_age \(1s\)$`)
	// Judged on the count of the old regex, /ids would have had one
	// matching child of the two it now needs.
	for _, r := range h.rec.history("/ids") {
		if r.State == compliance.Error {
			t.Errorf("/ids was judged on the children of the old regex: %+v", r)
		}
	}

	h.watcher.SetConfig(mustParse(t, loose))
	for _, p := range []string{"/hb", "/blob", "/ids", "/owner"} {
		h.waitResult(p, ok())
	}
	if n := h.watcher.PendingAges(); n != 1 {
		t.Errorf("%d max_age deadlines pending after relaxing max_age, want 1", n)
	}
	// A path that stops being watched leaves no deadline behind.
	h.watcher.SetConfig(mustParse(t, "/blob: {max_data_bytes: 100}\n"))
	testenv.Eventually(t, waitFor, 10*time.Millisecond, func() bool { return h.watcher.PendingAges() == 0 },
		"%d max_age deadlines pending for unwatched paths", h.watcher.PendingAges())
}

// TestGlobHeartbeatsDropped watches heartbeats through a glob: a match
// deleted stops being watched and leaves no max_age deadline that would
// evaluate it later.
func TestGlobHeartbeatsDropped(t *testing.T) {
	testenv.SkipIfShort(t, "needs a real ZooKeeper")
	h := startSpecs(t, "/workers/*/heartbeat: {max_age: 1h}\n", func(admin *zkclient.Client) {
		create(t, admin, "/workers/a/heartbeat", "/workers/b/heartbeat")
	})
	h.waitResult("/workers/a/heartbeat", ok())
	h.waitResult("/workers/b/heartbeat", ok())
	if n := h.watcher.PendingAges(); n != 2 {
		t.Fatalf("%d max_age deadlines pending, want 2", n)
	}
	remove(t, h.admin, "/workers/a")
	testenv.Eventually(t, waitFor, 10*time.Millisecond, func() bool { return h.specs.wasRemoved("/workers/a/heartbeat") },
		"the deleted match was not removed")
	if n := h.watcher.PendingAges(); n != 1 {
		t.Errorf("%d max_age deadlines pending, want 1 (for /workers/b/heartbeat)", n)
	}
}
