package collector

import (
	"container/heap"
	"time"
)

// deadlines holds, for each path with a max_age check that passes, the
// instant its data becomes too old: a min-heap with an index by path, so
// that one runtime timer set to the earliest entry serves every path. A
// time.Timer per path would cost a runtime timer, a closure and its
// goroutine start per path (see BenchmarkDeadlines); here an entry is a
// path and a Unix time, and a write that moves a heartbeat's deadline is
// one sift of the heap.
//
// It is not safe for concurrent use; the Watcher guards it with its mutex.
type deadlines struct {
	h deadlineHeap
	// byPath finds a path's entry; an entry knows its place in the heap,
	// so moving it costs no lookups.
	byPath map[string]*deadline
}

type deadline struct {
	at    int64 // Unix nanoseconds
	path  string
	index int
}

// heapEntry repeats the instant beside the entry, so that comparisons
// while sifting read the heap's own array rather than chase pointers.
type heapEntry struct {
	at int64
	e  *deadline
}

func newDeadlines() *deadlines {
	return &deadlines{byPath: map[string]*deadline{}}
}

// set makes at the deadline of path and reports whether the earliest
// deadline changed (the timer must be re-armed).
func (d *deadlines) set(path string, at time.Time) bool {
	before, beforeAt := d.first()
	ns := at.UnixNano()
	if e, ok := d.byPath[path]; ok {
		if e.at == ns {
			return false
		}
		e.at = ns
		d.h[e.index].at = ns
		heap.Fix(&d.h, e.index)
	} else {
		e := &deadline{at: ns, path: path}
		d.byPath[path] = e
		heap.Push(&d.h, e)
	}
	after, afterAt := d.first()
	return after != before || afterAt != beforeAt
}

// remove forgets path's deadline and reports whether the earliest deadline
// changed.
func (d *deadlines) remove(path string) bool {
	e, ok := d.byPath[path]
	if !ok {
		return false
	}
	before, beforeAt := d.first()
	heap.Remove(&d.h, e.index)
	delete(d.byPath, path)
	after, afterAt := d.first()
	return after != before || afterAt != beforeAt
}

// next returns the earliest deadline, if any.
func (d *deadlines) next() (time.Time, bool) {
	if len(d.h) == 0 {
		return time.Time{}, false
	}
	return time.Unix(0, d.h[0].at), true
}

// due removes and returns the paths whose deadline is not after now.
func (d *deadlines) due(now time.Time) []string {
	var out []string
	ns := now.UnixNano()
	for len(d.h) > 0 && d.h[0].at <= ns {
		e := heap.Pop(&d.h).(heapEntry).e
		delete(d.byPath, e.path)
		out = append(out, e.path)
	}
	return out
}

// len returns the number of deadlines held.
func (d *deadlines) len() int { return len(d.h) }

// first is the earliest entry and its instant, to tell whether an
// operation changed them.
func (d *deadlines) first() (*deadline, int64) {
	if len(d.h) == 0 {
		return nil, 0
	}
	return d.h[0].e, d.h[0].at
}

// deadlineHeap implements heap.Interface, keeping each entry's index.
type deadlineHeap []heapEntry

func (h deadlineHeap) Len() int           { return len(h) }
func (h deadlineHeap) Less(i, j int) bool { return h[i].at < h[j].at }

func (h deadlineHeap) Swap(i, j int) {
	h[i], h[j] = h[j], h[i]
	h[i].e.index = i
	h[j].e.index = j
}

func (h *deadlineHeap) Push(x any) {
	e := x.(*deadline)
	e.index = len(*h)
	*h = append(*h, heapEntry{at: e.at, e: e})
}

func (h *deadlineHeap) Pop() any {
	old := *h
	last := old[len(old)-1]
	old[len(old)-1] = heapEntry{}
	*h = old[:len(old)-1]
	return last
}
