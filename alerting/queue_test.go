package alerting

import (
	"slices"
	"strconv"
	"testing"
)

func numbered(from, to int) []*alert {
	var out []*alert
	for i := from; i <= to; i++ {
		out = append(out, &alert{labels: map[string]string{"n": strconv.Itoa(i)}, fingerprint: uint64(i)})
	}
	return out
}

func numbers(alerts []*alert) []int {
	var out []int
	for _, a := range alerts {
		n, _ := strconv.Atoi(a.labels["n"])
		out = append(out, n)
	}
	return out
}

func TestQueue(t *testing.T) {
	for _, tc := range []struct {
		name        string
		capacity    int
		pushes      [][2]int // inclusive ranges
		wantDropped int
		pop         int
		wantPopped  []int
		wantLeft    int
	}{
		{name: "fifo", capacity: 10, pushes: [][2]int{{1, 3}, {4, 5}}, pop: 4, wantPopped: []int{1, 2, 3, 4}, wantLeft: 1},
		{name: "full drops oldest", capacity: 3, pushes: [][2]int{{1, 2}, {3, 5}}, wantDropped: 2, pop: 10, wantPopped: []int{3, 4, 5}},
		{name: "push larger than capacity", capacity: 2, pushes: [][2]int{{1, 1}, {2, 6}}, wantDropped: 4, pop: 10, wantPopped: []int{5, 6}},
		{name: "empty", capacity: 2, pop: 5},
		{name: "a queued alert is replaced, not queued twice", capacity: 3, pushes: [][2]int{{1, 3}, {2, 3}, {2, 3}}, pop: 10, wantPopped: []int{1, 2, 3}},
		{name: "replacing keeps room for new ones", capacity: 4, pushes: [][2]int{{1, 3}, {3, 4}}, pop: 10, wantPopped: []int{1, 2, 3, 4}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var lastLen int
			q := newQueue(tc.capacity, func(n int) { lastLen = n })
			dropped := 0
			for _, r := range tc.pushes {
				d := q.push(numbered(r[0], r[1]))
				dropped += d
			}
			if dropped != tc.wantDropped {
				t.Errorf("dropped %d, want %d", dropped, tc.wantDropped)
			}
			if got := numbers(q.pop(tc.pop)); !slices.Equal(got, tc.wantPopped) {
				t.Errorf("popped %v, want %v", got, tc.wantPopped)
			}
			if q.len() != tc.wantLeft || lastLen != tc.wantLeft {
				t.Errorf("left %d (reported %d), want %d", q.len(), lastLen, tc.wantLeft)
			}
		})
	}
}

func TestQueueKeepsNewestState(t *testing.T) {
	q := newQueue(10, nil)
	firing := &alert{labels: map[string]string{"n": "1"}, fingerprint: 1}
	q.push([]*alert{firing, {labels: map[string]string{"n": "2"}, fingerprint: 2}})
	resolved := firing.resolvedAt(firing.startsAt.Add(1))
	q.push([]*alert{resolved})
	got := q.pop(10)
	if len(got) != 2 || got[0] != resolved {
		t.Fatalf("want the resolved state in the firing alert's place, have %+v", got)
	}
}
