// Package cluster lets several zk_monitor agents cooperate through
// ZooKeeper: every agent registers itself under a shared workspace, the
// agents elect one leader with the standard ZooKeeper recipe (ephemeral
// sequential nodes, each candidate watching only its predecessor), and only
// the leader hands alerts to the alerting layer, through a context that is
// cancelled the moment its leadership is in doubt.
//
// Fencing: leadership ends as soon as the connection to ZooKeeper is lost,
// not only when the session expires, because a partitioned leader cannot
// know whether a follower already took over. It resumes only when the same
// session comes back and its election node is still the lowest and still
// owned by that session. With Options.SessionTimeout set, leadership is
// also a lease renewed by contact with ZooKeeper, so a process that was
// paused (SIGSTOP, a long GC) past its session timeout stops reporting
// leadership at once when it wakes up, before it has even noticed the lost
// session.
package cluster

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path"
	"slices"
	"sync"
	"time"

	"github.com/go-kit/log"
	"github.com/go-kit/log/level"
	"github.com/go-zookeeper/zk"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/zk-monitor/zk_monitor/config"
	"github.com/zk-monitor/zk_monitor/zkclient"
)

// Defaults of the --cluster_prefix and --cluster_name flags.
const (
	DefaultPrefix = "/zk_monitor"
	DefaultName   = "zkmonitor"
)

const (
	// shutdownTimeout bounds how long Run waits for ZooKeeper to delete
	// this agent's nodes on shutdown.
	shutdownTimeout = 5 * time.Second
	// resyncInterval re-reads the workspace even without a watch event.
	resyncInterval = 30 * time.Second
	minBackoff     = 100 * time.Millisecond
	maxBackoff     = 3 * time.Second
	// maxImmediate is how many passes run back to back when each saw the
	// election change under it, before backing off.
	maxImmediate = 10
)

// ErrAlreadyRunning is returned by Run when the Cluster is or was running.
var ErrAlreadyRunning = errors.New("cluster: Run called more than once")

// errAgain reports that a pass saw the election change under it and must
// run again at once.
var errAgain = errors.New("election changed during the update")

// Options configure a Cluster.
type Options struct {
	// Prefix is the parent of all zk_monitor workspaces (--cluster_prefix).
	Prefix string
	// Name is this cluster's workspace under Prefix (--cluster_name).
	Name string
	// AgentName identifies this agent; default "<hostname>-<pid>".
	AgentName string
	// WebURL and Version are stored in the agent's registration.
	WebURL  string
	Version string
	// Username and Password, when set, give the workspace nodes a digest
	// ACL: that identity may do anything, everyone else may only read.
	Username, Password string
	// SessionTimeout is the ZooKeeper session timeout the client was
	// created with. It bounds the leadership lease: a leader that has not
	// heard from ZooKeeper for that long no longer reports leadership.
	// Zero disables the lease (leadership then ends only on connection
	// events).
	SessionTimeout time.Duration
	Logger         log.Logger
	// Registerer receives the cluster metrics; nil registers nothing.
	Registerer prometheus.Registerer
}

// Status describes the cluster as this agent sees it, for /status.
type Status struct {
	Name     string   `json:"name"`
	Agent    string   `json:"agent"`
	Leader   string   `json:"leader"`
	Agents   []string `json:"agents"`
	IsLeader bool     `json:"is_leader"`
}

