package alerting

import (
	"context"
	"errors"
	"slices"
	"time"

	"github.com/go-kit/log/level"

	"github.com/zk-monitor/zk_monitor/zkclient"
)

// Backoff of the firing set's reads and writes after a failure; the
// longest wait is the resend interval.
const recordMinBackoff = 100 * time.Millisecond

// recorder keeps the firing set in ZooKeeper equal to the engine's firing
// alerts during one term of leadership. Update and the other entry points
// only mark what changed (under Alerter.mu); the term's record goroutine
// writes it, so nothing waits for ZooKeeper.
type recorder struct {
	store *FiringStore
	fence string
	wake  chan struct{}

	// written is what ZooKeeper holds as far as this term knows: the hash
	// of each node's data by name. Only the record goroutine uses it.
	written map[string]uint64

	// Guarded by Alerter.mu: the keys whose record may be out of date, and
	// nodes that hold no usable record, to delete.
	dirty  map[recordKey]struct{}
	strays []string
}

func newRecorder(store *FiringStore, fence string) *recorder {
	return &recorder{
		store:   store,
		fence:   fence,
		wake:    make(chan struct{}, 1),
		written: map[string]uint64{},
		dirty:   map[recordKey]struct{}{},
	}
}

// loaded replaces what the recorder knows of ZooKeeper with recs, and
// returns their alerts. Alerter.mu must be held.
func (r *recorder) loaded(recs []storedRecord) []*alert {
	r.written = make(map[string]uint64, len(recs))
	r.strays = nil
	var alerts []*alert
	for _, rec := range recs {
		r.written[rec.name] = rec.hash
		if rec.alert == nil {
			r.strays = append(r.strays, rec.name)
			continue
		}
		alerts = append(alerts, rec.alert)
		r.dirty[rec.alert.key()] = struct{}{}
	}
	return alerts
}

// mark notes that the records of these alerts may be out of date.
// Alerter.mu must be held.
func (r *recorder) mark(alerts []*alert) {
	for _, a := range alerts {
		r.dirty[a.key()] = struct{}{}
	}
	r.signal()
}

func (r *recorder) markKeys(keys []recordKey) {
	for _, k := range keys {
		r.dirty[k] = struct{}{}
	}
	r.signal()
}

func (r *recorder) signal() {
	select {
	case r.wake <- struct{}{}:
	default:
	}
}

// loadRecords reads the firing set when a term starts, trying again while
// ZooKeeper cannot be reached (the term then ends soon anyway) and ctx
// lives. It returns nil when the set cannot be used: this term goes on
// without it, as without a store.
func (a *Alerter) loadRecords(ctx context.Context) (*recorder, []storedRecord) {
	store := a.opts.FiringStore
	fence, err := store.currentFence()
	if err != nil {
		a.metrics.recordFailures.WithLabelValues("load").Inc()
		level.Error(a.logger).Log("msg", "not keeping the firing alerts in ZooKeeper this term", "err", err)
		return nil, nil
	}
	backoff := recordMinBackoff
	for {
		recs, bad, err := store.load(ctx)
		if err == nil {
			for _, e := range bad {
				level.Warn(a.logger).Log("msg", "deleting a firing alert record that cannot be used", "err", e)
			}
			return newRecorder(store, fence), recs
		}
		if ctx.Err() != nil {
			return nil, nil
		}
		a.metrics.recordFailures.WithLabelValues("load").Inc()
		if !zkclient.IsConnectionError(err) {
			level.Error(a.logger).Log("msg", "reading the firing alerts an earlier leader recorded failed; going on without them", "err", err)
			return nil, nil
		}
		level.Warn(a.logger).Log("msg", "reading the firing alerts an earlier leader recorded failed; retrying", "retry_in", backoff, "err", err)
		if !sleep(ctx, backoff) {
			return nil, nil
		}
		backoff = min(2*backoff, a.opts.ResendInterval)
	}
}

// takeOver reads the alerts an earlier leader recorded, merges them into
// the engine and sends the whole state again, then records what fires
// until ctx is done. The state was sent once before the read: what this
// agent knows does not wait for ZooKeeper, and Alertmanager keeps the
// earliest start of an alert that is still active.
func (a *Alerter) takeOver(ctx context.Context) {
	rec, recs := a.loadRecords(ctx)
	if rec == nil {
		return
	}
	a.mu.Lock()
	if !a.leadingLocked() {
		a.mu.Unlock()
		return
	}
	recorded := rec.loaded(recs)
	a.engine.adopt(recorded, a.opts.now())
	a.metrics.active.Set(float64(a.engine.firing()))
	a.metrics.records.Set(float64(len(recs)))
	rec.markKeys(a.engine.firingKeys())
	a.recorder = rec
	snapshot := a.engine.snapshot()
	for _, am := range a.ams {
		am.enqueue(snapshot)
	}
	a.mu.Unlock()
	level.Info(a.logger).Log("msg", "took over the recorded firing alerts", "recorded", len(recorded), "firing", a.firing())
	a.record(ctx, rec)
}

