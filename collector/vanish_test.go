package collector_test

import (
	"fmt"
	"path"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/go-zookeeper/zk"

	"github.com/zk-monitor/zk_monitor/compliance"
	"github.com/zk-monitor/zk_monitor/internal/testenv"
	"github.com/zk-monitor/zk_monitor/zkclient"
)

// noErrors fails the test if the listener was ever given an Error result
// for a path that only accepts.
func (h *harness) noErrors(only func(path string) bool) {
	h.t.Helper()
	h.rec.mu.Lock()
	var bad []string
	for p, results := range h.rec.updates {
		for _, r := range results {
			if r.State == compliance.Error && only(p) {
				bad = append(bad, fmt.Sprintf("%s: %s", p, r.Message))
			}
		}
	}
	h.rec.mu.Unlock()
	if len(bad) > 0 {
		slices.Sort(bad)
		h.t.Fatalf("%d false errors for glob matches that were deleted, never non-compliant:\n%s", len(bad), strings.Join(bad, "\n"))
	}
}

// noWatchesOnMissing fails the test if the ZooKeeper server of conn holds
// an exists watch on a znode that does not exist: one left on every
// vanished match or directory would pile up without bound under glob
// churn. wchp lists data and exists watches only; child watches end with
// their znode anyway.
func (h *harness) noWatchesOnMissing(conn *zk.Conn) {
	h.t.Helper()
	out, err := testenv.FourLetterWord(conn.Server(), "wchp", testenv.Scaled(5*time.Second))
	if err != nil {
		h.t.Fatal(err)
	}
	var missing []string
	for _, p := range strings.Split(out, "\n") {
		if !strings.HasPrefix(p, "/") {
			continue // a session id under its path
		}
		if ok, _, err := conn.Exists(p); err != nil {
			h.t.Fatal(err)
		} else if !ok {
			missing = append(missing, p)
		}
	}
	if len(missing) > 0 {
		slices.Sort(missing)
		h.t.Fatalf("exists watches on %d vanished znodes: %v", len(missing), missing)
	}
}

// vanishShape is one kind of glob match that is deleted with its parents.
type vanishShape struct {
	name string
	// chain returns the znodes to create for match i, parents first: the
	// last one is the match's only child, the one before it the match.
	chain func(i int) []string
	data  []byte // of the match
}

func (s vanishShape) match(i int) string {
	c := s.chain(i)
	return c[len(c)-2]
}

// TestGlobMatchDeletedWithParents is issue 13's false alert: a compliant
// glob match deleted together with its parents in one transaction must be
// dropped, never evaluated as a missing znode with 0 children (or with no
// data), whatever order the watch events of the match and of the
// directories above it arrive in. Half of the matches are created again
// right after their deletion, so the watcher also sees a match vanish and
// come back before it has caught up. An exact path deleted the same way
// keeps the original's "missing = 0 children". No exists watch may be left
// on a vanished match or directory.
//
// On the code before the fix every run of these 120 deletions gave 3 to 8
// false Errors (the issue saw 9 in 17 tries), and left exists watches on
// most deleted directories.
func TestGlobMatchDeletedWithParents(t *testing.T) {
	testenv.SkipIfShort(t, "needs a real ZooKeeper")
	shapes := []vanishShape{
		{name: "one level", chain: func(i int) []string {
			return []string{fmt.Sprintf("/g/s%d", i), fmt.Sprintf("/g/s%d/inst", i), fmt.Sprintf("/g/s%d/inst/h1", i)}
		}},
		{name: "deep", chain: func(i int) []string {
			x := fmt.Sprintf("/deep/x%d", i)
			return []string{x, x + "/b", x + "/b/y", x + "/b/y/c", x + "/b/y/c/h1"}
		}},
		{name: "data", chain: func(i int) []string {
			return []string{fmt.Sprintf("/gd/s%d", i), fmt.Sprintf("/gd/s%d/inst", i), fmt.Sprintf("/gd/s%d/inst/h1", i)}
		}, data: []byte("up")},
	}
	const (
		rounds  = 4
		matches = 10 // per shape and round
	)
	h := startSpecs(t, `
/g/*/inst: {children: 1}
/deep/*/b/*/c: {children: 1}
/gd/*/inst: {children: 1, data: {regex: '^up$'}}
/lit/inst: {children: 1}
`, func(admin *zkclient.Client) { create(t, admin, "/g", "/deep", "/gd", "/lit/inst/h1") })
	h.waitResult("/lit/inst", ok())
	conn := testenv.RawZK(t, h.admin.Server(), 10*time.Second)
	open := zk.WorldACL(zk.PermAll)

	createOps := func(s vanishShape, i int) []any {
		var ops []any
		chain := s.chain(i)
		for j, p := range chain {
			req := &zk.CreateRequest{Path: p, Acl: open}
			if j == len(chain)-2 {
				req.Data = s.data
			}
			ops = append(ops, req)
		}
		return ops
	}
	deleteOps := func(s vanishShape, i int) []any {
		var ops []any
		chain := s.chain(i)
		for j := len(chain) - 1; j >= 0; j-- {
			ops = append(ops, &zk.DeleteRequest{Path: chain[j], Version: -1})
		}
		return ops
	}
	multi := func(ops []any) {
		t.Helper()
		if _, err := conn.Multi(ops...); err != nil {
			t.Fatalf("multi %v: %v", ops[0], err)
		}
	}
	present := func(p string) bool {
		st := h.state(p)
		return st != nil && st.Result == ok()
	}
	gone := func(p string) bool { return h.state(p) == nil }

	for round := range rounds {
		for _, s := range shapes {
			for i := range matches {
				if round == 0 || i%2 == 1 {
					// Deleted in the last round and not brought back.
					multi(createOps(s, i))
				}
			}
		}
		for _, s := range shapes {
			for i := range matches {
				testenv.Eventually(t, waitFor, 5*time.Millisecond, func() bool { return present(s.match(i)) },
					"round %d: %s match %s not monitored as compliant: %+v", round, s.name, s.match(i), h.state(s.match(i)))
			}
		}
		for _, s := range shapes {
			for i := range matches {
				multi(deleteOps(s, i))
				if i%2 == 0 {
					// Back at once: the watcher may see it vanish or not.
					multi(createOps(s, i))
				}
			}
		}
		for _, s := range shapes {
			for i := range matches {
				want, check := "compliant", present
				if i%2 == 1 {
					want, check = "dropped", gone
				}
				testenv.Eventually(t, waitFor, 5*time.Millisecond, func() bool { return check(s.match(i)) },
					"round %d: %s match %s not %s: %+v", round, s.name, s.match(i), want, h.state(s.match(i)))
			}
		}
	}
	for _, s := range shapes {
		for i := 1; i < matches; i += 2 {
			if !h.specs.wasRemoved(s.match(i)) {
				t.Errorf("the listener was not told that %s was dropped", s.match(i))
			}
		}
	}

	h.noErrors(func(p string) bool { return p != "/lit/inst" })
	h.noWatchesOnMissing(conn)

	// An exact path is still monitored when it is deleted with its child.
	multi([]any{&zk.DeleteRequest{Path: "/lit/inst/h1", Version: -1}, &zk.DeleteRequest{Path: "/lit/inst", Version: -1}})
	h.waitResult("/lit/inst", tooFew(0, 1))
	if st := h.state("/lit/inst"); st.Observation.Exists {
		t.Fatalf("/lit/inst: %+v, want not existing", st)
	}
}

