package alerting

import (
	"maps"
	"slices"
	"testing"
	"time"

	"github.com/zk-monitor/zk_monitor/compliance"
	"github.com/zk-monitor/zk_monitor/config"
)

// describeKinds is describe with the alert name: "firing ZnodeUnreadable /a".
func describeKinds(alerts []*alert) []string {
	out := make([]string, 0, len(alerts))
	for _, a := range alerts {
		s := "resolved "
		if a.firing() {
			s = "firing "
		}
		out = append(out, s+a.labels[labelAlertName]+" "+a.labels[labelPath])
	}
	slices.Sort(out)
	return out
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
	type event struct {
		at      time.Duration
		res     compliance.Result
		advance bool
		remove  bool
		want    []string
		firing  int
	}
	for _, tc := range []struct {
		name   string
		hold   time.Duration
		events []event
	}{
		{
			name: "no hold-down fires at once",
			events: []event{
				{res: resUnreadable, want: []string{"firing " + unreadableA}, firing: 1},
				{at: time.Second, res: resUnreadable, firing: 1},
			},
		},
		{
			name: "fires when the hold-down ends",
			hold: hold,
			events: []event{
				{res: resUnreadable},
				{at: 5 * time.Second, advance: true},
				{at: 10 * time.Second, advance: true, want: []string{"firing " + unreadableA}, firing: 1},
			},
		},
		{
			name: "a successful read inside the hold-down cancels silently",
			hold: hold,
			events: []event{
				{res: resUnreadable},
				{at: 5 * time.Second, res: resReadOK},
				{at: time.Minute, advance: true},
			},
		},
		{
			name: "a successful read resolves",
			events: []event{
				{res: resUnreadable, want: []string{"firing " + unreadableA}, firing: 1},
				{at: time.Second, res: resReadOK, want: []string{"resolved " + unreadableA}},
			},
		},
		{
			name: "readable again but failing checks: resolved, and the checks' alert takes over",
			events: []event{
				{res: resUnreadable, want: []string{"firing " + unreadableA}, firing: 1},
				{at: time.Second, res: resReadError, want: []string{"firing " + notCompliantA, "resolved " + unreadableA}, firing: 1},
			},
		},
		{
			name: "a lost connection neither fires nor resolves",
			hold: hold,
			events: []event{
				{res: resUnreadable},
				{at: 5 * time.Second, res: resStale},
				{at: time.Minute, advance: true},
				{at: 2 * time.Minute, res: resUnreadable, want: []string{"firing " + unreadableA}, firing: 1},
				{at: 3 * time.Minute, res: resStale, firing: 1},
				{at: time.Hour, advance: true, firing: 1},
			},
		},
		{
			name: "never read is not unreadable",
			events: []event{
				{res: resNeverRead},
				{at: time.Hour, advance: true},
			},
		},
		{
			name: "a path without checks stays silent",
			events: []event{
				{res: resNoChecks},
				{at: time.Hour, advance: true},
			},
		},
		{
			name: "a firing non-compliance alert stays while the path cannot be read",
			events: []event{
				{res: resReadError, want: []string{"firing " + notCompliantA}, firing: 1},
				{at: time.Second, res: resUnreadable, want: []string{"firing " + unreadableA}, firing: 2},
				{at: 2 * time.Second, res: resReadOK, want: []string{"resolved " + notCompliantA, "resolved " + unreadableA}},
			},
		},
		{
			name: "removing the path resolves it",
			events: []event{
				{res: resUnreadable, want: []string{"firing " + unreadableA}, firing: 1},
				{at: time.Second, remove: true, want: []string{"resolved " + unreadableA}},
			},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := newEngine(alertBuilder{cluster: "c"}, 15*time.Minute, nil)
			spec := config.PathSpec{Path: "/a", CancelTimeout: tc.hold}
			for i, ev := range tc.events {
				now := t0.Add(ev.at)
				var got []*alert
				switch {
				case ev.advance:
					got = e.advance(now)
				case ev.remove:
					got = e.remove(spec.Path, now)
				default:
					got = e.update(spec, ev.res, now)
				}
				if d := describeKinds(got); !slices.Equal(d, ev.want) {
					t.Fatalf("event %d: sent %q, want %q", i, d, ev.want)
				}
				if n := e.firing(); n != ev.firing {
					t.Fatalf("event %d: %d firing, want %d", i, n, ev.firing)
				}
			}
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
