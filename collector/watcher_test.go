package collector_test

import (
	"errors"
	"fmt"
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

// waitFor bounds the tests' waits (stretched by the scale knob). A bound,
// not a delay: generous, for a ZooKeeper restarting on a busy machine (a
// client whose handshake reaches a server still starting waits for its
// answer up to ten times two thirds of its session timeout, 20s for 3s).
const waitFor = time.Minute

func newClient(t *testing.T, addr string, timeout time.Duration, user, pass string) *zkclient.Client {
	return testenv.ZKClient(t, zkclient.Options{ConnectString: addr, SessionTimeout: timeout, Username: user, Password: pass})
}

func mustParse(t testing.TB, yaml string) *config.Config {
	t.Helper()
	cfg, _, err := config.Parse([]byte(yaml), "test.yaml")
	if err != nil {
		t.Fatal(err)
	}
	return cfg
}

// recorder is a Listener that keeps every update.
type recorder struct {
	mu      sync.Mutex
	updates map[string][]compliance.Result
	removed []string
}

func (r *recorder) Update(spec config.PathSpec, res compliance.Result) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.updates == nil {
		r.updates = map[string][]compliance.Result{}
	}
	r.updates[spec.Path] = append(r.updates[spec.Path], res)
}

func (r *recorder) Remove(path string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.removed = append(r.removed, path)
}

func (r *recorder) history(path string) []compliance.Result {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]compliance.Result(nil), r.updates[path]...)
}

type harness struct {
	t       *testing.T
	watcher *collector.Watcher
	rec     *recorder
	client  *zkclient.Client
}

func startWatcher(t *testing.T, client *zkclient.Client, cfg *config.Config) *harness {
	t.Helper()
	rec := &recorder{}
	w := testenv.RunWatcher(t, client, cfg, rec, collector.Options{RetryInterval: 200 * time.Millisecond})
	return &harness{t: t, watcher: w, rec: rec, client: client}
}

func (h *harness) state(path string) *collector.PathState {
	for _, st := range h.watcher.Snapshot() {
		if st.Spec.Path == path {
			return st
		}
	}
	return nil
}

func (h *harness) waitResult(path string, want compliance.Result) {
	h.t.Helper()
	var st *collector.PathState
	testenv.Eventually(h.t, waitFor, 10*time.Millisecond, func() bool {
		st = h.state(path)
		return st != nil && st.Result == want
	}, "%s: want %+v, have %v", path, want, testenv.Last(&st))
}

func ok() compliance.Result {
	return compliance.Result{State: compliance.OK, Message: "All checks pass.", Read: compliance.OK}
}

func tooFew(found, min int) compliance.Result {
	return compliance.Result{State: compliance.Error, Message: fmt.Sprintf("Found children (%d) less than minimum (%d)", found, min), Read: compliance.OK}
}

func create(t *testing.T, c *zkclient.Client, paths ...string) {
	t.Helper()
	for _, p := range paths {
		if err := c.EnsurePath(p, zk.WorldACL(zk.PermAll)); err != nil {
			t.Fatalf("create %s: %v", p, err)
		}
	}
}

func remove(t *testing.T, c *zkclient.Client, paths ...string) {
	t.Helper()
	for _, p := range paths {
		if err := c.DeleteRecursive(p); err != nil {
			t.Fatalf("delete %s: %v", p, err)
		}
	}
}

// TestSeedReadmeExample is the original README's example: its YAML, its
// znodes, and exactly the compliance map it shows, then live updates.
func TestSeedReadmeExample(t *testing.T) {
	zkServer := testenv.StartZooKeeper(t)
	admin := newClient(t, zkServer.Addr(), 5*time.Second, "", "")
	create(t, admin, "/services/foo/min_1", "/services/foo/min_0", "/services/foo/min_3/a", "/services/foo/min_3/b")
	cfg, _, err := config.Load("../examples/legacy.yaml")
	if err != nil {
		t.Fatal(err)
	}
	h := startWatcher(t, newClient(t, zkServer.Addr(), 5*time.Second, "", ""), cfg)

	h.waitResult("/services/foo/min_0", ok())
	h.waitResult("/services/foo/min_1", tooFew(0, 1))
	h.waitResult("/services/foo/min_3", tooFew(2, 3))

	create(t, admin, "/services/foo/min_1/host1", "/services/foo/min_3/c")
	h.waitResult("/services/foo/min_1", ok())
	h.waitResult("/services/foo/min_3", ok())
	if st := h.state("/services/foo/min_3"); st.Observation.Children != 3 {
		t.Errorf("min_3 children = %d, want 3", st.Observation.Children)
	}
	remove(t, admin, "/services/foo/min_1/host1")
	h.waitResult("/services/foo/min_1", tooFew(0, 1))
}

