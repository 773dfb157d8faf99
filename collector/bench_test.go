package collector_test

import (
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/go-zookeeper/zk"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/common/expfmt"

	"github.com/zk-monitor/zk_monitor/collector"
	"github.com/zk-monitor/zk_monitor/compliance"
	"github.com/zk-monitor/zk_monitor/config"
	"github.com/zk-monitor/zk_monitor/internal/testenv"
	"github.com/zk-monitor/zk_monitor/zkclient"
)

// The benchmarks below run against a real ZooKeeper started once per
// benchmark. Figures are reported with b.ReportMetric; none is asserted.

const benchWait = 60 * time.Second

// benchRaw connects a plain go-zookeeper client.
func benchRaw(b *testing.B, addr string) *zk.Conn { return testenv.RawZK(b, addr, 10*time.Second) }

// benchClient returns a connected zkclient counting its requests in reg.
func benchClient(b *testing.B, addr string, reg prometheus.Registerer) *zkclient.Client {
	return testenv.ZKClient(b, zkclient.Options{ConnectString: addr, Registerer: reg})
}

// benchWatch starts a Watcher and waits until it is synced.
func benchWatch(b *testing.B, client *zkclient.Client, cfg *config.Config, listener collector.Listener) *collector.Watcher {
	b.Helper()
	return testenv.RunWatcher(b, client, cfg, listener, collector.Options{})
}

// benchTree creates root with n children p000000.. in multi transactions.
func benchTree(b *testing.B, conn *zk.Conn, root string, n int) []string {
	b.Helper()
	if _, err := conn.Create(root, nil, 0, zk.WorldACL(zk.PermAll)); err != nil && !errors.Is(err, zk.ErrNodeExists) {
		b.Fatal(err)
	}
	paths := make([]string, n)
	for i := range paths {
		paths[i] = fmt.Sprintf("%s/p%06d", root, i)
	}
	for chunk := range slices.Chunk(paths, 500) {
		ops := make([]any, 0, len(chunk))
		for _, p := range chunk {
			ops = append(ops, &zk.CreateRequest{Path: p, Acl: zk.WorldACL(zk.PermAll)})
		}
		if _, err := conn.Multi(ops...); err != nil {
			b.Fatal(err)
		}
	}
	return paths
}

// BenchmarkScrape10k is one scrape of 10,000 watched paths: the registry's
// Gather (the Collector reading the Watcher's snapshot, plus the client's
// own metrics) and the text encoding of the result. zk-req/scrape is the
// number of ZooKeeper requests a scrape sent: the design says 0.
func BenchmarkScrape10k(b *testing.B) {
	zkServer := testenv.StartZooKeeper(b)
	paths := benchTree(b, benchRaw(b, zkServer.Addr()), "/scrape", 10000)
	one := 1
	cfg := &config.Config{}
	for _, p := range paths {
		cfg.Paths = append(cfg.Paths, config.PathSpec{Path: p, MinChildren: &one})
	}
	reg := prometheus.NewRegistry()
	w := benchWatch(b, benchClient(b, zkServer.Addr(), reg), cfg, nil)
	gatherer := collector.NewGatherer(w, reg, collector.GathererOptions{})
	format := expfmt.NewFormat(expfmt.TypeTextPlain)
	scrape := func(out io.Writer) {
		families, err := gatherer.Gather()
		if err != nil {
			b.Fatal(err)
		}
		enc := expfmt.NewEncoder(out, format)
		for _, f := range families {
			if err := enc.Encode(f); err != nil {
				b.Fatal(err)
			}
		}
	}
	var text strings.Builder
	scrape(&text)
	if n := strings.Count(text.String(), "zk_monitor_znode_children{"); n != len(paths) {
		b.Fatalf("scrape has %d zk_monitor_znode_children series, want %d", n, len(paths))
	}
	before := testenv.CounterSum(b, reg, "zk_monitor_zookeeper_requests_total")
	b.ReportAllocs()
	b.ResetTimer()
	for range b.N {
		scrape(io.Discard)
	}
	b.StopTimer()
	b.ReportMetric((testenv.CounterSum(b, reg, "zk_monitor_zookeeper_requests_total")-before)/float64(b.N), "zk-req/scrape")
	b.ReportMetric(float64(text.Len())/1024, "text-KB")
}

