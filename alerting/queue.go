package alerting

import "sync"

// queue is a bounded FIFO of alerts that drops its oldest entries when
// full. It is safe for concurrent use.
type queue struct {
	mu       sync.Mutex
	items    []*alert
	capacity int
	// more is signalled (without blocking) whenever alerts are pushed.
	more chan struct{}
	// onLen is told the new length after every change, under the lock.
	onLen func(int)
}

func newQueue(capacity int, onLen func(int)) *queue {
	if onLen == nil {
		onLen = func(int) {}
	}
	return &queue{capacity: capacity, more: make(chan struct{}, 1), onLen: onLen}
}

// push appends alerts and returns how many old ones were dropped to make
// room. An alert whose fingerprint is already queued replaces the queued
// one in place: only its newest state needs sending, and a slow
// Alertmanager must not see resend cycles pile up (and drop) copies.
func (q *queue) push(alerts []*alert) (dropped int) {
	if len(alerts) == 0 {
		return 0
	}
	q.mu.Lock()
	if len(q.items) > 0 {
		queued := make(map[uint64]int, len(q.items))
		for i, a := range q.items {
			queued[a.fingerprint] = i
		}
		fresh := alerts[:0:0]
		for _, a := range alerts {
			if i, ok := queued[a.fingerprint]; ok {
				q.items[i] = a
				continue
			}
			fresh = append(fresh, a)
		}
		alerts = fresh
	}
	if len(alerts) > q.capacity {
		dropped = len(alerts) - q.capacity
		alerts = alerts[dropped:]
	}
	if over := len(q.items) + len(alerts) - q.capacity; over > 0 {
		dropped += over
		q.items = append(q.items[:0], q.items[over:]...)
	}
	q.items = append(q.items, alerts...)
	q.onLen(len(q.items))
	q.mu.Unlock()

	select {
	case q.more <- struct{}{}:
	default:
	}
	return dropped
}

// pop removes and returns up to max alerts from the front.
func (q *queue) pop(max int) []*alert {
	q.mu.Lock()
	defer q.mu.Unlock()
	n := min(max, len(q.items))
	if n == 0 {
		return nil
	}
	out := make([]*alert, n)
	copy(out, q.items)
	rest := copy(q.items, q.items[n:])
	clear(q.items[rest:])
	q.items = q.items[:rest]
	q.onLen(rest)
	return out
}

// reset empties the queue.
func (q *queue) reset() {
	q.mu.Lock()
	clear(q.items)
	q.items = q.items[:0]
	q.onLen(0)
	q.mu.Unlock()
}

func (q *queue) len() int {
	q.mu.Lock()
	defer q.mu.Unlock()
	return len(q.items)
}
