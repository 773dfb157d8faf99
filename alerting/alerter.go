package alerting

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/go-kit/log"
	"github.com/go-kit/log/level"
	"github.com/prometheus/client_golang/prometheus"
	promconfig "github.com/prometheus/common/config"
	"github.com/prometheus/common/model"

	"github.com/zk-monitor/zk_monitor/compliance"
	"github.com/zk-monitor/zk_monitor/config"
)

// Defaults for zero Options fields.
const (
	DefaultResendInterval    = time.Minute
	DefaultResolvedResendFor = 15 * time.Minute
	DefaultTimeout           = 10 * time.Second
	DefaultQueueCapacity     = 10000
	DefaultMaxBatchSize      = 64
)

// Options configure an Alerter. Zero values take the defaults above.
type Options struct {
	// AlertmanagerURLs are the base URLs of the Alertmanagers; alerts are
	// posted to <base>/api/v2/alerts. Every one gets every alert. User
	// info in a URL is sent as basic authentication and redacted elsewhere;
	// it cannot be combined with authentication from HTTPConfig.
	AlertmanagerURLs []*url.URL
	// HTTPConfig configures the client of every Alertmanager (TLS,
	// authentication, proxy) as LoadHTTPConfig reads it; nil means the
	// defaults, with proxies from the environment.
	HTTPConfig *promconfig.HTTPClientConfig
	// ResendInterval is how often firing alerts are resent; they end at
	// now + 4 × ResendInterval unless resent.
	ResendInterval time.Duration
	// ResolvedResendFor is how long resolved alerts keep being resent.
	ResolvedResendFor time.Duration
	// Timeout bounds each request to an Alertmanager.
	Timeout time.Duration
	// QueueCapacity is the size of each Alertmanager's queue; when full,
	// the oldest alert is dropped.
	QueueCapacity int
	// MaxBatchSize is the most alerts posted in one request.
	MaxBatchSize int
	// ClusterName is the cluster label of every alert.
	ClusterName string
	// AgentName is the agent annotation of every alert.
	AgentName string
	// ExternalURL is where this agent is reached; alerts link to its
	// /status page.
	ExternalURL string
	// FiringStore, when set, keeps the firing alerts in ZooKeeper while
	// this agent leads, and gives them to it when it starts to lead, so
	// that they go on firing with their start times whoever leads.
	FiringStore *FiringStore
	// Logger gets the alerter's log lines; nil discards them.
	Logger log.Logger
	// Registerer gets the alerter's metrics; nil leaves them unregistered.
	Registerer prometheus.Registerer
	// now tells the time (tests set it); nil means time.Now.
	now func() time.Time
}

func (o *Options) generatorURL() string {
	if o.ExternalURL == "" {
		return ""
	}
	return strings.TrimRight(o.ExternalURL, "/") + "/status"
}

// Status is what /status shows of the alerter.
type Status struct {
	// Alerting is true while this agent leads and delivers alerts.
	Alerting      bool                 `json:"alerting"`
	Alertmanagers []AlertmanagerStatus `json:"alertmanagers"`
}

// AlertmanagerStatus is the delivery state of one Alertmanager.
type AlertmanagerStatus struct {
	URL              string    `json:"url"`
	LastSuccess      time.Time `json:"last_success,omitzero"`
	LastError        time.Time `json:"last_error,omitzero"`
	LastErrorMessage string    `json:"last_error_message,omitempty"`
	QueueLength      int       `json:"queue_length"`
}

// Alerter follows the compliance of the watched paths, decides which
// alerts fire and, while this agent leads, delivers them to Alertmanager.
type Alerter struct {
	opts    Options
	logger  log.Logger
	metrics *metrics
	ams     []*alertmanager
	// wake tells Run that a hold-down may have started or changed.
	wake chan struct{}

	// leadMu serialises leadership terms.
	leadMu sync.Mutex

	// mu guards the engine, leadCtx and recorder. Alerts are queued under
	// it, so the queues see transitions in order.
	mu      sync.Mutex
	engine  *engine
	leadCtx context.Context // nil when not leading
	// recorder records the firing set during a term; nil without a store.
	recorder *recorder
}

