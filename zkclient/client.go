// Package zkclient wraps a go-zookeeper connection for zk_monitor: it parses
// connect strings with a chroot, adds digest credentials, dials the servers
// (with TLS when configured), turns the library's event callback into an
// ordered, never-dropping stream of session and watch events for several
// subscribers, and counts what it does as metrics.
//
// go-zookeeper v1.0.4 drops events when its channel is full, silently starts
// a new session after expiry and only logs a failed setWatches after a
// reconnect. This package therefore reports every (re)established session to
// its subscribers, which re-read what they watch instead of trusting the
// library to have restored their watches, and it reads what it must know
// about a connection (the session timeout the server granted, a refused
// setWatches) from the ZooKeeper protocol itself, on the connections it
// dials for the library (wire.go), never from the library's log lines. The
// same connections bound how long the library waits for a server that
// accepts connections but does not answer.
package zkclient

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"time"
	"unicode"
	"unicode/utf8"

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
	// TLS configures TLS to the servers' secureClientPort.
	TLS TLSOptions
	// Registerer receives the connection metrics; nil registers nothing.
	Registerer prometheus.Registerer

	// hostProvider replaces the library's shuffled server order (tests).
	hostProvider zk.HostProvider
}

// Client is a ZooKeeper connection shared by the watcher and the cluster.
type Client struct {
	conn    *zk.Conn
	chroot  string
	servers int
	logger  log.Logger
	opts    Options

	queue         *eventQueue
	watches       *heldWatches
	negotiated    atomic.Int64 // time.Duration the server granted, 0 until known
	connectErrors *connectErrors
	closing       atomic.Bool

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
	restoreFails   prometheus.Counter
	requests       *prometheus.CounterVec
	failures       *prometheus.CounterVec

	done chan struct{}
}

// ErrNotConnected is returned by WaitConnected when the context ends first.
var ErrNotConnected = errors.New("not connected to ZooKeeper")

// New connects to ZooKeeper in the background and returns at once. Events
// are delivered to subscribers added with Subscribe, so add them before the
// first session can come up, i.e. right after New.
func New(opts Options) (*Client, error) {
	cs, err := parseConnectString(opts.ConnectString)
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
	if err := opts.TLS.validate(); err != nil {
		return nil, err
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
		chroot:        cs.Chroot,
		servers:       len(cs.Servers),
		logger:        opts.Logger,
		opts:          opts,
		queue:         newEventQueue(),
		watches:       newHeldWatches(),
		connectErrors: &connectErrors{logger: opts.Logger},
		done:          make(chan struct{}),
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
		restoreFails: factory.NewCounter(prometheus.CounterOpts{
			Name: "zk_monitor_zookeeper_watch_restore_failures_total",
			Help: "Number of times ZooKeeper refused to restore this agent's watches after a reconnect, after which every watched path is read again.",
		}),
		requests: factory.NewCounterVec(prometheus.CounterOpts{
			Name: "zk_monitor_zookeeper_requests_total",
			Help: "Number of requests sent to ZooKeeper, by operation.",
		}, []string{"op"}),
		failures: factory.NewCounterVec(prometheus.CounterOpts{
			Name: "zk_monitor_zookeeper_request_failures_total",
			Help: "Number of ZooKeeper requests that failed with an error other than a missing node, by operation.",
		}, []string{"op"}),
	}
	// Export zeros so rate() works from the first scrape.
	for _, op := range []string{"children", "exists", "get", "set", "create", "delete", "check"} {
		c.requests.WithLabelValues(op)
		c.failures.WithLabelValues(op)
	}
	for _, t := range []zk.EventType{zk.EventNodeCreated, zk.EventNodeDeleted, zk.EventNodeDataChanged, zk.EventNodeChildrenChanged} {
		c.watchEvents.WithLabelValues(eventTypeName(t))
	}
	hosts := opts.hostProvider
	if hosts == nil {
		hosts = zk.NewDNSHostProvider() // the library's default
	}
	conn, libraryEvents, err := zk.Connect(cs.Servers, opts.SessionTimeout,
		zk.WithEventCallback(c.queue.pushEvent),
		zk.WithLogger(libraryLogger{log.With(opts.Logger, "library", "go-zookeeper")}),
		zk.WithDialer(c.dial),
		zk.WithHostProvider(hosts),
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
	c.closing.Store(true)
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
// for (servers clamp it to their min/max); 0 until the first session is
// up. It is known before SessionUp is delivered.
func (c *Client) NegotiatedSessionTimeout() time.Duration {
	return time.Duration(c.negotiated.Load())
}

// sessionTimeout is the granted session timeout, or the one asked for
// until a server granted one.
func (c *Client) sessionTimeout() time.Duration {
	if d := c.NegotiatedSessionTimeout(); d > 0 {
		return d
	}
	return c.opts.SessionTimeout
}

// SessionID returns the current session id (0 while none).
func (c *Client) SessionID() int64 { return c.conn.SessionID() }

// Server returns the address of the server the client is connected or
// connecting to.
func (c *Client) Server() string { return c.conn.Server() }

// dispatch turns library events into Events, in order, until the library
// closes its stream.
func (c *Client) dispatch() {
	defer close(c.done)
	for {
		n, ok := c.queue.pop()
		if !ok {
			return
		}
		if n.watchesLost != 0 {
			c.watchesLost(n.watchesLost)
			continue
		}
		c.handle(n.event)
	}
}

// watchesLost handles a setWatches request the server refused: the library
// keeps believing it holds the watches, so every path must be read again,
// setting them anew.
func (c *Client) watchesLost(code int32) {
	c.watches.lostAll()
	c.restoreFails.Inc()
	if !c.Connected() {
		return // the next session re-reads everything anyway
	}
	level.Warn(c.logger).Log("msg", "ZooKeeper did not restore the watches after a reconnect; re-reading every path", "code", code)
	c.publish(Event{Kind: SessionUp, SessionID: c.conn.SessionID()})
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
		c.connectErrors.reset()
		level.Info(c.logger).Log("msg", "ZooKeeper session established", "session", fmt.Sprintf("0x%x", session), "new_session", newSession, "server", c.conn.Server())
		c.publish(Event{Kind: SessionUp, SessionID: session, NewSession: newSession})
	case ev.Type == zk.EventSession && ev.State == zk.StateDisconnected:
		if !c.setDisconnected() {
			return
		}
		if !c.closing.Load() {
			level.Warn(c.logger).Log("msg", "ZooKeeper connection lost")
		}
		c.publish(Event{Kind: SessionDown})
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

// libraryLogger adapts go-zookeeper's Printf logging onto the go-kit
// logger, at debug level: what matters of it the client logs itself, once.
// It only logs: nothing in this package depends on the library's wording.
type libraryLogger struct {
	logger log.Logger
}

func (l libraryLogger) Printf(format string, args ...interface{}) {
	msg := fmt.Sprintf(format, args...)
	if r, size := utf8.DecodeRuneInString(msg); unicode.IsUpper(r) {
		msg = string(unicode.ToLower(r)) + msg[size:] // as our own messages
	}
	level.Debug(l.logger).Log("msg", msg)
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
		if err := c.connectErrors.lastError(); err != nil {
			return fmt.Errorf("%w: %v; last connection error: %v", ErrNotConnected, ctx.Err(), err)
		}
		return fmt.Errorf("%w: %v", ErrNotConnected, ctx.Err())
	}
}
