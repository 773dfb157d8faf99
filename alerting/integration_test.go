package alerting

// Integration tests against Debian's prometheus-alertmanager, started by
// internal/testenv.

import (
	"encoding/json"
	"maps"
	"net/http"
	"net/url"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"

	"github.com/zk-monitor/zk_monitor/compliance"
	"github.com/zk-monitor/zk_monitor/config"
	"github.com/zk-monitor/zk_monitor/internal/testenv"
)

// nullAMConfig routes everything to a receiver that notifies nobody.
const nullAMConfig = `
route:
  receiver: 'null'
receivers:
  - name: 'null'
`

func amURL(t *testing.T, am *testenv.Alertmanager) *url.URL {
	t.Helper()
	u, err := url.Parse(am.URL())
	if err != nil {
		t.Fatal(err)
	}
	return u
}

// activeAlert returns Alertmanager's active alert of path, if any. Not
// getting an answer fails the test: it must not pass for "no alert".
func activeAlert(t *testing.T, am *testenv.Alertmanager, path string) (testenv.AMAlert, bool) {
	t.Helper()
	for _, a := range am.AlertsNow(t) {
		if a.Labels["path"] == path && a.Status.State == "active" {
			return a, true
		}
	}
	return testenv.AMAlert{}, false
}

// countAlerts returns how many alerts Alertmanager holds for path.
func countAlerts(t *testing.T, am *testenv.Alertmanager, path string) int {
	t.Helper()
	n := 0
	for _, a := range am.AlertsNow(t) {
		if a.Labels["path"] == path {
			n++
		}
	}
	return n
}

func TestAlertmanagerFiresAndResolves(t *testing.T) {
	hook := testenv.StartHTTPRecorder(t)
	am := testenv.StartAlertmanager(t, `
route:
  receiver: hook
  group_by: [alertname, path]
  group_wait: 50ms
  group_interval: 200ms
  repeat_interval: 1h
receivers:
  - name: hook
    webhook_configs:
      - url: '`+hook.URL()+`/hook'
        send_resolved: true
`)
	a, _ := newTestAlerter(t, Options{
		AlertmanagerURLs: []*url.URL{amURL(t, am)},
		ClusterName:      "prod",
		AgentName:        "agent-1",
		ExternalURL:      "http://agent-1:8080",
	})
	run(t, a)
	lead(t, a)

	s := config.PathSpec{
		Path: "/services/foo/min_1",
		Alerter: config.Alerter{
			Email:        []string{"oncall@example.com", "dev@example.com"},
			SlackChannel: "#ops",
			HipChatRoom:  "Ops",
		},
		Labels:     map[string]string{"team": "storage", "bad-name": "dropped"},
		RunbookURL: "https://runbooks.example.com/zk",
	}
	before := time.Now()
	a.Update(s, errorResult(testMsg))

	var got testenv.AMAlert
	testenv.Eventually(t, 10*time.Second, 5*time.Millisecond, func() bool {
		var ok bool
		got, ok = activeAlert(t, am, s.Path)
		return ok
	}, "the alert to be active in Alertmanager")
	wantLabels := map[string]string{
		"alertname":     "ZnodeNotCompliant",
		"path":          "/services/foo/min_1",
		"cluster":       "prod",
		"severity":      "warning",
		"email":         "oncall@example.com,dev@example.com",
		"slack_channel": "#ops",
		"hipchat_room":  "Ops",
		"team":          "storage",
	}
	if !maps.Equal(got.Labels, wantLabels) {
		t.Errorf("labels %v, want %v", got.Labels, wantLabels)
	}
	wantAnnotations := map[string]string{
		"summary":     testMsg,
		"description": "/services/foo/min_1 is in the Error state.",
		"agent":       "agent-1",
		"runbook_url": "https://runbooks.example.com/zk",
	}
	if !maps.Equal(got.Annotations, wantAnnotations) {
		t.Errorf("annotations %v, want %v", got.Annotations, wantAnnotations)
	}
	if got.GeneratorURL != "http://agent-1:8080/status" {
		t.Errorf("generatorURL %q", got.GeneratorURL)
	}
	if got.EndsAt.Before(before.Add(3 * time.Minute)) {
		t.Errorf("endsAt %v, want about 4 resend intervals ahead", got.EndsAt)
	}
	testenv.Eventually(t, 10*time.Second, 5*time.Millisecond, func() bool { return webhookStatus(t, hook, s.Path, "firing") }, "the firing notification")

	a.Update(s, okResult)
	testenv.Eventually(t, 10*time.Second, 5*time.Millisecond, func() bool { return webhookStatus(t, hook, s.Path, "resolved") }, "the resolved notification")
	if _, ok := activeAlert(t, am, s.Path); ok {
		t.Error("alert still active after the resolved notification")
	}
}

