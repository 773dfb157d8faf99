package e2e

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/go-zookeeper/zk"

	"github.com/zk-monitor/zk_monitor/internal/testenv"
	"github.com/zk-monitor/zk_monitor/zkclient"
)

// The fault-injection suite (make test-faults runs every test whose name
// contains "Fault"). Each test breaks a real server — ZooKeeper, an
// ensemble member, the network between an agent and ZooKeeper,
// Alertmanager, or an agent's process — and asserts:
//   - the final state is right: every agent shows the true compliance and
//     a change made after the recovery is seen;
//   - no transition is lost: what went out of spec fires, what came back
//     resolves, even across the fault;
//   - never two agents alerting: watchSplitBrain samples every agent's
//     /status, and each agent posts to its own timestamped recorder so that
//     the wire shows who sent what when;
//   - no alert while the data is unknown: paths that stay in spec never
//     appear in anything sent, and nothing is sent while no agent can read
//     ZooKeeper.

// faultWait bounds the waits of the fault tests (stretched by the scale
// knob): generous, because an agent whose reconnection reaches a server
// while it starts waits for its handshake up to 10 x 2/3 of its 2s session
// before it tries again (see retryZK).
const (
	faultResend  = 500 * time.Millisecond
	faultWait    = 45 * time.Second
	msgStalePref = "ZooKeeper connection lost; last known: "
	msgMin1      = "Found children (0) less than minimum (1)"
)

// faultArgs are the flags every agent of a fault test gets.
func faultArgs(zkAddr, cfg, cluster string, extra ...string) []string {
	return append([]string{
		"-z", zkAddr, "-f", cfg, "-c", cluster,
		"--zookeeper.session-timeout", sessionTimeout.String(),
		"--alertmanager.resend-interval", faultResend.String(),
		"--alertmanager.timeout", "1s",
	}, extra...)
}

// faultRecorder is a fake Alertmanager that timestamps every request and
// decodes the alerts posted to it. It answers /api/v2/status with a fixed
// uptime like a real Alertmanager, so the agent's restart probe works.
type faultRecorder struct {
	srv    *httptest.Server
	uptime string

	mu   sync.Mutex
	reqs []recordedCall
}

type recordedCall struct {
	At     time.Time
	Method string
	Path   string
	Alerts []postedAlert
}

// postedAlert is one alert as the recorder received it.
type postedAlert testenv.AMPostableAlert

// firingAt reports whether the alert was sent as firing at the time it was
// received (resolved alerts are sent with endsAt = now).
func (a postedAlert) firingAt(t time.Time) bool { return a.EndsAt.IsZero() || a.EndsAt.After(t) }

func startFaultRecorder(t *testing.T) *faultRecorder {
	t.Helper()
	r := &faultRecorder{uptime: time.Now().UTC().Format(time.RFC3339Nano)}
	r.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		body, _ := io.ReadAll(req.Body)
		call := recordedCall{At: time.Now(), Method: req.Method, Path: req.URL.Path}
		if req.Method == http.MethodPost && req.URL.Path == "/api/v2/alerts" {
			if err := json.Unmarshal(body, &call.Alerts); err != nil {
				t.Errorf("recorder: undecodable alerts %q: %v", body, err)
			}
		}
		r.mu.Lock()
		r.reqs = append(r.reqs, call)
		r.mu.Unlock()
		if req.URL.Path == "/api/v2/status" {
			w.Header().Set("Content-Type", "application/json")
			fmt.Fprintf(w, `{"uptime": %q}`, r.uptime)
		}
	}))
	t.Cleanup(r.srv.Close)
	return r
}

func (r *faultRecorder) URL() string { return r.srv.URL }

func (r *faultRecorder) Calls() []recordedCall {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]recordedCall(nil), r.reqs...)
}

// CallsSince returns the requests received at or after t.
func (r *faultRecorder) CallsSince(t time.Time) []recordedCall {
	var out []recordedCall
	for _, c := range r.Calls() {
		if !c.At.Before(t) {
			out = append(out, c)
		}
	}
	return out
}

// timedAlert is a posted alert and when it arrived.
type timedAlert struct {
	At time.Time
	postedAlert
}

// AlertsFor returns every ZnodeNotCompliant alert posted about path.
func (r *faultRecorder) AlertsFor(path string) []timedAlert {
	var out []timedAlert
	for _, c := range r.Calls() {
		for _, a := range c.Alerts {
			if a.Labels["alertname"] == "ZnodeNotCompliant" && a.Labels["path"] == path {
				out = append(out, timedAlert{c.At, a})
			}
		}
	}
	return out
}

// firstPost returns when the first POST arrived, zero if none did.
func (r *faultRecorder) firstPost() time.Time {
	for _, c := range r.Calls() {
		if c.Method == http.MethodPost {
			return c.At
		}
	}
	return time.Time{}
}

// lastPostBefore returns when the last POST before t arrived, zero if none.
func (r *faultRecorder) lastPostBefore(t time.Time) time.Time {
	var last time.Time
	for _, c := range r.Calls() {
		if c.Method == http.MethodPost && c.At.Before(t) {
			last = c.At
		}
	}
	return last
}

// complianceOf returns an agent's /status compliance value for path.
func complianceOf(p *process, path string) any {
	st, err := p.Status()
	if err != nil {
		return nil
	}
	return st.Monitor.Compliance[path]
}

