package clockskew_test

import (
	"context"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/go-kit/log"
	"github.com/go-zookeeper/zk"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/zk-monitor/zk_monitor/clockskew"
	"github.com/zk-monitor/zk_monitor/internal/testenv"
	"github.com/zk-monitor/zk_monitor/zkclient"
)

var t0 = time.Date(2026, 3, 4, 12, 0, 0, 0, time.UTC)

func TestEstimate(t *testing.T) {
	ms := time.Millisecond
	for _, tc := range []struct {
		name            string
		mtime           time.Time
		sent, received  time.Time
		skew, uncertain time.Duration
	}{
		{"same clock, stamp mid-flight", t0.Add(5 * ms), t0, t0.Add(10 * ms), ms / 2, 5*ms + ms/2},
		{"ZooKeeper 3 s ahead", t0.Add(3*time.Second + 2*ms), t0, t0.Add(4 * ms), 3*time.Second + ms/2, 2*ms + ms/2},
		{"ZooKeeper 1 min behind", t0.Add(-time.Minute), t0, t0.Add(2 * ms), -time.Minute - ms/2, ms + ms/2},
		{"instant reply", t0, t0, t0, ms / 2, ms / 2},
	} {
		t.Run(tc.name, func(t *testing.T) {
			m := clockskew.Estimate(tc.mtime, tc.sent, tc.received)
			if m.Skew != tc.skew || m.Uncertainty != tc.uncertain || !m.At.Equal(tc.received) {
				t.Errorf("Estimate = %+v, want skew %v ± %v at %v", m, tc.skew, tc.uncertain, tc.received)
			}
		})
	}
}

// run starts p until the test ends.
func run(t *testing.T, p *clockskew.Prober) {
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { p.Run(ctx); close(done) }()
	t.Cleanup(func() { cancel(); <-done })
}

// waitMeasured waits for the first measurement.
func waitMeasured(t *testing.T, p *clockskew.Prober) clockskew.Measurement {
	t.Helper()
	testenv.Eventually(t, 10*time.Second, 5*time.Millisecond, func() bool {
		_, ok := p.Last()
		return ok
	}, "no clock skew measured")
	m, _ := p.Last()
	return m
}

// TestMeasure measures against a real ZooKeeper on this machine, which
// shares the agent's clock: the skew is 0 within the uncertainty; with the
// agent's clock set 10 s ahead, it is -10 s.
func TestMeasure(t *testing.T) {
	testenv.SkipIfShort(t, "needs a real ZooKeeper")
	zkServer := testenv.StartZooKeeper(t)
	client := testenv.ZKClient(t, zkclient.Options{ConnectString: zkServer.Addr()})
	if err := client.EnsurePath("/zk_monitor/c", zk.WorldACL(zk.PermAll)); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name   string
		offset time.Duration
	}{
		{"same clock", 0},
		{"agent 10s ahead", 10 * time.Second},
	} {
		t.Run(tc.name, func(t *testing.T) {
			reg := prometheus.NewRegistry()
			p, err := clockskew.New(client, clockskew.Options{
				Path: "/zk_monitor/c/clock", Agent: "a1", Registerer: reg,
				Now: func() time.Time { return time.Now().Add(tc.offset) },
			})
			if err != nil {
				t.Fatal(err)
			}
			if n, err := testutil.GatherAndCount(reg); err != nil || n != 0 {
				t.Errorf("%d series before any measurement (%v), want none", n, err)
			}
			run(t, p)
			m := waitMeasured(t, p)
			if off := m.Skew + tc.offset; off.Abs() > m.Uncertainty {
				t.Errorf("skew %v ± %v with the agent %v ahead", m.Skew, m.Uncertainty, tc.offset)
			}
			if m.Uncertainty <= 0 || m.Uncertainty > testenv.Scaled(5*time.Second) {
				t.Errorf("uncertainty %v", m.Uncertainty)
			}
			if v, ok := gauge(t, reg, "zk_monitor_zookeeper_clock_skew_seconds"); !ok || v != m.Skew.Seconds() {
				t.Errorf("zk_monitor_zookeeper_clock_skew_seconds = %v (exported %v), want %v", v, ok, m.Skew.Seconds())
			}
			if v, ok := gauge(t, reg, "zk_monitor_zookeeper_clock_skew_uncertainty_seconds"); !ok || v != m.Uncertainty.Seconds() {
				t.Errorf("zk_monitor_zookeeper_clock_skew_uncertainty_seconds = %v (exported %v), want %v", v, ok, m.Uncertainty.Seconds())
			}
			if problems, err := testutil.GatherAndLint(reg); err != nil || len(problems) > 0 {
				t.Errorf("lint: %v %+v", err, problems)
			}
			data, _, err := client.Get("/zk_monitor/c/clock")
			if err != nil || !strings.HasPrefix(string(data), "a1 ") {
				t.Errorf("probe znode holds %q, %v", data, err)
			}
		})
	}
}

// TestWorkspaceCreatedLater starts before the workspace exists, as an
// agent does until its cluster has created it: the measurement is retried
// until it succeeds, and the probe znode gets the ACL asked for.
func TestWorkspaceCreatedLater(t *testing.T) {
	testenv.SkipIfShort(t, "needs a real ZooKeeper")
	zkServer := testenv.StartZooKeeper(t)
	client := testenv.ZKClient(t, zkclient.Options{ConnectString: zkServer.Addr(), Username: "agent", Password: "pw"})
	logs := &testenv.SyncBuffer{}
	reg := prometheus.NewRegistry()
	acl := zkclient.DigestACL("agent", "pw")
	p, err := clockskew.New(client, clockskew.Options{
		Path: "/ws/clock", ACL: acl, Retry: 20 * time.Millisecond, Registerer: reg,
		Logger: log.NewLogfmtLogger(logs),
	})
	if err != nil {
		t.Fatal(err)
	}
	run(t, p)
	testenv.Eventually(t, 10*time.Second, 5*time.Millisecond, func() bool {
		return strings.Contains(logs.String(), "measuring the clock skew with ZooKeeper failed")
	}, "no failure logged without the workspace")
	if _, ok := p.Last(); ok {
		t.Fatal("measured without a probe znode")
	}
	if _, err := client.Create("/ws", nil, 0, acl); err != nil {
		t.Fatal(err)
	}
	waitMeasured(t, p)
	got, _, err := testenv.RawZK(t, zkServer.Addr(), 5*time.Second).GetACL("/ws/clock")
	if err != nil {
		t.Fatal(err)
	}
	// The server hides the digest from other sessions.
	if len(got) != 2 || got[0].Scheme != "digest" || !strings.HasPrefix(got[0].ID, "agent:") || got[0].Perms != zk.PermAll ||
		!reflect.DeepEqual(got[1], acl[1]) {
		t.Errorf("probe znode ACL %+v, want %+v", got, acl)
	}
	if !strings.Contains(logs.String(), `err="creating /ws/clock: zk: node does not exist"`) {
		t.Errorf("failure logged without its cause:\n%s", logs.String())
	}
}

// gauge returns the value of the gauge family name in reg, if exported.
func gauge(t *testing.T, reg prometheus.Gatherer, name string) (float64, bool) {
	t.Helper()
	families, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range families {
		if f.GetName() == name && len(f.GetMetric()) == 1 {
			return f.GetMetric()[0].GetGauge().GetValue(), true
		}
	}
	return 0, false
}
