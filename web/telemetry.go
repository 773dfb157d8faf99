package web

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net/http"
	"sync"
	"time"

	"github.com/go-kit/log"
	"github.com/go-kit/log/level"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/common/expfmt"
)

// telemetry serves the metrics exposition. A scrape renders the exposition
// into memory and then writes those bytes: a client that never reads
// holds bytes, never the renderer, so slow clients cannot keep Prometheus
// from scraping (promhttp's in-flight limit counted requests being
// written, and ten clients that never read took all of it).
//
// Renderings are shared, but never older than the scrape: scrapes that
// arrive while one is rendered wait for it and share the next one, which
// starts after a pause as long as the last rendering took, so that
// back-to-back scrapes keep the renderer busy half the time at most. The
// renderings held by responses still being written are bounded in memory
// by budget: past it, a scrape gets the latest rendering instead of a new
// one, however old, until slow clients are cut off (writeLimits).
type telemetry struct {
	gatherer prometheus.Gatherer
	logger   log.Logger
	limits   writeLimits
	budget   int
	metrics  *metrics

	render   sync.Mutex // one rendering at a time
	priority *priority  // told while rendering

	mu        sync.Mutex
	variants  map[expfmt.Format]*variant
	held      map[*body]int // bodies being written -> their writers
	heldBytes int
}

// variant is the latest rendering of one exposition format.
type variant struct {
	latest   *body
	rendered time.Time     // when latest was finished
	took     time.Duration // how long rendering latest took
	inflight *rendering
}

// rendering is one rendering in flight; done is closed when body and err
// are set.
type rendering struct {
	started time.Time
	done    chan struct{}
	body    *body
	err     error
}

// errBudget reports a scrape that could not be served within the memory
// budget.
var errBudget = errors.New("too many scrapes are being written; try again later")

func newTelemetry(g prometheus.Gatherer, logger log.Logger, limits writeLimits, budget int, m *metrics, p *priority) *telemetry {
	return &telemetry{
		gatherer: g,
		logger:   logger,
		limits:   limits,
		budget:   budget,
		metrics:  m,
		priority: p,
		variants: map[expfmt.Format]*variant{},
		held:     map[*body]int{},
	}
}

func (t *telemetry) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	format := expfmt.NegotiateAccept(r.Header, expfmt.DefaultAcceptedFormats()...)
	var (
		b   *body
		err error
	)
	if names := r.URL.Query()["name[]"]; len(names) > 0 {
		b, err = t.filtered(format, names)
	} else {
		b, err = t.shared(r.Context(), format)
	}
	switch {
	case errors.Is(err, errBudget):
		t.metrics.rejected.WithLabelValues(handlerMetrics).Inc()
		unavailable(w, err.Error())
		return
	case errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded):
		// The client left while waiting; nobody reads an answer.
		return
	case err != nil:
		http.Error(w, "error gathering metrics: "+err.Error(), http.StatusInternalServerError)
		return
	}
	defer t.release(b)
	w.Header().Add("Vary", "Accept")
	respond(w, r, b, t.limits, t.metrics.cut.WithLabelValues(handlerMetrics), t.logger)
}

