package cluster

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"sync/atomic"
	"testing"
	"time"

	"github.com/go-kit/log"

	"github.com/zk-monitor/zk_monitor/alerting"
	"github.com/zk-monitor/zk_monitor/compliance"
	"github.com/zk-monitor/zk_monitor/config"
	"github.com/zk-monitor/zk_monitor/internal/testenv"
)

func TestLeaseDurations(t *testing.T) {
	tests := []struct {
		session, lease, renew time.Duration
	}{
		{2 * time.Second, 833 * time.Millisecond, 333 * time.Millisecond},
		{4 * time.Second, 1666 * time.Millisecond, 666 * time.Millisecond},
		{10 * time.Second, 4166 * time.Millisecond, 1666 * time.Millisecond},
	}
	for _, tt := range tests {
		if got := leaseFor(tt.session).Truncate(time.Millisecond); got != tt.lease {
			t.Errorf("leaseFor(%v) = %v, want %v", tt.session, got, tt.lease)
		}
		if got := renewInterval(tt.session).Truncate(time.Millisecond); got != tt.renew {
			t.Errorf("renewInterval(%v) = %v, want %v", tt.session, got, tt.renew)
		}
		// A renewal may be late by up to a quarter session before the
		// lease lapses.
		if slack := leaseFor(tt.session) - renewInterval(tt.session); slack < tt.session/4-time.Millisecond {
			t.Errorf("session %v: only %v between a renewal and the end of the lease", tt.session, slack)
		}
	}
}

func TestGrantedTimeout(t *testing.T) {
	tests := []struct {
		name                 string
		asked, granted, want time.Duration
	}{
		{"granted not known yet", 4 * time.Second, 0, 4 * time.Second},
		{"granted as asked", 4 * time.Second, 4 * time.Second, 4 * time.Second},
		{"clamped down by maxSessionTimeout", 40 * time.Second, 20 * time.Second, 20 * time.Second},
		{"raised by minSessionTimeout", time.Second, 4 * time.Second, time.Second},
		{"nothing asked", 0, 6 * time.Second, 6 * time.Second},
		{"nothing known", 0, 0, 0},
	}
	for _, tt := range tests {
		if got := grantedTimeout(tt.asked, tt.granted); got != tt.want {
			t.Errorf("%s: grantedTimeout(%v, %v) = %v, want %v", tt.name, tt.asked, tt.granted, got, tt.want)
		}
	}
}

// pausableClock is the lease's clock in these tests: pause moves it
// forward without running any timer, as a process stopped (SIGSTOP, a long
// GC) and woken up sees it.
type pausableClock struct{ offset atomic.Int64 }

func (c *pausableClock) now() time.Time { return time.Now().Add(time.Duration(c.offset.Load())) }

func (c *pausableClock) pause(d time.Duration) { c.offset.Add(int64(d)) }

// startTerm begins a term of a fresh lease that lasts a minute on the
// clock, running onLead. Real timers never get to end it within a test.
func startTerm(t *testing.T, onLead func(context.Context)) (*lease, *term, *pausableClock) {
	t.Helper()
	clock := &pausableClock{}
	l := newLease(log.NewNopLogger(), newMetrics(nil, identity{name: "test"}))
	l.now = clock.now
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(func() {
		cancel()
		<-l.idle()
	})
	l.serve(ctx, onLead)
	term := l.begin(l.token(), "node", clock.now().Add(time.Minute))
	if term == nil {
		t.Fatal("no term began")
	}
	return l, term, clock
}

// TestTermContext checks the context.Context contract of the leader's
// context when the lease runs out while the process is paused: whatever is
// asked first, Err and Done agree, and the cause says why.
func TestTermContext(t *testing.T) {
	for _, ask := range []string{"Err first", "Done first", "derived context", "IsLeader"} {
		t.Run(ask, func(t *testing.T) {
			got := make(chan context.Context, 1)
			l, term, clock := startTerm(t, func(ctx context.Context) { got <- ctx })
			ctx := <-got
			if ctx.Err() != nil || testenv.Closed(ctx.Done()) || !l.leading() {
				t.Fatalf("fresh term: Err %v, Done closed %v, leading %v", ctx.Err(), testenv.Closed(ctx.Done()), l.leading())
			}
			clock.pause(30 * time.Second)
			term.extend(clock.now().Add(time.Minute))
			clock.pause(45 * time.Second)
			if ctx.Err() != nil || !l.leading() {
				t.Fatalf("extended term ended: %v", context.Cause(ctx))
			}

			clock.pause(time.Hour)
			switch ask {
			case "Err first":
				if !errors.Is(ctx.Err(), context.Canceled) || !testenv.Closed(ctx.Done()) {
					t.Errorf("after the lease ran out: Err %v, Done closed %v", ctx.Err(), testenv.Closed(ctx.Done()))
				}
			case "Done first":
				if !testenv.Closed(ctx.Done()) || ctx.Err() == nil {
					t.Errorf("after the lease ran out: Done closed %v, Err %v", testenv.Closed(ctx.Done()), ctx.Err())
				}
			case "derived context":
				child, cancel := context.WithTimeout(ctx, time.Hour)
				defer cancel()
				if !testenv.Closed(child.Done()) || !errors.Is(context.Cause(child), ErrLeaseExpired) {
					t.Errorf("context derived after the lease ran out: Done closed %v, cause %v", testenv.Closed(child.Done()), context.Cause(child))
				}
			case "IsLeader":
				if l.leading() || !testenv.Closed(ctx.Done()) {
					t.Errorf("after the lease ran out: leading %v, Done closed %v", l.leading(), testenv.Closed(ctx.Done()))
				}
			}
			if cause := context.Cause(ctx); !errors.Is(cause, ErrLeaseExpired) {
				t.Errorf("cause %v, want %v", cause, ErrLeaseExpired)
			}
			testenv.Eventually(t, 5*time.Second, time.Millisecond, func() bool { return testenv.Closed(l.idle()) }, "onLead returned")
			if l.begin(l.token(), "node", clock.now().Add(-time.Second)) != nil {
				t.Error("a term began from a check older than its lease")
			}
		})
	}
}

