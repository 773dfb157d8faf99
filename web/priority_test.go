package web

import (
	"context"
	"testing"
	"time"
)

// TestPriority: a writer yields to the rendering in flight until it
// ends, but not to the one after it, and not past its request.
func TestPriority(t *testing.T) {
	var p priority
	yielded := func(ctx context.Context) <-chan struct{} {
		done := make(chan struct{})
		go func() { p.yield(ctx); close(done) }()
		return done
	}
	returned := func(done <-chan struct{}) bool {
		select {
		case <-done:
			return true
		case <-time.After(50 * time.Millisecond):
			return false
		}
	}

	if !returned(yielded(context.Background())) {
		t.Fatal("yield waited without a rendering in flight")
	}
	end := p.begin()
	waiting := yielded(context.Background())
	if returned(waiting) {
		t.Fatal("yield returned while a rendering was in flight")
	}
	end()
	endNext := p.begin() // the next rendering, right after
	if !returned(waiting) {
		t.Fatal("yield waits for the rendering after the one it yielded to")
	}
	ctx, cancel := context.WithCancel(context.Background())
	waiting = yielded(ctx)
	cancel()
	if !returned(waiting) {
		t.Fatal("yield outlived its request")
	}
	endNext()
	if !returned(yielded(context.Background())) {
		t.Fatal("yield waited after every rendering ended")
	}
}
