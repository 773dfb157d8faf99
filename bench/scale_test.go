package bench

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/go-zookeeper/zk"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/zk-monitor/zk_monitor/collector"
	"github.com/zk-monitor/zk_monitor/compliance"
	"github.com/zk-monitor/zk_monitor/config"
	"github.com/zk-monitor/zk_monitor/internal/testenv"
)

// scaleSizes are the numbers of watched paths; 100,000 only with
// BENCH_FULL=1 (creating the znodes alone takes a while).
func scaleSizes() []int {
	if full() {
		return []int{1000, 10000, 100000}
	}
	return []int{1000, 10000}
}

// BenchmarkScale measures zk_monitor with many watched paths, beside a
// naive collector that polls every path on each scrape:
//
//	paths=N/sync    one iteration = a new Watcher reading and watching all N
//	                paths until Synced; reports heap-MB (heap in use that
//	                the Watcher added), rss-MB (the whole test process,
//	                ZooKeeper client of the test included), parse-s (loading
//	                the N-path config file)
//	paths=N/rawsync the baseline of sync: go-zookeeper alone, on a new
//	                connection, sends ChildrenW for all N paths with the
//	                Watcher's default concurrency (16 in flight)
//	paths=N/scrape  one iteration = one /metrics request served by the
//	                daemon's handler (text, gzip); reports zk-req/scrape
//	paths=N/change  one iteration = one child created or deleted under a
//	                watched path until the Watcher reports the new result;
//	                reports zk-req/change and p50/p99
//	paths=N/naive   one iteration = one /metrics request of the naive
//	                collector; reports zk-req/scrape
func BenchmarkScale(b *testing.B) {
	zkServer := testenv.StartZooKeeper(b)
	admin := testenv.RawZK(b, zkServer.Addr(), 10*time.Second)
	for _, n := range scaleSizes() {
		s := &scaleFixture{n: n, root: fmt.Sprintf("/scale/n%d", n), addr: zkServer.Addr(), admin: admin}
		b.Run(fmt.Sprintf("paths=%d/sync", n), s.benchSync)
		b.Run(fmt.Sprintf("paths=%d/rawsync", n), s.benchRawSync)
		b.Run(fmt.Sprintf("paths=%d/scrape", n), s.benchScrape)
		b.Run(fmt.Sprintf("paths=%d/change", n), s.benchChange)
		b.Run(fmt.Sprintf("paths=%d/naive", n), s.benchNaive)
		s.close()
	}
}

// scaleFixture is the state shared by the sub-benchmarks of one size. Its
// parts are made on first use, so that any subset of them can run.
type scaleFixture struct {
	n     int
	root  string
	addr  string
	admin *zk.Conn

	treeOnce sync.Once
	cfg      *config.Config
	parse    time.Duration

	watched *watchedTree
	// hasChild[i] tells whether the i-th path has the child that the
	// change benchmark toggles.
	hasChild []bool
	next     int
}

// tree creates the znodes and the config of this size once.
func (s *scaleFixture) tree(b *testing.B) {
	s.treeOnce.Do(func() {
		createTree(b, s.admin, s.root, s.n)
		var yaml strings.Builder
		for i := range s.n {
			fmt.Fprintf(&yaml, "%s:\n  children: 1\n", pathName(s.root, i))
		}
		start := time.Now()
		cfg, _, err := config.Parse([]byte(yaml.String()), "scale.yaml")
		s.parse = time.Since(start)
		if err != nil {
			b.Fatal(err)
		}
		s.cfg = cfg
		s.hasChild = make([]bool, s.n)
	})
	if s.cfg == nil {
		b.Fatal("tree setup failed earlier")
	}
}

// watchedTree is a synced Watcher over a size's paths, with its own
// ZooKeeper client and registry.
type watchedTree struct {
	reg     *prometheus.Registry
	watcher *collector.Watcher
	updates channelListener
	stop    func()
}

// update is one notification of the Watcher's listener.
type update struct {
	path   string
	result compliance.Result
	at     time.Time
}

// channelListener forwards the Watcher's updates without ever blocking it:
// what does not fit is dropped (the benchmarks drain before measuring).
type channelListener chan update

func (l channelListener) Update(spec config.PathSpec, res compliance.Result) {
	select {
	case l <- update{path: spec.Path, result: res, at: time.Now()}:
	default:
	}
}

func (l channelListener) Remove(string) {}

func (l channelListener) drain() {
	for {
		select {
		case <-l:
		default:
			return
		}
	}
}

// startWatcher connects a client and starts a Watcher over s's paths; it
// returns once the Watcher is Synced, with the time the sync took.
func (s *scaleFixture) startWatcher(b *testing.B) (*watchedTree, time.Duration) {
	reg := prometheus.NewRegistry()
	client := newClientNoCleanup(b, s.addr, reg)
	updates := make(channelListener, 1024)
	w := collector.NewWatcher(client, s.cfg, updates, collector.Options{})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	start := time.Now()
	go func() { w.Run(ctx); close(done) }()
	var took time.Duration
	select {
	case <-w.Synced():
		took = time.Since(start)
	case <-time.After(testenv.Scaled(waitFor)):
		cancel()
		<-done
		client.Close()
		b.Fatalf("%d paths not synced after %v", s.n, testenv.Scaled(waitFor))
	}
	return &watchedTree{
		reg: reg, watcher: w, updates: updates,
		stop: func() { cancel(); <-done; client.Close() },
	}, took
}

