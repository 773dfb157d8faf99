// Package cluster lets several zk_monitor agents cooperate through
// ZooKeeper: every agent registers itself under a shared workspace, the
// agents elect one leader with the standard ZooKeeper recipe (ephemeral
// sequential nodes, each candidate watching only its predecessor), and only
// the leader hands alerts to the alerting layer, through a context that is
// cancelled the moment its leadership is in doubt.
//
// The parts, each in its own file:
//
//   - registration.go: the agent's node under <workspace>/agents.
//   - election.go: the leader-election recipe, one loop as go-zookeeper's
//     Lock, made to survive lost connections and sessions; candidate.go:
//     the names of its nodes.
//   - lease.go: leadership as a lease that only the ZooKeeper quorum can
//     renew, and the context handed to the leader.
//   - status.go: what /status shows.
//
// What it guarantees:
//
//   - Fencing: leadership ends as soon as the connection to ZooKeeper is
//     lost, not only when the session expires, because a partitioned leader
//     cannot know whether a follower already took over. It resumes only when
//     the same session comes back and its election node is still the lowest
//     and still owned by that session.
//   - A lease: leadership is renewed only by requests the ZooKeeper quorum
//     commits, counted from when they were sent, so a leader whose server
//     lost the quorum (and answers reads from stale data) or a process
//     paused past its session (SIGSTOP, a long GC) stops leading before any
//     other agent can start.
//   - The winning node is checked to belong to this agent's current
//     session before a term begins.
//   - Terms never overlap: onLead is not called again before the previous
//     call returned.
//   - A graceful stop deletes the agent's nodes, so a follower takes over
//     at once.
//   - A create whose reply was lost with the connection is found again by
//     the GUID in the election node's name; any other node of this agent is
//     deleted, so it cannot stall the election.
//   - The registration is made again in every session and whenever someone
//     deletes it.
//   - With credentials, the workspace and everything in it get a digest
//     ACL (that identity may do anything, everyone else may read); the
//     shared prefix stays open, so other tenants can make their workspaces
//     beside it.
package cluster

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path"
	"sync"
	"sync/atomic"
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

// shutdownTimeout bounds how long Run waits for ZooKeeper to delete this
// agent's nodes on shutdown.
const shutdownTimeout = 5 * time.Second

// ErrAlreadyRunning is returned by Run when the Cluster is or was running.
var ErrAlreadyRunning = errors.New("cluster: Run called more than once")

// Options configure a Cluster.
type Options struct {
	// Prefix is the parent of all zk_monitor workspaces (--cluster_prefix).
	Prefix string
	// Name is this cluster's workspace under Prefix (--cluster_name).
	Name string
	// AgentName identifies this agent; default "<hostname>-<pid>".
	AgentName string
	// ZooKeeper is the client's connect string; zk_monitor_cluster_info
	// shows its servers and chroot.
	ZooKeeper string
	// WebURL and Version are stored in the agent's registration.
	WebURL  string
	Version string
	// Username and Password, when set, give the workspace nodes a digest
	// ACL: that identity may do anything, everyone else may only read.
	Username, Password string
	// SessionTimeout is the ZooKeeper session timeout the client was
	// created with; the server may grant a shorter one, which then counts.
	// It sizes the leadership lease. Zero means the one the server
	// granted.
	SessionTimeout time.Duration
	Logger         log.Logger
	// Registerer receives the cluster metrics; nil registers nothing.
	Registerer prometheus.Registerer
}

// Cluster is one agent's membership in a zk_monitor cluster.
type Cluster struct {
	client   *zkclient.Client
	opts     Options
	logger   log.Logger
	ws       workspace
	view     *view
	lease    *lease
	reg      *registrar
	election *election
	running  atomic.Bool
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
	data, err := newRegistration(opts.AgentName, os.Getpid(), time.Now(), opts.Version, opts.WebURL).encode()
	if err != nil {
		return nil, err
	}
	// The caller scopes the logger (component=cluster); the agent name
	// tells agents apart when several share one log, as in tests.
	logger := log.With(opts.Logger, "agent", opts.AgentName)
	ws := newWorkspace(opts.Prefix, opts.Name, zkclient.DigestACL(opts.Username, opts.Password))
	m := newMetrics(opts.Registerer, identity{name: opts.Name, workspace: ws.root, zookeeper: zkclient.ServersAndChroot(opts.ZooKeeper)})
	v := &view{name: opts.Name, agent: opts.AgentName, agents: []string{}, metrics: m}
	l := newLease(logger, m)
	c := &Cluster{
		client: client,
		opts:   opts,
		logger: logger,
		ws:     ws,
		view:   v,
		lease:  l,
		reg:    newRegistrar(client, ws, opts.AgentName, data, v, logger),
		election: newElection(client, ws, opts.AgentName, l, v, logger, func() time.Duration {
			return grantedTimeout(opts.SessionTimeout, client.NegotiatedSessionTimeout())
		}),
	}
	l.ended = c.election.wake.signal
	client.Subscribe(c.onEvent)
	return c, nil
}

