package web

import (
	"context"
	"sync"
)

// priority lets a rendering of the metrics go first: while one is in
// flight, the writers of pages wait between chunks, so that the CPU their
// clients would take goes to Prometheus's scrape instead. A writer waits
// for the rendering in flight only, never for the next one, so pages
// always make progress.
type priority struct {
	mu      sync.Mutex
	running chan struct{} // closed when the rendering in flight ends; nil without one
}

// begin marks a rendering in flight until the returned func is called.
// Renderings do not overlap (telemetry renders one at a time).
func (p *priority) begin() (end func()) {
	done := make(chan struct{})
	p.mu.Lock()
	p.running = done
	p.mu.Unlock()
	return func() {
		p.mu.Lock()
		if p.running == done {
			p.running = nil
		}
		p.mu.Unlock()
		close(done)
	}
}

// yield waits until the rendering in flight, if any, ends.
func (p *priority) yield(ctx context.Context) {
	p.mu.Lock()
	running := p.running
	p.mu.Unlock()
	if running == nil {
		return
	}
	select {
	case <-running:
	case <-ctx.Done():
	}
}