// TestGlobMatchDeletedWhileDisconnected deletes compliant glob matches
// with their parents while the watcher is cut off from ZooKeeper, for
// longer than its session: the new session reads every path and directory
// again, the vanished matches before or after their directories, and they
// must be dropped without an Error. (Within the session, go-zookeeper
// v1.0.4 restores its watches with a read of its last zxid that races with
// its receiving goroutine: with this many watches the race detector fails
// the test on the library's race, not ours.)
func TestGlobMatchDeletedWhileDisconnected(t *testing.T) {
	testenv.SkipIfShort(t, "needs a real ZooKeeper")
	const matches = 20
	zkServer := testenv.StartZooKeeper(t)
	conn := testenv.RawZK(t, zkServer.Addr(), 10*time.Second)
	open := zk.WorldACL(zk.PermAll)
	match := func(i int) string { return fmt.Sprintf("/w/s%d/inst", i) }
	if _, err := conn.Create("/w", nil, 0, open); err != nil {
		t.Fatal(err)
	}
	for i := range matches {
		if _, err := conn.Multi(&zk.CreateRequest{Path: path.Dir(match(i)), Acl: open},
			&zk.CreateRequest{Path: match(i), Acl: open}, &zk.CreateRequest{Path: match(i) + "/h1", Acl: open}); err != nil {
			t.Fatal(err)
		}
	}
	proxy := testenv.NewProxy(t, zkServer.Addr())
	client := newClient(t, proxy.Addr(), 1500*time.Millisecond, "", "")
	h := startWatcher(t, client, mustParse(t, "/w/*/inst: {children: 1}\n"))
	for i := range matches {
		h.waitResult(match(i), ok())
	}

	oldSession := client.SessionID()
	proxy.Blackhole()
	testenv.Eventually(t, waitFor, 10*time.Millisecond, func() bool { return !h.watcher.Connected() }, "disconnect not seen")
	for i := range matches {
		if _, err := conn.Multi(&zk.DeleteRequest{Path: match(i) + "/h1", Version: -1},
			&zk.DeleteRequest{Path: match(i), Version: -1}, &zk.DeleteRequest{Path: path.Dir(match(i)), Version: -1}); err != nil {
			t.Fatal(err)
		}
	}
	testenv.Eventually(t, waitFor, 50*time.Millisecond, func() bool {
		out, err := testenv.FourLetterWord(zkServer.Addr(), "cons", time.Second)
		return err == nil && !strings.Contains(out, fmt.Sprintf("sid=0x%x", oldSession))
	}, "session was not expired by the server")
	proxy.Restore()
	testenv.Eventually(t, waitFor, 10*time.Millisecond, func() bool { return len(h.watcher.Snapshot()) == 0 && h.watcher.Connected() },
		"vanished matches still monitored: %d", len(h.watcher.Snapshot()))
	if client.SessionID() == oldSession {
		t.Fatal("expected a new session after expiry")
	}
	h.noErrors(func(string) bool { return true })
	h.noWatchesOnMissing(conn)
}
