// Package clockskew measures how far ZooKeeper's clock is from the agent's.
//
// max_age compares a znode's mtime, which the ZooKeeper leader stamps with
// its own wall clock when it orders the write, with the agent's clock. To
// know how far apart the two are, the Prober writes a znode of its own in
// the cluster's workspace and compares the mtime ZooKeeper stamped on it
// with the agent's clock at the middle of the request: the stamp was taken
// between the request's send and its reply, so the estimate is off by at
// most half the round trip (plus half a millisecond, mtime's resolution).
// It measures when a session comes up and then every Interval, and exports
// the last measurement as zk_monitor_zookeeper_clock_skew_seconds.
package clockskew

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/go-kit/log"
	"github.com/go-kit/log/level"
	"github.com/go-zookeeper/zk"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/zk-monitor/zk_monitor/zkclient"
)

// Defaults for zero Options fields.
const (
	DefaultInterval = 5 * time.Minute
	// DefaultRetry is the first wait after a failed measurement; it
	// doubles up to Interval. The workspace is created by the cluster
	// when a session comes up, possibly just after the first try.
	DefaultRetry = time.Second
	// WarnAbove is the skew beyond which (net of the measurement's
	// uncertainty) a warning is logged.
	WarnAbove = time.Second
)

// ZooKeeper is what the Prober needs of a connection; *zkclient.Client
// implements it.
type ZooKeeper interface {
	Create(path string, data []byte, flags int32, acl []zk.ACL) (string, error)
	Set(path string, data []byte, version int32) (*zk.Stat, error)
	Subscribe(func(zkclient.Event))
	Connected() bool
}

// Options configure a Prober.
type Options struct {
	// Path is the znode written for each measurement, in the cluster's
	// workspace; it is created, as a persistent node with ACL, when
	// missing. Its parent must exist.
	Path string
	ACL  []zk.ACL
	// Agent names this agent in the data written, for people reading it.
	Agent    string
	Interval time.Duration
	Retry    time.Duration
	Logger   log.Logger
	// Registerer gets the skew metrics; nil leaves them unregistered.
	Registerer prometheus.Registerer
	// Now tells the agent's time; nil means time.Now.
	Now func() time.Time
}

// Measurement is one comparison of the clocks.
type Measurement struct {
	// Skew is ZooKeeper's clock minus the agent's: positive when
	// ZooKeeper is ahead.
	Skew time.Duration
	// Uncertainty bounds the error of Skew.
	Uncertainty time.Duration
	// At is when it was taken, by the agent's clock.
	At time.Time
}

// Prober measures the clock skew. Run does the work; Last and the metrics
// read its result.
type Prober struct {
	conn   ZooKeeper
	opts   Options
	logger log.Logger
	wake   chan struct{}

	mu       sync.Mutex
	last     Measurement
	measured bool
	warned   bool
}

var (
	skewDesc = prometheus.NewDesc("zk_monitor_zookeeper_clock_skew_seconds",
		"Offset of the ZooKeeper leader's clock from this agent's (positive when ZooKeeper is ahead), from the mtime it stamped on the agent's last write to its workspace; max_age sees znodes this much younger.",
		nil, nil)
	uncertaintyDesc = prometheus.NewDesc("zk_monitor_zookeeper_clock_skew_uncertainty_seconds",
		"Bound on the error of zk_monitor_zookeeper_clock_skew_seconds: half the round trip of the write it was measured with, plus half a millisecond of mtime resolution.",
		nil, nil)
)