// Cluster is one agent's membership in a zk_monitor cluster.
type Cluster struct {
	client  *zkclient.Client
	opts    Options
	logger  log.Logger
	metrics *metrics
	acl     []zk.ACL
	regData []byte

	workspace, agentsDir, electionDir, agentPath string

	wake chan struct{} // capacity 1: "something changed, run a pass"

	// Owned by the worker goroutine.
	pathsReady     bool
	guids          map[string]bool // every GUID this agent used for an election node
	pendingGUID    string          // GUID of a create whose reply was lost
	pendingSession int64
	warnedOwner    int64

	mu sync.Mutex
	// Recorded by the event callback (and read by the worker).
	connected   bool
	session     int64  // session of the last SessionUp
	epoch       uint64 // bumped on every session event
	agentsStale bool   // the agents directory must be re-read and re-watched
	predWatch   string // predecessor with a watch on it, "" when none
	leaderWatch string // lowest node with a watch on it (followers further back), "" when none
	ownWatch    string // own election node with a watch on it, "" when none
	// This agent's nodes, valid for the session they name.
	registered  int64 // session whose agent node is ours, 0 when none
	node        string
	nodeSession int64
	// Observations.
	agents     []string
	leaderNode string
	leaderName string
	// Leadership.
	running, stopping bool
	term              *term         // nil unless leading
	lastDone          chan struct{} // done of the most recent term
}

// term is one period of leadership.
type term struct {
	epoch  uint64
	cancel context.CancelFunc
	done   chan struct{} // closed when onLead returned
	lease  time.Time     // leadership is not claimed after this
	timer  *time.Timer   // revokes the term when the lease runs out
}

// New prepares an agent's membership and subscribes to the client's events;
// it talks to ZooKeeper only once Run is called.
func New(client *zkclient.Client, opts Options) (*Cluster, error) {
	if client == nil {
		return nil, errors.New("cluster: nil ZooKeeper client")
	}
	if opts.Prefix == "" {
		opts.Prefix = DefaultPrefix
	}
	if opts.Name == "" {
		opts.Name = DefaultName
	}
	if opts.AgentName == "" {
		host, err := os.Hostname()
		if err != nil || host == "" {
			host = "localhost"
		}
		opts.AgentName = fmt.Sprintf("%s-%d", host, os.Getpid())
	}
	if err := config.ValidateZnodePath(opts.Prefix); err != nil {
		return nil, fmt.Errorf("cluster prefix %q: %w", opts.Prefix, err)
	}
	if err := config.ValidateNodeName(opts.Name); err != nil {
		return nil, fmt.Errorf("cluster name %q: %w", opts.Name, err)
	}
	if err := config.ValidateNodeName(opts.AgentName); err != nil {
		return nil, fmt.Errorf("agent name %q: %w", opts.AgentName, err)
	}
	if opts.SessionTimeout < 0 {
		return nil, fmt.Errorf("session timeout must not be negative, got %s", opts.SessionTimeout)
	}
	if (opts.Username == "") != (opts.Password == "") {
		return nil, errors.New("cluster ACL needs both a user and a password")
	}
	if opts.Logger == nil {
		opts.Logger = log.NewNopLogger()
	}
	reg := newRegistration(opts.AgentName, os.Getpid(), time.Now(), opts.Version, opts.WebURL)
	data, err := reg.encode()
	if err != nil {
		return nil, err
	}
	workspace := path.Join(opts.Prefix, opts.Name)
	c := &Cluster{
		client:      client,
		opts:        opts,
		logger:      log.With(opts.Logger, "component", "cluster", "agent", opts.AgentName),
		metrics:     newMetrics(opts.Registerer),
		acl:         zkclient.DigestACL(opts.Username, opts.Password),
		regData:     data,
		workspace:   workspace,
		agentsDir:   workspace + "/agents",
		electionDir: workspace + "/election",
		agentPath:   workspace + "/agents/" + opts.AgentName,
		wake:        make(chan struct{}, 1),
		guids:       map[string]bool{},
		agentsStale: true,
	}
	client.Subscribe(c.onEvent)
	// The session may already be up if the client was made a while ago.
	// Reading it under c.mu keeps the order with the callback, which the
	// client calls only after updating its own state.
	c.mu.Lock()
	if client.Connected() && !c.connected {
		c.connected = true
		c.session = client.SessionID()
		c.epoch++
	}
	c.mu.Unlock()
	return c, nil
}

// Workspace returns the ZooKeeper path of the cluster's workspace.
func (c *Cluster) Workspace() string { return c.workspace }

