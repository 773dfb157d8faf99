package alerting

import (
	"encoding/json"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/zk-monitor/zk_monitor/config"
	"github.com/zk-monitor/zk_monitor/internal/testenv"
)

const testMsg = "Found children (0) less than minimum (1)"

func TestNewValidatesOptions(t *testing.T) {
	mustURL := func(s string) *url.URL {
		u, err := url.Parse(s)
		if err != nil {
			t.Fatal(err)
		}
		return u
	}
	for _, tc := range []struct {
		name    string
		urls    []*url.URL
		wantErr string
	}{
		{name: "none"},
		{name: "two", urls: []*url.URL{mustURL("http://am1:9093"), mustURL("https://am2:9093/prefix/")}},
		{name: "nil", urls: []*url.URL{nil}, wantErr: "nil alertmanager URL"},
		{name: "scheme", urls: []*url.URL{mustURL("ftp://am1")}, wantErr: `alertmanager URL "ftp://am1": want http(s)://host[:port][/path]`},
		{name: "no host", urls: []*url.URL{mustURL("http:///x")}, wantErr: `alertmanager URL "http:///x": want http(s)://host[:port][/path]`},
		{
			name:    "twice",
			urls:    []*url.URL{mustURL("http://u:secret@am1:9093"), mustURL("http://u:secret@am1:9093")},
			wantErr: `alertmanager URL "http://u:xxxxx@am1:9093" given twice`,
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := New(Options{AlertmanagerURLs: tc.urls})
			if got := errString(err); got != tc.wantErr {
				t.Fatalf("error %q, want %q", got, tc.wantErr)
			}
		})
	}
}

func errString(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}

func TestNextBackoff(t *testing.T) {
	for _, tc := range []struct {
		prev, limit, want time.Duration
	}{
		{prev: 0, limit: time.Minute, want: 100 * time.Millisecond},
		{prev: 100 * time.Millisecond, limit: time.Minute, want: 200 * time.Millisecond},
		{prev: 40 * time.Second, limit: time.Minute, want: time.Minute},
		{prev: time.Minute, limit: time.Minute, want: time.Minute},
		{prev: 0, limit: 10 * time.Millisecond, want: 100 * time.Millisecond},
	} {
		if got := nextBackoff(tc.prev, tc.limit); got != tc.want {
			t.Errorf("nextBackoff(%v, %v) = %v, want %v", tc.prev, tc.limit, got, tc.want)
		}
	}
}

func TestLeadSendsCurrentStateInBatches(t *testing.T) {
	am := newFakeAM(t)
	a, reg := newTestAlerter(t, Options{
		AlertmanagerURLs: []*url.URL{am.url(t)},
		MaxBatchSize:     2,
		ClusterName:      "prod",
		AgentName:        "host1-1",
		ExternalURL:      "http://host1:8080/",
	})
	var want []string
	for i := range 5 {
		p := "/p" + strconv.Itoa(i)
		want = append(want, p)
		a.Update(spec(p), errorResult(testMsg))
	}
	if a.firing() != 5 {
		t.Fatalf("firing() = %d, want 5", a.firing())
	}
	if len(am.posts()) != 0 {
		t.Fatal("a follower posted")
	}

	lead(t, a)
	// The sender counts a batch after Alertmanager answered it: wait for
	// the count, not for the fake to have the alerts.
	sent := a.metrics.sent.WithLabelValues(am.srv.URL)
	testenv.Eventually(t, 10*time.Second, 5*time.Millisecond, func() bool { return testutil.ToFloat64(sent) >= 5 },
		"sent_total to reach 5")
	var got []string
	for _, b := range am.posts() {
		for _, p := range b {
			got = append(got, p.Labels["path"])
		}
	}
	slices.Sort(got)
	if !slices.Equal(got, want) {
		t.Fatalf("posted %q, want %q", got, want)
	}
	for i, b := range am.posts() {
		if len(b) > 2 {
			t.Errorf("batch %d has %d alerts, want at most 2", i, len(b))
		}
	}
	p := am.posts()[0][0]
	if p.GeneratorURL != "http://host1:8080/status" || p.Labels["cluster"] != "prod" || p.Annotations["agent"] != "host1-1" {
		t.Errorf("posted %+v", p)
	}
	if v := testutil.ToFloat64(sent); v != 5 {
		t.Errorf("sent_total = %v, want 5", v)
	}
	if err := testutil.GatherAndCompare(reg, strings.NewReader(`
# HELP zk_monitor_alerts_active Number of alerts currently firing.
# TYPE zk_monitor_alerts_active gauge
zk_monitor_alerts_active 5
`), "zk_monitor_alerts_active"); err != nil {
		t.Error(err)
	}
}