// allStatus reports whether cond holds for every agent's /status.
func allStatus(agents []*process, cond func(*Status) bool) bool {
	for _, a := range agents {
		st, err := a.Status()
		if err != nil || !cond(st) {
			return false
		}
	}
	return true
}

// waitCompliance waits until every agent shows want for each path.
func waitCompliance(t *testing.T, agents []*process, want map[string]any) {
	t.Helper()
	var last map[string]any
	testenv.Eventually(t, faultWait, 50*time.Millisecond, func() bool {
		return allStatus(agents, func(st *Status) bool {
			last = st.Monitor.Compliance
			for p, v := range want {
				if st.Monitor.Compliance[p] != v {
					return false
				}
			}
			return true
		})
	}, "compliance %v, want %v on every agent", testenv.Last(&last), want)
}

// waitStale waits until every agent has lost ZooKeeper: not connected, not
// alerting, and every path of paths reported as stale.
func waitStale(t *testing.T, agents []*process, paths ...string) {
	t.Helper()
	var last Status
	testenv.Eventually(t, faultWait, 50*time.Millisecond, func() bool {
		return allStatus(agents, func(st *Status) bool {
			last = *st
			if st.ZooKeeper.Connected || st.Monitor.Alerter.Alerting || st.Cluster.IsLeader {
				return false
			}
			for _, p := range paths {
				msg, _ := st.Monitor.Compliance[p].(string)
				if !strings.HasPrefix(msg, msgStalePref) {
					return false
				}
			}
			return true
		})
	}, "agents did not all report the lost connection; last status %v", testenv.Last(&last))
}

// metricValue reads one series ("name" or `name{label="value"}`) from an
// agent's /metrics.
func metricValue(p *process, series string) (float64, bool) {
	code, body, err := p.Get("/metrics")
	if err != nil || code != http.StatusOK {
		return 0, false
	}
	return testenv.SampleValue(string(body), series)
}

// faultUsage is what an agent holds: goroutines and heap in use.
type faultUsage struct{ goroutines, heap float64 }

func faultResources(t *testing.T, agents []*process) []faultUsage {
	t.Helper()
	out := make([]faultUsage, len(agents))
	for i, a := range agents {
		g, ok1 := metricValue(a, "go_goroutines")
		h, ok2 := metricValue(a, "go_memstats_heap_inuse_bytes")
		if !ok1 || !ok2 {
			t.Fatalf("%s: no go_goroutines or heap metric", a.Name)
		}
		out[i] = faultUsage{g, h}
	}
	return out
}

// checkNoLeak: once a fault is over, every agent's goroutines come back to
// about where they were before it (an agent that became leader runs a few
// more: its senders and their connections), and its heap stays bounded.
func checkNoLeak(t *testing.T, agents []*process, before []faultUsage) {
	t.Helper()
	for i, a := range agents {
		var now faultUsage
		testenv.Eventually(t, faultWait, 100*time.Millisecond, func() bool {
			now = faultResources(t, []*process{a})[0]
			return now.goroutines <= before[i].goroutines+20 // a new leader runs its senders and HTTP connections
		}, "%s: %v goroutines after the fault, %v before", a.Name, now.goroutines, before[i].goroutines)
		if limit := 2*before[i].heap + 32<<20; now.heap > limit {
			t.Errorf("%s: heap in use %.0f MiB after the fault, %.0f MiB before", a.Name, now.heap/(1<<20), before[i].heap/(1<<20))
		}
		t.Logf("%s: goroutines %v -> %v, heap %.1f -> %.1f MiB", a.Name, before[i].goroutines, now.goroutines, before[i].heap/(1<<20), now.heap/(1<<20))
	}
}

// retryZK retries an administrative ZooKeeper operation until it succeeds:
// right after a fault the admin client may still be reconnecting. After a
// server restart, tests write through a new client instead: one whose
// reconnection reached the server while it was starting may wait in
// go-zookeeper's handshake for ten times two thirds of its session timeout
// (over a minute for 10s) before it tries again.
func retryZK(t *testing.T, what string, op func() error) {
	t.Helper()
	var err error
	testenv.Eventually(t, faultWait, 100*time.Millisecond, func() bool {
		err = op()
		return err == nil
	}, "%s: %v", what, testenv.Last(&err))
}

func deleteNode(c *zkclient.Client, p string) error {
	err := c.Delete(p, -1)
	if errors.Is(err, zk.ErrNoNode) {
		return nil
	}
	return err
}

func createNode(c *zkclient.Client, p string) error {
	return c.EnsurePath(p, zkclient.DigestACL("", ""))
}

// noAlertsFor fails if anything ever posted to recs names one of paths.
func noAlertsFor(t *testing.T, recs []*faultRecorder, paths ...string) {
	t.Helper()
	for i, r := range recs {
		for _, p := range paths {
			if got := r.AlertsFor(p); len(got) > 0 {
				t.Errorf("recorder %d received %d alerts for %s, which never left its spec: first %+v", i, len(got), p, got[0])
			}
		}
	}
}