// AgentName returns this agent's name.
func (c *Cluster) AgentName() string { return c.opts.AgentName }

// IsLeader reports whether this agent currently holds verified leadership.
func (c *Cluster) IsLeader() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.isLeaderLocked(time.Now())
}

func (c *Cluster) isLeaderLocked(now time.Time) bool {
	if c.term == nil {
		return false
	}
	return c.opts.SessionTimeout == 0 || now.Before(c.term.lease)
}

// Status returns the cluster as this agent last saw it.
func (c *Cluster) Status() Status {
	c.mu.Lock()
	defer c.mu.Unlock()
	agents := make([]string, len(c.agents))
	copy(agents, c.agents)
	return Status{
		Name:     c.opts.Name,
		Agent:    c.opts.AgentName,
		Leader:   c.leaderName,
		Agents:   agents,
		IsLeader: c.isLeaderLocked(time.Now()),
	}
}

// Run registers the agent, takes part in the election and calls onLead in
// its own goroutine each time this agent becomes the verified leader. The
// context passed to onLead is cancelled the moment leadership ends:
// connection lost, session expired, election node gone, lease run out or
// shutdown. Terms never overlap: onLead is not called again before the
// previous call returned, so onLead must return promptly once its context
// is cancelled. A new term is the place to re-send the full current state.
//
// Run returns when ctx ends, after onLead returned and this agent's nodes
// were deleted so that a follower takes over at once. If ZooKeeper does not
// answer within a few seconds Run returns anyway; the nodes then go when the
// caller closes the client, which also ends a request still in flight.
func (c *Cluster) Run(ctx context.Context, onLead func(context.Context)) error {
	if onLead == nil {
		onLead = func(context.Context) {}
	}
	c.mu.Lock()
	if c.running {
		c.mu.Unlock()
		return ErrAlreadyRunning
	}
	c.running = true
	c.mu.Unlock()

	level.Info(c.logger).Log("msg", "joining the cluster", "workspace", c.workspace)
	stop := make(chan struct{})
	workerDone := make(chan struct{})
	go func() {
		defer close(workerDone)
		c.work(ctx, onLead, stop)
		c.leave()
	}()

	<-ctx.Done()
	c.mu.Lock()
	c.stopping = true
	if c.endTermLocked() {
		level.Info(c.logger).Log("msg", "leadership handed over: shutting down")
	}
	last := c.lastDone
	c.mu.Unlock()
	if last != nil {
		<-last
	}
	close(stop)
	timer := time.NewTimer(shutdownTimeout)
	defer timer.Stop()
	select {
	case <-workerDone:
	case <-timer.C:
		level.Warn(c.logger).Log("msg", "ZooKeeper did not answer in time on shutdown; this agent's nodes go when its session closes", "timeout", shutdownTimeout)
	}
	return nil
}

// onEvent records what the client reports and wakes the worker. It runs on
// the client's dispatch goroutine and never calls ZooKeeper.
func (c *Cluster) onEvent(ev zkclient.Event) {
	c.mu.Lock()
	switch ev.Kind {
	case zkclient.SessionUp:
		if ev.NewSession || ev.SessionID != c.session {
			c.forgetSessionLocked()
		}
		c.connected = true
		c.session = ev.SessionID
		c.epoch++
		// Watches may not have survived; re-arm them.
		c.agentsStale = true
		c.predWatch = ""
		c.leaderWatch = ""
		c.ownWatch = ""
	case zkclient.SessionDown:
		c.connected = false
		c.epoch++
		c.revokeLocked("connection to ZooKeeper lost")
	case zkclient.SessionExpired:
		c.connected = false
		c.epoch++
		c.revokeLocked("ZooKeeper session expired")
		c.forgetSessionLocked()
	case zkclient.NodeChanged:
		switch {
		case ev.Path == c.agentsDir:
			c.agentsStale = true
		case path.Dir(ev.Path) == c.electionDir:
			name := path.Base(ev.Path)
			if name == c.ownWatch {
				c.ownWatch = ""
			}
			if ev.Type == zk.EventNodeDeleted && name == c.node {
				c.revokeLocked("election node deleted")
			}
			if name == c.predWatch {
				c.predWatch = ""
			}
			if name == c.leaderWatch {
				c.leaderWatch = ""
			}
		default:
			// Someone else's watch on a shared client.
			c.mu.Unlock()
			return
		}
	}
	c.mu.Unlock()
	c.signal()
}

