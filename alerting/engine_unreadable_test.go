package alerting

import (
	"maps"
	"testing"
	"time"

	"github.com/zk-monitor/zk_monitor/compliance"
	"github.com/zk-monitor/zk_monitor/config"
)

// describeKinds is describe with the alert name: "firing ZnodeUnreadable /a".
func describeKinds(alerts []*alert) []string {
	return describeWith(alerts, func(a *alert) string { return a.labels[labelAlertName] + " " + a.labels[labelPath] })
}

// Results as the watcher reports them (compliance.Evaluate of a path with
// a children check).
var (
	resUnreadable = compliance.Result{State: compliance.Unknown, Message: "Cannot read path: not authorized", Read: compliance.Error}
	resStale      = compliance.Result{State: compliance.Unknown, Message: "Cannot read path: not authorized"}
	resNeverRead  = compliance.Result{State: compliance.Unknown, Message: compliance.MsgNeverRead}
	resNoChecks   = compliance.Result{State: compliance.Unknown, Message: compliance.MsgNoChecks}
	resReadOK     = compliance.Result{State: compliance.OK, Message: compliance.MsgOK, Read: compliance.OK}
	resReadError  = compliance.Result{State: compliance.Error, Message: "Found children (0) less than minimum (1)", Read: compliance.OK}
)

func TestEngineUnreadable(t *testing.T) {
	const (
		unreadableA   = "ZnodeUnreadable /a"
		notCompliantA = "ZnodeNotCompliant /a"
	)
	hold := 10 * time.Second
	for _, tc := range []struct {
		name  string
		hold  time.Duration
		steps []step
	}{
		{
			name: "no hold-down fires at once",
			steps: []step{
				{path: "/a", res: &resUnreadable, want: []string{"firing " + unreadableA}, firing: 1},
				{at: time.Second, path: "/a", res: &resUnreadable, firing: 1},
			},
		},
		{
			name: "fires when the hold-down ends",
			hold: hold,
			steps: []step{
				{path: "/a", res: &resUnreadable},
				{at: 5 * time.Second, advance: true},
				{at: 10 * time.Second, advance: true, want: []string{"firing " + unreadableA}, firing: 1},
			},
		},
		{
			name: "a successful read inside the hold-down cancels silently",
			hold: hold,
			steps: []step{
				{path: "/a", res: &resUnreadable},
				{at: 5 * time.Second, path: "/a", res: &resReadOK},
				{at: time.Minute, advance: true},
			},
		},
		{
			name: "a successful read resolves",
			steps: []step{
				{path: "/a", res: &resUnreadable, want: []string{"firing " + unreadableA}, firing: 1},
				{at: time.Second, path: "/a", res: &resReadOK, want: []string{"resolved " + unreadableA}},
			},
		},
		{
			name: "readable again but failing checks: resolved, and the checks' alert takes over",
			steps: []step{
				{path: "/a", res: &resUnreadable, want: []string{"firing " + unreadableA}, firing: 1},
				{at: time.Second, path: "/a", res: &resReadError, want: []string{"firing " + notCompliantA, "resolved " + unreadableA}, firing: 1},
			},
		},
		{
			name: "a lost connection neither fires nor resolves",
			hold: hold,
			steps: []step{
				{path: "/a", res: &resUnreadable},
				{at: 5 * time.Second, path: "/a", res: &resStale},
				{at: time.Minute, advance: true},
				{at: 2 * time.Minute, path: "/a", res: &resUnreadable, want: []string{"firing " + unreadableA}, firing: 1},
				{at: 3 * time.Minute, path: "/a", res: &resStale, firing: 1},
				{at: time.Hour, advance: true, firing: 1},
			},
		},
		{
			name: "never read is not unreadable",
			steps: []step{
				{path: "/a", res: &resNeverRead},
				{at: time.Hour, advance: true},
			},
		},
		{
			name: "a path without checks stays silent",
			steps: []step{
				{path: "/a", res: &resNoChecks},
				{at: time.Hour, advance: true},
			},
		},
		{
			name: "a firing non-compliance alert stays while the path cannot be read",
			steps: []step{
				{path: "/a", res: &resReadError, want: []string{"firing " + notCompliantA}, firing: 1},
				{at: time.Second, path: "/a", res: &resUnreadable, want: []string{"firing " + unreadableA}, firing: 2},
				{at: 2 * time.Second, path: "/a", res: &resReadOK, want: []string{"resolved " + notCompliantA, "resolved " + unreadableA}},
			},
		},
		{
			name: "removing the path resolves it",
			steps: []step{
				{path: "/a", res: &resUnreadable, want: []string{"firing " + unreadableA}, firing: 1},
				{at: time.Second, path: "/a", remove: true, want: []string{"resolved " + unreadableA}},
			},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			for i := range tc.steps {
				tc.steps[i].hold = tc.hold
			}
			runSteps(t, newEngine(alertBuilder{cluster: "c"}, 15*time.Minute, nil), tc.steps, describeKinds)
		})
	}
}

func TestBuildUnreadableAlert(t *testing.T) {
	spec := config.PathSpec{
		Path:       "/x",
		Alerter:    config.Alerter{Email: []string{"a@example.com"}, SlackChannel: "#ops", HipChatRoom: "Ops"},
		Labels:     map[string]string{"team": "storage"},
		Severity:   "critical",
		Summary:    "Too few brokers",
		RunbookURL: "https://runbooks.example.com/zk",
	}
	b := alertBuilder{cluster: "prod", agent: "host1-42"}
	notCompliantAlert, _ := b.build(spec, "m", t0)
	a, invalid := b.buildKind(unreadable, spec, resUnreadable.Message, t0)
	if len(invalid) != 0 {
		t.Fatalf("invalid labels %v", invalid)
	}
	// The same routing labels as ZnodeNotCompliant, another alert name.
	want := maps.Clone(notCompliantAlert.labels)
	want[labelAlertName] = UnreadableAlertName
	if !maps.Equal(a.labels, want) {
		t.Errorf("labels %v, want %v", a.labels, want)
	}
	wantAnnotations := map[string]string{
		"summary":     "Cannot read path: not authorized",
		"description": "/x cannot be read, so its checks are not evaluated.",
		"agent":       "host1-42",
	}
	if !maps.Equal(a.annotations, wantAnnotations) {
		t.Errorf("annotations %v, want %v", a.annotations, wantAnnotations)
	}
	if a.fingerprint == notCompliantAlert.fingerprint {
		t.Error("both kinds have the same fingerprint")
	}
}
