package web

import (
	"context"
	"net/http"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// pageCache keeps the latest rendering of a page with the key of the
// inputs it was rendered from. Requests with the same inputs get the same
// bytes: a page is rendered once per change of what it shows, however
// many clients ask for it, and a client that never reads holds a shared
// rendering instead of its own.
type pageCache struct {
	renders prometheus.Counter

	mu     sync.Mutex // held while rendering: one rendering at a time
	key    string
	latest *body
}

// get returns the rendering for key, rendering it if the latest one has
// another key. render must read the page's inputs after key was taken
// from them, so that what is cached under a key is never older than it.
func (c *pageCache) get(key string, render func() (*body, error)) (*body, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.latest != nil && c.key == key {
		return c.latest, nil
	}
	c.renders.Inc()
	b, err := render()
	if err != nil {
		return nil, err
	}
	c.key, c.latest = key, b
	return b, nil
}

// budget bounds how many requests a group of handlers serves at once. A
// request waits up to wait for its turn and is answered 503 after that.
type budget struct {
	slots chan struct{}
	wait  time.Duration
}

func newBudget(n int, wait time.Duration) *budget {
	return &budget{slots: make(chan struct{}, n), wait: wait}
}

// acquire takes a slot, which the caller must release; false when none
// was free in time.
func (b *budget) acquire(ctx context.Context) bool {
	select {
	case b.slots <- struct{}{}:
		return true
	default:
	}
	t := time.NewTimer(b.wait)
	defer t.Stop()
	select {
	case b.slots <- struct{}{}:
		return true
	case <-t.C:
		return false
	case <-ctx.Done():
		return false
	}
}

func (b *budget) release() { <-b.slots }

// limited serves next within the budget, and answers 503 when it is used
// up: by clients that are slow to read (until they are cut off) or by too
// many at once.
func limited(b *budget, rejected prometheus.Counter, next http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if !b.acquire(r.Context()) {
			rejected.Inc()
			unavailable(w, "too many requests in flight; try again later")
			return
		}
		defer b.release()
		next(w, r)
	}
}

// unavailable answers 503 and closes the connection: a client turned away
// for load keeps no connection (nor its goroutine) waiting for its next
// request.
func unavailable(w http.ResponseWriter, msg string) {
	w.Header().Set("Retry-After", "1")
	w.Header().Set("Connection", "close")
	http.Error(w, msg, http.StatusServiceUnavailable)
}