func TestPathLifecycleAndNesting(t *testing.T) {
	zkServer := testenv.StartZooKeeper(t)
	admin := newClient(t, zkServer.Addr(), 5*time.Second, "", "")
	cfg := mustParse(t, `
/app:
  children: 1
/app/workers:
  children: 2
/later:
  children: 0
`)
	h := startWatcher(t, newClient(t, zkServer.Addr(), 5*time.Second, "", ""), cfg)

	// Missing paths count as 0 children and are exported as not existing.
	h.waitResult("/app", tooFew(0, 1))
	h.waitResult("/later", ok())
	if st := h.state("/later"); st.Observation.Exists {
		t.Fatal("/later should not exist yet")
	}

	// Created later: the exists watch fires; nested paths each see their own.
	create(t, admin, "/app/workers/w1")
	h.waitResult("/app", ok())
	h.waitResult("/app/workers", tooFew(1, 2))
	create(t, admin, "/app/workers/w2", "/later/x")
	h.waitResult("/app/workers", ok())
	testenv.Eventually(t, waitFor, 10*time.Millisecond, func() bool {
		st := h.state("/later")
		return st.Observation.Exists && st.Observation.Children == 1
	}, "/later not seen created")

	// Deleted: back to not existing, and the watch is re-armed for its return.
	remove(t, admin, "/app")
	h.waitResult("/app", tooFew(0, 1))
	h.waitResult("/app/workers", tooFew(0, 2))
	create(t, admin, "/app/workers/w1", "/app/workers/w2")
	h.waitResult("/app/workers", ok())
	h.waitResult("/app", ok())
}