// Workspace returns the path of the cluster's workspace, <prefix>/<name>,
// where agents may keep nodes of their own (the clock skew probe does).
func (c *Cluster) Workspace() string { return c.ws.root }

// AgentName returns this agent's name (<hostname>-<pid> unless given).
func (c *Cluster) AgentName() string { return c.opts.AgentName }

// IsLeader reports whether this agent currently holds verified leadership.
func (c *Cluster) IsLeader() bool { return c.lease.leading() }

// Status returns the cluster as this agent last saw it.
func (c *Cluster) Status() Status { return c.view.status(c.lease.leading()) }

// Run registers the agent, takes part in the election and calls onLead in
// its own goroutine each time this agent becomes the verified leader. The
// context passed to onLead is cancelled the moment leadership ends:
// connection lost, session expired, election node gone, lease run out or
// shutdown; context.Cause tells which. Terms never overlap: onLead is not
// called again before the previous call returned, so onLead must return
// promptly once its context is cancelled. A new term is the place to
// re-send the full current state.
//
// Run returns when ctx ends, after onLead returned and this agent's nodes
// were deleted so that a follower takes over at once. If ZooKeeper does not
// answer within a few seconds Run returns anyway; the nodes then go when the
// caller closes the client, which also ends a request still in flight.
func (c *Cluster) Run(ctx context.Context, onLead func(context.Context)) error {
	if !c.running.CompareAndSwap(false, true) {
		return ErrAlreadyRunning
	}
	if onLead == nil {
		onLead = func(context.Context) {}
	}
	level.Info(c.logger).Log("msg", "joining the cluster", "workspace", c.ws.root)
	c.lease.serve(ctx, onLead)
	var loops sync.WaitGroup
	loops.Go(func() { c.reg.run(ctx) })
	loops.Go(func() { c.election.run(ctx) })

	<-ctx.Done()
	c.lease.close()
	// A follower may take over only once this agent stopped alerting.
	<-c.lease.idle()
	left := make(chan struct{})
	go func() {
		defer close(left)
		loops.Wait()
		c.leave()
	}()
	timer := time.NewTimer(shutdownTimeout)
	defer timer.Stop()
	select {
	case <-left:
	case <-timer.C:
		level.Warn(c.logger).Log("msg", "no answer from ZooKeeper on shutdown; this agent's nodes go when its session closes", "timeout", shutdownTimeout)
	}
	return nil
}

// onEvent fences the lease on anything that puts leadership in doubt and
// wakes the loop a change concerns. It runs on the client's dispatch
// goroutine and never calls ZooKeeper.
func (c *Cluster) onEvent(ev zkclient.Event) {
	switch ev.Kind {
	case zkclient.SessionDown:
		c.lease.fence(errConnectionLost)
	case zkclient.SessionExpired:
		c.lease.fence(errSessionExpired)
	case zkclient.NodeChanged:
		switch {
		case ev.Path == c.ws.agents:
			c.reg.wake.signal()
		case path.Dir(ev.Path) == c.ws.election:
			if ev.Type == zk.EventNodeDeleted {
				c.lease.lost(path.Base(ev.Path), errNodeDeleted)
			}
			c.election.wake.signal()
		}
		// Anything else is someone else's watch on a shared client.
		return
	}
	c.reg.wake.signal()
	c.election.wake.signal()
}

// leave deletes this agent's election node, then its registration, so that
// a follower takes over at once. It runs once both loops have returned.
func (c *Cluster) leave() {
	if !c.client.Connected() {
		level.Info(c.logger).Log("msg", "left the cluster while disconnected; this agent's nodes go with its session")
		return
	}
	c.election.leave()
	c.reg.leave()
	level.Info(c.logger).Log("msg", "left the cluster")
}

// workspace is <prefix>/<name> with its two directories, and the ACL of
// everything this agent creates in it.
type workspace struct {
	root, agents, election string
	acl                    []zk.ACL
}

func newWorkspace(prefix, name string, acl []zk.ACL) workspace {
	root := path.Join(prefix, name)
	return workspace{root: root, agents: root + "/agents", election: root + "/election", acl: acl}
}

// ensure creates dir (one of the workspace's directories) and its missing
// parents. The prefix is shared by every cluster (and tenant): it stays
// open, so that other credentials can create their workspace beside ours.
// Only our workspace and below carry our ACL.
func (w workspace) ensure(client *zkclient.Client, dir string) error {
	if err := client.EnsurePath(path.Dir(w.root), zk.WorldACL(zk.PermAll)); err != nil {
		return fmt.Errorf("creating %s: %w", path.Dir(w.root), err)
	}
	if err := client.EnsurePath(dir, w.acl); err != nil {
		return fmt.Errorf("creating %s: %w", dir, err)
	}
	return nil
}

// wakeup is a one-slot "something changed, look again" signal.
type wakeup chan struct{}

func newWakeup() wakeup { return make(wakeup, 1) }

func (w wakeup) signal() {
	select {
	case w <- struct{}{}:
	default:
	}
}