// record writes what changed in the firing set until ctx is done or the
// term ended in ZooKeeper.
func (a *Alerter) record(ctx context.Context, r *recorder) {
	backoff := recordMinBackoff
	var retry <-chan time.Time
	for {
		select {
		case <-ctx.Done():
			return
		case <-r.wake:
		case <-retry:
		}
		retry = nil
		err := a.flush(ctx, r)
		switch {
		case err == nil:
			backoff = recordMinBackoff
			continue
		case ctx.Err() != nil:
			return
		case errors.Is(err, ErrFenced):
			level.Warn(a.logger).Log("msg", "not recording firing alerts: this agent's election node is gone", "err", err)
			return
		}
		a.metrics.recordFailures.WithLabelValues("write").Inc()
		level.Warn(a.logger).Log("msg", "recording firing alerts in ZooKeeper failed; retrying", "retry_in", backoff, "err", err)
		if !zkclient.IsConnectionError(err) {
			// The set is not what this term thought: read it again.
			a.reload(ctx, r)
		}
		retry = time.After(backoff)
		backoff = min(2*backoff, a.opts.ResendInterval)
	}
}

// flush writes the records of the keys marked since the last flush.
func (a *Alerter) flush(ctx context.Context, r *recorder) error {
	a.mu.Lock()
	dirty, strays := r.dirty, r.strays
	r.dirty, r.strays = map[recordKey]struct{}{}, nil
	firing := make(map[recordKey]*alert, len(dirty))
	for k := range dirty {
		firing[k] = a.engine.firingAlert(k)
	}
	a.metrics.recordsPending.Set(0)
	a.mu.Unlock()

	var (
		changes []recordChange
		keys    []recordKey // of each change; the zero key for a stray
		hashes  []uint64
	)
	for k, al := range firing {
		name := nodeName(k)
		old, exists := r.written[name]
		if al == nil {
			if exists {
				changes, keys, hashes = append(changes, recordChange{name: name}), append(keys, k), append(hashes, 0)
			}
			continue
		}
		data, h, err := encodeRecord(al)
		if err != nil {
			a.metrics.recordFailures.WithLabelValues("encode").Inc()
			level.Error(a.logger).Log("msg", "not recording a firing alert", "path", k.path, "alertname", k.kind.alertName(), "err", err)
			continue
		}
		if exists && old == h {
			continue
		}
		changes, keys, hashes = append(changes, recordChange{name: name, data: data, exists: exists}), append(keys, k), append(hashes, h)
	}
	for _, name := range strays {
		// A key's own change replaces what its node holds.
		if _, ok := r.written[name]; ok && !slices.ContainsFunc(changes, func(c recordChange) bool { return c.name == name }) {
			changes, keys, hashes = append(changes, recordChange{name: name}), append(keys, recordKey{}), append(hashes, 0)
		}
	}

	n, err := r.store.write(ctx, r.fence, changes)
	for i, c := range changes[:n] {
		if c.data == nil {
			delete(r.written, c.name)
		} else {
			r.written[c.name] = hashes[i]
		}
	}
	a.metrics.records.Set(float64(len(r.written)))
	if err != nil {
		a.mu.Lock()
		for i, c := range changes[n:] {
			if k := keys[n+i]; k != (recordKey{}) {
				r.dirty[k] = struct{}{}
			} else {
				r.strays = append(r.strays, c.name)
			}
		}
		a.metrics.recordsPending.Set(float64(len(r.dirty) + len(r.strays)))
		a.mu.Unlock()
	}
	return err
}

// reload reads the set again after a write met it in another state than
// this term thought, and marks every key to write.
func (a *Alerter) reload(ctx context.Context, r *recorder) {
	recs, _, err := r.store.load(ctx)
	if err != nil {
		// The next failed write tries again.
		return
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	r.loaded(recs)
	r.markKeys(a.engine.firingKeys())
	a.metrics.recordsPending.Set(float64(len(r.dirty) + len(r.strays)))
}

// sleep waits d or until ctx is done; it reports whether d passed.
func sleep(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-t.C:
		return true
	}
}
