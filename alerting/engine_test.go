package alerting

import (
	"slices"
	"testing"
	"time"

	"github.com/zk-monitor/zk_monitor/compliance"
	"github.com/zk-monitor/zk_monitor/config"
)

var t0 = time.Date(2024, 5, 31, 16, 20, 0, 0, time.UTC)

// step is one event in an engine scenario: at t0+at, either an update of
// path to state (with spec's hold-down), an advance of the clock, or a
// removal; want lists what must be sent at once ("firing /a",
// "resolved /a"), firing the number of firing alerts afterwards.
type step struct {
	at    time.Duration
	path  string
	state compliance.State
	msg   string
	// res, when set, is the whole result instead of state and msg.
	res     *compliance.Result
	hold    time.Duration
	advance bool
	remove  bool
	want    []string
	firing  int
}

// runSteps plays steps on e, describing what each sent with describe.
func runSteps(t *testing.T, e *engine, steps []step, describe func([]*alert) []string) {
	t.Helper()
	for i, s := range steps {
		now := t0.Add(s.at)
		var got []*alert
		switch {
		case s.advance:
			got = e.advance(now)
		case s.remove:
			got = e.remove(s.path, now)
		default:
			spec := config.PathSpec{Path: s.path, CancelTimeout: s.hold}
			res := compliance.Result{State: s.state, Message: s.msg}
			if s.res != nil {
				res = *s.res
			}
			got = e.update(spec, res, now)
		}
		if d := describe(got); !slices.Equal(d, s.want) {
			t.Fatalf("step %d: sent %q, want %q", i, d, s.want)
		}
		if n := e.firing(); n != s.firing {
			t.Fatalf("step %d: %d firing, want %d", i, n, s.firing)
		}
	}
}

// describe describes alerts as "firing /a" or "resolved /b", sorted.
func describe(alerts []*alert) []string {
	return describeWith(alerts, func(a *alert) string { return a.labels[labelPath] })
}

// describeWith describes each alert as its state and what detail says of
// it, sorted, so that tests compare what they care about.
func describeWith(alerts []*alert, detail func(*alert) string) []string {
	out := make([]string, 0, len(alerts))
	for _, a := range alerts {
		s := "resolved "
		if a.firing() {
			s = "firing "
		}
		out = append(out, s+detail(a))
	}
	slices.Sort(out)
	return out
}