// forgetSessionLocked drops what belonged to a session that is gone: its
// ephemeral nodes died with it.
func (c *Cluster) forgetSessionLocked() {
	c.registered = 0
	c.node = ""
	c.nodeSession = 0
	c.predWatch = ""
	c.leaderWatch = ""
	c.ownWatch = ""
}

// revokeLocked ends the current term, if any: its context is cancelled at
// once.
func (c *Cluster) revokeLocked(reason string) {
	if c.endTermLocked() {
		level.Warn(c.logger).Log("msg", "leadership ended", "reason", reason)
	}
}

// endTermLocked cancels the current term's context; it reports whether
// there was a term.
func (c *Cluster) endTermLocked() bool {
	t := c.term
	if t == nil {
		return false
	}
	c.term = nil
	t.cancel()
	if t.timer != nil {
		t.timer.Stop()
	}
	c.metrics.leader.Set(0)
	return true
}

func (c *Cluster) signal() {
	select {
	case c.wake <- struct{}{}:
	default:
	}
}

// work runs passes over the cluster state until stop is closed: after every
// event, on a retry timer after errors, and now and then to catch anything a
// watch missed.
func (c *Cluster) work(ctx context.Context, onLead func(context.Context), stop <-chan struct{}) {
	resync := time.NewTicker(resyncInterval)
	defer resync.Stop()
	var heartbeat <-chan time.Time
	if c.opts.SessionTimeout > 0 {
		hb := time.NewTicker(max(c.opts.SessionTimeout/4, time.Millisecond))
		defer hb.Stop()
		heartbeat = hb.C
	}
	backoff := minBackoff
	immediate := 0
	resyncNow := false
	for {
		select {
		case <-stop:
			return
		default:
		}
		err := c.pass(ctx, onLead, stop, resyncNow)
		resyncNow = false
		var retry <-chan time.Time
		switch {
		case err == nil:
			backoff, immediate = minBackoff, 0
		case errors.Is(err, errAgain) && immediate < maxImmediate:
			immediate++
			continue
		default:
			if !errors.Is(err, errAgain) {
				level.Warn(c.logger).Log("msg", "updating cluster state failed; retrying", "retry_in", backoff, "err", err)
			}
			retry = time.After(backoff)
			backoff = min(2*backoff, maxBackoff)
			immediate = 0
		}
	wait:
		for {
			select {
			case <-stop:
				return
			case <-c.wake:
				break wait
			case <-retry:
				break wait
			case <-resync.C:
				resyncNow = true
				break wait
			case <-heartbeat:
				if c.renewLease() {
					break wait
				}
			}
		}
	}
}

// pass brings this agent's nodes and view of the cluster up to date and
// decides on leadership. It does nothing while disconnected.
func (c *Cluster) pass(ctx context.Context, onLead func(context.Context), stop <-chan struct{}, resync bool) error {
	c.mu.Lock()
	if !c.connected || c.stopping {
		c.mu.Unlock()
		return nil
	}
	epoch, session := c.epoch, c.session
	c.mu.Unlock()
	if c.client.SessionID() != session {
		// A session event is on its way and will start another pass.
		return nil
	}
	if !c.pathsReady {
		// The prefix is shared by every cluster (and tenant): it stays
		// open, so that other credentials can create their workspace
		// beside ours. Only our workspace and below carry our ACL.
		if err := c.client.EnsurePath(path.Dir(c.workspace), zk.WorldACL(zk.PermAll)); err != nil {
			return fmt.Errorf("creating %s: %w", path.Dir(c.workspace), err)
		}
		for _, p := range []string{c.agentsDir, c.electionDir} {
			if err := c.client.EnsurePath(p, c.acl); err != nil {
				return fmt.Errorf("creating %s: %w", p, err)
			}
		}
		c.pathsReady = true
	}
	if err := c.readAgents(session, resync); err != nil {
		return err
	}
	if err := c.register(session); err != nil {
		return err
	}
	return c.elect(ctx, onLead, stop, epoch, session)
}