// benchLatencies reports p50 and p99 of samples in milliseconds.
func benchLatencies(b *testing.B, samples []time.Duration) {
	s := slices.Clone(samples)
	slices.Sort(s)
	pct := func(p float64) float64 {
		if len(s) == 0 {
			return 0
		}
		rank := int(float64(len(s))*p/100+0.999999999) - 1
		return float64(s[min(max(rank, 0), len(s)-1)]) / float64(time.Millisecond)
	}
	b.ReportMetric(pct(50), "p50-ms")
	b.ReportMetric(pct(99), "p99-ms")
}

// countListener reports the child counts the Watcher publishes for one
// path: its spec asks for more children than will ever exist, so every
// change of the count changes the compliance message and is published.
type countListener struct {
	path string
	ch   chan countUpdate
}

type countUpdate struct {
	children int
	at       time.Time
}

func (l *countListener) Update(spec config.PathSpec, res compliance.Result) {
	if spec.Path != l.path {
		return
	}
	var found, minimum int
	if _, err := fmt.Sscanf(res.Message, "Found children (%d) less than minimum (%d)", &found, &minimum); err != nil {
		return
	}
	select {
	case l.ch <- countUpdate{children: found, at: time.Now()}:
	default:
	}
}

func (l *countListener) Remove(string) {}

func (l *countListener) wait(b *testing.B, children int) time.Time {
	b.Helper()
	timeout := time.After(testenv.Scaled(benchWait))
	for {
		select {
		case u := <-l.ch:
			if u.children == children {
				return u.at
			}
		case <-timeout:
			b.Fatalf("%s: never saw %d children", l.path, children)
		}
	}
}

// BenchmarkChangeToGauge is the latency from a child created by another
// client to the Watcher publishing the new count (its snapshot, and so the
// gauge, already shows it when the listener hears of it). Compare with
// BenchmarkRawWatchRoundTrip, the physical limit.
func BenchmarkChangeToGauge(b *testing.B) {
	zkServer := testenv.StartZooKeeper(b)
	writer := benchRaw(b, zkServer.Addr())
	if _, err := writer.Create("/gauge", nil, 0, zk.WorldACL(zk.PermAll)); err != nil {
		b.Fatal(err)
	}
	huge := 1 << 30
	cfg := &config.Config{Paths: []config.PathSpec{{Path: "/gauge", MinChildren: &huge}}}
	listener := &countListener{path: "/gauge", ch: make(chan countUpdate, 16)}
	reg := prometheus.NewRegistry()
	w := benchWatch(b, benchClient(b, zkServer.Addr(), reg), cfg, listener)
	var samples []time.Duration
	before := testenv.CounterSum(b, reg, "zk_monitor_zookeeper_requests_total")
	b.ResetTimer()
	for i := range b.N {
		start := time.Now()
		if _, err := writer.Create(fmt.Sprintf("/gauge/c%07d", i), nil, 0, zk.WorldACL(zk.PermAll)); err != nil {
			b.Fatal(err)
		}
		samples = append(samples, listener.wait(b, i+1).Sub(start))
	}
	b.StopTimer()
	if st := w.Snapshot()[0]; st.Observation.Children != b.N {
		b.Fatalf("snapshot shows %d children, want %d", st.Observation.Children, b.N)
	}
	b.ReportMetric((testenv.CounterSum(b, reg, "zk_monitor_zookeeper_requests_total")-before)/float64(b.N), "zk-req/change")
	benchLatencies(b, samples)
}

// BenchmarkRawWatchRoundTrip is the physical limit of a change seen by a
// watch, with go-zookeeper alone: one client leaves a child watch, another
// creates a child, the first waits for the notification and lists the
// children again.
func BenchmarkRawWatchRoundTrip(b *testing.B) {
	zkServer := testenv.StartZooKeeper(b)
	writer := benchRaw(b, zkServer.Addr())
	watcher := benchRaw(b, zkServer.Addr())
	if _, err := writer.Create("/raw", nil, 0, zk.WorldACL(zk.PermAll)); err != nil {
		b.Fatal(err)
	}
	var samples []time.Duration
	b.ResetTimer()
	for i := range b.N {
		b.StopTimer()
		_, _, events, err := watcher.ChildrenW("/raw")
		if err != nil {
			b.Fatal(err)
		}
		b.StartTimer()
		start := time.Now()
		if _, err := writer.Create(fmt.Sprintf("/raw/c%07d", i), nil, 0, zk.WorldACL(zk.PermAll)); err != nil {
			b.Fatal(err)
		}
		select {
		case ev := <-events:
			if ev.Type != zk.EventNodeChildrenChanged {
				b.Fatalf("unexpected event %+v", ev)
			}
		case <-time.After(testenv.Scaled(benchWait)):
			b.Fatal("watch did not fire")
		}
		children, _, err := watcher.Children("/raw")
		if err != nil {
			b.Fatal(err)
		}
		samples = append(samples, time.Since(start))
		if len(children) != i+1 {
			b.Fatalf("%d children, want %d", len(children), i+1)
		}
	}
	b.StopTimer()
	benchLatencies(b, samples)
}