func TestMetricsFromCache(t *testing.T) {
	zkServer := testenv.StartZooKeeper(t)
	admin := newClient(t, zkServer.Addr(), 5*time.Second, "", "")
	create(t, admin, "/m/a", "/m/b")
	reg := prometheus.NewRegistry()
	client := testenv.ZKClient(t, zkclient.Options{ConnectString: zkServer.Addr(), SessionTimeout: 5 * time.Second, Registerer: reg})
	h := startWatcher(t, client, mustParse(t, "/m: {children: 3, max_children: 5}\n/none:\n"))
	gatherer := collector.NewGatherer(h.watcher, reg, collector.GathererOptions{})
	h.waitResult("/m", tooFew(2, 3))

	// Scrapes never ask ZooKeeper. The watcher itself may still be reading
	// when the result shows (a resync racing with its first read, when the
	// client was connected before Run): look for five scrapes in a row
	// during which the client sent nothing, which a scrape that asked
	// ZooKeeper anything would never allow.
	var sent float64
	testenv.Eventually(t, waitFor, 10*time.Millisecond, func() bool {
		before := testenv.CounterSum(t, reg, "zk_monitor_zookeeper_requests_total")
		for i := 0; i < 5; i++ {
			if _, err := gatherer.Gather(); err != nil {
				t.Fatal(err)
			}
		}
		sent = testenv.CounterSum(t, reg, "zk_monitor_zookeeper_requests_total") - before
		return sent == 0
	}, "every five scrapes came with ZooKeeper requests (%v the last time)", testenv.Last(&sent))
	expected := `
# HELP zk_monitor_znode_check_passing Whether one configured check of the znode (children, max_children, exists, data, ephemeral, min_data_bytes, max_data_bytes or max_age) passed (1) or failed (0) when the znode was last evaluated; only for znodes with two checks or more.
# TYPE zk_monitor_znode_check_passing gauge
zk_monitor_znode_check_passing{check="children",path="/m"} 0
zk_monitor_znode_check_passing{check="max_children",path="/m"} 1
# HELP zk_monitor_znode_children Number of direct children of the znode when last read (0 when it does not exist); only those whose names match children_matching when it is set.
# TYPE zk_monitor_znode_children gauge
zk_monitor_znode_children{path="/m"} 2
zk_monitor_znode_children{path="/none"} 0
# HELP zk_monitor_znode_compliant Whether the znode met its configured checks (1) or not (0) when last read; absent when that is unknown.
# TYPE zk_monitor_znode_compliant gauge
zk_monitor_znode_compliant{path="/m"} 0
# HELP zk_monitor_znode_exists Whether the znode existed when last read (1) or not (0).
# TYPE zk_monitor_znode_exists gauge
zk_monitor_znode_exists{path="/m"} 1
zk_monitor_znode_exists{path="/none"} 0
# HELP zk_monitor_znode_spec_info The limits the configuration sets for the znode, as labels (min_children, max_children, children_matching, ephemeral, min_data_bytes, max_data_bytes, max_age_seconds); always 1.
# TYPE zk_monitor_znode_spec_info gauge
zk_monitor_znode_spec_info{max_children="5",min_children="3",path="/m"} 1
# HELP zk_monitor_znode_stale Whether the exported values of the znode may be out of date because the ZooKeeper connection was lost and it was not read again yet (1) or not (0).
# TYPE zk_monitor_znode_stale gauge
zk_monitor_znode_stale{path="/m"} 0
zk_monitor_znode_stale{path="/none"} 0
# HELP zk_monitor_watched_paths Number of znode paths being monitored, glob matches included.
# TYPE zk_monitor_watched_paths gauge
zk_monitor_watched_paths 2
# HELP zk_monitor_zookeeper_connected Whether this agent has a live, authenticated ZooKeeper session (1) or not (0).
# TYPE zk_monitor_zookeeper_connected gauge
zk_monitor_zookeeper_connected 1
`
	if err := testutil.GatherAndCompare(gatherer, strings.NewReader(expected),
		"zk_monitor_znode_check_passing", "zk_monitor_znode_children", "zk_monitor_znode_compliant", "zk_monitor_znode_compliance_state",
		"zk_monitor_znode_exists", "zk_monitor_znode_spec_info",
		"zk_monitor_znode_stale", "zk_monitor_watched_paths", "zk_monitor_zookeeper_connected"); err != nil {
		t.Fatal(err)
	}
}

// TestDisconnectMarksStaleAndRereads cuts the connection, changes the
// tree behind the agent's back and checks the change is picked up on
// reconnect, with Unknown (never a false alert) in between.
func TestDisconnectMarksStaleAndRereads(t *testing.T) {
	zkServer := testenv.StartZooKeeper(t)
	admin := newClient(t, zkServer.Addr(), 5*time.Second, "", "")
	create(t, admin, "/d/a")
	proxy := testenv.NewProxy(t, zkServer.Addr())
	h := startWatcher(t, newClient(t, proxy.Addr(), 4*time.Second, "", ""), mustParse(t, "/d: {children: 1}\n"))
	h.waitResult("/d", ok())

	proxy.Cut()
	testenv.Eventually(t, waitFor, 10*time.Millisecond, func() bool {
		return !h.watcher.Connected() && h.state("/d").Observation.Stale
	}, "watcher did not notice the lost connection")
	st := h.state("/d")
	if st.Result.State != compliance.Unknown || st.Observation.Children != 1 {
		t.Fatalf("while disconnected: want Unknown with last known 1 child, have %+v", st)
	}
	// The last known values stay exported, marked stale.
	staleMetrics := `
# HELP zk_monitor_znode_compliant Whether the znode met its configured checks (1) or not (0) when last read; absent when that is unknown.
# TYPE zk_monitor_znode_compliant gauge
zk_monitor_znode_compliant{path="/d"} 1
# HELP zk_monitor_znode_stale Whether the exported values of the znode may be out of date because the ZooKeeper connection was lost and it was not read again yet (1) or not (0).
# TYPE zk_monitor_znode_stale gauge
zk_monitor_znode_stale{path="/d"} 1
`
	if err := testutil.GatherAndCompare(collector.NewGatherer(h.watcher, prometheus.NewRegistry(), collector.GathererOptions{}), strings.NewReader(staleMetrics),
		"zk_monitor_znode_compliant", "zk_monitor_znode_stale"); err != nil {
		t.Fatal(err)
	}
	remove(t, admin, "/d/a")
	proxy.Restore()
	h.waitResult("/d", tooFew(0, 1))
	for _, r := range h.rec.history("/d") {
		if r.State == compliance.Error && r.Message != tooFew(0, 1).Message {
			t.Fatalf("unexpected result %+v", r)
		}
	}
}

