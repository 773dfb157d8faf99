// Package zkclient wraps a go-zookeeper connection for zk_monitor: it parses
// connect strings with a chroot, adds digest credentials, turns the library's
// event callback into an ordered, never-dropping stream of session and watch
// events for several subscribers, and counts what it does as metrics.
//
// go-zookeeper v1.0.4 drops events when its channel is full, silently starts
// a new session after expiry and only logs a failed setWatches after a
// reconnect. This package therefore reports every (re)established session to
// its subscribers, which re-read what they watch instead of trusting the
// library to have restored their watches.
package zkclient

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/go-kit/log"
	"github.com/go-kit/log/level"
	"github.com/go-zookeeper/zk"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promauto"
)

// EventKind says what an Event reports.
type EventKind int

const (
	// SessionUp: a session is established and authenticated. Subscribers
	// must re-read their state: watches may have been lost.
	SessionUp EventKind = iota
	// SessionDown: the connection to the server was lost. The session may
	// still be alive on the server.
	SessionDown
	// SessionExpired: the server expired the session; ephemeral nodes and
	// watches are gone. A new session follows with SessionUp.
	SessionExpired
	// NodeChanged: a watch fired for Path.
	NodeChanged
)

func (k EventKind) String() string {
	switch k {
	case SessionUp:
		return "session_up"
	case SessionDown:
		return "session_down"
	case SessionExpired:
		return "session_expired"
	case NodeChanged:
		return "node_changed"
	}
	return "unknown"
}

// Event is delivered to subscribers in the order the library produced it.
type Event struct {
	Kind EventKind
	// Type is the watch event type for NodeChanged (and EventNotWatching
	// when the library dropped a watch).
	Type zk.EventType
	// Path is relative to the chroot.
	Path string
	// SessionID is the session current when the event was dispatched.
	SessionID int64
	// NewSession is set on SessionUp when the session differs from the
	// previous one (first connect or after expiry).
	NewSession bool
}

// Options configure a Client.
type Options struct {
	ConnectString  string
	SessionTimeout time.Duration
	// Username and Password enable ZooKeeper digest authentication.
	Username string
	Password string
	Logger   log.Logger
	// Registerer receives the connection metrics; nil registers nothing.
	Registerer prometheus.Registerer
	// Dialer overrides how TCP connections are made (tests).
	Dialer zk.Dialer
}

// Client is a ZooKeeper connection shared by the watcher and the cluster.
type Client struct {
	conn   *zk.Conn
	chroot string
	logger log.Logger
	opts   Options

	queue        *eventQueue
	watches      *heldWatches
	negotiatedMs atomic.Int64

	mu          sync.Mutex
	subscribers []func(Event)
	connected   bool
	authed      bool // credentials accepted once; the library re-sends them on reconnect
	lastSession int64
	sessionUps  int

	connectedGauge prometheus.Gauge
	reconnects     prometheus.Counter
	expirations    prometheus.Counter
	watchEvents    *prometheus.CounterVec
	requests       *prometheus.CounterVec
	failures       *prometheus.CounterVec

	done chan struct{}
}

// ErrNotConnected is returned by Wait when the context ends first.
var ErrNotConnected = errors.New("not connected to ZooKeeper")

