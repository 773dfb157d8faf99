package cluster

import (
	"context"
	"errors"
	"sync"
	"time"

	"github.com/go-kit/log"
	"github.com/go-kit/log/level"
)

// Leadership is a lease: a term lasts leaseFor(T) after the request that
// last confirmed it was sent, T being the session timeout the server
// granted. Only a request the ZooKeeper quorum commits confirms it: a check
// of the leader's election node sent as a multi (zkclient.Check), which the
// ensemble's leader orders and a quorum acknowledges before the agent's
// server answers. A read would not do: a follower cut off from the quorum
// answers reads from what it had until it gives up on its leader, syncLimit
// × tickTime later, long after the quorum may have expired the session
// and let another agent take over.
//
// Why the lease is shorter than T. The session lives on the ensemble's
// leader, which expires it T after it last heard of it (rounded up to a
// tick). When the agent's server is a follower, the leader hears of the
// session only through that follower's replies to its pings, every
// tickTime/2, each listing the sessions that sent the follower anything
// since the reply before. Say the confirming check was sent at s. Its
// forward to the leader travelled behind the follower's earlier ping
// replies on one TCP stream, so they all arrived; the last of them was sent
// at r ≥ s − tickTime/2. The agent sends its server something at least
// every T/3 (go-zookeeper's ping), so it did within T/3 before r, and a
// reply sent no later than r listed the session: the leader heard of it at
// or after s − tickTime/2 − T/3 and cannot expire it before
// s + T − tickTime/2 − T/3. (Jitter in the agent's packets is covered by
// the rounding up and by the time the leader needs to commit the expiry
// and tell the next agent.)
// ZooKeeper grants no session shorter than two ticks unless its
// minSessionTimeout is lowered, so tickTime/2 ≤ T/4 and the lease is
//
//	leaseFor(T) = T − T/4 − T/3 = 5T/12
//
// When the agent's server is the ensemble's leader, every request touches
// the session directly and the bound holds with room to spare; a new
// ensemble leader starts every session's clock afresh. The agent and
// ZooKeeper measure time on their own clocks; only their rates need to
// agree, which monotonic clocks do to a few parts per million.
//
// The lease is renewed every T/6, so a renewal may take up to T/4 before
// leadership lapses. With ZooKeeper's sample configuration (tickTime=2000,
// syncLimit=5) a cut-off follower answers reads for 10 s; with a 4 s
// session, the shortest that tick allows, the lease ends 1.67 s after the
// last confirmed check was sent, the earliest the quorum may expire the
// session.
func leaseFor(session time.Duration) time.Duration {
	return session - session/4 - session/3
}

// renewInterval is how often a leader confirms its lease.
func renewInterval(session time.Duration) time.Duration {
	return max(session/6, time.Millisecond)
}

// grantedTimeout is the session timeout the lease is sized by: the one the
// agent asked for, or the shorter one the server granted (servers clamp it
// to their maxSessionTimeout; a lease sized by a longer timeout than the
// real session would outlive it). Zero when neither is known yet.
func grantedTimeout(asked, granted time.Duration) time.Duration {
	switch {
	case asked <= 0:
		return granted
	case granted > 0 && granted < asked:
		return granted
	}
	return asked
}

// ErrLeaseExpired is the cause (context.Cause) of a leadership context whose
// lease ran out before a quorum-confirmed renewal.
var ErrLeaseExpired = errors.New("leadership lease ran out without a quorum-confirmed renewal")

// Causes of the other ends of a term.
var (
	errConnectionLost = errors.New("connection to ZooKeeper lost")
	errSessionExpired = errors.New("ZooKeeper session expired")
	errNodeDeleted    = errors.New("election node deleted")
	errNodeGone       = errors.New("election node no longer listed")
	errNotLowest      = errors.New("no longer the lowest candidate")
	errNotOwner       = errors.New("election node owned by another session")
	errShutdown       = errors.New("shutting down")
)

// lease is this agent's leadership: at most one term at a time, each with a
// context that ends the moment leadership is in doubt, and onLead running
// for it. The event callback fences it; the election loop begins and
// renews terms.
type lease struct {
	logger  log.Logger
	metrics *metrics
	// now tells the time; tests move it forward to play a paused process.
	now func() time.Time
	// ended is called after a term ended.
	ended func()

	mu     sync.Mutex
	parent context.Context
	onLead func(context.Context)
	closed bool
	// fences counts what put leadership in doubt; a term may begin only
	// from a check started after the last one (see token).
	fences uint64
	term   *term         // the current term, possibly ending
	last   chan struct{} // closed once the latest term's onLead returned
}

func newLease(logger log.Logger, m *metrics) *lease {
	done := make(chan struct{})
	close(done)
	return &lease{logger: logger, metrics: m, now: time.Now, ended: func() {}, last: done}
}

// serve sets the context every term derives from and the function run for
// each term.
func (l *lease) serve(parent context.Context, onLead func(context.Context)) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.parent, l.onLead = parent, onLead
}