// readAgents re-reads the registered agents when a watch fired (leaving a
// new watch) or on resync.
func (c *Cluster) readAgents(session int64, resync bool) error {
	c.mu.Lock()
	watch := c.agentsStale
	c.agentsStale = false
	c.mu.Unlock()
	if !watch && !resync {
		return nil
	}
	var children []string
	var err error
	if watch {
		children, _, err = c.client.ChildrenW(c.agentsDir)
	} else {
		children, _, err = c.client.Children(c.agentsDir)
	}
	if err != nil {
		if watch {
			c.mu.Lock()
			c.agentsStale = true
			c.mu.Unlock()
		}
		c.notePathError(err)
		return fmt.Errorf("listing %s: %w", c.agentsDir, err)
	}
	slices.Sort(children)
	c.mu.Lock()
	c.agents = children
	if c.registered == session && !slices.Contains(children, c.opts.AgentName) {
		// Our registration was deleted under us; make it again.
		c.registered = 0
	}
	c.mu.Unlock()
	c.metrics.agents.Set(float64(len(children)))
	return nil
}

// register creates this agent's ephemeral registration unless it already
// exists in this session. A node of the same name held by another session
// (a previous run of this agent that has not expired yet, or another agent
// with the same name) is waited out: the agents watch fires when it goes.
func (c *Cluster) register(session int64) error {
	c.mu.Lock()
	done := c.registered == session
	c.mu.Unlock()
	if done {
		return nil
	}
	_, err := c.client.Create(c.agentPath, c.regData, zk.FlagEphemeral, c.acl)
	switch {
	case err == nil:
		level.Info(c.logger).Log("msg", "registered agent", "path", c.agentPath)
		c.setRegistered(session)
		return nil
	case errors.Is(err, zk.ErrNodeExists):
		ok, stat, err := c.client.Exists(c.agentPath)
		if err != nil {
			return fmt.Errorf("checking %s: %w", c.agentPath, err)
		}
		if !ok {
			return errAgain
		}
		if stat.EphemeralOwner == session {
			c.setRegistered(session)
			return nil
		}
		if c.warnedOwner != stat.EphemeralOwner {
			c.warnedOwner = stat.EphemeralOwner
			level.Warn(c.logger).Log("msg", "agent name already registered by another ZooKeeper session; waiting for that node to go", "path", c.agentPath, "owner", fmt.Sprintf("0x%x", stat.EphemeralOwner))
		}
		return nil
	default:
		c.notePathError(err)
		return fmt.Errorf("registering %s: %w", c.agentPath, err)
	}
}

func (c *Cluster) setRegistered(session int64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.session == session {
		c.registered = session
	}
}

// notePathError makes the next pass re-create the workspace when someone
// deleted it.
func (c *Cluster) notePathError(err error) {
	if errors.Is(err, zk.ErrNoNode) {
		c.pathsReady = false
	}
}