// TestFaultEnsemble runs three agents against a three-server ensemble and
// takes servers away: a follower, the leader, then two of three (no
// quorum) before bringing them back. The agents keep running, never two
// lead, the compliance they show is right after each fault and a change
// made after it is seen; without quorum nobody alerts or sends anything,
// and the path that stays in spec is never alerted on.
func TestFaultEnsemble(t *testing.T) {
	ens := testenv.StartEnsemble(t, 3)
	servers := ens.Servers()
	admin := adminClient(t, ens.ConnectString())
	for _, p := range []string{"/ens/svc/host1", "/ens/stable/host1"} {
		retryZK(t, "create "+p, func() error { return createNode(admin, p) })
	}
	cfg := testenv.WriteFile(t, "paths.yaml", "/ens/svc: {children: 1}\n/ens/stable: {children: 1}\n")
	rec := startFaultRecorder(t)
	var agents []*process
	for i := 1; i <= 3; i++ {
		agents = append(agents, startAgent(t, fmt.Sprintf("ens%d", i), faultArgs(ens.ConnectString(), cfg, "ens", "--alertmanager.url", rec.URL())...))
	}
	waitOneLeader(t, agents, faultWait)
	waitCompliance(t, agents, map[string]any{"/ens/svc": true, "/ens/stable": true})
	watch := watchSplitBrain(agents)
	usage := faultResources(t, agents)

	// toggle takes /ens/svc out of spec and back: every agent must see both
	// changes, so watches work on every agent. It writes through a new
	// client: servers have been restarted (see retryZK).
	toggle := func(t *testing.T) {
		t.Helper()
		c := adminClient(t, ens.ConnectString())
		retryZK(t, "delete /ens/svc/host1", func() error { return deleteNode(c, "/ens/svc/host1") })
		waitCompliance(t, agents, map[string]any{"/ens/svc": msgMin1, "/ens/stable": true})
		retryZK(t, "create /ens/svc/host1", func() error { return createNode(c, "/ens/svc/host1") })
		waitCompliance(t, agents, map[string]any{"/ens/svc": true, "/ens/stable": true})
		c.Close()
	}
	alive := func(t *testing.T) {
		t.Helper()
		for _, a := range agents {
			if a.Exited() {
				t.Fatalf("agent %s exited", a.Name)
			}
		}
	}
	// agentSessions counts the agents' sessions a server holds (the admin
	// client's aside).
	agentSessions := func(i int) int {
		out, err := testenv.FourLetterWord(servers[i].Addr(), "cons", time.Second)
		if err != nil {
			return 0
		}
		n := strings.Count(out, "sid=0x")
		if admin.Server() == servers[i].Addr() {
			n--
		}
		return n
	}
	// follower returns the follower holding the most agent sessions.
	follower := func() int {
		l, best, most := ens.Leader(), -1, -1
		for i := range servers {
			if n := agentSessions(i); i != l && servers[i].Running() && n > most {
				best, most = i, n
			}
		}
		if best < 0 {
			t.Fatalf("no follower: modes %v", ens.Modes())
		}
		return best
	}
	// disturbed sums the agents' reconnects and session expirations.
	disturbed := func() float64 {
		var sum float64
		for _, a := range agents {
			r, _ := metricValue(a, "zk_monitor_zookeeper_reconnects_total")
			e, _ := metricValue(a, "zk_monitor_zookeeper_session_expirations_total")
			sum += r + e
		}
		return sum
	}
	// restart starts a stopped server and waits until all three serve.
	restart := func(t *testing.T, idx ...int) {
		t.Helper()
		for _, i := range idx {
			servers[i].Start()
		}
		if err := ens.WaitAllServing(testenv.Scaled(60 * time.Second)); err != nil {
			t.Fatal(err)
		}
	}
	// stop stops server i and checks that it held agent sessions that had
	// to move (or, without quorum, wait).
	stop := func(t *testing.T, i int) {
		t.Helper()
		before, held := disturbed(), agentSessions(i)
		servers[i].Stop()
		t.Logf("stopped zookeeper-%d, which held %d agent sessions; modes now %v", i+1, held, ens.Modes())
		if held > 0 {
			testenv.Eventually(t, faultWait, 50*time.Millisecond, func() bool { return disturbed() > before },
				"no agent reconnected after zookeeper-%d, holding %d agent sessions, stopped", i+1, held)
		}
	}

	t.Run("follower", func(t *testing.T) {
		f := follower()
		stop(t, f)
		alive(t)
		waitOneLeader(t, agents, faultWait)
		toggle(t)
		restart(t, f)
	})
	t.Run("leader", func(t *testing.T) {
		l := ens.Leader()
		if l < 0 {
			t.Fatalf("no ZooKeeper leader: %v", ens.Modes())
		}
		stop(t, l)
		if err := ens.WaitServing(faultWait); err != nil {
			t.Fatal(err)
		}
		alive(t)
		waitOneLeader(t, agents, faultWait)
		toggle(t)
		restart(t, l)
	})
	t.Run("quorum", func(t *testing.T) {
		l := ens.Leader()
		f := follower()
		servers[l].Stop()
		servers[f].Stop()
		t.Logf("stopped zookeeper-%d (leader) and zookeeper-%d: no quorum", l+1, f+1)
		waitStale(t, agents, "/ens/svc", "/ens/stable")
		down := time.Now()
		// Hold the outage past the session timeout.
		time.Sleep(sessionTimeout + time.Second)
		alive(t)
		if calls := rec.CallsSince(down); len(calls) > 0 {
			t.Errorf("%d requests reached Alertmanager while no agent could read ZooKeeper: first %s %s at +%s",
				len(calls), calls[0].Method, calls[0].Path, calls[0].At.Sub(down))
		}
		restart(t, l, f)
		leader := waitOneLeader(t, agents, faultWait)
		testenv.Eventually(t, faultWait, 50*time.Millisecond, func() bool {
			return allStatus(agents, func(st *Status) bool {
				return st.ZooKeeper.Connected && st.Cluster.Leader == leader && len(st.Cluster.Agents) == 3
			})
		}, "agents did not all reconnect, re-register and agree on leader %s", leader)
		waitCompliance(t, agents, map[string]any{"/ens/svc": true, "/ens/stable": true})
		toggle(t)
	})
	watch.Check(t)
	noAlertsFor(t, []*faultRecorder{rec}, "/ens/stable")
	if got := rec.AlertsFor("/ens/svc"); len(got) == 0 {
		t.Error("the leader never alerted on /ens/svc going out of spec")
	}
	checkNoLeak(t, agents, usage)
}