func TestNothingSentAfterLeadEnds(t *testing.T) {
	am := newFakeAM(t)
	a, _ := newTestAlerter(t, Options{AlertmanagerURLs: []*url.URL{am.url(t)}})
	stop := lead(t, a)
	a.Update(spec("/a"), errorResult(testMsg))
	testenv.Eventually(t, 10*time.Second, 5*time.Millisecond, func() bool { return len(am.alertsFor("/a")) == 1 }, "/a to be posted")

	stop()
	if a.Status().Alerting {
		t.Fatal("Status().Alerting after leadership ended")
	}
	before := len(am.posts())
	a.Update(spec("/b"), errorResult(testMsg))
	a.Update(spec("/a"), okResult)
	a.resendAll()
	// Lead has returned: no sender goroutine is left to post anything, and
	// nothing waits in a queue for the next term.
	for _, s := range a.Status().Alertmanagers {
		if s.QueueLength != 0 {
			t.Errorf("queue of %s holds %d alerts after leadership ended", s.URL, s.QueueLength)
		}
	}
	if n := len(am.posts()); n != before {
		t.Fatalf("%d POSTs after leadership ended", n-before)
	}

	// The next term starts with the whole current state.
	lead(t, a)
	testenv.Eventually(t, 10*time.Second, 5*time.Millisecond, func() bool { return len(am.alertsFor("/b")) == 1 && len(am.alertsFor("/a")) == 2 }, "the state after the next term started")
	if last := am.alertsFor("/a")[1]; last.EndsAt.After(time.Now()) {
		t.Errorf("/a sent with endsAt %v, want it resolved", last.EndsAt)
	}
}

func TestLeadEndCancelsRequestInFlight(t *testing.T) {
	am := newFakeAM(t)
	am.holdPosts()
	a, _ := newTestAlerter(t, Options{AlertmanagerURLs: []*url.URL{am.url(t)}, Timeout: time.Minute})
	stop := lead(t, a)
	a.Update(spec("/a"), errorResult(testMsg))
	am.waitEntered(t)

	stop() // returns only once Lead has
	select {
	case <-am.cancelled:
	case <-time.After(testenv.Scaled(10 * time.Second)):
		t.Fatal("the request in flight was not cancelled")
	}
	if v := testutil.ToFloat64(a.metrics.failed.WithLabelValues(am.srv.URL)); v != 0 {
		t.Errorf("failed_total = %v: losing leadership is not a delivery failure", v)
	}
	if s := a.Status().Alertmanagers[0]; !s.LastError.IsZero() {
		t.Errorf("last error %q recorded for a cancelled request", s.LastErrorMessage)
	}
}