// elect makes sure this agent has an election node, observes the leader,
// and either leads or watches its predecessor.
func (c *Cluster) elect(ctx context.Context, onLead func(context.Context), stop <-chan struct{}, epoch uint64, session int64) error {
	children, _, err := c.client.Children(c.electionDir)
	if err != nil {
		c.notePathError(err)
		return fmt.Errorf("listing %s: %w", c.electionDir, err)
	}
	cands := sortCandidates(children)

	c.mu.Lock()
	node := c.node
	if c.nodeSession != session {
		node = ""
	}
	c.mu.Unlock()

	// Adopt our node whose create reply was lost; delete any other node of
	// ours (a create that reached the server late), which would otherwise
	// stall the election forever.
	removed := false
	for _, cd := range cands {
		if cd.guid == "" || cd.name == node || !c.guids[cd.guid] {
			continue
		}
		if node == "" && cd.guid == c.pendingGUID && c.pendingSession == session {
			node = cd.name
			c.pendingGUID = ""
			c.setNode(session, node)
			level.Info(c.logger).Log("msg", "found own election node after a lost reply", "node", node)
			continue
		}
		if err := c.client.Delete(path.Join(c.electionDir, cd.name), -1); err != nil && !errors.Is(err, zk.ErrNoNode) {
			return fmt.Errorf("deleting stale election node %s: %w", cd.name, err)
		}
		level.Warn(c.logger).Log("msg", "deleted a stale election node of this agent", "node", cd.name)
		removed = true
	}
	if removed {
		return errAgain
	}
	if node == "" {
		return c.join(session)
	}
	idx := indexOf(cands, node)
	if idx < 0 {
		c.mu.Lock()
		if c.node == node {
			c.node = ""
			c.revokeLocked("election node disappeared")
		}
		c.mu.Unlock()
		level.Warn(c.logger).Log("msg", "election node disappeared; joining again", "node", node)
		return errAgain
	}
	if err := c.observeLeader(cands[0]); err != nil {
		return err
	}
	if idx == 0 {
		return c.lead(ctx, onLead, stop, epoch, session, node)
	}

	c.mu.Lock()
	c.revokeLocked("no longer the lowest candidate")
	c.mu.Unlock()
	// Leadership depends on the predecessor only, so that a leaving
	// candidate wakes just one other (no herd effect). Candidates further
	// back also watch the lowest node, but only to keep the leader shown in
	// Status current: a change there costs them one read.
	pred := cands[idx-1].name
	if err := c.watchNode(&c.predWatch, pred); err != nil {
		return err
	}
	if idx > 1 {
		if err := c.watchNode(&c.leaderWatch, cands[0].name); err != nil {
			return err
		}
	}
	level.Debug(c.logger).Log("msg", "following", "node", node, "predecessor", pred)
	return nil
}

// watchNode leaves an exists watch on the election node name unless *slot
// (guarded by c.mu, cleared by the event callback when the watch fires)
// says there is one. It returns errAgain if the node is already gone.
func (c *Cluster) watchNode(slot *string, name string) error {
	c.mu.Lock()
	if *slot == name {
		c.mu.Unlock()
		return nil
	}
	*slot = name
	c.mu.Unlock()
	ok, _, err := c.client.ExistsW(path.Join(c.electionDir, name))
	if err != nil || !ok {
		c.mu.Lock()
		if *slot == name {
			*slot = ""
		}
		c.mu.Unlock()
		if err != nil {
			return fmt.Errorf("watching election node %s: %w", name, err)
		}
		return errAgain
	}
	return nil
}

// join creates this agent's election node: ephemeral, sequential, with a
// GUID in its name so that a create whose reply was lost can be found.
func (c *Cluster) join(session int64) error {
	guid, err := newGUID()
	if err != nil {
		return err
	}
	if len(c.guids) > 1024 {
		c.guids = map[string]bool{} // never reached in practice; bounds memory
	}
	c.guids[guid] = true
	c.pendingGUID, c.pendingSession = guid, session
	created, err := c.client.Create(path.Join(c.electionDir, protectedName(guid)), []byte(c.opts.AgentName), zk.FlagEphemeral|zk.FlagSequence, c.acl)
	if err != nil {
		c.notePathError(err)
		return fmt.Errorf("joining the election: %w", err)
	}
	c.pendingGUID = ""
	node := path.Base(created)
	c.setNode(session, node)
	level.Info(c.logger).Log("msg", "joined the election", "node", node)
	return errAgain
}

func (c *Cluster) setNode(session int64, node string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.session == session {
		c.node, c.nodeSession = node, session
	}
}