// TestFaultZooKeeperOutage stops ZooKeeper and keeps the agents away from
// it for longer than the session timeout, so that every session expires:
// registrations, the election and every watch are rebuilt afterwards. A
// path that stays in spec is never alerted on, nothing is sent while the
// data is unknown, a firing alert survives the outage and a change made
// after it is seen by every agent.
//
// A standalone server remembers its sessions across a restart and gives
// each a fresh timeout, so the agents reach it through a proxy that stays
// cut until the restarted server has expired them: from the agents' side,
// ZooKeeper is gone for longer than a session.
func TestFaultZooKeeperOutage(t *testing.T) {
	zkServer := testenv.StartZooKeeper(t)
	admin := adminClient(t, zkServer.Addr())
	for _, p := range []string{"/outage/ok/host1", "/outage/bad"} {
		retryZK(t, "create "+p, func() error { return createNode(admin, p) })
	}
	cfg := testenv.WriteFile(t, "paths.yaml", "/outage/ok: {children: 1}\n/outage/bad: {children: 1}\n")
	am := testenv.StartAlertmanager(t, nullAlertmanager)
	proxy := testenv.NewProxy(t, zkServer.Addr())
	var (
		agents []*process
		recs   []*faultRecorder
	)
	for i := 1; i <= 3; i++ {
		rec := startFaultRecorder(t)
		recs = append(recs, rec)
		agents = append(agents, startAgent(t, fmt.Sprintf("out%d", i), faultArgs(proxy.Addr(), cfg, "outage",
			"--alertmanager.url", am.URL(), "--alertmanager.url", rec.URL())...))
	}
	waitOneLeader(t, agents, faultWait)
	waitCompliance(t, agents, map[string]any{"/outage/ok": true, "/outage/bad": msgMin1})
	testenv.Eventually(t, faultWait, 50*time.Millisecond, func() bool {
		a := znodeAlerts(t, am, "/outage/bad")
		return len(a) == 1 && a[0].Status.State == "active"
	}, "the alert for /outage/bad never became active")
	watch := watchSplitBrain(agents)
	usage := faultResources(t, agents)

	proxy.Cut()
	zkServer.Stop()
	waitStale(t, agents, "/outage/ok", "/outage/bad")
	down := time.Now()
	time.Sleep(sessionTimeout + time.Second)
	zkServer.Start()
	// The restarted server expires the agents' sessions a session timeout
	// after it started: their ephemeral nodes go then.
	testenv.Eventually(t, faultWait, 100*time.Millisecond, func() bool {
		out, err := testenv.FourLetterWord(zkServer.Addr(), "mntr", time.Second)
		return err == nil && strings.Contains(out, "zk_ephemerals_count\t0\n")
	}, "the restarted server kept the agents' ephemeral nodes")
	for i, r := range recs {
		if calls := r.CallsSince(down); len(calls) > 0 {
			t.Errorf("agent %d sent %d requests while ZooKeeper was unreachable: first %s %s", i+1, len(calls), calls[0].Method, calls[0].Path)
		}
	}
	// Nobody leads during the outage, so nothing renews the firing alert:
	// Alertmanager ends it at its endsAt (4 resend intervals after the last
	// send, which came before the outage was noticed), as it would for a
	// Prometheus that went away.
	if got := znodeAlerts(t, am, "/outage/bad"); len(got) != 0 {
		t.Errorf("%s after the last possible send and %s after its endsAt, Alertmanager still holds %+v for /outage/bad",
			time.Since(down).Round(time.Millisecond), (time.Since(down) - 4*faultResend).Round(time.Millisecond), got)
	}
	proxy.Restore()
	restored := time.Now()

	// Everything is rebuilt: sessions, registrations, one leader.
	leader := waitOneLeader(t, agents, faultWait)
	testenv.Eventually(t, faultWait, 50*time.Millisecond, func() bool {
		return allStatus(agents, func(st *Status) bool {
			return st.ZooKeeper.Connected && st.Cluster.Leader == leader && len(st.Cluster.Agents) == 3
		})
	}, "agents did not all reconnect, re-register and agree on leader %s", leader)
	for _, a := range agents {
		if v, ok := metricValue(a, "zk_monitor_zookeeper_session_expirations_total"); !ok || v < 1 {
			t.Errorf("agent %s: session_expirations_total = %v (found %v), want >= 1", a.Name, v, ok)
		}
	}
	waitCompliance(t, agents, map[string]any{"/outage/ok": true, "/outage/bad": msgMin1})
	// The firing alert is sent again by the (new) leader.
	testenv.Eventually(t, faultWait, 50*time.Millisecond, func() bool {
		a := znodeAlerts(t, am, "/outage/bad")
		return len(a) == 1 && a[0].Status.State == "active"
	}, "the alert for /outage/bad is not active after the outage")
	if got := byName(agents, leader); got != nil {
		rec := recs[indexOf(agents, got)]
		testenv.Eventually(t, faultWait, 50*time.Millisecond, func() bool {
			for _, a := range rec.AlertsFor("/outage/bad") {
				if a.At.After(restored) && a.firingAt(a.At) {
					return true
				}
			}
			return false
		}, "the new leader %s did not send the firing alert", leader)
	}

	// Watches work again: a change after the outage reaches every agent
	// and resolves the alert.
	admin = adminClient(t, zkServer.Addr()) // the server restarted: see retryZK
	retryZK(t, "create /outage/bad/host1", func() error { return createNode(admin, "/outage/bad/host1") })
	waitCompliance(t, agents, map[string]any{"/outage/ok": true, "/outage/bad": true})
	testenv.Eventually(t, faultWait, 50*time.Millisecond, func() bool {
		return len(znodeAlerts(t, am, "/outage/bad")) == 0
	}, "the alert for /outage/bad was not resolved after the outage")
	watch.Check(t)
	noAlertsFor(t, recs, "/outage/ok")
	if got := znodeAlerts(t, am, "/outage/ok"); len(got) > 0 {
		t.Errorf("Alertmanager holds an alert for /outage/ok: %+v", got)
	}
	checkNoLeak(t, agents, usage)
}