// webhookStatus reports whether the recorder got a webhook notification of
// path with the given status.
func webhookStatus(t *testing.T, hook *testenv.HTTPRecorder, path, status string) bool {
	t.Helper()
	for _, r := range hook.Requests() {
		var msg struct {
			Status string `json:"status"`
			Alerts []struct {
				Status string            `json:"status"`
				Labels map[string]string `json:"labels"`
			} `json:"alerts"`
		}
		if err := json.Unmarshal(r.Body, &msg); err != nil {
			t.Fatalf("webhook body %q: %v", r.Body, err)
		}
		for _, a := range msg.Alerts {
			if a.Labels["path"] == path && a.Status == status {
				return true
			}
		}
	}
	return false
}

func TestAlertmanagerDownWhilePathFails(t *testing.T) {
	am := testenv.StartAlertmanager(t, nullAMConfig)
	a, _ := newTestAlerter(t, Options{
		AlertmanagerURLs: []*url.URL{amURL(t, am)},
		ResendInterval:   200 * time.Millisecond,
		Timeout:          time.Second,
	})
	run(t, a)
	lead(t, a)

	am.Stop()
	a.Update(spec("/x"), errorResult(testMsg))
	name := am.URL()
	testenv.Eventually(t, 10*time.Second, 5*time.Millisecond, func() bool {
		return testutil.ToFloat64(a.metrics.failed.WithLabelValues(name)) >= 2
	}, "failed attempts while Alertmanager is down")

	am.Start()
	testenv.Eventually(t, 10*time.Second, 5*time.Millisecond, func() bool {
		_, ok := activeAlert(t, am, "/x")
		return ok
	}, "the alert to arrive once Alertmanager is back")
}

func TestAlertmanagerRestartDetected(t *testing.T) {
	am := testenv.StartAlertmanager(t, nullAMConfig)
	// Run is not started: no periodic resend, so only restart detection
	// (the status probe, every resend interval) can bring the alert back.
	a, _ := newTestAlerter(t, Options{
		AlertmanagerURLs: []*url.URL{amURL(t, am)},
		ResendInterval:   500 * time.Millisecond,
		Timeout:          time.Second,
	})
	lead(t, a)
	a.Update(spec("/x"), errorResult(testMsg))
	testenv.Eventually(t, 10*time.Second, 5*time.Millisecond, func() bool {
		_, ok := activeAlert(t, am, "/x")
		return ok
	}, "the alert")

	// Wait until the alerter knows when this Alertmanager started.
	testenv.Eventually(t, 10*time.Second, 5*time.Millisecond, func() bool { return a.ams[0].knownUptime() != "" }, "the uptime to be known")
	// Alertmanager keeps no alerts across a restart.
	am.Stop()
	am.Start()
	testenv.Eventually(t, 15*time.Second, 5*time.Millisecond, func() bool {
		_, ok := activeAlert(t, am, "/x")
		return ok
	}, "the alert to be resent after the restart")
}

func TestAlertmanagerOneOfTwoDead(t *testing.T) {
	am := testenv.StartAlertmanager(t, nullAMConfig)
	dead := closedPortURL(t)
	a, _ := newTestAlerter(t, Options{
		AlertmanagerURLs: []*url.URL{dead, amURL(t, am)},
		Timeout:          time.Minute,
	})
	run(t, a)
	lead(t, a)
	a.Update(spec("/x"), errorResult(testMsg))
	testenv.Eventually(t, 5*time.Second, 5*time.Millisecond, func() bool {
		_, ok := activeAlert(t, am, "/x")
		return ok
	}, "the live Alertmanager to get the alert")
	testenv.Eventually(t, 5*time.Second, 5*time.Millisecond, func() bool { return !a.Status().Alertmanagers[0].LastError.IsZero() }, "the dead one's error")
	testenv.Eventually(t, 5*time.Second, 5*time.Millisecond, func() bool { return !a.Status().Alertmanagers[1].LastSuccess.IsZero() }, "the live one's success")
	if s := a.Status().Alertmanagers[1]; !s.LastError.IsZero() {
		t.Errorf("live Alertmanager status %+v", s)
	}
}

