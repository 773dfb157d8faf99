package zkclient

import (
	"sync"

	"github.com/go-zookeeper/zk"
)

// notice is one thing the dispatch goroutine handles, in the order it
// happened: an event of the library or, when watchesLost is not zero, the
// error code of the server's reply to a setWatches request.
type notice struct {
	event       zk.Event
	watchesLost int32
}

// eventQueue is an unbounded FIFO between go-zookeeper's goroutines (its
// event callback and the connection's reads), which must never block, and
// the dispatch goroutine. A burst of watch events grows the queue instead
// of being dropped.
type eventQueue struct {
	mu      sync.Mutex
	cond    *sync.Cond
	notices []notice
	closed  bool
}

func newEventQueue() *eventQueue {
	q := &eventQueue{}
	q.cond = sync.NewCond(&q.mu)
	return q
}

// push never blocks on a consumer.
func (q *eventQueue) push(n notice) {
	q.mu.Lock()
	q.notices = append(q.notices, n)
	q.mu.Unlock()
	q.cond.Signal()
}

// pushEvent is go-zookeeper's event callback.
func (q *eventQueue) pushEvent(ev zk.Event) { q.push(notice{event: ev}) }

func (q *eventQueue) close() {
	q.mu.Lock()
	q.closed = true
	q.mu.Unlock()
	q.cond.Broadcast()
}

// pop waits for the next notice; ok is false once the queue is closed and
// drained.
func (q *eventQueue) pop() (notice, bool) {
	q.mu.Lock()
	defer q.mu.Unlock()
	for len(q.notices) == 0 && !q.closed {
		q.cond.Wait()
	}
	if len(q.notices) == 0 {
		return notice{}, false
	}
	n := q.notices[0]
	q.notices[0] = notice{}
	q.notices = q.notices[1:]
	if len(q.notices) == 0 {
		q.notices = nil
	}
	return n, true
}
