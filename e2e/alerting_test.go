package e2e

import (
	"syscall"
	"testing"
	"time"

	"github.com/zk-monitor/zk_monitor/internal/testenv"
	"github.com/zk-monitor/zk_monitor/zkclient"
)

const nullAlertmanager = "route: {receiver: 'null', group_wait: 100ms, group_interval: 200ms}\nreceivers: [{name: 'null'}]\n"

func adminClient(t *testing.T, addr string) *zkclient.Client {
	return testenv.ZKClient(t, zkclient.Options{ConnectString: addr})
}

// znodeAlerts returns the ZnodeNotCompliant alerts Alertmanager holds for
// path. Not getting an answer fails the test: it must not pass for "no
// alert".
func znodeAlerts(t *testing.T, am *testenv.Alertmanager, path string) []testenv.AMAlert {
	t.Helper()
	var out []testenv.AMAlert
	for _, a := range am.AlertsNow(t) {
		if a.Labels["alertname"] == "ZnodeNotCompliant" && a.Labels["path"] == path {
			out = append(out, a)
		}
	}
	return out
}

// TestLeaderKilledWhileFiring: the new leader keeps the alert firing (same
// fingerprint, never a second alert, never resolved in between) and
// resolves it when the path recovers.
func TestLeaderKilledWhileFiring(t *testing.T) {
	zk := testenv.StartZooKeeper(t)
	am := testenv.StartAlertmanager(t, nullAlertmanager)
	admin := adminClient(t, zk.Addr())
	if err := admin.EnsurePath("/services/foo/min_1", zkclient.DigestACL("", "")); err != nil {
		t.Fatal(err)
	}
	// Alerts are sent with endsAt four resend intervals ahead: 8s, well
	// over a failover (the 2s session timeout and an election), so the
	// alert stays active however slow the machine is.
	agents := startCluster(t, zk.Addr(), 3, "--alertmanager.url", am.URL(), "--alertmanager.resend-interval", "2s")
	leader := waitOneLeader(t, agents, 15*time.Second)

	var fingerprint string
	testenv.Eventually(t, 15*time.Second, 50*time.Millisecond, func() bool {
		alerts := znodeAlerts(t, am, "/services/foo/min_1")
		if len(alerts) == 1 && alerts[0].Status.State == "active" {
			fingerprint = alerts[0].Fingerprint
			return true
		}
		return false
	}, "alert never became active")
	first := znodeAlerts(t, am, "/services/foo/min_1")[0]
	if first.Annotations["summary"] != "Found children (0) less than minimum (1)" || first.Labels["cluster"] != "e2e" {
		t.Fatalf("unexpected alert: %+v", first)
	}

	byName(agents, leader).Signal(syscall.SIGKILL)
	deadline := time.Now().Add(sessionTimeout + 3*time.Second)
	for time.Now().Before(deadline) {
		alerts := znodeAlerts(t, am, "/services/foo/min_1")
		if len(alerts) != 1 || alerts[0].Fingerprint != fingerprint || alerts[0].Status.State != "active" {
			t.Fatalf("during failover the alert must stay one active alert with fingerprint %s, have %+v", fingerprint, alerts)
		}
		time.Sleep(50 * time.Millisecond)
	}
	newLeader := waitOneLeader(t, agents, 10*time.Second)
	if newLeader == leader {
		t.Fatalf("killed agent %s still leads", leader)
	}
	// The new leader delivers the whole state when it starts leading, in
	// its own name; the alert stays the one that started before the
	// failover.
	var after []testenv.AMAlert
	testenv.Eventually(t, 15*time.Second, 50*time.Millisecond, func() bool {
		after = znodeAlerts(t, am, "/services/foo/min_1")
		if len(after) != 1 || after[0].Fingerprint != fingerprint || after[0].Status.State != "active" || !after[0].StartsAt.Equal(first.StartsAt) {
			t.Fatalf("after failover the alert must stay one active alert with fingerprint %s started at %s, have %+v", fingerprint, first.StartsAt, after)
		}
		return after[0].Annotations["agent"] == newLeader
	}, "the alert's agent annotation does not name the new leader %s", newLeader)

	if err := admin.EnsurePath("/services/foo/min_1/host1", zkclient.DigestACL("", "")); err != nil {
		t.Fatal(err)
	}
	testenv.Eventually(t, 15*time.Second, 50*time.Millisecond, func() bool {
		return len(znodeAlerts(t, am, "/services/foo/min_1")) == 0
	}, "alert was not resolved by the new leader")
}

// TestFollowersNeverPost points each agent at its own recorder: only the
// leader's recorder ever receives anything, until the lead moves.
func TestFollowersNeverPost(t *testing.T) {
	zk := testenv.StartZooKeeper(t)
	admin := adminClient(t, zk.Addr())
	if err := admin.EnsurePath("/services/foo/min_1", zkclient.DigestACL("", "")); err != nil {
		t.Fatal(err)
	}
	cfg := testenv.WriteFile(t, "paths.yaml", "/services/foo/min_1: {children: 1}\n")
	rec1, rec2 := testenv.StartHTTPRecorder(t), testenv.StartHTTPRecorder(t)
	common := []string{"-z", zk.Addr(), "-f", cfg, "-c", "silence", "--zookeeper.session-timeout", sessionTimeout.String(), "--alertmanager.resend-interval", "200ms"}
	a1 := startAgent(t, "first", append(common, "--alertmanager.url", rec1.URL())...)
	waitOneLeader(t, []*process{a1}, 15*time.Second)
	a2 := startAgent(t, "second", append(common, "--alertmanager.url", rec2.URL())...)
	testenv.Eventually(t, 10*time.Second, 50*time.Millisecond, func() bool { return len(rec1.Requests()) >= 3 }, "leader did not post")
	// rec2 stays silent while a2 follows, though its path is failing too.
	time.Sleep(2 * time.Second)
	if n := len(rec2.Requests()); n != 0 {
		t.Fatalf("the follower posted %d requests", n)
	}
	st, err := a2.Status()
	if err != nil || st.Monitor.Alerter.Alerting {
		t.Fatalf("follower status: %+v %v", st, err)
	}
	a1.Signal(syscall.SIGKILL)
	posted := func() bool {
		for _, r := range rec2.Requests() {
			if r.Method == "POST" && r.Path == "/api/v2/alerts" {
				return true
			}
		}
		return false
	}
	testenv.Eventually(t, 15*time.Second, 50*time.Millisecond, posted, "new leader did not post")
	for _, r := range rec2.Requests() {
		// The leader also reads Alertmanager's status to notice restarts.
		if !(r.Method == "POST" && r.Path == "/api/v2/alerts") && !(r.Method == "GET" && r.Path == "/api/v2/status") {
			t.Fatalf("unexpected request %s %s", r.Method, r.Path)
		}
	}
}
