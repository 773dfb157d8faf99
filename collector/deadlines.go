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
}

type deadline struct {
	at   int64 // Unix nanoseconds
	path string
}

func newDeadlines() *deadlines {
	return &deadlines{h: deadlineHeap{index: map[string]int{}}}
}

// set makes at the deadline of path and reports whether the earliest
// deadline changed (the timer must be re-armed).
func (d *deadlines) set(path string, at time.Time) bool {
	before := d.first()
	ns := at.UnixNano()
	if i, ok := d.h.index[path]; ok {
		if d.h.items[i].at == ns {
			return false
		}
		d.h.items[i].at = ns
		heap.Fix(&d.h, i)
	} else {
		heap.Push(&d.h, deadline{at: ns, path: path})
	}
	return d.first() != before
}

// remove forgets path's deadline and reports whether the earliest deadline
// changed.
func (d *deadlines) remove(path string) bool {
	i, ok := d.h.index[path]
	if !ok {
		return false
	}
	before := d.first()
	heap.Remove(&d.h, i)
	return d.first() != before
}

// next returns the earliest deadline, if any.
func (d *deadlines) next() (time.Time, bool) {
	if len(d.h.items) == 0 {
		return time.Time{}, false
	}
	return time.Unix(0, d.h.items[0].at), true
}

// due removes and returns the paths whose deadline is not after now.
func (d *deadlines) due(now time.Time) []string {
	var out []string
	ns := now.UnixNano()
	for len(d.h.items) > 0 && d.h.items[0].at <= ns {
		out = append(out, heap.Pop(&d.h).(deadline).path)
	}
	return out
}

// len returns the number of deadlines held.
func (d *deadlines) len() int { return len(d.h.items) }

// first identifies the earliest entry: its path and instant.
func (d *deadlines) first() deadline {
	if len(d.h.items) == 0 {
		return deadline{}
	}
	return d.h.items[0]
}

// deadlineHeap implements heap.Interface, keeping index current.
type deadlineHeap struct {
	items []deadline
	index map[string]int
}

func (h *deadlineHeap) Len() int           { return len(h.items) }
func (h *deadlineHeap) Less(i, j int) bool { return h.items[i].at < h.items[j].at }

func (h *deadlineHeap) Swap(i, j int) {
	h.items[i], h.items[j] = h.items[j], h.items[i]
	h.index[h.items[i].path] = i
	h.index[h.items[j].path] = j
}

func (h *deadlineHeap) Push(x any) {
	d := x.(deadline)
	h.index[d.path] = len(h.items)
	h.items = append(h.items, d)
}

func (h *deadlineHeap) Pop() any {
	last := h.items[len(h.items)-1]
	h.items = h.items[:len(h.items)-1]
	delete(h.index, last.path)
	return last
}