func TestEngineTransitions(t *testing.T) {
	const msg = "Found children (0) less than minimum (1)"
	hold := 10 * time.Second
	for _, tc := range []struct {
		name  string
		steps []step
	}{
		{
			name: "zero hold-down fires at once",
			steps: []step{
				{path: "/a", state: compliance.Error, msg: msg, want: []string{"firing /a"}, firing: 1},
			},
		},
		{
			name: "hold-down fires when it ends",
			steps: []step{
				{path: "/a", state: compliance.Error, msg: msg, hold: hold},
				{at: 5 * time.Second, advance: true},
				{at: 9 * time.Second, path: "/a", state: compliance.Error, msg: msg, hold: hold},
				{at: 10 * time.Second, advance: true, want: []string{"firing /a"}, firing: 1},
			},
		},
		{
			name: "back to OK inside the hold-down cancels silently",
			steps: []step{
				{path: "/a", state: compliance.Error, msg: msg, hold: hold},
				{at: 5 * time.Second, path: "/a", state: compliance.OK, hold: hold},
				{at: 10 * time.Second, advance: true},
				{at: time.Minute, advance: true},
			},
		},
		{
			name: "OK after firing resolves",
			steps: []step{
				{path: "/a", state: compliance.Error, msg: msg, want: []string{"firing /a"}, firing: 1},
				{at: time.Second, path: "/a", state: compliance.OK, want: []string{"resolved /a"}},
				{at: 2 * time.Second, path: "/a", state: compliance.OK},
			},
		},
		{
			name: "Unknown keeps a firing alert firing",
			steps: []step{
				{path: "/a", state: compliance.Error, msg: msg, want: []string{"firing /a"}, firing: 1},
				{at: time.Second, path: "/a", state: compliance.Unknown, firing: 1},
				{at: time.Hour, advance: true, firing: 1},
				{at: 2 * time.Hour, path: "/a", state: compliance.OK, want: []string{"resolved /a"}},
			},
		},
		{
			name: "Unknown alone never fires",
			steps: []step{
				{path: "/a", state: compliance.Unknown},
				{at: time.Hour, advance: true},
				{at: 2 * time.Hour, path: "/a", state: compliance.OK},
			},
		},
		{
			name: "hold-down ending in Unknown waits for a real Error",
			steps: []step{
				{path: "/a", state: compliance.Error, msg: msg, hold: hold},
				{at: 5 * time.Second, path: "/a", state: compliance.Unknown, hold: hold},
				{at: 10 * time.Second, advance: true},
				{at: time.Minute, advance: true},
				{at: 2 * time.Minute, path: "/a", state: compliance.Unknown, hold: hold},
				{at: 3 * time.Minute, path: "/a", state: compliance.Error, msg: msg, hold: hold, want: []string{"firing /a"}, firing: 1},
			},
		},
		{
			name: "hold-down ending in Unknown, then OK: nothing",
			steps: []step{
				{path: "/a", state: compliance.Error, msg: msg, hold: hold},
				{at: 5 * time.Second, path: "/a", state: compliance.Unknown, hold: hold},
				{at: 10 * time.Second, advance: true},
				{at: 20 * time.Second, path: "/a", state: compliance.OK, hold: hold},
				{at: 30 * time.Second, path: "/a", state: compliance.Error, msg: msg, hold: hold},
				{at: 35 * time.Second, advance: true},
				{at: 40 * time.Second, advance: true, want: []string{"firing /a"}, firing: 1},
			},
		},
		{
			name: "Unknown inside the hold-down pauses nothing",
			steps: []step{
				{path: "/a", state: compliance.Error, msg: msg, hold: hold},
				{at: 3 * time.Second, path: "/a", state: compliance.Unknown, hold: hold},
				{at: 6 * time.Second, path: "/a", state: compliance.Error, msg: msg, hold: hold},
				{at: 10 * time.Second, advance: true, want: []string{"firing /a"}, firing: 1},
			},
		},
		{
			name: "shortened hold-down fires on the next update",
			steps: []step{
				{path: "/a", state: compliance.Error, msg: msg, hold: time.Hour},
				{at: 20 * time.Second, path: "/a", state: compliance.Error, msg: msg, hold: hold, want: []string{"firing /a"}, firing: 1},
			},
		},
		{
			name: "paths are independent",
			steps: []step{
				{path: "/a", state: compliance.Error, msg: msg, want: []string{"firing /a"}, firing: 1},
				{path: "/b", state: compliance.Error, msg: msg, hold: hold, firing: 1},
				{at: 10 * time.Second, advance: true, want: []string{"firing /b"}, firing: 2},
				{at: 11 * time.Second, path: "/a", state: compliance.OK, want: []string{"resolved /a"}, firing: 1},
			},
		},
		{
			name: "removing a firing path resolves it",
			steps: []step{
				{path: "/a", state: compliance.Error, msg: msg, want: []string{"firing /a"}, firing: 1},
				{at: time.Second, path: "/a", remove: true, want: []string{"resolved /a"}},
				{at: 2 * time.Second, path: "/a", remove: true},
			},
		},
		{
			name: "removing a pending path forgets it",
			steps: []step{
				{path: "/a", state: compliance.Error, msg: msg, hold: hold},
				{at: time.Second, path: "/a", remove: true},
				{at: time.Minute, advance: true},
			},
		},
		{
			name: "repeated Error while firing sends nothing new",
			steps: []step{
				{path: "/a", state: compliance.Error, msg: msg, want: []string{"firing /a"}, firing: 1},
				{at: time.Second, path: "/a", state: compliance.Error, msg: msg, firing: 1},
				{at: 2 * time.Second, path: "/a", state: compliance.Error, msg: msg, firing: 1},
			},
		},
		{
			name: "a changed message while firing is sent at once",
			steps: []step{
				{path: "/a", state: compliance.Error, msg: msg, want: []string{"firing /a"}, firing: 1},
				{at: time.Second, path: "/a", state: compliance.Error, msg: "Found children (1) less than minimum (3)", want: []string{"firing /a"}, firing: 1},
			},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			runSteps(t, newEngine(alertBuilder{cluster: "c"}, 15*time.Minute, nil), tc.steps, describe)
		})
	}
}