func indexOf(agents []*process, p *process) int {
	for i, a := range agents {
		if a == p {
			return i
		}
	}
	return -1
}

// TestFaultPartitionedAgent partitions the leading agent from ZooKeeper
// (its connection goes through a proxy that stops forwarding) for longer
// than the session timeout. Another agent takes over; the partitioned one
// reports that it lost ZooKeeper, shows every path as unknown and sends
// nothing from the moment the new leader starts; after the partition heals
// it rejoins as a follower and still sends nothing.
func TestFaultPartitionedAgent(t *testing.T) {
	zkServer := testenv.StartZooKeeper(t)
	admin := adminClient(t, zkServer.Addr())
	for _, p := range []string{"/part/ok/host1", "/part/bad"} {
		retryZK(t, "create "+p, func() error { return createNode(admin, p) })
	}
	cfg := testenv.WriteFile(t, "paths.yaml", "/part/ok: {children: 1}\n/part/bad: {children: 1}\n")
	am := testenv.StartAlertmanager(t, nullAlertmanager)
	proxy := testenv.NewProxy(t, zkServer.Addr())
	recs := []*faultRecorder{startFaultRecorder(t), startFaultRecorder(t), startFaultRecorder(t)}
	amArgs := func(i int) []string {
		return []string{"--alertmanager.url", am.URL(), "--alertmanager.url", recs[i].URL()}
	}

	// The agent behind the proxy starts first, so it leads.
	p1 := startAgent(t, "part1", faultArgs(proxy.Addr(), cfg, "part", amArgs(0)...)...)
	waitOneLeader(t, []*process{p1}, faultWait)
	agents := []*process{p1,
		startAgent(t, "part2", faultArgs(zkServer.Addr(), cfg, "part", amArgs(1)...)...),
		startAgent(t, "part3", faultArgs(zkServer.Addr(), cfg, "part", amArgs(2)...)...),
	}
	testenv.Eventually(t, faultWait, 50*time.Millisecond, func() bool {
		return allStatus(agents, func(st *Status) bool { return st.Cluster.Leader == "part1" && len(st.Cluster.Agents) == 3 })
	}, "agents do not agree on part1 leading 3 agents")
	waitCompliance(t, agents, map[string]any{"/part/ok": true, "/part/bad": msgMin1})
	testenv.Eventually(t, faultWait, 50*time.Millisecond, func() bool {
		a := znodeAlerts(t, am, "/part/bad")
		return len(a) == 1 && a[0].Status.State == "active" && len(recs[0].AlertsFor("/part/bad")) > 0
	}, "part1 never delivered the alert for /part/bad")
	fingerprint := znodeAlerts(t, am, "/part/bad")[0].Fingerprint
	watch := watchSplitBrain(agents)
	usage := faultResources(t, agents)

	proxy.Blackhole()
	partitioned := time.Now()
	next := waitNewLeader(t, agents, "part1", faultWait)
	t.Logf("%s took over %s after the partition", next, time.Since(partitioned).Round(time.Millisecond))

	// The partitioned agent knows it lost ZooKeeper and claims nothing.
	waitStale(t, agents[:1], "/part/ok", "/part/bad")
	// Hold the partition well past the session timeout.
	time.Sleep(time.Until(partitioned.Add(2 * sessionTimeout)))
	testenv.Eventually(t, faultWait, 50*time.Millisecond, func() bool {
		a := znodeAlerts(t, am, "/part/bad")
		return len(a) == 1 && a[0].Status.State == "active" && a[0].Fingerprint == fingerprint
	}, "the alert for /part/bad is not active with fingerprint %s under the new leader", fingerprint)
	proxy.Restore()

	// It rejoins as a follower of the new leader, with a new session.
	testenv.Eventually(t, faultWait, 50*time.Millisecond, func() bool {
		st, err := p1.Status()
		return err == nil && st.ZooKeeper.Connected && !st.Cluster.IsLeader && st.Cluster.Leader == next &&
			st.Monitor.Compliance["/part/ok"] == true && st.Monitor.Compliance["/part/bad"] == msgMin1
	}, "part1 did not rejoin as a follower of %s", next)
	testenv.Eventually(t, faultWait, 50*time.Millisecond, func() bool {
		return allStatus(agents, func(st *Status) bool { return st.Cluster.Leader == next && len(st.Cluster.Agents) == 3 })
	}, "agents do not agree on %s leading 3 agents after the partition", next)
	// A change after the partition reaches every agent, the rejoined one too.
	retryZK(t, "create /part/bad/host1", func() error { return createNode(admin, "/part/bad/host1") })
	waitCompliance(t, agents, map[string]any{"/part/ok": true, "/part/bad": true})
	testenv.Eventually(t, faultWait, 50*time.Millisecond, func() bool {
		return len(znodeAlerts(t, am, "/part/bad")) == 0
	}, "the alert for /part/bad was not resolved")
	watch.Check(t)

	// On the wire: the partitioned agent's last request came before the new
	// leader's first, and it sent nothing after that, partitioned or not.
	nextRec := recs[indexOf(agents, byName(agents, next))]
	takeover := nextRec.firstPost()
	if takeover.IsZero() {
		t.Fatalf("the new leader %s never posted", next)
	}
	if calls := recs[0].CallsSince(takeover); len(calls) > 0 {
		t.Errorf("part1 sent %d requests after %s took over (first %s %s at +%s after the takeover)",
			len(calls), next, calls[0].Method, calls[0].Path, calls[0].At.Sub(takeover))
	}
	if last := recs[0].lastPostBefore(takeover); !last.IsZero() {
		t.Logf("part1's last post came %s after the partition began and %s before the takeover",
			last.Sub(partitioned).Round(time.Millisecond), takeover.Sub(last).Round(time.Millisecond))
	}
	noAlertsFor(t, recs, "/part/ok")
	checkNoLeak(t, agents, usage)
}