// expiryListener counts the max_age failures it is told of.
type expiryListener struct {
	failed atomic.Int64
	last   atomic.Int64 // Unix nanoseconds of the last one
}

func (l *expiryListener) Update(spec config.PathSpec, res compliance.Result) {
	if res.State == compliance.Error && strings.Contains(res.Message, "not within max_age") {
		l.failed.Add(1)
		l.last.Store(time.Now().UnixNano())
	}
}

func (l *expiryListener) Remove(string) {}

// cpuTime is the CPU time this process has used.
func cpuTime(b *testing.B) time.Duration {
	b.Helper()
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		b.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// BenchmarkMaxAgeExpiry watches 10,000 znodes with max_age whose data all
// becomes too old within the second it took to write them. One iteration:
// the znodes are written, max_age is set (by a reload, whose reads are left
// out of the figures) so that their deadlines come a few seconds later,
// and every failure reaches the listener. It reports expire-ms (from the
// last deadline until the last failure was told), cpu-ms (CPU time of the
// whole process from the end of the reload's reads until then: the
// Watcher's timer evaluating the 10,000 paths again; nothing else runs)
// and zk-req (ZooKeeper requests meanwhile: none, by design).
func BenchmarkMaxAgeExpiry(b *testing.B) {
	const n = 10000
	zkServer := testenv.StartZooKeeper(b)
	conn := benchRaw(b, zkServer.Addr())
	paths := benchTree(b, conn, "/expiry", n)
	reg := prometheus.NewRegistry()
	client := benchClient(b, zkServer.Addr(), reg)
	l := &expiryListener{}
	w := benchWatch(b, client, mustParse(b, "/expiry/*: {max_age: 1h}\n"), l)
	var expire, cpu time.Duration
	var requests float64
	for b.Loop() {
		mtimes := testenv.SetDataAll(b, conn, paths, []byte("beat"))
		first, last := mtimes[paths[0]], mtimes[paths[0]]
		for _, m := range mtimes {
			if m.Before(first) {
				first = m
			}
			if m.After(last) {
				last = m
			}
		}
		testenv.Eventually(b, benchWait, 10*time.Millisecond, func() bool {
			for _, st := range w.Snapshot() {
				if !st.Observation.Modified.Equal(mtimes[st.Spec.Path]) {
					return false
				}
			}
			return true
		}, "the watcher did not see every write")
		maxAge := time.Since(first).Round(time.Second) + 5*time.Second
		before := l.failed.Load()
		reloaded := zkRequests(b, reg)
		w.SetConfig(mustParse(b, fmt.Sprintf("/expiry/*: {max_age: %s}\n", maxAge)))
		// A changed spec is read again (two requests a path); the figures
		// start once that is done.
		testenv.Eventually(b, benchWait, 5*time.Millisecond, func() bool { return zkRequests(b, reg)-reloaded >= 2*n },
			"the reload's reads did not finish")
		cpu0, req0 := cpuTime(b), zkRequests(b, reg)
		if !time.Now().Before(first.Add(maxAge)) || l.failed.Load() != before {
			b.Fatalf("the reload's reads ended after the first deadline")
		}
		testenv.Eventually(b, benchWait, 5*time.Millisecond, func() bool { return l.failed.Load()-before >= n },
			"%d of %d max_age failures told", l.failed.Load()-before, n)
		cpu += cpuTime(b) - cpu0
		requests += zkRequests(b, reg) - req0
		expire += time.Unix(0, l.last.Load()).Sub(last.Add(maxAge))
		// Back to compliant for the next iteration.
		w.SetConfig(mustParse(b, "/expiry/*: {max_age: 1h}\n"))
	}
	b.ReportMetric(ms(expire)/float64(b.N), "expire-ms")
	b.ReportMetric(ms(cpu)/float64(b.N), "cpu-ms")
	b.ReportMetric(requests/float64(b.N), "zk-req")
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

// zkRequests sums the client's request counters.
func zkRequests(b *testing.B, g prometheus.Gatherer) float64 {
	return testenv.CounterSum(b, g, "zk_monitor_zookeeper_requests_total")
}