// TestSessionExpiryRebuildsWatches keeps the agent partitioned past its
// session timeout; the new session must re-read and re-watch every path.
func TestSessionExpiryRebuildsWatches(t *testing.T) {
	zkServer := testenv.StartZooKeeper(t)
	admin := newClient(t, zkServer.Addr(), 5*time.Second, "", "")
	create(t, admin, "/e/a")
	proxy := testenv.NewProxy(t, zkServer.Addr())
	client := newClient(t, proxy.Addr(), 1500*time.Millisecond, "", "")
	h := startWatcher(t, client, mustParse(t, "/e: {children: 1}\n"))
	h.waitResult("/e", ok())
	oldSession := client.SessionID()

	proxy.Blackhole()
	remove(t, admin, "/e/a")
	// Wait past the session timeout so the server expires the session.
	testenv.Eventually(t, waitFor, 50*time.Millisecond, func() bool {
		out, err := testenv.FourLetterWord(zkServer.Addr(), "cons", time.Second)
		return err == nil && !strings.Contains(out, fmt.Sprintf("sid=0x%x", oldSession))
	}, "session was not expired by the server")
	proxy.Restore()
	h.waitResult("/e", tooFew(0, 1))
	if client.SessionID() == oldSession {
		t.Fatal("expected a new session after expiry")
	}
	// Watches of the new session work.
	create(t, admin, "/e/b")
	h.waitResult("/e", ok())
}

// TestZooKeeperRestart stops the server itself and brings it back.
func TestZooKeeperRestart(t *testing.T) {
	zkServer := testenv.StartZooKeeper(t)
	admin := newClient(t, zkServer.Addr(), 5*time.Second, "", "")
	create(t, admin, "/r/a")
	h := startWatcher(t, newClient(t, zkServer.Addr(), 3*time.Second, "", ""), mustParse(t, "/r: {children: 2}\n"))
	h.waitResult("/r", tooFew(1, 2))
	zkServer.Stop()
	testenv.Eventually(t, waitFor, 10*time.Millisecond, func() bool { return !h.watcher.Connected() }, "disconnect not seen")
	if st := h.state("/r"); st.Result.State != compliance.Unknown {
		t.Fatalf("want Unknown while ZooKeeper is down, have %+v", st.Result)
	}
	zkServer.Start()
	h.waitResult("/r", tooFew(1, 2))
	// The first admin client may still be reconnecting (see waitFor).
	create(t, newClient(t, zkServer.Addr(), 5*time.Second, "", ""), "/r/b")
	h.waitResult("/r", ok())
}

func TestDigestAuthProtectedPath(t *testing.T) {
	zkServer := testenv.StartZooKeeper(t)
	owner := newClient(t, zkServer.Addr(), 5*time.Second, "monitor", "s3cret")
	acl := zk.DigestACL(zk.PermAll, "monitor", "s3cret")
	if _, err := owner.Create("/secure", nil, 0, acl); err != nil {
		t.Fatal(err)
	}
	if _, err := owner.Create("/secure/a", nil, 0, acl); err != nil {
		t.Fatal(err)
	}
	cfg := mustParse(t, "/secure: {children: 1}\n")

	anonymous := startWatcher(t, newClient(t, zkServer.Addr(), 5*time.Second, "", ""), cfg)
	testenv.Eventually(t, waitFor, 10*time.Millisecond, func() bool {
		st := anonymous.state("/secure")
		return st.Result.State == compliance.Unknown && strings.Contains(st.Result.Message, "not authorized")
	}, "anonymous watcher: want Unknown not-authorized, have %+v", anonymous.state("/secure"))

	authed := startWatcher(t, newClient(t, zkServer.Addr(), 5*time.Second, "monitor", "s3cret"), cfg)
	authed.waitResult("/secure", ok())
	if _, err := owner.Create("/secure/b", nil, 0, acl); err != nil {
		t.Fatal(err)
	}
	testenv.Eventually(t, waitFor, 10*time.Millisecond, func() bool {
		return authed.state("/secure").Observation.Children == 2
	}, "authenticated watcher did not see the change")
}