func TestFullQueueDropsOldest(t *testing.T) {
	am := newFakeAM(t)
	am.holdPosts()
	a, _ := newTestAlerter(t, Options{
		AlertmanagerURLs: []*url.URL{am.url(t)},
		MaxBatchSize:     1,
		QueueCapacity:    3,
	})
	lead(t, a)
	a.Update(spec("/p1"), errorResult(testMsg))
	am.waitEntered(t) // /p1 is in flight, the queue is empty
	for i := 2; i <= 6; i++ {
		a.Update(spec("/p"+strconv.Itoa(i)), errorResult(testMsg))
	}
	name := am.srv.URL
	if v := testutil.ToFloat64(a.metrics.dropped.WithLabelValues(name)); v != 2 {
		t.Errorf("dropped_total = %v, want 2", v)
	}
	if v := testutil.ToFloat64(a.metrics.queueLength.WithLabelValues(name)); v != 3 {
		t.Errorf("queue_length = %v, want 3", v)
	}
	if s := a.Status().Alertmanagers[0]; s.QueueLength != 3 {
		t.Errorf("status queue length = %d, want 3", s.QueueLength)
	}

	am.release()
	var got []string
	testenv.Eventually(t, 10*time.Second, 5*time.Millisecond, func() bool {
		got = got[:0]
		for _, b := range am.posts() {
			got = append(got, b[0].Labels["path"])
		}
		return len(got) == 4
	}, "the queued alerts")
	if want := []string{"/p1", "/p4", "/p5", "/p6"}; !slices.Equal(got, want) {
		t.Fatalf("posted %q, want %q (oldest dropped)", got, want)
	}
	testenv.Eventually(t, 10*time.Second, 5*time.Millisecond, func() bool {
		return testutil.ToFloat64(a.metrics.queueLength.WithLabelValues(name)) == 0
	}, "queue_length 0")
}

func TestFailedBatchRetriedThenFullResend(t *testing.T) {
	am := newFakeAM(t)
	am.setCode(http.StatusServiceUnavailable)
	a, _ := newTestAlerter(t, Options{AlertmanagerURLs: []*url.URL{am.url(t)}, ResendInterval: 300 * time.Millisecond})
	name := am.srv.URL
	lead(t, a)
	a.Update(spec("/a"), errorResult(testMsg))

	testenv.Eventually(t, 10*time.Second, 5*time.Millisecond, func() bool {
		return testutil.ToFloat64(a.metrics.failed.WithLabelValues(name)) >= 3
	}, "three failed attempts")
	s := a.Status().Alertmanagers[0]
	if s.LastError.IsZero() || !strings.Contains(s.LastErrorMessage, "503") || !s.LastSuccess.IsZero() {
		t.Fatalf("status %+v, want a 503 error and no success", s)
	}

	am.setCode(http.StatusOK)
	// The failed batch goes through, then the failed→ok edge resends the
	// whole state. The status is updated after the count: wait for both.
	testenv.Eventually(t, 10*time.Second, 5*time.Millisecond, func() bool {
		s = a.Status().Alertmanagers[0]
		return testutil.ToFloat64(a.metrics.sent.WithLabelValues(name)) >= 2 && !s.LastSuccess.IsZero()
	}, "the retried batch, the full resend and a last success in the status")
	if v := testutil.ToFloat64(a.metrics.lastSuccess.WithLabelValues(name)); v < float64(s.LastSuccess.Unix()) {
		t.Errorf("last_success_timestamp_seconds = %v, want ≥ %d", v, s.LastSuccess.Unix())
	}
	for _, p := range am.alertsFor("/a") {
		if p.Labels["path"] != "/a" || !p.EndsAt.After(p.StartsAt) {
			t.Errorf("posted %+v", p)
		}
	}
}

func TestRejectedBatchIsNotRetried(t *testing.T) {
	am := newFakeAM(t)
	am.codes = []int{http.StatusBadRequest}
	a, _ := newTestAlerter(t, Options{AlertmanagerURLs: []*url.URL{am.url(t)}})
	lead(t, a)
	a.Update(spec("/a"), errorResult(testMsg))
	am.waitEntered(t)
	a.Update(spec("/b"), errorResult(testMsg))
	testenv.Eventually(t, 10*time.Second, 5*time.Millisecond, func() bool { return len(am.alertsFor("/b")) == 1 }, "/b to be posted")
	// One sender posts in order: a retry of /a would have come before /b.
	if n := len(am.alertsFor("/a")); n != 1 {
		t.Fatalf("/a posted %d times, want once", n)
	}
	if v := testutil.ToFloat64(a.metrics.failed.WithLabelValues(am.srv.URL)); v != 1 {
		t.Errorf("failed_total = %v, want 1", v)
	}
}

