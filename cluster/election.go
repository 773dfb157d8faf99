package cluster

import (
	"context"
	"errors"
	"fmt"
	"path"
	"time"

	"github.com/go-kit/log"
	"github.com/go-kit/log/level"
	"github.com/go-zookeeper/zk"

	"github.com/zk-monitor/zk_monitor/zkclient"
)

// election is this agent's candidacy. It is the recipe of go-zookeeper's
// Lock: every candidate creates an ephemeral sequential node; the lowest
// leads; every other one watches the node just before its own and looks
// again when it goes. Run in a loop, so that it survives lost connections
// and sessions, with this agent's GUID in its node names, so that a create
// whose reply was lost is found again. Its loop owns everything but wake.
type election struct {
	client *zkclient.Client
	ws     workspace
	agent  string
	lease  *lease
	view   *view
	logger log.Logger
	// sessionTimeout sizes the lease; see grantedTimeout.
	sessionTimeout func() time.Duration
	wake           wakeup

	ready   bool            // the election directory exists
	session int64           // the session node and pending belong to
	node    string          // our election node, "" until joined
	pending string          // GUID of a create whose reply was lost
	guids   map[string]bool // every GUID this agent put in a node name
}

func newElection(client *zkclient.Client, ws workspace, agent string, l *lease, v *view, logger log.Logger, sessionTimeout func() time.Duration) *election {
	return &election{client: client, ws: ws, agent: agent, lease: l, view: v, logger: logger,
		sessionTimeout: sessionTimeout, wake: newWakeup(), guids: map[string]bool{}}
}

func (e *election) run(ctx context.Context) { repeat(ctx, e.wake, e.logger, e.round) }

// round is one turn of the recipe in the current session: join, list the
// candidates, then lead or follow.
func (e *election) round(ctx context.Context) error {
	session := e.client.SessionID()
	if !e.client.Connected() || session == 0 {
		return nil // a session event wakes us
	}
	if session != e.session {
		// Our node died with the old session, and a create still pending
		// belonged to it.
		e.session, e.node, e.pending = session, "", ""
	}
	if !e.ready {
		if err := e.ws.ensure(e.client, e.ws.election); err != nil {
			return err
		}
		e.ready = true
	}
	cands, err := e.candidates()
	if err != nil {
		return err
	}
	if e.node == "" {
		return e.join()
	}
	idx := indexOf(cands, e.node)
	if idx < 0 {
		level.Warn(e.logger).Log("msg", "election node disappeared; joining again", "node", e.node)
		e.lease.lost(e.node, errNodeGone)
		e.node = ""
		return errAgain
	}
	if err := e.observe(cands[0]); err != nil {
		return err
	}
	if idx == 0 {
		return e.lead(ctx)
	}
	return e.follow(cands, idx)
}

// candidates lists the election nodes, lowest first. It adopts this
// agent's node whose create reply was lost, and deletes every other node
// carrying one of its GUIDs (a create that reached the server late), which
// would otherwise stall the election.
func (e *election) candidates() ([]candidate, error) {
	children, _, err := e.client.Children(e.ws.election)
	if err != nil {
		e.ready = e.ready && !errors.Is(err, zk.ErrNoNode)
		return nil, fmt.Errorf("listing %s: %w", e.ws.election, err)
	}
	cands := sortCandidates(children)
	kept := cands[:0]
	for _, cd := range cands {
		switch {
		case cd.guid == "" || cd.name == e.node || !e.guids[cd.guid]:
		case e.node == "" && cd.guid == e.pending:
			e.node, e.pending = cd.name, ""
			level.Info(e.logger).Log("msg", "found own election node after a lost reply", "node", cd.name)
		default:
			if err := e.client.Delete(path.Join(e.ws.election, cd.name), -1); err != nil && !errors.Is(err, zk.ErrNoNode) {
				return nil, fmt.Errorf("deleting stale election node %s: %w", cd.name, err)
			}
			level.Warn(e.logger).Log("msg", "deleted a stale election node of this agent", "node", cd.name)
			continue
		}
		kept = append(kept, cd)
	}
	return kept, nil
}

// join creates this agent's election node: ephemeral, sequential, with a
// GUID in its name.
func (e *election) join() error {
	guid, err := newGUID()
	if err != nil {
		return err
	}
	if len(e.guids) > 1024 {
		e.guids = map[string]bool{} // never reached in practice; bounds memory
	}
	e.guids[guid] = true
	e.pending = guid
	created, err := e.client.Create(path.Join(e.ws.election, protectedName(guid)), []byte(e.agent), zk.FlagEphemeral|zk.FlagSequence, e.ws.acl)
	if err != nil {
		e.ready = e.ready && !errors.Is(err, zk.ErrNoNode)
		return fmt.Errorf("joining the election: %w", err)
	}
	e.pending = ""
	if e.client.SessionID() != e.session {
		// A create queued while disconnected ran in a newer session: the
		// next round finds the node stale and deletes it.
		return errAgain
	}
	e.node = path.Base(created)
	level.Info(e.logger).Log("msg", "joined the election", "node", e.node)
	return errAgain
}