// TestFaultAlertmanagerOutage stops Alertmanager for ten seconds (standing
// in for minutes: the resend interval is 500ms) while one path goes out of
// spec and another comes back. When it returns, having lost everything it
// held, it gets the whole state at once: the alert from before the outage,
// the one that started during it (with its original start time), and
// nothing for the path that recovered. No alert is dropped.
func TestFaultAlertmanagerOutage(t *testing.T) {
	zkServer := testenv.StartZooKeeper(t)
	admin := adminClient(t, zkServer.Addr())
	for _, p := range []string{"/amdown/early", "/amdown/late/host1", "/amdown/healed"} {
		retryZK(t, "create "+p, func() error { return createNode(admin, p) })
	}
	cfg := testenv.WriteFile(t, "paths.yaml", "/amdown/early: {children: 1}\n/amdown/late: {children: 1}\n/amdown/healed: {children: 1}\n")
	am := testenv.StartAlertmanager(t, nullAlertmanager)
	a := startAgent(t, "amdown", faultArgs(zkServer.Addr(), cfg, "amdown", "--alertmanager.url", am.URL())...)
	waitOneLeader(t, []*process{a}, faultWait)
	usage := faultResources(t, []*process{a})
	active := func(path string) bool {
		got := znodeAlerts(t, am, path)
		return len(got) == 1 && got[0].Status.State == "active"
	}
	testenv.Eventually(t, faultWait, 50*time.Millisecond, func() bool {
		return active("/amdown/early") && active("/amdown/healed") && len(znodeAlerts(t, am, "/amdown/late")) == 0
	}, "alerts before the outage are not as expected")

	am.Stop()
	outage := time.Now()
	retryZK(t, "delete /amdown/late/host1", func() error { return deleteNode(admin, "/amdown/late/host1") })
	retryZK(t, "create /amdown/healed/host1", func() error { return createNode(admin, "/amdown/healed/host1") })
	waitCompliance(t, []*process{a}, map[string]any{"/amdown/early": msgMin1, "/amdown/late": msgMin1, "/amdown/healed": true})
	// The watcher tells the alerter under the lock /status reads with:
	// the alert started before /status showed the change.
	seen := time.Now()
	failedSeries := fmt.Sprintf("zk_monitor_alertmanager_alerts_failed_total{alertmanager=%q}", am.URL())
	testenv.Eventually(t, faultWait, 100*time.Millisecond, func() bool {
		v, ok := metricValue(a, failedSeries)
		return ok && v > 0
	}, "no failed delivery counted while Alertmanager was down (%s)", failedSeries)
	time.Sleep(time.Until(outage.Add(10 * time.Second)))
	am.Start()
	back := time.Now()

	testenv.Eventually(t, faultWait, 50*time.Millisecond, func() bool {
		return active("/amdown/early") && active("/amdown/late") && len(znodeAlerts(t, am, "/amdown/healed")) == 0
	}, "after the outage Alertmanager has early=%v late=%v healed=%v",
		znodeAlerts(t, am, "/amdown/early"), znodeAlerts(t, am, "/amdown/late"), znodeAlerts(t, am, "/amdown/healed"))
	t.Logf("the full state reached the restarted Alertmanager %s after it came back", time.Since(back).Round(time.Millisecond))
	late := znodeAlerts(t, am, "/amdown/late")[0]
	if late.Annotations["summary"] != msgMin1 {
		t.Errorf("late alert summary %q, want %q", late.Annotations["summary"], msgMin1)
	}
	if late.StartsAt.Before(outage.Add(-time.Second)) || late.StartsAt.After(seen) || !late.StartsAt.Before(back) {
		t.Errorf("late alert startsAt %s: want the time it went out of spec during the outage (%s..%s), before Alertmanager came back at %s",
			late.StartsAt, outage, seen, back)
	}
	dropped := fmt.Sprintf("zk_monitor_alertmanager_alerts_dropped_total{alertmanager=%q}", am.URL())
	if v, ok := metricValue(a, dropped); !ok || v != 0 {
		t.Errorf("%s = %v (found %v), want 0", dropped, v, ok)
	}
	checkNoLeak(t, []*process{a}, usage)
}