// New connects to ZooKeeper in the background and returns at once. Events
// are delivered to subscribers added with Subscribe, so add them before the
// first session can come up, i.e. right after New.
func New(opts Options) (*Client, error) {
	cs, err := ParseConnectString(opts.ConnectString)
	if err != nil {
		return nil, err
	}
	if opts.SessionTimeout <= 0 {
		return nil, fmt.Errorf("session timeout must be positive, got %s", opts.SessionTimeout)
	}
	if (opts.Username == "") != (opts.Password == "") {
		return nil, fmt.Errorf("ZooKeeper digest auth needs both a user and a password")
	}
	if strings.Contains(opts.Username, ":") {
		return nil, fmt.Errorf("ZooKeeper user must not contain ':'")
	}
	if opts.Logger == nil {
		opts.Logger = log.NewNopLogger()
	}
	reg := opts.Registerer
	if reg == nil {
		reg = prometheus.NewRegistry()
	}
	factory := promauto.With(reg)
	c := &Client{
		chroot:  cs.Chroot,
		logger:  opts.Logger,
		opts:    opts,
		queue:   newEventQueue(),
		watches: newHeldWatches(),
		done:    make(chan struct{}),
		connectedGauge: factory.NewGauge(prometheus.GaugeOpts{
			Name: "zk_monitor_zookeeper_connected",
			Help: "Whether this agent has a live, authenticated ZooKeeper session (1) or not (0).",
		}),
		reconnects: factory.NewCounter(prometheus.CounterOpts{
			Name: "zk_monitor_zookeeper_reconnects_total",
			Help: "Number of times the ZooKeeper session was re-established after a lost connection.",
		}),
		expirations: factory.NewCounter(prometheus.CounterOpts{
			Name: "zk_monitor_zookeeper_session_expirations_total",
			Help: "Number of times ZooKeeper expired this agent's session.",
		}),
		watchEvents: factory.NewCounterVec(prometheus.CounterOpts{
			Name: "zk_monitor_zookeeper_watch_events_total",
			Help: "Number of ZooKeeper watch notifications received, by event type.",
		}, []string{"type"}),
		requests: factory.NewCounterVec(prometheus.CounterOpts{
			Name: "zk_monitor_zookeeper_requests_total",
			Help: "Number of requests sent to ZooKeeper, by operation.",
		}, []string{"op"}),
		failures: factory.NewCounterVec(prometheus.CounterOpts{
			Name: "zk_monitor_zookeeper_request_failures_total",
			Help: "Number of ZooKeeper requests that failed with an error other than a missing node, by operation.",
		}, []string{"op"}),
	}
	for _, op := range []string{"children", "exists", "get", "set", "create", "delete"} {
		// Export zeros so rate() works from the first scrape.
		c.requests.WithLabelValues(op)
		c.failures.WithLabelValues(op)
	}
	dialer := opts.Dialer
	if dialer == nil {
		dialer = net.DialTimeout
	}
	conn, libraryEvents, err := zk.Connect(cs.Servers, opts.SessionTimeout,
		zk.WithEventCallback(c.queue.push),
		zk.WithLogger(zkLogger{log.With(opts.Logger, "component", "go-zookeeper"), c.queue, &c.negotiatedMs}),
		zk.WithDialer(dialer),
	)
	if err != nil {
		return nil, fmt.Errorf("connecting to ZooKeeper: %w", err)
	}
	c.conn = conn
	go func() {
		// Every event also reaches the callback; this channel only tells
		// when the library has stopped for good.
		for range libraryEvents {
		}
		c.queue.close()
	}()
	go c.dispatch()
	return c, nil
}

// Subscribe adds fn to the receivers of events. fn runs on the client's
// dispatch goroutine: it must return quickly and may call the Client.
func (c *Client) Subscribe(fn func(Event)) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.subscribers = append(c.subscribers, fn)
}

// Close ends the session (its ephemeral nodes go at once) and stops the
// event stream.
func (c *Client) Close() {
	c.conn.Close()
	<-c.done
}

// Connected reports whether a session is up and authenticated.
func (c *Client) Connected() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.connected
}

// NegotiatedSessionTimeout is the session timeout the server granted for
// the current session, which may be shorter or longer than the one asked
// for (servers clamp it to their min/max); 0 until the library has reported
// it, just after the first session came up.
func (c *Client) NegotiatedSessionTimeout() time.Duration {
	return time.Duration(c.negotiatedMs.Load()) * time.Millisecond
}

// SessionID returns the current session id (0 while none).
func (c *Client) SessionID() int64 { return c.conn.SessionID() }

// Servers returns the servers of the connect string, for status pages.
func (c *Client) Server() string { return c.conn.Server() }

// dispatch turns library events into Events, in order, until the library
// closes its stream.
func (c *Client) dispatch() {
	defer close(c.done)
	for {
		ev, ok := c.queue.pop()
		if !ok {
			return
		}
		c.handle(ev)
	}
}