// New returns an Alerter. It delivers nothing until Lead is called.
func New(opts Options) (*Alerter, error) {
	if opts.ResendInterval <= 0 {
		opts.ResendInterval = DefaultResendInterval
	}
	if opts.ResolvedResendFor <= 0 {
		opts.ResolvedResendFor = DefaultResolvedResendFor
	}
	if opts.Timeout <= 0 {
		opts.Timeout = DefaultTimeout
	}
	if opts.QueueCapacity <= 0 {
		opts.QueueCapacity = DefaultQueueCapacity
	}
	if opts.MaxBatchSize <= 0 {
		opts.MaxBatchSize = DefaultMaxBatchSize
	}
	if opts.Logger == nil {
		opts.Logger = log.NewNopLogger()
	}
	if opts.now == nil {
		opts.now = time.Now
	}
	if opts.HTTPConfig == nil {
		opts.HTTPConfig = defaultHTTPConfig()
	}
	if opts.ExternalURL != "" {
		if _, err := url.Parse(opts.ExternalURL); err != nil {
			return nil, fmt.Errorf("external URL %q: %w", opts.ExternalURL, err)
		}
	}

	a := &Alerter{
		opts:    opts,
		logger:  opts.Logger,
		metrics: newMetrics(opts.Registerer),
		wake:    make(chan struct{}, 1),
	}
	a.engine = newEngine(
		alertBuilder{cluster: opts.ClusterName, agent: opts.AgentName},
		opts.ResolvedResendFor,
		a.reportInvalid,
	)
	seen := map[string]bool{}
	for _, u := range opts.AlertmanagerURLs {
		if u == nil {
			return nil, errors.New("nil alertmanager URL")
		}
		if (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return nil, fmt.Errorf("alertmanager URL %q: want http(s)://host[:port][/path]", u.Redacted())
		}
		if seen[u.String()] {
			return nil, fmt.Errorf("alertmanager URL %q given twice", u.Redacted())
		}
		seen[u.String()] = true
		am, err := newAlertmanager(u, &a.opts, a.metrics, a.resync)
		if err != nil {
			return nil, err
		}
		a.ams = append(a.ams, am)
	}
	return a, nil
}

// SetHTTPConfig makes every Alertmanager's client follow cfg (nil: the
// defaults) from its next request on; requests in flight finish with the
// old one. If a client cannot be built, none changes.
func (a *Alerter) SetHTTPConfig(cfg *promconfig.HTTPClientConfig) error {
	if cfg == nil {
		cfg = defaultHTTPConfig()
	}
	clients := make([]*http.Client, len(a.ams))
	for i, u := range a.opts.AlertmanagerURLs {
		c, err := newHTTPClient(u, cfg)
		if err != nil {
			return err
		}
		clients[i] = c
	}
	for i, am := range a.ams {
		am.setClient(clients[i])
	}
	return nil
}

// Update records the compliance result res of spec.Path. spec.Path must be
// the concrete znode path (for a glob spec, a copy naming the matched
// node). It never blocks on delivery.
func (a *Alerter) Update(spec config.PathSpec, res compliance.Result) {
	a.mu.Lock()
	out := a.engine.update(spec, res, a.opts.now())
	a.deliverLocked(out)
	a.mu.Unlock()
	a.poke()
}

// Remove forgets path, which is no longer monitored, resolving its alert if
// it fires.
func (a *Alerter) Remove(path string) {
	a.mu.Lock()
	out := a.engine.remove(path, a.opts.now())
	a.deliverLocked(out)
	a.mu.Unlock()
	a.poke()
}

// Run ends hold-downs and resends the current state every resend interval,
// until ctx is done. It runs on every agent, leader or not.
func (a *Alerter) Run(ctx context.Context) error {
	resend := time.NewTicker(a.opts.ResendInterval)
	defer resend.Stop()
	hold := time.NewTimer(time.Hour)
	defer hold.Stop()
	for {
		a.mu.Lock()
		next, ok := a.engine.nextDeadline()
		a.mu.Unlock()
		d := time.Hour
		if ok {
			d = max(next.Sub(a.opts.now()), 0)
		}
		hold.Reset(d)

		select {
		case <-ctx.Done():
			return nil
		case <-a.wake:
		case <-hold.C:
		case <-resend.C:
			a.resendAll()
		}
		a.advance()
	}
}