// observeLeader records the agent holding the lowest election node.
func (c *Cluster) observeLeader(lowest candidate) error {
	c.mu.Lock()
	known := c.leaderNode == lowest.name
	c.mu.Unlock()
	if known {
		return nil
	}
	data, _, err := c.client.Get(path.Join(c.electionDir, lowest.name))
	if errors.Is(err, zk.ErrNoNode) {
		return errAgain
	}
	if err != nil {
		return fmt.Errorf("reading election node %s: %w", lowest.name, err)
	}
	c.mu.Lock()
	prev := c.leaderNode
	c.leaderNode, c.leaderName = lowest.name, string(data)
	c.mu.Unlock()
	if prev != "" {
		c.metrics.leaderChanges.Inc()
	}
	level.Info(c.logger).Log("msg", "observed leader", "leader", string(data), "node", lowest.name)
	return nil
}

// lead verifies that this agent's node, the lowest, belongs to its current
// session and starts a term. Apache Curator shipped double-leader bugs for
// lack of the ownership check.
func (c *Cluster) lead(ctx context.Context, onLead func(context.Context), stop <-chan struct{}, epoch uint64, session int64, node string) error {
	c.mu.Lock()
	leading := c.term != nil
	if leading && c.ownWatch == node {
		c.mu.Unlock()
		return nil
	}
	prev := c.lastDone
	c.ownWatch = node
	c.mu.Unlock()
	if !leading && prev != nil {
		select {
		case <-prev:
		default:
			// The previous term's onLead has not returned yet.
			select {
			case <-prev:
			case <-stop:
			}
			c.clearOwnWatch(node)
			return errAgain
		}
	}

	nodePath := path.Join(c.electionDir, node)
	sent := time.Now()
	ok, stat, err := c.client.ExistsW(nodePath)
	if err != nil {
		c.clearOwnWatch(node)
		return fmt.Errorf("verifying election node %s: %w", node, err)
	}
	if !ok {
		c.clearOwnWatch(node)
		return errAgain
	}
	if stat.EphemeralOwner != session || c.client.SessionID() != session {
		level.Error(c.logger).Log("msg", "lowest election node is not owned by this session; joining again", "node", node,
			"owner", fmt.Sprintf("0x%x", stat.EphemeralOwner), "session", fmt.Sprintf("0x%x", session))
		c.mu.Lock()
		if c.node == node {
			c.node = ""
			c.revokeLocked("election node owned by another session")
		}
		c.mu.Unlock()
		return errAgain
	}

	c.mu.Lock()
	defer c.mu.Unlock()
	if c.epoch != epoch || !c.connected || c.stopping || c.session != session || c.node != node {
		// Something changed while we checked; its event runs another pass.
		return nil
	}
	if c.term != nil {
		c.term.lease = sent.Add(c.leaseDuration())
		return nil
	}
	if c.opts.SessionTimeout > 0 && !time.Now().Before(sent.Add(c.leaseDuration())) {
		// The check took longer than a session: its answer proves nothing.
		return errAgain
	}
	tctx, cancel := context.WithCancel(ctx)
	t := &term{epoch: epoch, cancel: cancel, done: make(chan struct{}), lease: sent.Add(c.leaseDuration())}
	if c.opts.SessionTimeout > 0 {
		t.timer = time.AfterFunc(time.Until(t.lease), func() { c.checkLease(t) })
	}
	c.term = t
	c.lastDone = t.done
	c.metrics.leader.Set(1)
	c.metrics.elections.Inc()
	level.Info(c.logger).Log("msg", "became the leader", "node", node, "session", fmt.Sprintf("0x%x", session))
	go func() {
		defer close(t.done)
		defer cancel()
		onLead(leaseContext{Context: tctx, cluster: c, term: t})
	}()
	return nil
}

// ErrLeaseExpired is the error of a leadership context whose lease ran out.
var ErrLeaseExpired = fmt.Errorf("leadership lease ran out: %w", context.Canceled)

