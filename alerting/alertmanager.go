package alerting

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/go-kit/log"
	"github.com/go-kit/log/level"
	"github.com/prometheus/client_golang/prometheus"
)

const (
	alertsPath = "api/v2/alerts"
	statusPath = "api/v2/status"

	minBackoff = 100 * time.Millisecond
	// maxProbeInterval bounds how long an Alertmanager restart can go
	// unnoticed while nothing is being sent.
	maxProbeInterval = 10 * time.Second
	// maxErrorBody is how much of an error answer goes into the error.
	maxErrorBody = 512
)

// statusError is a non-2xx answer.
type statusError struct {
	method, path string
	code         int
	status, body string
}

func (e *statusError) Error() string {
	return fmt.Sprintf("%s %s: %s: %s", e.method, e.path, e.status, e.body)
}

// retryable reports whether the same request may succeed later.
func (e *statusError) retryable() bool {
	return e.code/100 != 4 || e.code == http.StatusRequestTimeout || e.code == http.StatusTooManyRequests
}

// unauthorized reports whether the credentials were refused.
func (e *statusError) unauthorized() bool {
	return e.code == http.StatusUnauthorized || e.code == http.StatusForbidden
}

// alertmanager delivers alerts to one Alertmanager: its queue, its sender
// and what /status shows about it.
type alertmanager struct {
	name      string // redacted base URL: metric label and /status
	alertsURL string
	statusURL string

	// client is owned by the sender goroutine; a new one (after a reload
	// of the HTTP client configuration) waits in nextClient until no
	// request is in flight, so the old one's connections can all be closed.
	client        *http.Client
	nextClient    atomic.Pointer[http.Client]
	logger        log.Logger
	queue         *queue
	maxBatch      int
	timeout       time.Duration
	resend        time.Duration
	probeInterval time.Duration
	now           func() time.Time
	generatorURL  string
	// resync queues the whole current state for this Alertmanager.
	resync func(*alertmanager)

	sent, failed, dropped prometheus.Counter
	queueLength           prometheus.Gauge
	latency               prometheus.Observer
	lastSuccessTS         prometheus.Gauge

	mu               sync.Mutex
	lastSuccess      time.Time
	lastError        time.Time
	lastErrorMessage string
	// uptime is the Alertmanager's start time as last seen, "" if unknown.
	uptime string

	// Owned by the sender goroutine.
	failing       bool
	probeDisabled bool
}

func newAlertmanager(base *url.URL, o *Options, m *metrics, resync func(*alertmanager)) (*alertmanager, error) {
	// Its own transport, so ending a leadership term can close its idle
	// connections.
	client, err := newHTTPClient(base, o.HTTPConfig)
	if err != nil {
		return nil, err
	}
	name := base.Redacted()
	m.forAlertmanager(name)
	clean := *base
	clean.User = nil
	am := &alertmanager{
		name:          name,
		alertsURL:     clean.JoinPath(alertsPath).String(),
		statusURL:     clean.JoinPath(statusPath).String(),
		client:        client,
		logger:        log.With(o.Logger, "alertmanager", name),
		maxBatch:      o.MaxBatchSize,
		timeout:       o.Timeout,
		resend:        o.ResendInterval,
		probeInterval: min(o.ResendInterval, maxProbeInterval),
		now:           o.now,
		generatorURL:  o.generatorURL(),
		resync:        resync,
		sent:          m.sent.WithLabelValues(name),
		failed:        m.failed.WithLabelValues(name),
		dropped:       m.dropped.WithLabelValues(name),
		queueLength:   m.queueLength.WithLabelValues(name),
		latency:       m.latency.WithLabelValues(name),
		lastSuccessTS: m.lastSuccess.WithLabelValues(name),
	}
	am.queue = newQueue(o.QueueCapacity, func(n int) { am.queueLength.Set(float64(n)) })
	return am, nil
}

// setClient makes the sender use c from its next request on.
func (am *alertmanager) setClient(c *http.Client) { am.nextClient.Store(c) }