func TestDeadAlertmanagerDoesNotDelayOthers(t *testing.T) {
	hung := newFakeAM(t)
	hung.holdPosts()
	hung.setUptime("")
	live := newFakeAM(t)
	closed := closedPortURL(t)
	a, _ := newTestAlerter(t, Options{
		AlertmanagerURLs: []*url.URL{hung.url(t), closed, live.url(t)},
		Timeout:          time.Minute,
	})
	lead(t, a)
	for i := range 3 {
		a.Update(spec("/p"+strconv.Itoa(i)), errorResult(testMsg))
	}
	// Far sooner than the hung one's request timeout (a minute). The
	// status is updated after the answer: wait for what is asserted.
	liveSent := a.metrics.sent.WithLabelValues(live.srv.URL)
	testenv.Eventually(t, 10*time.Second, 5*time.Millisecond, func() bool {
		return testutil.ToFloat64(liveSent) == 3 && !a.Status().Alertmanagers[2].LastSuccess.IsZero()
	}, "the live Alertmanager to take every alert")
	testenv.Eventually(t, 10*time.Second, 5*time.Millisecond, func() bool {
		return !a.Status().Alertmanagers[1].LastError.IsZero()
	}, "the closed port's error in the status")
	st := a.Status()
	if n := len(live.alertsFor("/p0")) + len(live.alertsFor("/p1")) + len(live.alertsFor("/p2")); n != 3 {
		t.Errorf("the live Alertmanager got %d alerts, want 3", n)
	}
	if !strings.Contains(st.Alertmanagers[1].LastErrorMessage, "connection refused") {
		t.Errorf("closed port status %+v", st.Alertmanagers[1])
	}
	if st.Alertmanagers[2].LastSuccess.IsZero() || !st.Alertmanagers[2].LastError.IsZero() {
		t.Errorf("live status %+v", st.Alertmanagers[2])
	}
}

// closedPortURL returns the URL of a port nothing listens on.
func closedPortURL(t *testing.T) *url.URL {
	t.Helper()
	return &url.URL{Scheme: "http", Host: "127.0.0.1:" + strconv.Itoa(testenv.FreePort(t))}
}

func TestEndsAtAndStartsAt(t *testing.T) {
	am := newFakeAM(t)
	clk := &clock{now: t0}
	a, _ := newTestAlerter(t, Options{
		AlertmanagerURLs:  []*url.URL{am.url(t)},
		ResendInterval:    time.Minute,
		ResolvedResendFor: 15 * time.Minute,
		now:               clk.Now,
	})
	lead(t, a)

	type want struct {
		startsAt, endsAt time.Time
	}
	var wants []want
	check := func(what string) {
		t.Helper()
		testenv.Eventually(t, 10*time.Second, 5*time.Millisecond, func() bool { return len(am.alertsFor("/a")) == len(wants) }, "%s", what)
		got := am.alertsFor("/a")
		for i, w := range wants {
			if !got[i].StartsAt.Equal(w.startsAt) || !got[i].EndsAt.Equal(w.endsAt) {
				t.Fatalf("%s: post %d startsAt %v endsAt %v, want %v and %v", what, i, got[i].StartsAt, got[i].EndsAt, w.startsAt, w.endsAt)
			}
		}
	}

	a.Update(spec("/a"), errorResult(testMsg))
	wants = append(wants, want{t0, t0.Add(4 * time.Minute)})
	check("firing")

	clk.set(t0.Add(time.Minute))
	a.resendAll()
	wants = append(wants, want{t0, t0.Add(5 * time.Minute)})
	check("resend of a firing alert")

	clk.set(t0.Add(2 * time.Minute))
	a.Update(spec("/a"), okResult)
	wants = append(wants, want{t0, t0.Add(2 * time.Minute)})
	check("resolved")

	clk.set(t0.Add(3 * time.Minute))
	a.resendAll()
	wants = append(wants, want{t0, t0.Add(2 * time.Minute)})
	check("resend of a resolved alert")

	// 15 minutes after resolving, it is no longer resent.
	clk.set(t0.Add(17 * time.Minute))
	a.resendAll()
	a.Update(spec("/b"), errorResult(testMsg))
	testenv.Eventually(t, 10*time.Second, 5*time.Millisecond, func() bool { return len(am.alertsFor("/b")) == 1 }, "/b")
	check("resends after 15 minutes")
}