// observe records which agent holds the lowest node, for Status: read once
// per leader change (this agent's own name it knows).
func (e *election) observe(lowest candidate) error {
	if e.view.leader() == lowest.name {
		return nil
	}
	name := e.agent
	if lowest.name != e.node {
		data, _, err := e.client.Get(path.Join(e.ws.election, lowest.name))
		if errors.Is(err, zk.ErrNoNode) {
			return errAgain
		}
		if err != nil {
			return fmt.Errorf("reading election node %s: %w", lowest.name, err)
		}
		name = string(data)
	}
	e.view.setLeader(lowest.name, name)
	level.Info(e.logger).Log("msg", "observed leader", "leader", name, "node", lowest.name)
	return nil
}

// follow waits for this agent's turn. Only the predecessor decides it, so
// that a leaving candidate wakes just one other (no herd effect).
// Candidates further back also watch the lowest node, but only to keep the
// leader shown in Status current: a change there costs them one read.
func (e *election) follow(cands []candidate, idx int) error {
	e.lease.lost(e.node, errNotLowest)
	watch := []string{cands[idx-1].name}
	if idx > 1 {
		watch = append(watch, cands[0].name)
	}
	for _, name := range watch {
		ok, _, err := e.client.ExistsW(path.Join(e.ws.election, name))
		if err != nil {
			return fmt.Errorf("watching election node %s: %w", name, err)
		}
		if !ok {
			return errAgain
		}
	}
	level.Debug(e.logger).Log("msg", "following", "node", e.node, "predecessor", watch[0])
	return nil
}

// lead keeps this agent leading while its node is the lowest: a term
// begins once the quorum confirmed the node, and is renewed the same way
// every renewInterval until it ends or the election changes; then the next
// round looks again.
func (e *election) lead(ctx context.Context) error {
	t := e.lease.current()
	if t == nil || t.node != e.node {
		var err error
		if t, err = e.begin(ctx); t == nil {
			return err
		}
	}
	for {
		renew := time.NewTimer(renewInterval(e.sessionTimeout()))
		select {
		case <-ctx.Done():
		case <-t.ctx.Done():
			// The lease wakes the loop when a term ended.
		case <-e.wake:
			e.wake.signal() // for the round that looks again
		case <-renew.C:
			e.renew(t)
			continue
		}
		renew.Stop()
		return nil
	}
}

// begin starts a term. It waits for the previous term's onLead to return,
// checks that the node belongs to this session (Apache Curator shipped
// double-leader bugs for lack of that check), leaves a watch on it that
// fences the term the moment it is deleted, and has the quorum confirm that
// it still exists. It returns nil when no term began.
func (e *election) begin(ctx context.Context) (*term, error) {
	select {
	case <-e.lease.idle():
	case <-ctx.Done():
		return nil, nil
	}
	session := e.sessionTimeout()
	if session <= 0 {
		return nil, errors.New("session timeout not known yet")
	}
	tok := e.lease.token()
	p := path.Join(e.ws.election, e.node)
	// The owner check and the quorum's confirmation go out together: the
	// server answers them in order, and a takeover waits one round trip
	// less.
	type answer struct {
		ok   bool
		stat *zk.Stat
		err  error
	}
	owner := make(chan answer, 1)
	go func() {
		ok, stat, err := e.client.ExistsW(p)
		owner <- answer{ok, stat, err}
	}()
	sent := e.lease.now()
	checked := e.client.Check(p, -1)
	a := <-owner
	switch {
	case a.err != nil:
		return nil, fmt.Errorf("verifying election node %s: %w", e.node, a.err)
	case !a.ok || errors.Is(checked, zk.ErrNoNode):
		return nil, errAgain
	case a.stat.EphemeralOwner != e.session || e.client.SessionID() != e.session:
		level.Error(e.logger).Log("msg", "lowest election node is not owned by this session; joining again", "node", e.node,
			"owner", fmt.Sprintf("0x%x", a.stat.EphemeralOwner), "session", fmt.Sprintf("0x%x", e.session))
		e.lease.lost(e.node, errNotOwner)
		e.node = ""
		return nil, errAgain
	case checked != nil:
		return nil, fmt.Errorf("confirming election node %s: %w", e.node, checked)
	}
	if t := e.lease.begin(tok, e.node, sent.Add(leaseFor(session))); t != nil {
		return t, nil
	}
	if ctx.Err() != nil {
		return nil, nil
	}
	// Fenced meanwhile, or the check took longer than a lease.
	return nil, errAgain
}

// renew has the quorum confirm the term's node again and extends the lease
// from when the request was sent. A failed renewal changes nothing: a lost
// connection arrives as an event, and otherwise the lease runs out unless
// a later renewal succeeds.
func (e *election) renew(t *term) {
	sent := e.lease.now()
	err := e.client.Check(path.Join(e.ws.election, t.node), -1)
	switch {
	case errors.Is(err, zk.ErrNoNode):
		e.lease.lost(t.node, errNodeGone)
	case err != nil:
		level.Debug(e.logger).Log("msg", "renewing the leadership lease failed", "err", err)
	default:
		t.extend(sent.Add(leaseFor(e.sessionTimeout())))
	}
}

// leave deletes this agent's election node, after the loop returned.
func (e *election) leave() {
	if e.node == "" || e.session != e.client.SessionID() {
		return
	}
	if err := e.client.Delete(path.Join(e.ws.election, e.node), -1); err != nil && !errors.Is(err, zk.ErrNoNode) {
		level.Warn(e.logger).Log("msg", "deleting election node failed", "node", e.node, "err", err)
	}
	e.node = ""
}