// Lead delivers alerts until ctx is done: the whole current state at once,
// then every change and resend. With a FiringStore it then takes over the
// alerts an earlier leader recorded, sends the state again, and keeps the
// record of what fires while ctx lives. No request starts after ctx is
// done, and requests in flight are cancelled. It returns when ctx is done.
func (a *Alerter) Lead(ctx context.Context) {
	a.leadMu.Lock()
	defer a.leadMu.Unlock()
	if ctx.Err() != nil {
		return
	}
	level.Info(a.logger).Log("msg", "leading: delivering alerts", "alertmanagers", len(a.ams))

	a.mu.Lock()
	a.leadCtx = ctx
	snapshot := a.engine.snapshot()
	for _, am := range a.ams {
		am.reset()
		am.enqueue(snapshot)
	}
	a.mu.Unlock()

	var wg sync.WaitGroup
	for _, am := range a.ams {
		wg.Go(func() { am.run(ctx) })
	}
	if a.opts.FiringStore != nil {
		wg.Go(func() { a.takeOver(ctx) })
	}
	<-ctx.Done()
	wg.Wait()

	a.mu.Lock()
	a.leadCtx = nil
	a.recorder = nil
	a.metrics.records.Set(0)
	a.metrics.recordsPending.Set(0)
	for _, am := range a.ams {
		am.reset()
		am.closeIdle()
	}
	a.mu.Unlock()
	level.Info(a.logger).Log("msg", "leadership ended: alert delivery stopped")
}

// Status returns the delivery state for /status.
func (a *Alerter) Status() Status {
	a.mu.Lock()
	alerting := a.leadCtx != nil && a.leadCtx.Err() == nil
	a.mu.Unlock()
	s := Status{Alerting: alerting, Alertmanagers: make([]AlertmanagerStatus, 0, len(a.ams))}
	for _, am := range a.ams {
		s.Alertmanagers = append(s.Alertmanagers, am.status())
	}
	return s
}

// AllPathsReported tells the Alerter that every monitored path has been
// reported through Update at least once. From then on, a recorded firing
// alert of a path it has not heard of is of a path no longer monitored,
// and is resolved (also at once, for those taken over before).
func (a *Alerter) AllPathsReported() {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.deliverLocked(a.engine.reportedAll(a.opts.now()))
}

// firing returns the number of firing alerts.
func (a *Alerter) firing() int {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.engine.firing()
}

// advance fires the hold-downs that ended.
func (a *Alerter) advance() {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.deliverLocked(a.engine.advance(a.opts.now()))
}

// resendAll queues the whole current state, when leading.
func (a *Alerter) resendAll() {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.engine.expire(a.opts.now())
	if !a.leadingLocked() {
		return
	}
	snapshot := a.engine.snapshot()
	for _, am := range a.ams {
		am.enqueue(snapshot)
	}
}

// resync queues the whole current state for one Alertmanager.
func (a *Alerter) resync(am *alertmanager) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.leadingLocked() {
		am.enqueue(a.engine.snapshot())
	}
}

// deliverLocked queues alerts for every Alertmanager when leading and
// keeps the active gauge current. a.mu must be held.
func (a *Alerter) deliverLocked(out []*alert) {
	a.metrics.active.Set(float64(a.engine.firing()))
	if len(out) == 0 || !a.leadingLocked() {
		return
	}
	for _, am := range a.ams {
		am.enqueue(out)
	}
	if a.recorder != nil {
		a.recorder.mark(out)
		a.metrics.recordsPending.Set(float64(len(a.recorder.dirty) + len(a.recorder.strays)))
	}
}

func (a *Alerter) leadingLocked() bool {
	return a.leadCtx != nil && a.leadCtx.Err() == nil
}

func (a *Alerter) poke() {
	select {
	case a.wake <- struct{}{}:
	default:
	}
}

func (a *Alerter) reportInvalid(path string, invalid []invalidLabel) {
	for _, l := range invalid {
		a.metrics.invalidLabels.Inc()
		level.Error(a.logger).Log("msg", "dropping invalid alert label", "path", path, "label", l.name, "value", l.value,
			"err", fmt.Errorf("label %q=%q: want a name matching %s and a UTF-8 value", l.name, l.value, model.LabelNameRE))
	}
}
