package alerting

import (
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/zk-monitor/zk_monitor/compliance"
	"github.com/zk-monitor/zk_monitor/config"
)

// describeStarts describes alerts with their kind, path, start (as an
// offset from t0) and email label: "firing ZnodeNotCompliant /a @1m0s ops@".
func describeStarts(alerts []*alert) []string {
	return describeWith(alerts, func(a *alert) string {
		s := fmt.Sprintf("%s %s @%v", a.labels[labelAlertName], a.labels[labelPath], a.startsAt.Sub(t0))
		if email := a.labels[labelEmail]; email != "" {
			s += " " + email
		}
		return s
	})
}

func TestEngineAdopt(t *testing.T) {
	const msg = "Found children (0) less than minimum (1)"
	b := alertBuilder{cluster: "c", agent: "old-leader"}
	hold := 20 * time.Second
	spec := config.PathSpec{Path: "/a", CancelTimeout: hold}
	withEmail := config.PathSpec{Path: "/a", CancelTimeout: hold, Alerter: config.Alerter{Email: []string{"ops@"}}}
	// recorded is what an earlier leader recorded: /a's alert of kind k
	// firing since t0.
	recorded := func(k kind, s config.PathSpec) *alert {
		a, _ := b.buildKind(k, s, msg, t0)
		return a
	}
	type update struct {
		at  time.Duration
		res compliance.Result
	}
	errorRes := compliance.Result{State: compliance.Error, Message: msg, Read: compliance.OK}
	now := 2 * time.Minute
	for _, tc := range []struct {
		name        string
		spec        config.PathSpec
		allReported bool
		// updates this agent saw before it took over (at offsets from t0).
		updates  []update
		recorded []*alert
		// want is the snapshot right after adopt, then after advance at
		// wantLater (the end of every hold-down).
		want, wantLater []string
		firing          int
		// summary is the firing alert's summary, when set.
		summary string
	}{
		{
			name:     "firing here too: the recorded start wins",
			spec:     spec,
			updates:  []update{{at: -hold, res: errorRes}},
			recorded: []*alert{recorded(notCompliant, spec)},
			want:     []string{"firing ZnodeNotCompliant /a @0s"},
			firing:   1,
		},
		{
			name:     "firing here with other labels: the recorded set ends, the start stays",
			spec:     withEmail,
			updates:  []update{{at: -hold, res: errorRes}},
			recorded: []*alert{recorded(notCompliant, spec)},
			want:     []string{"firing ZnodeNotCompliant /a @0s ops@", "resolved ZnodeNotCompliant /a @0s"},
			firing:   1,
		},
		{
			name:      "hold-down running here: fires with the recorded start, and the hold-down's end sends nothing",
			spec:      spec,
			updates:   []update{{at: time.Minute + 50*time.Second, res: errorRes}},
			recorded:  []*alert{recorded(notCompliant, spec)},
			want:      []string{"firing ZnodeNotCompliant /a @0s"},
			wantLater: []string{"firing ZnodeNotCompliant /a @0s"},
			firing:    1,
		},
		{
			name:     "Unknown here (stale): fires with the recorded start",
			spec:     spec,
			updates:  []update{{at: time.Minute, res: compliance.Result{State: compliance.Unknown, Message: "ZooKeeper connection lost; last known: " + msg}}},
			recorded: []*alert{recorded(notCompliant, spec)},
			want:     []string{"firing ZnodeNotCompliant /a @0s"},
			firing:   1,
			// No Error seen here: the recorded summary.
			summary: msg,
		},
		{
			name:     "OK here: resolved",
			spec:     spec,
			updates:  []update{{at: time.Minute, res: compliance.Result{State: compliance.OK, Message: compliance.MsgOK, Read: compliance.OK}}},
			recorded: []*alert{recorded(notCompliant, spec)},
			want:     []string{"resolved ZnodeNotCompliant /a @0s"},
		},
		{
			name:     "readable here: the recorded ZnodeUnreadable is resolved",
			spec:     spec,
			updates:  []update{{at: time.Minute, res: compliance.Result{State: compliance.OK, Message: compliance.MsgOK, Read: compliance.OK}}},
			recorded: []*alert{recorded(unreadable, spec)},
			want:     []string{"resolved ZnodeUnreadable /a @0s"},
		},
		{
			name:     "unreadable here: the recorded ZnodeUnreadable fires on",
			spec:     spec,
			updates:  []update{{at: time.Minute + 50*time.Second, res: resUnreadable}},
			recorded: []*alert{recorded(unreadable, spec)},
			want:     []string{"firing ZnodeUnreadable /a @0s"},
			firing:   1,
			summary:  resUnreadable.Message,
		},
		{
			name:     "not reported yet: fires as recorded",
			spec:     spec,
			recorded: []*alert{recorded(notCompliant, spec), recorded(unreadable, spec)},
			want:     []string{"firing ZnodeNotCompliant /a @0s", "firing ZnodeUnreadable /a @0s"},
			firing:   2,
		},
		{
			name:        "not monitored: resolved",
			spec:        spec,
			allReported: true,
			recorded:    []*alert{recorded(notCompliant, spec)},
			want:        []string{"resolved ZnodeNotCompliant /a @0s"},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := newEngine(alertBuilder{cluster: "c", agent: "new-leader"}, 15*time.Minute, nil)
			for _, u := range tc.updates {
				e.update(tc.spec, u.res, t0.Add(now+u.at))
			}
			if tc.allReported {
				e.reportedAll(t0.Add(now))
			}
			e.adopt(tc.recorded, t0.Add(now))
			if got := describeStarts(e.snapshot()); !slices.Equal(got, tc.want) {
				t.Fatalf("snapshot after adopt = %q, want %q", got, tc.want)
			}
			if e.firing() != tc.firing {
				t.Fatalf("%d firing, want %d", e.firing(), tc.firing)
			}
			if tc.wantLater != nil {
				if sent := e.advance(t0.Add(now + hold)); len(sent) > 0 {
					t.Fatalf("the hold-down's end sent %q", describeStarts(sent))
				}
				if got := describeStarts(e.snapshot()); !slices.Equal(got, tc.wantLater) {
					t.Fatalf("snapshot after the hold-down = %q, want %q", got, tc.wantLater)
				}
			}
			for _, a := range e.snapshot() {
				if a.firing() && tc.summary != "" && a.annotations[annotationSummary] != tc.summary {
					t.Errorf("summary %q, want %q", a.annotations[annotationSummary], tc.summary)
				}
			}
		})
	}
}