func TestChroot(t *testing.T) {
	zkServer := testenv.StartZooKeeper(t)
	admin := newClient(t, zkServer.Addr(), 5*time.Second, "", "")
	create(t, admin, "/tenant/services/x/a")
	h := startWatcher(t, newClient(t, zkServer.Addr()+"/tenant", 5*time.Second, "", ""), mustParse(t, "/services/x: {children: 2}\n"))
	h.waitResult("/services/x", tooFew(1, 2))
	create(t, admin, "/tenant/services/x/b")
	h.waitResult("/services/x", ok())
}

func TestGlobPaths(t *testing.T) {
	zkServer := testenv.StartZooKeeper(t)
	admin := newClient(t, zkServer.Addr(), 5*time.Second, "", "")
	create(t, admin, "/svc/web/instances/i1", "/svc/db/instances", "/svc/cache")
	h := startWatcher(t, newClient(t, zkServer.Addr(), 5*time.Second, "", ""), mustParse(t, "/svc/*/instances: {children: 1}\n"))
	h.waitResult("/svc/web/instances", ok())
	h.waitResult("/svc/db/instances", tooFew(0, 1))
	if h.state("/svc/cache/instances") != nil {
		t.Fatal("a non-existing match must not be monitored")
	}
	create(t, admin, "/svc/cache/instances")
	h.waitResult("/svc/cache/instances", tooFew(0, 1))
	remove(t, admin, "/svc/db")
	testenv.Eventually(t, waitFor, 10*time.Millisecond, func() bool {
		return h.state("/svc/db/instances") == nil
	}, "removed match still monitored")
	testenv.Eventually(t, waitFor, 10*time.Millisecond, func() bool {
		h.rec.mu.Lock()
		defer h.rec.mu.Unlock()
		for _, p := range h.rec.removed {
			if p == "/svc/db/instances" {
				return true
			}
		}
		return false
	}, "listener not told of the removed match")
}

func TestSetConfigKeepsUnchangedPaths(t *testing.T) {
	zkServer := testenv.StartZooKeeper(t)
	admin := newClient(t, zkServer.Addr(), 5*time.Second, "", "")
	create(t, admin, "/k/a", "/c/a")
	h := startWatcher(t, newClient(t, zkServer.Addr(), 5*time.Second, "", ""), mustParse(t, "/k: {children: 1}\n/c: {children: 1}\n/gone: {children: 1}\n"))
	h.waitResult("/k", ok())
	before := h.state("/k")
	h.watcher.SetConfig(mustParse(t, "/k: {children: 1}\n/c: {children: 2}\n/new: {children: 0}\n"))
	h.waitResult("/c", tooFew(1, 2))
	h.waitResult("/new", ok())
	if h.state("/gone") != nil {
		t.Fatal("/gone still monitored")
	}
	if after := h.state("/k"); after != before {
		t.Fatalf("unchanged path /k was replaced: %+v -> %+v", before, after)
	}
}

func TestBurstOfChanges(t *testing.T) {
	zkServer := testenv.StartZooKeeper(t)
	admin := newClient(t, zkServer.Addr(), 5*time.Second, "", "")
	create(t, admin, "/burst")
	h := startWatcher(t, newClient(t, zkServer.Addr(), 5*time.Second, "", ""), mustParse(t, "/burst: {children: 500}\n"))
	h.waitResult("/burst", tooFew(0, 500))
	var wg sync.WaitGroup
	errs := make(chan error, 500)
	for i := 0; i < 500; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			if _, err := admin.Create(fmt.Sprintf("/burst/c%04d", i), nil, 0, zk.WorldACL(zk.PermAll)); err != nil && !errors.Is(err, zk.ErrNodeExists) {
				errs <- err
			}
		}(i)
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	h.waitResult("/burst", ok())
	if n := h.state("/burst").Observation.Children; n != 500 {
		t.Fatalf("children = %d, want 500", n)
	}
}