// currentClient returns the client for the next request, switching to a
// new one if there is. Only the sender goroutine calls it.
func (am *alertmanager) currentClient() *http.Client {
	if c := am.nextClient.Swap(nil); c != nil {
		am.client.CloseIdleConnections()
		am.client = c
	}
	return am.client
}

// enqueue queues alerts for delivery, dropping the oldest when full.
func (am *alertmanager) enqueue(alerts []*alert) {
	dropped := am.queue.push(alerts)
	if dropped > 0 {
		am.dropped.Add(float64(dropped))
		level.Warn(am.logger).Log("msg", "alert queue full, dropped oldest alerts", "dropped", dropped)
	}
}

// reset empties the queue.
func (am *alertmanager) reset() {
	am.queue.reset()
}

// closeIdle closes the connections kept for the next request.
func (am *alertmanager) closeIdle() { am.client.CloseIdleConnections() }

// run sends queued alerts until ctx is done. No request starts after that,
// and the ones in flight are cancelled.
func (am *alertmanager) run(ctx context.Context) {
	am.failing, am.probeDisabled = false, false
	am.setUptime("")
	probe := time.NewTicker(am.probeInterval)
	defer probe.Stop()
	var (
		batch   []*alert
		backoff time.Duration
	)
	for {
		if batch == nil {
			batch = am.queue.pop(am.maxBatch)
		}
		if len(batch) == 0 {
			batch = nil
			select {
			case <-ctx.Done():
				return
			case <-am.queue.more:
			case <-probe.C:
				if !am.probeDisabled {
					am.probe(ctx)
				}
			}
			continue
		}
		if ctx.Err() != nil {
			return
		}
		err := am.send(ctx, batch)
		if ctx.Err() != nil {
			return
		}
		if err == nil {
			batch, backoff = nil, 0
			if am.failing {
				am.failing = false
				level.Info(am.logger).Log("msg", "Alertmanager reachable again, resending all alerts")
				am.resync(am)
			}
			if am.knownUptime() == "" && !am.probeDisabled {
				// Learn its start time now, so that a restart is noticed
				// even if it comes before the next probe.
				am.probe(ctx)
			}
			continue
		}
		var se *statusError
		if errors.As(err, &se) && !se.retryable() {
			// Sending the same batch again would not help. A 400 means
			// Alertmanager took the valid alerts and refused the others;
			// any other refusal (authentication, wrong path) is a failure
			// whose end must trigger a full resend.
			batch, backoff = nil, 0
			if se.code != http.StatusBadRequest {
				am.failing = true
			}
			continue
		}
		am.failing = true
		am.setUptime("")
		backoff = nextBackoff(backoff, am.resend)
		level.Debug(am.logger).Log("msg", "retrying alerts", "count", len(batch), "backoff", backoff)
		t := time.NewTimer(backoff)
		select {
		case <-ctx.Done():
			t.Stop()
			return
		case <-t.C:
		}
	}
}

// nextBackoff doubles the wait after a failed attempt, from minBackoff up
// to limit (at least minBackoff).
func nextBackoff(prev, limit time.Duration) time.Duration {
	return min(max(2*prev, minBackoff), max(limit, minBackoff))
}

// send posts one batch.
func (am *alertmanager) send(ctx context.Context, batch []*alert) error {
	start := time.Now()
	err := am.post(ctx, batch)
	if ctx.Err() != nil {
		// Leadership ended: not the Alertmanager's doing.
		return err
	}
	am.latency.Observe(time.Since(start).Seconds())
	if err != nil {
		am.failed.Add(float64(len(batch)))
		am.recordError(err)
		level.Error(am.logger).Log("msg", "sending alerts failed", "count", len(batch), "err", err)
		return err
	}
	am.sent.Add(float64(len(batch)))
	now := am.now()
	am.lastSuccessTS.Set(float64(now.UnixNano()) / 1e9)
	am.mu.Lock()
	am.lastSuccess = now
	am.mu.Unlock()
	return nil
}