// synced returns the size's Watcher, starting one if no sync ran.
func (s *scaleFixture) synced(b *testing.B) *watchedTree {
	s.tree(b)
	if s.watched == nil {
		s.watched, _ = s.startWatcher(b)
	}
	return s.watched
}

func (s *scaleFixture) close() {
	if s.watched != nil {
		s.watched.stop()
		s.watched = nil
	}
}

func (s *scaleFixture) benchSync(b *testing.B) {
	s.tree(b)
	s.close()
	b.ReportAllocs()
	b.ResetTimer()
	var total time.Duration
	var before, after memory
	for i := range b.N {
		b.StopTimer()
		s.close()
		before = measureMemory()
		b.StartTimer()
		w, took := s.startWatcher(b)
		b.StopTimer()
		total += took
		after = measureMemory()
		s.watched = w
		writeHeapProfile(b, fmt.Sprintf("sync-%d", s.n))
		if i < b.N-1 {
			b.StartTimer()
		}
	}
	b.ReportMetric(total.Seconds()/float64(b.N), "sync-s")
	b.ReportMetric(mib(after.heapInUse)-mib(before.heapInUse), "heap-MB")
	b.ReportMetric(mib(after.rss), "rss-MB")
	b.ReportMetric(s.parse.Seconds(), "parse-s")
}

func (s *scaleFixture) benchRawSync(b *testing.B) {
	s.tree(b)
	paths := make(chan string)
	for range b.N {
		b.StopTimer()
		conn := testenv.RawZK(b, s.addr, 10*time.Second)
		b.StartTimer()
		var wg sync.WaitGroup
		errc := make(chan error, rawSyncConcurrency)
		for range rawSyncConcurrency {
			wg.Go(func() {
				for p := range paths {
					if _, _, _, err := conn.ChildrenW(p); err != nil {
						select {
						case errc <- err:
						default:
						}
					}
				}
			})
		}
		for _, spec := range s.cfg.Paths {
			paths <- spec.Path
		}
		close(paths)
		wg.Wait()
		b.StopTimer()
		conn.Close()
		paths = make(chan string)
		select {
		case err := <-errc:
			b.Fatal(err)
		default:
		}
	}
}

// rawSyncConcurrency is collector.Options' default Concurrency.
const rawSyncConcurrency = 16

func (s *scaleFixture) benchScrape(b *testing.B) {
	w := s.synced(b)
	sc := newScraper(collector.NewGatherer(w.watcher, w.reg, collector.GathererOptions{}))
	sc.scrape(b) // warm up: the first scrape sorts the paths
	before := zkRequests(b, w.reg)
	b.ReportAllocs()
	b.ResetTimer()
	size := 0
	for range b.N {
		size = sc.scrape(b)
	}
	b.StopTimer()
	b.ReportMetric((zkRequests(b, w.reg)-before)/float64(b.N), "zk-req/scrape")
	b.ReportMetric(float64(size)/1024, "gzip-KB")
}

func (s *scaleFixture) benchChange(b *testing.B) {
	w := s.synced(b)
	acl := zk.WorldACL(zk.PermAll)
	var lat latencies
	before := zkRequests(b, w.reg)
	b.ResetTimer()
	for range b.N {
		// Spread the changes over the tree, each flipping its path's
		// compliance (children: 1) so that the listener is told.
		i := (s.next * 7919) % s.n
		s.next++
		p := pathName(s.root, i)
		child := p + "/c"
		want := compliance.OK
		if s.hasChild[i] {
			want = compliance.Error
		}
		w.updates.drain()
		start := time.Now()
		var err error
		if s.hasChild[i] {
			err = s.admin.Delete(child, -1)
		} else {
			_, err = s.admin.Create(child, nil, 0, acl)
		}
		if err != nil {
			b.Fatal(err)
		}
		s.hasChild[i] = !s.hasChild[i]
		lat = append(lat, waitUpdate(b, w.updates, p, want).Sub(start))
	}
	b.StopTimer()
	// Let any request that follows a change be counted.
	time.Sleep(100 * time.Millisecond)
	b.ReportMetric((zkRequests(b, w.reg)-before)/float64(b.N), "zk-req/change")
	lat.report(b, "")
}

// waitUpdate waits for the listener to report want for path and returns
// when it was reported.
func waitUpdate(b *testing.B, updates <-chan update, path string, want compliance.State) time.Time {
	b.Helper()
	timeout := time.After(testenv.Scaled(waitFor))
	for {
		select {
		case u := <-updates:
			if u.path == path && u.result.State == want {
				return u.at
			}
		case <-timeout:
			b.Fatalf("%s: no %v result after %v", path, want, testenv.Scaled(waitFor))
		}
	}
}

func (s *scaleFixture) benchNaive(b *testing.B) {
	s.tree(b)
	// The client counts its requests in a registry of its own, so that
	// reading the count does not poll ZooKeeper once more.
	clientReg := prometheus.NewRegistry()
	client := newClientNoCleanup(b, s.addr, clientReg)
	defer client.Close()
	sc := newScraper(collector.NewGatherer(&pollingSource{zk: client, specs: s.cfg.Paths}, prometheus.NewRegistry(), collector.GathererOptions{}))
	before := zkRequests(b, clientReg)
	b.ReportAllocs()
	b.ResetTimer()
	for range b.N {
		sc.scrape(b)
	}
	b.StopTimer()
	b.ReportMetric((zkRequests(b, clientReg)-before)/float64(b.N), "zk-req/scrape")
}