func TestInvalidLabelsDroppedAndCounted(t *testing.T) {
	am := newFakeAM(t)
	a, reg := newTestAlerter(t, Options{AlertmanagerURLs: []*url.URL{am.url(t)}})
	lead(t, a)
	s := config.PathSpec{Path: "/a", Labels: map[string]string{"bad-name": "x", "team": "storage"}}
	a.Update(s, errorResult(testMsg))
	a.Update(s, errorResult(testMsg)) // unchanged: not counted again
	testenv.Eventually(t, 10*time.Second, 5*time.Millisecond, func() bool { return len(am.alertsFor("/a")) == 1 }, "/a")
	got := am.alertsFor("/a")[0].Labels
	if _, ok := got["bad-name"]; ok || got["team"] != "storage" {
		t.Fatalf("labels %v, want team and no bad-name", got)
	}
	if err := testutil.GatherAndCompare(reg, strings.NewReader(`
# HELP zk_monitor_alerts_invalid_labels_total Total number of labels left out of alerts because Alertmanager would reject their name or value.
# TYPE zk_monitor_alerts_invalid_labels_total counter
zk_monitor_alerts_invalid_labels_total 1
`), "zk_monitor_alerts_invalid_labels_total"); err != nil {
		t.Error(err)
	}
}

func TestAlertmanagerRestartTriggersFullResend(t *testing.T) {
	am := newFakeAM(t)
	// A short resend interval makes the status probe frequent; Run is not
	// started, so there are no periodic resends to confuse the test.
	a, _ := newTestAlerter(t, Options{AlertmanagerURLs: []*url.URL{am.url(t)}, ResendInterval: 50 * time.Millisecond})
	lead(t, a)
	a.Update(spec("/a"), errorResult(testMsg))
	testenv.Eventually(t, 10*time.Second, 5*time.Millisecond, func() bool { return len(am.alertsFor("/a")) == 1 }, "/a")
	testenv.Eventually(t, 10*time.Second, 5*time.Millisecond, func() bool { return am.probes() >= 1 }, "a status probe")
	if n := len(am.alertsFor("/a")); n != 1 {
		t.Fatalf("/a posted %d times before the restart, want once", n)
	}
	am.setUptime("2024-05-31T17:00:00.000Z")
	testenv.Eventually(t, 10*time.Second, 5*time.Millisecond, func() bool { return len(am.alertsFor("/a")) == 2 }, "/a to be resent after the restart")
}

func TestBasicAuthFromURL(t *testing.T) {
	am := newFakeAM(t)
	u := am.url(t)
	u.User = url.UserPassword("zk", "s3cret")
	a, _ := newTestAlerter(t, Options{AlertmanagerURLs: []*url.URL{u}})
	lead(t, a)
	a.Update(spec("/a"), errorResult(testMsg))
	testenv.Eventually(t, 10*time.Second, 5*time.Millisecond, func() bool { return len(am.posts()) == 1 }, "a POST")
	req, _ := http.NewRequest(http.MethodGet, "/", nil)
	req.SetBasicAuth("zk", "s3cret")
	am.mu.Lock()
	got := am.auth[0]
	am.mu.Unlock()
	if want := req.Header.Get("Authorization"); got != want {
		t.Errorf("Authorization %q, want %q", got, want)
	}
	if s := a.Status().Alertmanagers[0].URL; strings.Contains(s, "s3cret") {
		t.Errorf("status shows the password: %s", s)
	}
}

