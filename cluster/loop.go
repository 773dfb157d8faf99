package cluster

import (
	"context"
	"errors"
	"time"

	"github.com/go-kit/log"
	"github.com/go-kit/log/level"
)

const (
	// resyncInterval runs a round even without a watch event, to catch
	// anything a watch missed.
	resyncInterval = 30 * time.Second
	minBackoff     = 100 * time.Millisecond
	maxBackoff     = 3 * time.Second
	// maxImmediate is how many rounds run back to back when each saw the
	// workspace change under it, before backing off.
	maxImmediate = 10
)

// errAgain reports that a round saw the workspace change under it and must
// run again at once.
var errAgain = errors.New("workspace changed during the round")

// repeat runs round until ctx is done: at once again when it returns
// errAgain, after a growing backoff when it fails, and otherwise when woken
// or every resyncInterval. Both the registrar and the election are loops of
// this shape.
func repeat(ctx context.Context, wake wakeup, logger log.Logger, round func(context.Context) error) {
	resync := time.NewTicker(resyncInterval)
	defer resync.Stop()
	backoff, immediate := minBackoff, 0
	for ctx.Err() == nil {
		err := round(ctx)
		var retry <-chan time.Time
		switch {
		case err == nil:
			backoff, immediate = minBackoff, 0
		case errors.Is(err, errAgain) && immediate < maxImmediate:
			immediate++
			continue
		default:
			if !errors.Is(err, errAgain) {
				level.Warn(logger).Log("msg", "updating cluster state failed; retrying", "retry_in", backoff, "err", err)
			}
			retry = time.After(backoff)
			backoff = min(2*backoff, maxBackoff)
			immediate = 0
		}
		select {
		case <-ctx.Done():
		case <-wake:
		case <-retry:
		case <-resync.C:
		}
	}
}