func TestAlertmanagerLeaderChange(t *testing.T) {
	am := testenv.StartAlertmanager(t, nullAMConfig)
	var agents []*Alerter
	for _, name := range []string{"agent-1", "agent-2"} {
		a, _ := newTestAlerter(t, Options{
			AlertmanagerURLs: []*url.URL{amURL(t, am)},
			ClusterName:      "prod",
			AgentName:        name,
		})
		run(t, a)
		agents = append(agents, a)
	}
	update := func(res compliance.Result) {
		for _, a := range agents {
			a.Update(spec("/x"), res)
		}
	}

	stop1 := lead(t, agents[0])
	update(errorResult(testMsg))
	var first testenv.AMAlert
	testenv.Eventually(t, 10*time.Second, 5*time.Millisecond, func() bool {
		var ok bool
		first, ok = activeAlert(t, am, "/x")
		return ok
	}, "the alert from the first leader")

	stop1()
	lead(t, agents[1])
	testenv.Eventually(t, 10*time.Second, 5*time.Millisecond, func() bool {
		a, ok := activeAlert(t, am, "/x")
		return ok && a.Annotations["agent"] == "agent-2"
	}, "the second leader's resend")
	got, _ := activeAlert(t, am, "/x")
	if got.Fingerprint != first.Fingerprint {
		t.Errorf("fingerprint changed from %s to %s", first.Fingerprint, got.Fingerprint)
	}
	if n := countAlerts(t, am, "/x"); n != 1 {
		t.Errorf("%d alerts for /x, want 1", n)
	}
	if !got.StartsAt.Equal(first.StartsAt) {
		t.Errorf("startsAt moved from %v to %v", first.StartsAt, got.StartsAt)
	}

	update(okResult)
	testenv.Eventually(t, 10*time.Second, 5*time.Millisecond, func() bool {
		_, ok := activeAlert(t, am, "/x")
		return !ok
	}, "the new leader to resolve the alert")
}

func TestFollowerNeverPosts(t *testing.T) {
	followerSink := testenv.StartHTTPRecorder(t)
	leaderSink := testenv.StartHTTPRecorder(t)
	var follower, leader *Alerter
	for i, sink := range []*testenv.HTTPRecorder{followerSink, leaderSink} {
		u, err := url.Parse(sink.URL())
		if err != nil {
			t.Fatal(err)
		}
		a, _ := newTestAlerter(t, Options{AlertmanagerURLs: []*url.URL{u}, ResendInterval: 50 * time.Millisecond})
		run(t, a)
		if i == 0 {
			follower = a
		} else {
			leader = a
		}
	}
	lead(t, leader)
	for _, a := range []*Alerter{follower, leader} {
		a.Update(spec("/x"), errorResult(testMsg))
	}
	// Several resend cycles pass on both.
	testenv.Eventually(t, 10*time.Second, 5*time.Millisecond, func() bool { return len(leaderSink.Requests()) >= 5 }, "the leader's resends")
	for _, a := range []*Alerter{follower, leader} {
		a.Update(spec("/x"), okResult)
	}
	n := len(leaderSink.Requests())
	testenv.Eventually(t, 10*time.Second, 5*time.Millisecond, func() bool { return len(leaderSink.Requests()) >= n+3 }, "the leader's resolved resends")
	if reqs := followerSink.Requests(); len(reqs) != 0 {
		t.Fatalf("the follower sent %d requests, first %s %s", len(reqs), reqs[0].Method, reqs[0].Path)
	}
	if follower.Status().Alerting {
		t.Error("follower says it is alerting")
	}
}

func TestAlertmanagerCancelTimeout(t *testing.T) {
	am := testenv.StartAlertmanager(t, nullAMConfig)
	// The default resend interval (1m) keeps resends out of the test: every
	// alert Alertmanager receives is a transition.
	a, _ := newTestAlerter(t, Options{AlertmanagerURLs: []*url.URL{amURL(t, am)}})
	run(t, a)
	lead(t, a)

	hold := 300 * time.Millisecond
	short := config.PathSpec{Path: "/short", CancelTimeout: hold}
	long := config.PathSpec{Path: "/long", CancelTimeout: hold}
	a.Update(short, errorResult(testMsg))
	a.Update(long, errorResult(testMsg))
	a.Update(short, okResult) // a short excursion
	testenv.Eventually(t, 10*time.Second, 5*time.Millisecond, func() bool {
		_, ok := activeAlert(t, am, "/long")
		return ok
	}, "the long excursion to fire")
	// Alertmanager's own count of what it received: only /long.
	if n := amReceived(t, am, "firing"); n != 1 {
		t.Errorf("Alertmanager received %v firing alerts, want 1", n)
	}
	if n := amReceived(t, am, "resolved"); n != 0 {
		t.Errorf("Alertmanager received %v resolved alerts, want 0", n)
	}
}

// amReceived returns Alertmanager's alertmanager_alerts_received_total for
// status.
func amReceived(t *testing.T, am *testenv.Alertmanager, status string) float64 {
	t.Helper()
	client := &http.Client{Timeout: testenv.Scaled(5 * time.Second), Transport: &http.Transport{DisableKeepAlives: true}}
	resp, err := client.Get(am.URL() + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	parser := expfmt.NewTextParser(model.LegacyValidation)
	mfs, err := parser.TextToMetricFamilies(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	total := 0.0
	for _, m := range mfs["alertmanager_alerts_received_total"].GetMetric() {
		for _, l := range m.GetLabel() {
			if l.GetName() == "status" && l.GetValue() == status {
				total += m.GetCounter().GetValue()
			}
		}
	}
	return total
}