// TestTermFenced: a fence ends the term at once with its cause, and a
// term cannot begin from a check started before the fence.
func TestTermFenced(t *testing.T) {
	got := make(chan context.Context, 1)
	l, _, clock := startTerm(t, func(ctx context.Context) { got <- ctx; <-ctx.Done() })
	ctx := <-got
	tok := l.token()
	l.fence(errConnectionLost)
	if !testenv.Closed(ctx.Done()) || l.leading() || !errors.Is(context.Cause(ctx), errConnectionLost) {
		t.Fatalf("after the fence: Done closed %v, leading %v, cause %v", testenv.Closed(ctx.Done()), l.leading(), context.Cause(ctx))
	}
	<-l.idle()
	if l.begin(tok, "node", clock.now().Add(time.Minute)) != nil {
		t.Error("a term began from a check started before the fence")
	}
	if l.begin(l.token(), "node", clock.now().Add(time.Minute)) == nil {
		t.Error("no term began after the fence")
	}
	l.lost("other", errNodeDeleted)
	if !l.leading() {
		t.Error("the deletion of another node ended the term")
	}
	l.lost("node", errNodeDeleted)
	if l.leading() {
		t.Error("the term outlived its node")
	}
}

// TestExpiredLeaseStopsRequests: a lease that ran out while the process
// was paused stops a request made with the leader's context, although no
// timer ran and nobody asked Err: net/http looks at Done before sending.
// This is why the alerting layer needs no check of its own.
func TestExpiredLeaseStopsRequests(t *testing.T) {
	sink := testenv.StartHTTPRecorder(t)
	got := make(chan context.Context, 1)
	_, _, clock := startTerm(t, func(ctx context.Context) { got <- ctx })
	ctx := <-got
	client := &http.Client{}
	send := func() error {
		req, err := http.NewRequestWithContext(ctx, http.MethodPost, sink.URL()+"/api/v2/alerts", nil)
		if err != nil {
			t.Fatal(err)
		}
		resp, err := client.Do(req)
		if err == nil {
			resp.Body.Close()
		}
		return err
	}
	if err := send(); err != nil {
		t.Fatalf("request while leading: %v", err)
	}
	clock.pause(time.Hour)
	if err := send(); !errors.Is(err, ErrLeaseExpired) {
		t.Errorf("request after the lease ran out: %v, want %v", err, ErrLeaseExpired)
	}
	if n := len(sink.Requests()); n != 1 {
		t.Errorf("the recorder got %d requests, want only the one sent while leading", n)
	}
}

// TestExpiredLeaseStopsAlerting runs the real alerter as the leader: once
// the lease ran out during a pause, a new alert is not posted and Lead
// returns, with no timer having fired.
func TestExpiredLeaseStopsAlerting(t *testing.T) {
	sink := testenv.StartHTTPRecorder(t)
	u, err := url.Parse(sink.URL())
	if err != nil {
		t.Fatal(err)
	}
	a, err := alerting.New(alerting.Options{AlertmanagerURLs: []*url.URL{u}, ResendInterval: time.Hour, ClusterName: "lease", AgentName: "a"})
	if err != nil {
		t.Fatal(err)
	}
	runCtx, stop := context.WithCancel(context.Background())
	ran := make(chan struct{})
	go func() {
		defer close(ran)
		_ = a.Run(runCtx)
	}()
	t.Cleanup(func() {
		stop()
		<-ran
	})
	a.Update(config.PathSpec{Path: "/a"}, compliance.Result{State: compliance.Error, Message: "first"})
	led := make(chan struct{})
	_, _, clock := startTerm(t, func(ctx context.Context) {
		defer close(led)
		a.Lead(ctx)
	})
	posts := func() int {
		n := 0
		for _, r := range sink.Requests() {
			if r.Method == http.MethodPost {
				n++
			}
		}
		return n
	}
	testenv.Eventually(t, 10*time.Second, time.Millisecond, func() bool { return posts() == 1 }, "the leader posts the current state")

	clock.pause(time.Hour)
	a.Update(config.PathSpec{Path: "/b"}, compliance.Result{State: compliance.Error, Message: "second"})
	select {
	case <-led:
	case <-time.After(testenv.Scaled(5 * time.Second)):
		t.Fatal("Lead did not return after the lease ran out")
	}
	if a.Status().Alerting {
		t.Error("the alerter still says it is alerting")
	}
	if n := posts(); n != 1 {
		t.Errorf("%d posts, want only the one made while leading", n)
	}
}