// token is taken before the requests a term will rest on; begin refuses it
// if leadership was fenced meanwhile.
func (l *lease) token() uint64 {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.fences
}

// fence ends the current term, if any, and refuses every token taken
// before.
func (l *lease) fence(cause error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.fences++
	if l.term != nil {
		l.term.cancel(cause)
	}
}

// lost ends a term resting on the election node called node, for cause.
// Even when no term rests on it, older tokens are refused: a term being
// verified meanwhile is verified again.
func (l *lease) lost(node string, cause error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.fences++
	if l.term != nil && l.term.node == node {
		l.term.cancel(cause)
	}
}

// close ends the current term and refuses new ones: Run is returning.
func (l *lease) close() {
	l.mu.Lock()
	l.closed = true
	l.mu.Unlock()
	l.fence(errShutdown)
}

// idle returns a channel closed once the latest term's onLead returned.
func (l *lease) idle() <-chan struct{} {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.last
}

// current returns the term in force, nil if none.
func (l *lease) current() *term {
	l.mu.Lock()
	t := l.term
	l.mu.Unlock()
	if t == nil || !t.alive() {
		return nil
	}
	return t
}

// leading reports whether a term is in force.
func (l *lease) leading() bool { return l.current() != nil }

// begin starts a term resting on node, in force until until, and runs
// onLead for it. It refuses (returns nil) when leadership was fenced since
// tok was taken, when a term is in force or the previous onLead has not
// returned yet (terms never overlap), when until has passed, and once the
// lease is closed.
func (l *lease) begin(tok uint64, node string, until time.Time) *term {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.closed || l.parent == nil || l.parent.Err() != nil || tok != l.fences {
		return nil
	}
	if l.term != nil && l.term.ctx.Err() == nil {
		return nil
	}
	select {
	case <-l.last:
	default:
		return nil
	}
	now := l.now()
	if !now.Before(until) {
		// The check took longer than the lease: it proves nothing.
		return nil
	}
	ctx, cancel := context.WithCancelCause(l.parent)
	t := &term{node: node, ctx: ctx, cancel: cancel, now: l.now, until: until, done: make(chan struct{})}
	t.mu.Lock()
	t.timer = time.AfterFunc(until.Sub(now), t.expire)
	t.mu.Unlock()
	l.term, l.last = t, t.done
	context.AfterFunc(ctx, func() { l.end(t) })
	l.metrics.leader.Set(1)
	l.metrics.elections.Inc()
	level.Info(l.logger).Log("msg", "became the leader", "node", node, "lease", until.Sub(now))
	onLead := l.onLead
	go func() {
		defer close(t.done)
		onLead(termContext{Context: ctx, term: t})
	}()
	return t
}

// end runs once a term's context is cancelled.
func (l *lease) end(t *term) {
	t.mu.Lock()
	t.timer.Stop()
	t.mu.Unlock()
	l.mu.Lock()
	if l.term == t {
		l.term = nil
		l.metrics.leader.Set(0)
	}
	stopping := l.closed || l.parent.Err() != nil
	l.mu.Unlock()
	if stopping {
		level.Info(l.logger).Log("msg", "leadership handed over: shutting down")
	} else {
		level.Warn(l.logger).Log("msg", "leadership ended", "reason", context.Cause(t.ctx))
	}
	l.ended()
}

// term is one period of leadership.
type term struct {
	node   string
	ctx    context.Context
	cancel context.CancelCauseFunc
	now    func() time.Time
	done   chan struct{} // closed when onLead returned

	mu    sync.Mutex
	until time.Time
	timer *time.Timer // ends the term when the lease runs out
}

// extend moves the end of the lease: the check it rests on was sent at a
// later time than the one before.
func (t *term) extend(until time.Time) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.until = until
}

// check ends the term if its lease ran out. Everyone who looks at the
// term's context runs it first, so a process that was paused past its lease
// is fenced the instant anything looks, whatever order its timers fire in
// when it wakes.
func (t *term) check() {
	t.mu.Lock()
	expired := !t.now().Before(t.until)
	t.mu.Unlock()
	if expired {
		t.cancel(ErrLeaseExpired)
	}
}

// expire is the timer's turn: the lease may have been extended meanwhile.
func (t *term) expire() {
	t.mu.Lock()
	left := t.until.Sub(t.now())
	if left > 0 {
		t.timer.Reset(left)
	}
	t.mu.Unlock()
	if left <= 0 {
		t.cancel(ErrLeaseExpired)
	}
}

// alive reports whether the term is in force.
func (t *term) alive() bool {
	t.check()
	return t.ctx.Err() == nil
}

// termContext is the context onLead gets. It keeps the context.Context
// contract — Err is non-nil only once Done is closed — by ending a term
// whose lease ran out before answering either: a Done channel fetched (by
// net/http, say) right after a pause is already closed.
type termContext struct {
	context.Context
	term *term
}

func (c termContext) Done() <-chan struct{} {
	c.term.check()
	return c.Context.Done()
}

func (c termContext) Err() error {
	c.term.check()
	return c.Context.Err()
}