// TestEngineAdoptedPathLater follows an adopted path that this agent had
// not heard of: the watcher's first report decides it, and a path never
// reported is resolved once every monitored path has been.
func TestEngineAdoptedPathLater(t *testing.T) {
	const msg = "Found children (0) less than minimum (1)"
	old, _ := alertBuilder{cluster: "c", agent: "old"}.build(config.PathSpec{Path: "/a"}, msg, t0)
	gone, _ := alertBuilder{cluster: "c", agent: "old"}.build(config.PathSpec{Path: "/gone"}, msg, t0)
	spec := config.PathSpec{Path: "/a", CancelTimeout: time.Minute}
	now := t0.Add(time.Hour)
	for _, tc := range []struct {
		name string
		res  compliance.Result
		sent []string
	}{
		{
			name: "still in Error: keeps firing, nothing new to send",
			res:  compliance.Result{State: compliance.Error, Message: msg, Read: compliance.OK},
		},
		{
			name: "OK: resolved",
			res:  compliance.Result{State: compliance.OK, Message: compliance.MsgOK, Read: compliance.OK},
			sent: []string{"resolved ZnodeNotCompliant /a @0s"},
		},
		{
			name: "never read yet: keeps firing",
			res:  compliance.Result{State: compliance.Unknown, Message: compliance.MsgNeverRead},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := newEngine(alertBuilder{cluster: "c", agent: "new"}, 15*time.Minute, nil)
			e.adopt([]*alert{old, gone}, now)
			if a := e.firingAlert(recordKey{kind: notCompliant, path: "/a"}); a == nil || a.annotations[annotationAgent] != "new" {
				t.Fatalf("adopted alert %+v, want it sent by this agent", a)
			}
			if got := describeStarts(e.update(spec, tc.res, now.Add(time.Second))); !slices.Equal(got, tc.sent) {
				t.Fatalf("update sent %q, want %q", got, tc.sent)
			}
			if got := describeStarts(e.reportedAll(now.Add(2 * time.Second))); !slices.Equal(got, []string{"resolved ZnodeNotCompliant /gone @0s"}) {
				t.Fatalf("reportedAll sent %q, want /gone resolved", got)
			}
			if e.firingAlert(recordKey{kind: notCompliant, path: "/gone"}) != nil {
				t.Fatal("/gone still fires")
			}
		})
	}
}