func TestEngineTimestamps(t *testing.T) {
	e := newEngine(alertBuilder{cluster: "c"}, 15*time.Minute, nil)
	spec := config.PathSpec{Path: "/a", CancelTimeout: 10 * time.Second}
	errRes := compliance.Result{State: compliance.Error, Message: "Found children (0) less than minimum (1)"}

	e.update(spec, errRes, t0)
	if d, ok := e.nextDeadline(); !ok || !d.Equal(t0.Add(10*time.Second)) {
		t.Fatalf("nextDeadline = %v, %v; want %v", d, ok, t0.Add(10*time.Second))
	}
	fired := e.advance(t0.Add(10 * time.Second))
	if len(fired) != 1 || !fired[0].startsAt.Equal(t0.Add(10*time.Second)) || !fired[0].endsAt.IsZero() {
		t.Fatalf("fired %+v, want one firing alert starting at the end of the hold-down", fired)
	}
	if _, ok := e.nextDeadline(); ok {
		t.Fatal("nextDeadline after firing: want none")
	}

	// A new message keeps the start time.
	changed := e.update(spec, compliance.Result{State: compliance.Error, Message: "other"}, t0.Add(time.Minute))
	if len(changed) != 1 || !changed[0].startsAt.Equal(fired[0].startsAt) || changed[0].annotations[annotationSummary] != "other" {
		t.Fatalf("changed %+v, want the same start and the new summary", changed)
	}

	resolvedAt := t0.Add(2 * time.Minute)
	resolved := e.update(spec, compliance.Result{State: compliance.OK}, resolvedAt)
	if len(resolved) != 1 || !resolved[0].endsAt.Equal(resolvedAt) || !resolved[0].startsAt.Equal(fired[0].startsAt) {
		t.Fatalf("resolved %+v, want endsAt %v", resolved, resolvedAt)
	}

	// Resolved alerts are part of the state for 15 minutes.
	for _, tc := range []struct {
		at   time.Duration
		want []string
	}{
		{at: 2*time.Minute + 14*time.Minute, want: []string{"resolved /a"}},
		{at: 2*time.Minute + 15*time.Minute, want: []string{}},
	} {
		e.expire(t0.Add(tc.at))
		if got := describe(e.snapshot()); !slices.Equal(got, tc.want) {
			t.Fatalf("snapshot at +%v = %q, want %q", tc.at, got, tc.want)
		}
	}
}

func TestEngineRefireReplacesResolved(t *testing.T) {
	e := newEngine(alertBuilder{cluster: "c"}, 15*time.Minute, nil)
	spec := config.PathSpec{Path: "/a"}
	e.update(spec, compliance.Result{State: compliance.Error, Message: "m"}, t0)
	e.update(spec, compliance.Result{State: compliance.OK}, t0.Add(time.Second))
	if got := describe(e.snapshot()); !slices.Equal(got, []string{"resolved /a"}) {
		t.Fatalf("snapshot = %q", got)
	}
	e.update(spec, compliance.Result{State: compliance.Error, Message: "m"}, t0.Add(2*time.Second))
	snap := e.snapshot()
	if got := describe(snap); !slices.Equal(got, []string{"firing /a"}) {
		t.Fatalf("snapshot after firing again = %q, want only the firing alert", got)
	}
	if !snap[0].startsAt.Equal(t0.Add(2 * time.Second)) {
		t.Fatalf("startsAt = %v, want the new start", snap[0].startsAt)
	}
}

func TestEngineLabelChangeWhileFiring(t *testing.T) {
	e := newEngine(alertBuilder{cluster: "c"}, 15*time.Minute, nil)
	res := compliance.Result{State: compliance.Error, Message: "m"}
	before := config.PathSpec{Path: "/a"}
	after := config.PathSpec{Path: "/a", Alerter: config.Alerter{Email: []string{"ops@example.com"}}}

	first := e.update(before, res, t0)
	out := e.update(after, res, t0.Add(time.Minute))
	if len(out) != 2 {
		t.Fatalf("sent %d alerts, want the old one resolved and the new one firing", len(out))
	}
	old, cur := out[0], out[1]
	if old.firing() || old.fingerprint != first[0].fingerprint || !old.endsAt.Equal(t0.Add(time.Minute)) {
		t.Fatalf("old alert %+v, want it resolved now", old)
	}
	if !cur.firing() || cur.labels[labelEmail] != "ops@example.com" || !cur.startsAt.Equal(t0) {
		t.Fatalf("new alert %+v, want it firing with the email label since t0", cur)
	}
	if got := describe(e.snapshot()); !slices.Equal(got, []string{"firing /a", "resolved /a"}) {
		t.Fatalf("snapshot = %q", got)
	}
	if e.firing() != 1 {
		t.Fatalf("firing = %d, want 1", e.firing())
	}
}