// shared returns a rendering of format for an unfiltered scrape, held
// until release. The rendering was started after the scrape arrived, so
// it shows every change made before (unless the memory budget is used up).
func (t *telemetry) shared(ctx context.Context, format expfmt.Format) (*body, error) {
	arrived := time.Now()
	t.mu.Lock()
	v := t.variants[format]
	if v == nil {
		v = &variant{}
		t.variants[format] = v
	}
	for {
		if v.latest != nil && t.heldBytes >= t.budget {
			t.metrics.reused.Inc()
			t.holdLocked(v.latest)
			t.mu.Unlock()
			return v.latest, nil
		}
		if c := v.inflight; c != nil {
			t.mu.Unlock()
			select {
			case <-c.done:
			case <-ctx.Done():
				return nil, ctx.Err()
			}
			if c.started.Before(arrived) {
				// Begun before this scrape arrived: it may miss a change
				// made since. Take the next one.
				t.mu.Lock()
				continue
			}
			if c.err != nil {
				return nil, c.err
			}
			t.mu.Lock()
			t.holdLocked(c.body)
			t.mu.Unlock()
			return c.body, nil
		}
		// A pause as long as the last rendering took: back-to-back scrapes
		// keep the renderer busy half the time at most.
		if pause := time.Until(v.rendered.Add(v.took)); pause > 0 {
			t.mu.Unlock()
			timer := time.NewTimer(pause)
			select {
			case <-timer.C:
			case <-ctx.Done():
				timer.Stop()
				return nil, ctx.Err()
			}
			t.mu.Lock()
			continue
		}
		break
	}
	c := &rendering{started: time.Now(), done: make(chan struct{})}
	v.inflight = c
	hint := 0
	if v.latest != nil {
		hint = len(v.latest.plain)
	}
	t.mu.Unlock()

	c.body, c.err = t.renderBody(format, nil, hint)
	took := time.Since(c.started)

	t.mu.Lock()
	v.inflight = nil
	if c.err == nil {
		v.latest, v.rendered, v.took = c.body, time.Now(), took
		t.holdLocked(c.body)
	}
	t.mu.Unlock()
	close(c.done)
	return c.body, c.err
}

// filtered renders the families named in a scrape's name[] parameters,
// for that scrape alone.
func (t *telemetry) filtered(format expfmt.Format, names []string) (*body, error) {
	t.mu.Lock()
	full := t.heldBytes >= t.budget
	t.mu.Unlock()
	if full {
		return nil, errBudget
	}
	only := map[string]bool{}
	for _, n := range names {
		only[n] = true
	}
	b, err := t.renderBody(format, only, 0)
	if err != nil {
		return nil, err
	}
	t.mu.Lock()
	t.holdLocked(b)
	t.mu.Unlock()
	return b, nil
}

func (t *telemetry) holdLocked(b *body) {
	if t.held[b] == 0 {
		t.heldBytes += len(b.plain)
	}
	t.held[b]++
}

func (t *telemetry) release(b *body) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.held[b]--
	if t.held[b] == 0 {
		delete(t.held, b)
		t.heldBytes -= len(b.plain)
	}
}

// renderBody gathers and encodes the exposition, the families in only if
// that is not nil; hint is the expected size. Errors of single collectors are logged and the rest is
// served, as promhttp's ContinueOnError does; only a gathering that yields
// nothing fails.
func (t *telemetry) renderBody(format expfmt.Format, only map[string]bool, hint int) (*body, error) {
	t.render.Lock()
	defer t.render.Unlock()
	defer t.priority.begin()()
	t.metrics.renders.WithLabelValues(handlerMetrics).Inc()
	families, err := t.gatherer.Gather()
	if err != nil {
		level.Error(t.logger).Log("msg", "gathering metrics failed", "err", err)
		if len(families) == 0 {
			return nil, err
		}
	}
	var buf bytes.Buffer
	// Sized for the last rendering and a little growth: the body keeps the
	// buffer, and a doubled buffer would be half empty.
	buf.Grow(hint + hint/16)
	enc := expfmt.NewEncoder(&buf, format)
	for _, f := range families {
		if only != nil && !only[f.GetName()] {
			continue
		}
		if err := enc.Encode(f); err != nil {
			level.Error(t.logger).Log("msg", "encoding metric family failed", "family", f.GetName(), "err", err)
		}
	}
	if closer, ok := enc.(expfmt.Closer); ok {
		if err := closer.Close(); err != nil {
			return nil, fmt.Errorf("encoding metrics: %w", err)
		}
	}
	b := newBody(string(format), buf.Bytes())
	// Compressed here, while pages yield: Prometheus asks for gzip.
	b.gzip()
	return b, nil
}
