package collector_test

import (
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/zk-monitor/zk_monitor/collector"

	"github.com/zk-monitor/zk_monitor/internal/testenv"
	"github.com/zk-monitor/zk_monitor/zkclient"
)

// generationSampler reads Generation, Snapshot and Generation again in a
// loop and remembers, for every generation that did not move during a
// read, the snapshots seen under it. Views cached by generation are only
// right if one generation never shows two different snapshots.
type generationSampler struct {
	w    *collector.Watcher
	stop chan struct{}
	done chan struct{}

	mu       sync.Mutex
	seen     map[uint64]string // generation -> snapshot fingerprint
	conflict string
	samples  int
}

func sampleGenerations(w *collector.Watcher) *generationSampler {
	s := &generationSampler{w: w, stop: make(chan struct{}), done: make(chan struct{}), seen: map[uint64]string{}}
	go func() {
		defer close(s.done)
		for {
			select {
			case <-s.stop:
				return
			case <-time.After(50 * time.Microsecond):
			}
			g := w.Generation()
			snap := fingerprint(w.Snapshot())
			if w.Generation() != g {
				continue
			}
			s.mu.Lock()
			s.samples++
			if prev, ok := s.seen[g]; ok && prev != snap && s.conflict == "" {
				s.conflict = fmt.Sprintf("generation %d showed two snapshots:\n%s\nand\n%s", g, prev, snap)
			}
			s.seen[g] = snap
			s.mu.Unlock()
		}
	}()
	return s
}

// fingerprint identifies a snapshot: states are immutable, so the same
// pointers are the same content.
func fingerprint(states []*collector.PathState) string {
	var b strings.Builder
	for _, st := range states {
		fmt.Fprintf(&b, "%s=%p ", st.Spec.Path, st)
	}
	return b.String()
}

// generation returns the current generation after checking that a
// snapshot taken now matches what was seen under it before.
func (s *generationSampler) generation(t *testing.T) uint64 {
	t.Helper()
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.conflict != "" {
		t.Fatal(s.conflict)
	}
	return s.w.Generation()
}

func (s *generationSampler) finish(t *testing.T) {
	t.Helper()
	close(s.stop)
	<-s.done
	if s.conflict != "" {
		t.Fatal(s.conflict)
	}
	t.Logf("%d samples over %d generations", s.samples, len(s.seen))
}

// TestGenerationFollowsSnapshot: every kind of change a snapshot can show
// (a child count, a glob match found and lost, the connection lost and
// back, a reload) moves the generation, and one generation never shows
// two different snapshots, while a sampler reads them concurrently.
func TestGenerationFollowsSnapshot(t *testing.T) {
	testenv.SkipIfShort(t, "needs a real ZooKeeper")
	zkServer := testenv.StartZooKeeper(t)
	admin := newClient(t, zkServer.Addr(), 5*time.Second, "", "")
	create(t, admin, "/gen/lit", "/gen/g/a/inst")
	proxy := testenv.NewProxy(t, zkServer.Addr())
	reg := prometheus.NewRegistry()
	client := testenv.ZKClient(t, zkclient.Options{ConnectString: proxy.Addr(), SessionTimeout: 4 * time.Second, Registerer: reg})
	h := startWatcher(t, client,
		mustParse(t, "/gen/lit: {children: 1}\n/gen/g/*/inst: {children: 0}\n"))
	h.waitResult("/gen/lit", tooFew(0, 1))
	h.waitResult("/gen/g/a/inst", ok())
	s := sampleGenerations(h.watcher)

	steps := []struct {
		name   string
		change func()
		done   func() bool
	}{
		{"child added", func() { create(t, admin, "/gen/lit/c") },
			func() bool { st := h.state("/gen/lit"); return st != nil && st.Result == ok() }},
		{"glob match found", func() { create(t, admin, "/gen/g/b/inst") },
			func() bool { st := h.state("/gen/g/b/inst"); return st != nil && st.Result == ok() }},
		{"glob match lost", func() { remove(t, admin, "/gen/g/a") },
			func() bool { return h.state("/gen/g/a/inst") == nil }},
		{"connection lost", proxy.Cut,
			func() bool { st := h.state("/gen/lit"); return st != nil && st.Observation.Stale }},
		{"connection back", proxy.Restore, func() bool {
			for _, st := range h.watcher.Snapshot() {
				if st.Observation.Stale {
					return false
				}
			}
			return h.state("/gen/lit").Result == ok()
		}},
		{"reload", func() { h.watcher.SetConfig(mustParse(t, "/gen/lit: {children: 2}\n/gen/g/*/inst: {children: 0}\n")) },
			func() bool { st := h.state("/gen/lit"); return st != nil && st.Result == tooFew(1, 2) }},
	}
	for _, step := range steps {
		before := s.generation(t)
		step.change()
		testenv.Eventually(t, waitFor, 5*time.Millisecond, step.done, "%s: not seen in the snapshot", step.name)
		if after := s.generation(t); after == before {
			t.Errorf("%s: the snapshot changed but the generation stayed %d", step.name, before)
		}
	}

	// A directory the glob lists but nothing is monitored in: the watcher
	// reads, the snapshot stays, so does the generation.
	before := s.generation(t)
	requests := testenv.CounterSum(t, reg, "zk_monitor_zookeeper_requests_total")
	create(t, admin, "/gen/g/empty")
	// Listing /gen/g again, then the new /gen/g/empty.
	testenv.Eventually(t, waitFor, 5*time.Millisecond, func() bool {
		return testenv.CounterSum(t, reg, "zk_monitor_zookeeper_requests_total") >= requests+2
	}, "the watcher did not list the new directory")
	if after := s.generation(t); after != before {
		t.Errorf("a directory without a match was listed: generation %d -> %d", before, after)
	}
	s.finish(t)
}