func (am *alertmanager) post(ctx context.Context, batch []*alert) error {
	body, err := json.Marshal(postable(batch, am.now().Add(4*am.resend), am.generatorURL))
	if err != nil {
		return fmt.Errorf("encoding alerts: %w", err)
	}
	ctx, cancel := context.WithTimeout(ctx, am.timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, am.alertsURL, bytes.NewReader(body))
	if err != nil {
		return fmt.Errorf("making request: %w", err)
	}
	req.Header.Set("Content-Type", "application/json")
	return am.do(req)
}

// probe asks the Alertmanager for its uptime (its start time). A changed
// uptime means it restarted, losing its alerts, possibly while it was not
// sent anything: it gets the whole current state. Failed probes are only
// logged; the last known uptime is kept so the restart is seen once the
// Alertmanager answers again.
func (am *alertmanager) probe(parent context.Context) {
	ctx, cancel := context.WithTimeout(parent, am.timeout)
	defer cancel()
	uptime, err := am.getUptime(ctx)
	if parent.Err() != nil {
		return
	}
	if err != nil {
		var se *statusError
		if errors.As(err, &se) && !se.retryable() && !se.unauthorized() {
			// Reachable, but without a status endpoint we can use (a
			// proxy, say): stop asking until the next leadership term.
			// Refused credentials are no such proof: they may be fixed
			// (a rotated password file, a reload) while this term runs.
			level.Warn(am.logger).Log("msg", "Alertmanager status unavailable, restart detection disabled", "err", err)
			am.probeDisabled = true
			return
		}
		level.Debug(am.logger).Log("msg", "Alertmanager status probe failed", "err", err)
		return
	}
	last := am.knownUptime()
	am.setUptime(uptime)
	if last != "" && uptime != last {
		level.Info(am.logger).Log("msg", "Alertmanager restarted, resending all alerts", "uptime", uptime)
		am.resync(am)
	}
}

func (am *alertmanager) getUptime(ctx context.Context) (string, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, am.statusURL, nil)
	if err != nil {
		return "", fmt.Errorf("making request: %w", err)
	}
	req.Header.Set("Accept", "application/json")
	var status struct {
		Uptime string `json:"uptime"`
	}
	if err := am.doJSON(req, &status); err != nil {
		return "", err
	}
	if status.Uptime == "" {
		return "", errors.New("status without uptime")
	}
	return status.Uptime, nil
}

func (am *alertmanager) do(req *http.Request) error {
	return am.doJSON(req, nil)
}

// doJSON makes the request and decodes a 2xx answer into v (unless nil).
func (am *alertmanager) doJSON(req *http.Request, v any) error {
	req.Header.Set("User-Agent", "zk_monitor")
	resp, err := am.currentClient().Do(req)
	if err != nil {
		return err
	}
	defer func() {
		_, _ = io.Copy(io.Discard, resp.Body)
		_ = resp.Body.Close()
	}()
	if resp.StatusCode/100 != 2 {
		b, _ := io.ReadAll(io.LimitReader(resp.Body, maxErrorBody))
		return &statusError{
			method: req.Method,
			path:   req.URL.Path,
			code:   resp.StatusCode,
			status: resp.Status,
			body:   strings.TrimSpace(string(b)),
		}
	}
	if v == nil {
		return nil
	}
	if err := json.NewDecoder(resp.Body).Decode(v); err != nil {
		return fmt.Errorf("decoding %s: %w", req.URL.Path, err)
	}
	return nil
}

func (am *alertmanager) knownUptime() string {
	am.mu.Lock()
	defer am.mu.Unlock()
	return am.uptime
}

func (am *alertmanager) setUptime(up string) {
	am.mu.Lock()
	am.uptime = up
	am.mu.Unlock()
}

func (am *alertmanager) recordError(err error) {
	am.mu.Lock()
	am.lastError = am.now()
	am.lastErrorMessage = err.Error()
	am.mu.Unlock()
}

func (am *alertmanager) status() AlertmanagerStatus {
	am.mu.Lock()
	defer am.mu.Unlock()
	return AlertmanagerStatus{
		URL:              am.name,
		LastSuccess:      am.lastSuccess,
		LastError:        am.lastError,
		LastErrorMessage: am.lastErrorMessage,
		QueueLength:      am.queue.len(),
	}
}
