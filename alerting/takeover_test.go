package alerting

// Takeover of the firing set between leaders, on a real ZooKeeper and a
// real Alertmanager: each Alerter stands for one agent, with its own
// session and an ephemeral node of it as its election node.

import (
	"context"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/go-kit/log"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/zk-monitor/zk_monitor/compliance"
	"github.com/zk-monitor/zk_monitor/config"
	"github.com/zk-monitor/zk_monitor/internal/testenv"
)

// recordedPaths returns "<alertname> <path>" of every record in the set.
func recordedPaths(t *testing.T, env *storeEnv) []string {
	t.Helper()
	recs, _, err := env.store.load(context.Background())
	if err != nil {
		t.Logf("loading the firing set: %v", err)
		return nil
	}
	var out []string
	for _, r := range recs {
		if r.alert != nil {
			out = append(out, r.alert.kind.alertName()+" "+r.alert.path)
		}
	}
	slices.Sort(out)
	return out
}

// activeAlertNamed is activeAlert for one alert name.
func activeAlertNamed(t *testing.T, am *testenv.Alertmanager, name, path string) (testenv.AMAlert, bool) {
	t.Helper()
	for _, a := range am.AlertsWith(t, map[string]string{"alertname": name, "path": path}) {
		if a.Status.State == "active" {
			return a, true
		}
	}
	return testenv.AMAlert{}, false
}

func storeAlerter(t *testing.T, am *testenv.Alertmanager, name string, env *storeEnv, logger log.Logger) *Alerter {
	t.Helper()
	a, _ := newTestAlerter(t, Options{
		AlertmanagerURLs: []*url.URL{amURL(t, am)},
		ClusterName:      "prod",
		AgentName:        name,
		ResendInterval:   200 * time.Millisecond,
		FiringStore:      env.store,
		Logger:           logger,
	})
	run(t, a)
	return a
}

// TestTakeoverKeepsFiringAlerts: what leader a recorded, leader b goes on
// with: a path still failing (its hold-down running on b) or not read yet
// keeps its alert and start, a path now OK is resolved, and a path b does
// not monitor is resolved once b has heard of every path it does.
func TestTakeoverKeepsFiringAlerts(t *testing.T) {
	testenv.SkipIfShort(t, "needs a real ZooKeeper and Alertmanager")
	zkServer := testenv.StartZooKeeper(t)
	am := testenv.StartAlertmanager(t, nullAMConfig)
	envA, envB := newStoreEnv(t, zkServer.Addr(), "/ws"), newStoreEnv(t, zkServer.Addr(), "/ws")

	a := storeAlerter(t, am, "a", envA, nil)
	stopA := lead(t, a)
	for _, p := range []string{"/fires", "/heals", "/gone"} {
		a.Update(spec(p), errorResult(testMsg))
	}
	a.Update(spec("/unread"), resUnreadable)
	want := []string{"ZnodeNotCompliant /fires", "ZnodeNotCompliant /gone", "ZnodeNotCompliant /heals", "ZnodeUnreadable /unread"}
	testenv.Eventually(t, 10*time.Second, 20*time.Millisecond, func() bool { return slices.Equal(recordedPaths(t, envA), want) }, "a's records")
	first := map[string]time.Time{}
	for _, p := range []string{"/fires", "/heals", "/gone"} {
		testenv.Eventually(t, 10*time.Second, 20*time.Millisecond, func() bool {
			al, ok := activeAlertNamed(t, am, AlertName, p)
			first[p] = al.StartsAt
			return ok
		}, "%s active", p)
	}
	stopA()

	// b restarted meanwhile: its hold-down of /fires started again, /heals
	// is in spec, /unread was not read yet, and it has not heard of /gone.
	b := storeAlerter(t, am, "b", envB, nil)
	b.Update(config.PathSpec{Path: "/fires", CancelTimeout: time.Hour}, errorResult(testMsg))
	b.Update(spec("/heals"), okResult)
	b.Update(spec("/unread"), compliance.Result{State: compliance.Unknown, Message: compliance.MsgNeverRead})
	lead(t, b)

	// Sent by b (its name in the agent annotation), with a's start.
	for _, p := range []string{"/fires", "/gone"} {
		testenv.Eventually(t, 10*time.Second, 20*time.Millisecond, func() bool {
			al, ok := activeAlertNamed(t, am, AlertName, p)
			return ok && al.Annotations["agent"] == "b"
		}, "%s not sent by b", p)
		if al, _ := activeAlertNamed(t, am, AlertName, p); !al.StartsAt.Equal(first[p]) {
			t.Errorf("%s: active since %s, want since %s", p, al.StartsAt, first[p])
		}
	}
	testenv.Eventually(t, 10*time.Second, 20*time.Millisecond, func() bool {
		al, ok := activeAlertNamed(t, am, UnreadableAlertName, "/unread")
		return ok && al.Annotations["agent"] == "b"
	}, "ZnodeUnreadable /unread not sent by b")
	if _, healing := activeAlertNamed(t, am, AlertName, "/heals"); healing {
		t.Error("/heals is still active")
	}
	testenv.Eventually(t, 10*time.Second, 20*time.Millisecond, func() bool {
		return slices.Equal(recordedPaths(t, envB), []string{"ZnodeNotCompliant /fires", "ZnodeNotCompliant /gone", "ZnodeUnreadable /unread"})
	}, "/heals's record deleted: %v", recordedPaths(t, envB))

	b.AllPathsReported()
	testenv.Eventually(t, 10*time.Second, 20*time.Millisecond, func() bool {
		_, ok := activeAlertNamed(t, am, AlertName, "/gone")
		return !ok && slices.Equal(recordedPaths(t, envB), []string{"ZnodeNotCompliant /fires", "ZnodeUnreadable /unread"})
	}, "/gone resolved and its record deleted: %v", recordedPaths(t, envB))
	if b.firing() != 2 {
		t.Errorf("b has %d firing alerts, want 2", b.firing())
	}
	testenv.Eventually(t, 10*time.Second, 20*time.Millisecond, func() bool {
		return testutil.ToFloat64(b.metrics.records) == 2 && testutil.ToFloat64(b.metrics.recordsPending) == 0
	}, "b's record gauges: %v recorded, %v pending", testutil.ToFloat64(b.metrics.records), testutil.ToFloat64(b.metrics.recordsPending))
	if n := testutil.ToFloat64(a.metrics.records); n != 0 {
		t.Errorf("a, no longer leading, shows %v records", n)
	}
}