func (c *Client) handle(ev zk.Event) {
	switch {
	case ev.Type == zk.EventSession && ev.State == zk.StateHasSession:
		if !c.authenticate() {
			return
		}
		session := c.conn.SessionID()
		c.mu.Lock()
		newSession := session != c.lastSession
		c.lastSession = session
		c.connected = true
		c.sessionUps++
		if c.sessionUps > 1 {
			c.reconnects.Inc()
		}
		c.mu.Unlock()
		c.connectedGauge.Set(1)
		level.Info(c.logger).Log("msg", "ZooKeeper session established", "session", fmt.Sprintf("0x%x", session), "new_session", newSession, "server", c.conn.Server())
		c.publish(Event{Kind: SessionUp, SessionID: session, NewSession: newSession})
	case ev.Type == zk.EventSession && ev.State == zk.StateDisconnected:
		if !c.setDisconnected() {
			return
		}
		level.Warn(c.logger).Log("msg", "ZooKeeper connection lost")
		c.publish(Event{Kind: SessionDown})
	case ev.Type == zk.EventSession && ev.State == stateWatchesLost:
		c.watches.lostAll()
		if !c.Connected() {
			return // the next session re-reads everything anyway
		}
		level.Warn(c.logger).Log("msg", "ZooKeeper watches were not restored after a reconnect; re-reading every path")
		c.publish(Event{Kind: SessionUp, SessionID: c.conn.SessionID()})
	case ev.Type == zk.EventSession && ev.State == zk.StateExpired:
		c.watches.lostAll()
		c.setDisconnected()
		c.expirations.Inc()
		level.Warn(c.logger).Log("msg", "ZooKeeper session expired; starting a new one")
		c.publish(Event{Kind: SessionExpired})
	case ev.Type == zk.EventSession && ev.State == zk.StateAuthFailed:
		level.Error(c.logger).Log("msg", "ZooKeeper authentication failed")
	case ev.Type == zk.EventSession:
		// Connecting/Connected: no session yet, nothing to report.
	default:
		if ev.Type == zk.EventNotWatching {
			// Sent for every watch when the session expires; SessionExpired
			// makes subscribers re-read everything anyway.
			return
		}
		c.watches.fired(ev.Type, c.strip(ev.Path))
		c.watchEvents.WithLabelValues(eventTypeName(ev.Type)).Inc()
		c.publish(Event{Kind: NodeChanged, Type: ev.Type, Path: c.strip(ev.Path), SessionID: c.conn.SessionID()})
	}
}

// setDisconnected records a lost connection; it reports whether the state
// changed.
func (c *Client) setDisconnected() bool {
	c.mu.Lock()
	was := c.connected
	c.connected = false
	c.mu.Unlock()
	c.connectedGauge.Set(0)
	return was
}

// authenticate adds the digest credentials the first time a session comes
// up. The library re-sends them on every later connection.
func (c *Client) authenticate() bool {
	if c.opts.Username == "" {
		return true
	}
	c.mu.Lock()
	authed := c.authed
	c.mu.Unlock()
	if authed {
		return true
	}
	c.requests.WithLabelValues("add_auth").Inc()
	if err := c.conn.AddAuth("digest", []byte(c.opts.Username+":"+c.opts.Password)); err != nil {
		c.failures.WithLabelValues("add_auth").Inc()
		// The error never contains the password; the library only reports
		// the server's code.
		level.Error(c.logger).Log("msg", "adding ZooKeeper digest credentials failed; retrying on the next session", "user", c.opts.Username, "err", err)
		return false
	}
	c.mu.Lock()
	c.authed = true
	c.mu.Unlock()
	return true
}

func (c *Client) publish(ev Event) {
	c.mu.Lock()
	subs := c.subscribers
	c.mu.Unlock()
	for _, fn := range subs {
		fn(ev)
	}
}

func eventTypeName(t zk.EventType) string {
	switch t {
	case zk.EventNodeCreated:
		return "created"
	case zk.EventNodeDeleted:
		return "deleted"
	case zk.EventNodeDataChanged:
		return "data_changed"
	case zk.EventNodeChildrenChanged:
		return "children_changed"
	}
	return "other"
}

// stateWatchesLost is a private session state the logger adapter queues
// when go-zookeeper reports that it could not restore the watches.
const stateWatchesLost zk.State = -1000

// zkLogger adapts go-zookeeper's Printf logging onto the go-kit logger. It
// also watches for the one failure the library reports only as a log
// line: watches not restored after a reconnect.
type zkLogger struct {
	logger log.Logger
	queue  *eventQueue
	// negotiatedMs receives the session timeout the server granted, which
	// the library only reports in its "authenticated" log line.
	negotiatedMs *atomic.Int64
}

func (l zkLogger) Printf(format string, args ...interface{}) {
	if strings.HasPrefix(format, "authenticated: id=%d, timeout=%d") && len(args) == 2 {
		if ms, ok := args[1].(int32); ok {
			l.negotiatedMs.Store(int64(ms))
		}
	}
	if strings.HasPrefix(format, "Failed to set previous watches") {
		level.Warn(l.logger).Log("msg", fmt.Sprintf(format, args...))
		l.queue.push(zk.Event{Type: zk.EventSession, State: stateWatchesLost})
		return
	}
	level.Info(l.logger).Log("msg", fmt.Sprintf(format, args...))
}

// WaitConnected waits until a session is up or ctx ends.
func (c *Client) WaitConnected(ctx context.Context) error {
	up := make(chan struct{}, 1)
	c.Subscribe(func(ev Event) {
		if ev.Kind == SessionUp {
			select {
			case up <- struct{}{}:
			default:
			}
		}
	})
	if c.Connected() {
		return nil
	}
	select {
	case <-up:
		return nil
	case <-ctx.Done():
		return fmt.Errorf("%w: %v", ErrNotConnected, ctx.Err())
	}
}