// New returns a Prober; it talks to ZooKeeper once Run is called.
func New(conn ZooKeeper, opts Options) (*Prober, error) {
	if opts.Path == "" || opts.Path[0] != '/' {
		return nil, fmt.Errorf("clock skew znode %q is not an absolute path", opts.Path)
	}
	if opts.Interval <= 0 {
		opts.Interval = DefaultInterval
	}
	if opts.Retry <= 0 {
		opts.Retry = DefaultRetry
	}
	if opts.Logger == nil {
		opts.Logger = log.NewNopLogger()
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.ACL == nil {
		opts.ACL = zk.WorldACL(zk.PermAll)
	}
	p := &Prober{conn: conn, opts: opts, logger: opts.Logger, wake: make(chan struct{}, 1)}
	if opts.Registerer != nil {
		if err := opts.Registerer.Register(p); err != nil {
			return nil, fmt.Errorf("registering clock skew metrics: %w", err)
		}
	}
	conn.Subscribe(func(ev zkclient.Event) {
		if ev.Kind == zkclient.SessionUp {
			p.signal()
		}
	})
	return p, nil
}

func (p *Prober) signal() {
	select {
	case p.wake <- struct{}{}:
	default:
	}
}

// Run measures when a session comes up and every Interval after a success
// (backing off from Retry after a failure) until ctx is done.
func (p *Prober) Run(ctx context.Context) error {
	timer := time.NewTimer(0)
	defer timer.Stop()
	if !p.conn.Connected() {
		timer.Stop()
	}
	retry := p.opts.Retry
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-p.wake:
		case <-timer.C:
		}
		if !p.conn.Connected() {
			// SessionUp wakes us.
			timer.Stop()
			continue
		}
		wait := p.opts.Interval
		if err := p.measure(); err != nil {
			// The workspace is the cluster's to create, right after the
			// session comes up; until then a failure is expected.
			logAt := level.Warn
			if errors.Is(err, zk.ErrNoNode) {
				logAt = level.Debug
			}
			logAt(p.logger).Log("msg", "measuring the clock skew with ZooKeeper failed", "path", p.opts.Path, "err", err)
			wait, retry = retry, min(2*retry, p.opts.Interval)
		} else {
			retry = p.opts.Retry
		}
		timer.Reset(wait)
	}
}

// Last returns the last measurement, if any.
func (p *Prober) Last() (Measurement, bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.last, p.measured
}

// measure writes the probe znode, creating it first if needed, and
// records the skew its new mtime shows.
func (p *Prober) measure() error {
	data := []byte(p.opts.Agent + " " + p.opts.Now().UTC().Format(time.RFC3339Nano))
	sent := p.opts.Now()
	stat, err := p.conn.Set(p.opts.Path, data, -1)
	received := p.opts.Now()
	if errors.Is(err, zk.ErrNoNode) {
		// The create's reply carries no Stat: write again to measure.
		if _, err := p.conn.Create(p.opts.Path, data, 0, p.opts.ACL); err != nil && !errors.Is(err, zk.ErrNodeExists) {
			return fmt.Errorf("creating %s: %w", p.opts.Path, err)
		}
		sent = p.opts.Now()
		stat, err = p.conn.Set(p.opts.Path, data, -1)
		received = p.opts.Now()
	}
	if err != nil {
		return fmt.Errorf("writing %s: %w", p.opts.Path, err)
	}
	m := Estimate(time.UnixMilli(stat.Mtime), sent, received)
	p.mu.Lock()
	p.last, p.measured = m, true
	warn := m.Skew.Abs()-m.Uncertainty > WarnAbove
	report := warn && !p.warned
	p.warned = warn
	p.mu.Unlock()
	if report {
		level.Warn(p.logger).Log("msg", "ZooKeeper's clock is off from this agent's; max_age checks are off by as much", "skew", m.Skew, "uncertainty", m.Uncertainty)
	} else {
		level.Debug(p.logger).Log("msg", "measured the clock skew with ZooKeeper", "skew", m.Skew, "uncertainty", m.Uncertainty)
	}
	return nil
}

// Estimate returns the skew shown by mtime, stamped by ZooKeeper while a
// request was in flight from sent to received by the agent's clock. The
// stamp, truncated to the millisecond, lies between the two instants on
// ZooKeeper's clock: the estimate takes the middle of both ranges.
func Estimate(mtime, sent, received time.Time) Measurement {
	half := received.Sub(sent) / 2
	middle := sent.Add(half)
	return Measurement{
		Skew:        mtime.Add(time.Millisecond / 2).Sub(middle),
		Uncertainty: half + time.Millisecond/2,
		At:          received,
	}
}

// Describe implements prometheus.Collector.
func (p *Prober) Describe(ch chan<- *prometheus.Desc) {
	ch <- skewDesc
	ch <- uncertaintyDesc
}

// Collect implements prometheus.Collector: nothing until the first
// measurement, rather than a skew of 0 that nobody measured.
func (p *Prober) Collect(ch chan<- prometheus.Metric) {
	m, ok := p.Last()
	if !ok {
		return
	}
	ch <- prometheus.MustNewConstMetric(skewDesc, prometheus.GaugeValue, m.Skew.Seconds())
	ch <- prometheus.MustNewConstMetric(uncertaintyDesc, prometheus.GaugeValue, m.Uncertainty.Seconds())
}