// TestDeposedLeaderCannotRecord: once a leader's election node is gone
// (its session expired, another agent leads), what it still decides never
// reaches the firing set.
func TestDeposedLeaderCannotRecord(t *testing.T) {
	testenv.SkipIfShort(t, "needs a real ZooKeeper and Alertmanager")
	zkServer := testenv.StartZooKeeper(t)
	am := testenv.StartAlertmanager(t, nullAMConfig)
	env := newStoreEnv(t, zkServer.Addr(), "/ws")
	logs := &testenv.SyncBuffer{}
	a := storeAlerter(t, am, "a", env, log.NewLogfmtLogger(logs))
	lead(t, a)
	a.Update(spec("/x"), errorResult(testMsg))
	testenv.Eventually(t, 10*time.Second, 20*time.Millisecond, func() bool { return slices.Equal(recordedPaths(t, env), []string{"ZnodeNotCompliant /x"}) }, "/x recorded")

	if err := env.client.Delete(env.fence, -1); err != nil {
		t.Fatal(err)
	}
	a.Update(spec("/y"), errorResult(testMsg))
	a.Update(spec("/x"), okResult)
	testenv.Eventually(t, 10*time.Second, 20*time.Millisecond, func() bool {
		return strings.Contains(logs.String(), "election node is gone")
	}, "the refused write")
	if got := recordedPaths(t, env); !slices.Equal(got, []string{"ZnodeNotCompliant /x"}) {
		t.Fatalf("the deposed leader changed the firing set: %v", got)
	}
}

// TestRecordingNeverBlocksDelivery cuts the leader off ZooKeeper: alerts
// still reach Alertmanager at once, and the set is written once
// ZooKeeper answers again.
func TestRecordingNeverBlocksDelivery(t *testing.T) {
	testenv.SkipIfShort(t, "needs a real ZooKeeper and Alertmanager")
	zkServer := testenv.StartZooKeeper(t)
	am := testenv.StartAlertmanager(t, nullAMConfig)
	proxy := testenv.NewProxy(t, zkServer.Addr())
	env := newStoreEnv(t, proxy.Addr(), "/ws")
	a := storeAlerter(t, am, "a", env, nil)
	lead(t, a)

	proxy.Cut()
	a.Update(spec("/z"), errorResult(testMsg))
	testenv.Eventually(t, 10*time.Second, 20*time.Millisecond, func() bool {
		_, ok := activeAlertNamed(t, am, AlertName, "/z")
		return ok
	}, "/z delivered while ZooKeeper is cut off")
	proxy.Restore()
	check := newStoreEnv(t, zkServer.Addr(), "/ws")
	testenv.Eventually(t, 15*time.Second, 20*time.Millisecond, func() bool { return slices.Equal(recordedPaths(t, check), []string{"ZnodeNotCompliant /z"}) }, "/z recorded after ZooKeeper came back")
}

// TestTakeoverDeletesUnusableRecords: nodes in the set that hold no
// usable record are deleted by the next leader, or overwritten when they
// are the node of an alert that fires.
func TestTakeoverDeletesUnusableRecords(t *testing.T) {
	testenv.SkipIfShort(t, "needs a real ZooKeeper and Alertmanager")
	zkServer := testenv.StartZooKeeper(t)
	am := testenv.StartAlertmanager(t, nullAMConfig)
	env := newStoreEnv(t, zkServer.Addr(), "/ws")
	garbage := []recordChange{
		{name: nodeName(recordKey{path: "/garbage"}), data: []byte("{not json")},
		{name: nodeName(recordKey{path: "/x"}), data: []byte("{not json either")},
	}
	if _, err := env.store.write(context.Background(), env.fence, garbage); err != nil {
		t.Fatal(err)
	}

	a := storeAlerter(t, am, "a", env, nil)
	a.Update(spec("/x"), errorResult(testMsg))
	lead(t, a)
	testenv.Eventually(t, 10*time.Second, 20*time.Millisecond, func() bool {
		recs, bad, err := env.store.load(context.Background())
		return err == nil && len(bad) == 0 && len(recs) == 1 && recs[0].alert.path == "/x"
	}, "the set still holds unusable records: %v", recordedPaths(t, env))
}