// leaseContext is a term's context whose Err also reports a lease that
// ran out before the timer revoking the term could run, as when a paused
// process resumes and every timer fires at once: whoever checks Err
// before acting is fenced at once, whatever order the timers run in.
type leaseContext struct {
	context.Context
	cluster *Cluster
	term    *term
}

func (l leaseContext) Err() error {
	if err := l.Context.Err(); err != nil {
		return err
	}
	if l.cluster.opts.SessionTimeout == 0 {
		return nil
	}
	l.cluster.mu.Lock()
	lease := l.term.lease
	l.cluster.mu.Unlock()
	if !time.Now().Before(lease) {
		return ErrLeaseExpired
	}
	return nil
}

func (c *Cluster) clearOwnWatch(node string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.ownWatch == node {
		c.ownWatch = ""
	}
}

// renewLease confirms, while leading, that the election node still exists
// in this session, and extends the lease from the time the request was
// sent: the server cannot expire the session earlier than a session timeout
// after it heard from us. It reports whether a pass is needed.
func (c *Cluster) renewLease() bool {
	c.mu.Lock()
	t, node, session, connected := c.term, c.node, c.session, c.connected
	c.mu.Unlock()
	if t == nil || !connected || node == "" {
		return false
	}
	sent := time.Now()
	ok, stat, err := c.client.Exists(path.Join(c.electionDir, node))
	if err != nil {
		// A lost connection arrives as an event; the lease runs out on its own.
		level.Debug(c.logger).Log("msg", "renewing leadership lease failed", "err", err)
		return false
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.term != t {
		return false
	}
	if !ok || stat.EphemeralOwner != session {
		c.revokeLocked("election node gone")
		return true
	}
	t.lease = sent.Add(c.leaseDuration())
	return false
}

// leaseDuration is how long leadership lasts after ZooKeeper last heard
// from us: the session timeout, or the shorter one the server granted (a
// server clamps it to its maxSessionTimeout, and a lease longer than the
// real session would let a paused leader outlive its election node).
func (c *Cluster) leaseDuration() time.Duration {
	d := c.opts.SessionTimeout
	if granted := c.client.NegotiatedSessionTimeout(); granted > 0 && granted < d {
		d = granted
	}
	return d
}

// checkLease runs when a term's lease may have run out.
func (c *Cluster) checkLease(t *term) {
	c.mu.Lock()
	if c.term != t {
		c.mu.Unlock()
		return
	}
	if d := time.Until(t.lease); d > 0 {
		t.timer.Reset(d)
		c.mu.Unlock()
		return
	}
	c.revokeLocked("leadership lease ran out without contact with ZooKeeper")
	c.mu.Unlock()
	c.signal()
}

// leave deletes this agent's election node, then its registration, so that
// a follower takes over at once.
func (c *Cluster) leave() {
	c.mu.Lock()
	connected, session := c.connected, c.session
	node := ""
	if c.nodeSession == session {
		node = c.node
	}
	registered := c.registered == session && session != 0
	c.mu.Unlock()
	if !connected {
		level.Info(c.logger).Log("msg", "left the cluster while disconnected; this agent's nodes go with its session")
		return
	}
	if node != "" {
		err := c.client.Delete(path.Join(c.electionDir, node), -1)
		if err != nil && !errors.Is(err, zk.ErrNoNode) {
			level.Warn(c.logger).Log("msg", "deleting election node failed", "node", node, "err", err)
		}
		c.mu.Lock()
		if c.node == node {
			c.node = ""
		}
		c.mu.Unlock()
	}
	if registered {
		err := c.client.Delete(c.agentPath, -1)
		if err != nil && !errors.Is(err, zk.ErrNoNode) {
			level.Warn(c.logger).Log("msg", "deleting agent registration failed", "path", c.agentPath, "err", err)
		}
		c.mu.Lock()
		c.registered = 0
		c.mu.Unlock()
	}
	level.Info(c.logger).Log("msg", "left the cluster")
}
