package zkclient

import (
	"sync"

	"github.com/go-zookeeper/zk"
)

// eventQueue is an unbounded FIFO between go-zookeeper's event callback,
// which must never block, and the dispatch goroutine. A burst of watch
// events grows the queue instead of being dropped.
type eventQueue struct {
	mu     sync.Mutex
	cond   *sync.Cond
	events []zk.Event
	closed bool
}

func newEventQueue() *eventQueue {
	q := &eventQueue{}
	q.cond = sync.NewCond(&q.mu)
	return q
}

// push never blocks on a consumer.
func (q *eventQueue) push(ev zk.Event) {
	q.mu.Lock()
	q.events = append(q.events, ev)
	q.mu.Unlock()
	q.cond.Signal()
}

func (q *eventQueue) close() {
	q.mu.Lock()
	q.closed = true
	q.mu.Unlock()
	q.cond.Broadcast()
}

// pop waits for the next event; ok is false once the queue is closed and
// drained.
func (q *eventQueue) pop() (zk.Event, bool) {
	q.mu.Lock()
	defer q.mu.Unlock()
	for len(q.events) == 0 && !q.closed {
		q.cond.Wait()
	}
	if len(q.events) == 0 {
		return zk.Event{}, false
	}
	ev := q.events[0]
	q.events[0] = zk.Event{}
	q.events = q.events[1:]
	if len(q.events) == 0 {
		q.events = nil
	}
	return ev, true
}
