package collector

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"sort"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

var epoch = time.Unix(1_800_000_000, 0)

func at(s int) time.Time { return epoch.Add(time.Duration(s) * time.Second) }

func TestDeadlines(t *testing.T) {
	d := newDeadlines()
	if _, ok := d.next(); ok {
		t.Fatal("an empty heap has a next deadline")
	}
	steps := []struct {
		name        string
		do          func() bool
		wantChanged bool
		wantNext    time.Time
	}{
		{"first", func() bool { return d.set("/a", at(10)) }, true, at(10)},
		{"later one", func() bool { return d.set("/b", at(20)) }, false, at(10)},
		{"earlier one", func() bool { return d.set("/c", at(5)) }, true, at(5)},
		{"same again", func() bool { return d.set("/c", at(5)) }, false, at(5)},
		{"head moved later", func() bool { return d.set("/c", at(30)) }, true, at(10)},
		{"other moved earlier, not first", func() bool { return d.set("/b", at(15)) }, false, at(10)},
		{"absent removed", func() bool { return d.remove("/zz") }, false, at(10)},
		{"non-head removed", func() bool { return d.remove("/b") }, false, at(10)},
		{"head removed", func() bool { return d.remove("/a") }, true, at(30)},
		// Same instant, another path: the timer has nothing to change,
		// but nothing is lost either.
		{"tie at the head", func() bool { return d.set("/d", at(30)) }, false, at(30)},
	}
	for _, s := range steps {
		if got := s.do(); got != s.wantChanged {
			t.Errorf("%s: changed = %v, want %v", s.name, got, s.wantChanged)
		}
		if next, ok := d.next(); !ok || !next.Equal(s.wantNext) {
			t.Errorf("%s: next = %v, %v; want %v", s.name, next, ok, s.wantNext)
		}
	}
	if got := d.due(at(29)); len(got) != 0 {
		t.Errorf("due before any deadline: %v", got)
	}
	got := d.due(at(30))
	sort.Strings(got)
	if !slices.Equal(got, []string{"/c", "/d"}) || d.len() != 0 {
		t.Errorf("due at the deadline: %v, %d left; want /c and /d, none left", got, d.len())
	}
}

// TestDeadlinesRandom checks the heap against a plain map under random
// sets and removals: due always returns exactly the entries that are due.
func TestDeadlinesRandom(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	d := newDeadlines()
	want := map[string]int{}
	for i := range 20000 {
		p := fmt.Sprintf("/p%d", r.IntN(300))
		switch r.IntN(10) {
		case 0, 1:
			d.remove(p)
			delete(want, p)
		default:
			s := r.IntN(1000)
			d.set(p, at(s))
			want[p] = s
		}
		if i%500 != 0 {
			continue
		}
		now := r.IntN(1000)
		var wantDue []string
		for p, s := range want {
			if s <= now {
				wantDue = append(wantDue, p)
				delete(want, p)
			}
		}
		gotDue := d.due(at(now))
		sort.Strings(gotDue)
		sort.Strings(wantDue)
		if !slices.Equal(gotDue, wantDue) {
			t.Fatalf("step %d: due(%d) = %v, want %v", i, now, gotDue, wantDue)
		}
		if d.len() != len(want) {
			t.Fatalf("step %d: %d deadlines, want %d", i, d.len(), len(want))
		}
	}
}

// BenchmarkDeadlines compares the two ways of waking 10,000 max_age
// checks: this heap under one timer, and a time.AfterFunc per path.
// setup: holding 10,000 deadlines (B/op). move: one heartbeat write moving
// a path's deadline later, the common event. burst: 10,000 deadlines that
// come at once, each handled under the Watcher's lock, as when a writer of
// many heartbeats stops: the heap hands them over in one batch, the
// timers start a goroutine each that contend for the lock.
func BenchmarkDeadlines(b *testing.B) {
	const paths = 10000
	names := make([]string, paths)
	for i := range names {
		names[i] = fmt.Sprintf("/workers/w%05d/heartbeat", i)
	}
	b.Run("setup/heap", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			d := newDeadlines()
			for i, p := range names {
				d.set(p, at(300+i%60))
			}
		}
		b.ReportMetric(float64(paths), "paths")
	})
	b.Run("setup/afterfunc", func(b *testing.B) {
		b.ReportAllocs()
		var fired atomic.Int64
		for b.Loop() {
			timers := make(map[string]*time.Timer, paths)
			for i, p := range names {
				timers[p] = time.AfterFunc(time.Duration(300+i%60)*time.Second, func() { fired.Add(1) })
			}
			for _, t := range timers {
				t.Stop()
			}
		}
		b.ReportMetric(float64(paths), "paths")
	})
	b.Run("burst/heap", func(b *testing.B) {
		b.ReportAllocs()
		var mu sync.Mutex
		handled := 0
		for b.Loop() {
			d := newDeadlines()
			for _, p := range names {
				d.set(p, epoch)
			}
			mu.Lock()
			handled += len(d.due(epoch))
			mu.Unlock()
		}
		if handled != paths*b.N {
			b.Fatalf("%d deadlines handled, want %d", handled, paths*b.N)
		}
	})
	b.Run("burst/afterfunc", func(b *testing.B) {
		b.ReportAllocs()
		var mu sync.Mutex
		for b.Loop() {
			var wg sync.WaitGroup
			wg.Add(paths)
			handled := 0
			for range names {
				time.AfterFunc(0, func() {
					mu.Lock()
					handled++
					mu.Unlock()
					wg.Done()
				})
			}
			wg.Wait()
			if handled != paths {
				b.Fatalf("%d deadlines handled, want %d", handled, paths)
			}
		}
	})
	b.Run("move/heap", func(b *testing.B) {
		d := newDeadlines()
		for i, p := range names {
			d.set(p, at(300+i%60))
		}
		b.ReportAllocs()
		i := 0
		for b.Loop() {
			d.set(names[i%paths], at(360+i))
			i++
		}
	})
	b.Run("move/afterfunc", func(b *testing.B) {
		timers := make([]*time.Timer, paths)
		for i := range names {
			timers[i] = time.AfterFunc(time.Duration(300+i%60)*time.Second, func() {})
		}
		b.Cleanup(func() {
			for _, t := range timers {
				t.Stop()
			}
		})
		b.ReportAllocs()
		i := 0
		for b.Loop() {
			timers[i%paths].Reset(time.Duration(360+i) * time.Second)
			i++
		}
	})
}