// TestFaultPausedLeaderAlerting freezes the leading agent (SIGSTOP) while
// two alerts fire. A follower takes over: one alert keeps firing under the
// new leader with the same fingerprint; the other path is fixed meanwhile
// and the new leader resolves it. Resumed (SIGCONT), the old leader finds
// its session gone and sends nothing at all: no duplicate of the firing
// alert and, above all, no stale re-firing of the resolved one.
func TestFaultPausedLeaderAlerting(t *testing.T) {
	zkServer := testenv.StartZooKeeper(t)
	admin := adminClient(t, zkServer.Addr())
	for _, p := range []string{"/pause/firing", "/pause/fixed", "/pause/ok/host1"} {
		retryZK(t, "create "+p, func() error { return createNode(admin, p) })
	}
	cfg := testenv.WriteFile(t, "paths.yaml", "/pause/firing: {children: 1}\n/pause/fixed: {children: 1}\n/pause/ok: {children: 1}\n")
	am := testenv.StartAlertmanager(t, nullAlertmanager)
	recs := []*faultRecorder{startFaultRecorder(t), startFaultRecorder(t), startFaultRecorder(t)}
	var agents []*process
	for i := range recs {
		agents = append(agents, startAgent(t, fmt.Sprintf("pause%d", i+1), faultArgs(zkServer.Addr(), cfg, "pause",
			"--alertmanager.url", am.URL(), "--alertmanager.url", recs[i].URL())...))
	}
	leader := waitOneLeader(t, agents, faultWait)
	old := byName(agents, leader)
	oldRec := recs[indexOf(agents, old)]
	waitCompliance(t, agents, map[string]any{"/pause/firing": msgMin1, "/pause/fixed": msgMin1, "/pause/ok": true})
	var firing, fixed testenv.AMAlert
	testenv.Eventually(t, faultWait, 50*time.Millisecond, func() bool {
		a, b := znodeAlerts(t, am, "/pause/firing"), znodeAlerts(t, am, "/pause/fixed")
		if len(a) == 1 && len(b) == 1 && a[0].Status.State == "active" && b[0].Status.State == "active" {
			firing, fixed = a[0], b[0]
			return true
		}
		return false
	}, "alerts never became active")
	watch := watchSplitBrain(agents)

	old.Signal(syscall.SIGSTOP)
	paused := time.Now()
	next := waitNewLeader(t, agents, leader, faultWait)
	nextRec := recs[indexOf(agents, byName(agents, next))]
	// The alert keeps firing through the new leader.
	testenv.Eventually(t, faultWait, 50*time.Millisecond, func() bool {
		for _, a := range nextRec.AlertsFor("/pause/firing") {
			if a.At.After(paused) && a.firingAt(a.At) {
				return true
			}
		}
		return false
	}, "the new leader %s does not send the firing alert", next)
	// Fix one path while the old leader is frozen: the new leader resolves it.
	retryZK(t, "create /pause/fixed/host1", func() error { return createNode(admin, "/pause/fixed/host1") })
	testenv.Eventually(t, faultWait, 50*time.Millisecond, func() bool {
		return len(znodeAlerts(t, am, "/pause/fixed")) == 0
	}, "the new leader did not resolve /pause/fixed")
	// Let the old leader's view go further out of date before it wakes.
	time.Sleep(time.Until(paused.Add(2 * sessionTimeout)))

	old.Signal(syscall.SIGCONT)
	resumed := time.Now()
	testenv.Eventually(t, faultWait, 20*time.Millisecond, func() bool {
		st, err := old.Status()
		return err == nil && st.ZooKeeper.Connected && !st.Cluster.IsLeader && st.Cluster.Leader == next &&
			st.Monitor.Compliance["/pause/fixed"] == true
	}, "resumed %s did not settle as a follower of %s", leader, next)
	// For a few resend intervals, Alertmanager holds exactly the one firing
	// alert, unchanged, and the resolved one stays resolved.
	for deadline := time.Now().Add(6 * faultResend); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		a, b := znodeAlerts(t, am, "/pause/firing"), znodeAlerts(t, am, "/pause/fixed")
		if len(a) != 1 || a[0].Fingerprint != firing.Fingerprint || a[0].Status.State != "active" || !a[0].StartsAt.Equal(firing.StartsAt) {
			t.Fatalf("after resume: alerts for /pause/firing %+v, want one active alert %s started %s", a, firing.Fingerprint, firing.StartsAt)
		}
		if len(b) != 0 {
			t.Fatalf("after resume: /pause/fixed (resolved while %s was frozen) fires again: %+v (was %s)", leader, b, fixed.Fingerprint)
		}
	}
	watch.Check(t)

	takeover := nextRec.firstPost()
	if takeover.IsZero() {
		t.Fatalf("the new leader %s never posted", next)
	}
	// The old leader's lease ran out during the pause: from SIGCONT on it
	// must not send anything, not even a status probe.
	if calls := oldRec.CallsSince(resumed); len(calls) > 0 {
		var list []string
		for _, c := range calls {
			item := fmt.Sprintf("%s %s at +%s", c.Method, c.Path, c.At.Sub(resumed))
			for _, a := range c.Alerts {
				item += fmt.Sprintf(" [%s firing=%v]", a.Labels["path"], a.firingAt(c.At))
			}
			list = append(list, item)
		}
		t.Errorf("the old leader %s, whose lease ran out while it was frozen, sent %d requests after SIGCONT: %s",
			leader, len(calls), strings.Join(list, "; "))
	}
	if last := oldRec.lastPostBefore(resumed); last.After(takeover) {
		t.Errorf("the old leader posted at %s, after the new leader's first post at %s", last, takeover)
	}
	noAlertsFor(t, recs, "/pause/ok")
}