func TestRunHoldDownAndResend(t *testing.T) {
	am := newFakeAM(t)
	a, _ := newTestAlerter(t, Options{
		AlertmanagerURLs:  []*url.URL{am.url(t)},
		ResendInterval:    50 * time.Millisecond,
		ResolvedResendFor: 200 * time.Millisecond,
	})
	run(t, a)
	lead(t, a)

	hold := 300 * time.Millisecond
	// /short goes back in spec inside its hold-down; /long stays out of
	// spec longer and fires after it.
	start := time.Now()
	a.Update(config.PathSpec{Path: "/short", CancelTimeout: hold}, errorResult(testMsg))
	a.Update(config.PathSpec{Path: "/long", CancelTimeout: 2 * hold}, errorResult(testMsg))
	a.Update(config.PathSpec{Path: "/short", CancelTimeout: hold}, okResult)
	testenv.Eventually(t, 10*time.Second, 5*time.Millisecond, func() bool { return len(am.alertsFor("/long")) > 0 }, "/long to fire")
	if n := len(am.alertsFor("/short")); n != 0 {
		t.Fatalf("/short posted %d times, want never", n)
	}
	// The wire format has millisecond precision.
	if first, end := am.alertsFor("/long")[0], start.Add(2*hold).Truncate(time.Millisecond); first.StartsAt.Before(end) {
		t.Fatalf("/long started at %v, before its hold-down ended (%v)", first.StartsAt, end)
	}
	// Firing alerts are resent every interval.
	testenv.Eventually(t, 10*time.Second, 5*time.Millisecond, func() bool { return len(am.alertsFor("/long")) >= 3 }, "resends of /long")

	a.Update(config.PathSpec{Path: "/long", CancelTimeout: 2 * hold}, okResult)
	testenv.Eventually(t, 10*time.Second, 5*time.Millisecond, func() bool {
		got := am.alertsFor("/long")
		return got[len(got)-1].EndsAt.Before(time.Now())
	}, "/long to be resolved")
	// Resolved alerts are resent for a while, then forgotten.
	testenv.Eventually(t, 10*time.Second, 5*time.Millisecond, func() bool {
		a.mu.Lock()
		defer a.mu.Unlock()
		return len(a.engine.snapshot()) == 0
	}, "the resolved alert to expire")
}

func TestStatusJSONAndMetricsLint(t *testing.T) {
	am := newFakeAM(t)
	a, reg := newTestAlerter(t, Options{AlertmanagerURLs: []*url.URL{am.url(t)}})
	lead(t, a)
	a.Update(spec("/a"), errorResult(testMsg))
	testenv.Eventually(t, 10*time.Second, 5*time.Millisecond, func() bool { return len(am.posts()) == 1 }, "a POST")
	testenv.Eventually(t, 10*time.Second, 5*time.Millisecond, func() bool { return !a.Status().Alertmanagers[0].LastSuccess.IsZero() }, "a success")

	b, err := json.Marshal(a.Status())
	if err != nil {
		t.Fatal(err)
	}
	var got map[string]any
	if err := json.Unmarshal(b, &got); err != nil {
		t.Fatal(err)
	}
	if got["alerting"] != true {
		t.Errorf("alerting = %v in %s", got["alerting"], b)
	}
	ams, _ := got["alertmanagers"].([]any)
	if len(ams) != 1 {
		t.Fatalf("alertmanagers = %v in %s", got["alertmanagers"], b)
	}
	am0 := ams[0].(map[string]any)
	for _, k := range []string{"url", "last_success", "queue_length"} {
		if _, ok := am0[k]; !ok {
			t.Errorf("key %q missing in %s", k, b)
		}
	}
	if _, ok := am0["last_error"]; ok {
		t.Errorf("last_error shown without an error: %s", b)
	}

	problems, err := testutil.GatherAndLint(reg)
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range problems {
		t.Errorf("metric %s: %s", p.Metric, p.Text)
	}
	names := map[string]bool{}
	mfs, _ := reg.Gather()
	for _, mf := range mfs {
		names[mf.GetName()] = true
	}
	for _, n := range []string{
		"zk_monitor_alertmanager_alerts_sent_total",
		"zk_monitor_alertmanager_alerts_failed_total",
		"zk_monitor_alertmanager_alerts_dropped_total",
		"zk_monitor_alertmanager_queue_length",
		"zk_monitor_alertmanager_request_duration_seconds",
		"zk_monitor_alertmanager_last_success_timestamp_seconds",
		"zk_monitor_alerts_active",
		"zk_monitor_alerts_invalid_labels_total",
	} {
		if !names[n] {
			t.Errorf("metric %s not exposed", n)
		}
	}
}