// TestFaultFlappingHoldDown flaps a path with a one-second hold-down: five
// excursions of 300ms send nothing at all; then two seconds out of spec
// fire exactly one alert, no sooner than the hold-down, and going back
// resolves it.
func TestFaultFlappingHoldDown(t *testing.T) {
	zkServer := testenv.StartZooKeeper(t)
	admin := adminClient(t, zkServer.Addr())
	const path, child = "/flap/svc", "/flap/svc/host1"
	retryZK(t, "create "+child, func() error { return createNode(admin, child) })
	cfg := testenv.WriteFile(t, "paths.yaml", path+": {children: 1, cancel_timeout: 1s}\n")
	am := testenv.StartAlertmanager(t, nullAlertmanager)
	rec := startFaultRecorder(t)
	a := startAgent(t, "flap", faultArgs(zkServer.Addr(), cfg, "flap", "--alertmanager.url", am.URL(), "--alertmanager.url", rec.URL())...)
	agents := []*process{a}
	waitOneLeader(t, agents, faultWait)
	waitCompliance(t, agents, map[string]any{path: true})
	usage := faultResources(t, agents)
	const events = `zk_monitor_zookeeper_watch_events_total{type="children_changed"}`
	before, _ := metricValue(a, events)

	// amQuiet fails if Alertmanager holds an alert for path.
	amQuiet := func(when string) {
		if got := znodeAlerts(t, am, path); len(got) > 0 {
			t.Fatalf("%s: Alertmanager holds %+v", when, got)
		}
	}
	for i := 0; i < 5; i++ {
		if err := deleteNode(admin, child); err != nil {
			t.Fatal(err)
		}
		time.Sleep(300 * time.Millisecond)
		amQuiet(fmt.Sprintf("flap %d, out of spec", i+1))
		if err := createNode(admin, child); err != nil {
			t.Fatal(err)
		}
		time.Sleep(300 * time.Millisecond)
		amQuiet(fmt.Sprintf("flap %d, back in spec", i+1))
	}
	waitCompliance(t, agents, map[string]any{path: true})
	// Every excursion was observed (two child changes each), so the silence
	// is the hold-down's doing, not missed events.
	testenv.Eventually(t, faultWait, 50*time.Millisecond, func() bool {
		v, ok := metricValue(a, events)
		return ok && v-before >= 10
	}, "the agent did not observe all 10 changes of the flapping")
	// Well past the hold-down, still nothing.
	for deadline := time.Now().Add(1500 * time.Millisecond); time.Now().Before(deadline); time.Sleep(100 * time.Millisecond) {
		amQuiet("after flapping")
	}
	if got := rec.AlertsFor(path); len(got) > 0 {
		t.Fatalf("flapping inside the hold-down sent %d alerts: first %+v", len(got), got[0])
	}

	// A long excursion fires once, after the hold-down: watch Alertmanager
	// for two seconds and until the alert is there, and never see two.
	// The clock starts before the delete: the agent may hear of it before
	// the delete's answer reaches this test.
	out := time.Now()
	if err := deleteNode(admin, child); err != nil {
		t.Fatal(err)
	}
	var fp string
	testenv.Eventually(t, faultWait, 50*time.Millisecond, func() bool {
		got := znodeAlerts(t, am, path)
		if len(got) > 1 || (len(got) == 1 && fp != "" && got[0].Fingerprint != fp) {
			t.Fatalf("more than one alert for %s: %+v", path, got)
		}
		if len(got) == 1 {
			fp = got[0].Fingerprint
		}
		return fp != "" && time.Since(out) >= 2*time.Second
	}, "out of spec with a one-second hold-down, and no alert")
	if err := createNode(admin, child); err != nil {
		t.Fatal(err)
	}
	testenv.Eventually(t, faultWait, 50*time.Millisecond, func() bool {
		return len(znodeAlerts(t, am, path)) == 0
	}, "the alert was not resolved")
	// The recorder has its own sender: wait for the resolved alert there
	// too, not only in Alertmanager.
	var posted []timedAlert
	testenv.Eventually(t, faultWait, 50*time.Millisecond, func() bool {
		posted = rec.AlertsFor(path)
		return len(posted) > 0 && !posted[len(posted)-1].firingAt(posted[len(posted)-1].At)
	}, "the recorder got no resolved alert; posts: %v", testenv.Last(&posted))
	first := posted[0]
	if first.At.Before(out.Add(time.Second - 50*time.Millisecond)) {
		t.Errorf("the alert was sent %s after the path left its spec, before the 1s hold-down", first.At.Sub(out))
	}
	for _, p := range posted {
		if !p.StartsAt.Equal(first.StartsAt) {
			t.Errorf("a second alert: startsAt %s after %s", p.StartsAt, first.StartsAt)
		}
	}
	t.Logf("one alert fired %s after the path left its spec; %d posts in all", first.At.Sub(out).Round(time.Millisecond), len(posted))
	checkNoLeak(t, agents, usage)
}
