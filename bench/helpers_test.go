package bench

import (
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"runtime/pprof"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/go-zookeeper/zk"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/zk-monitor/zk_monitor/internal/testenv"
	"github.com/zk-monitor/zk_monitor/zkclient"
)

// waitFor bounds every wait of the suite (stretched by the scale knob); a
// figure that would need longer is a failure, not a measurement.
const waitFor = 60 * time.Second

// zkMonitor is the zk_monitor binary of this tree, built on first use
// without the race detector, as shipped.
var zkMonitor = testenv.NewBinary("..")

// TestMain removes the zk_monitor binary.
func TestMain(m *testing.M) {
	code := m.Run()
	zkMonitor.Remove()
	os.Exit(code)
}

// binaryAgent is the zk_monitor binary running as its own process.
type binaryAgent struct {
	*testenv.Agent
	addr string // host:port it serves HTTP on
	// client is a Prometheus-like scraper's: an answer that takes over
	// 10 s is a failed scrape, so this bound is part of the figures and is
	// not stretched by the scale knob.
	client *http.Client
	once   sync.Once
}

// startBinaryAgent runs the zk_monitor binary as name with args (a listen
// address on loopback is added) and waits until it answers. Its stop, run
// at the latest when the benchmark ends, sends SIGTERM and wants a clean
// exit.
func startBinaryAgent(b *testing.B, name string, args ...string) *binaryAgent {
	b.Helper()
	a := &binaryAgent{
		Agent:  testenv.StartAgent(b, zkMonitor.Path(b), name, args...),
		client: &http.Client{Timeout: 10 * time.Second},
	}
	a.addr = strings.TrimPrefix(a.URL, "http://")
	b.Cleanup(func() { a.stop(b) })
	return a
}

// stop sends SIGTERM and waits for a clean exit; idempotent.
func (a *binaryAgent) stop(b *testing.B) {
	a.once.Do(func() {
		a.Signal(syscall.SIGTERM)
		if err := a.Wait(waitFor); err != nil {
			b.Errorf("agent %s on SIGTERM: %v", a.Name, err)
		}
	})
}

// get returns the body of a GET, or "" unless the agent answers 200.
func (a *binaryAgent) get(path string) string {
	code, body, err := a.Get(path)
	if err != nil || code != http.StatusOK {
		return ""
	}
	return string(body)
}

// full reports whether the slow sizes run (BENCH_FULL=1, set by make bench).
func full() bool { return os.Getenv("BENCH_FULL") == "1" }

// newClient returns a connected zkclient whose metrics go to reg, closed
// when the benchmark ends.
func newClient(tb testing.TB, addr string, reg prometheus.Registerer) *zkclient.Client {
	return testenv.ZKClient(tb, zkclient.Options{ConnectString: addr, Registerer: reg})
}

// newClientNoCleanup returns a connected zkclient that the caller closes.
func newClientNoCleanup(tb testing.TB, addr string, reg prometheus.Registerer) *zkclient.Client {
	return testenv.ZKClientNoCleanup(tb, zkclient.Options{ConnectString: addr, Registerer: reg})
}

// ensurePath creates p and its parents.
func ensurePath(tb testing.TB, conn *zk.Conn, p string) {
	tb.Helper()
	parts := strings.Split(strings.TrimPrefix(p, "/"), "/")
	cur := ""
	for _, part := range parts {
		cur += "/" + part
		if _, err := conn.Create(cur, nil, 0, zk.WorldACL(zk.PermAll)); err != nil && !errors.Is(err, zk.ErrNodeExists) {
			tb.Fatalf("creating %s: %v", cur, err)
		}
	}
}

// pathName is the i-th watched path under root.
func pathName(root string, i int) string { return fmt.Sprintf("%s/p%06d", root, i) }

// createTree creates root and n children named by pathName.
func createTree(tb testing.TB, conn *zk.Conn, root string, n int) {
	tb.Helper()
	ensurePath(tb, conn, root)
	paths := make([]string, n)
	for i := range paths {
		paths[i] = pathName(root, i)
	}
	testenv.CreateNodes(tb, conn, paths)
}

// latencies collects samples and reports percentiles.
type latencies []time.Duration

// percentile returns the p-th percentile (0 < p ≤ 100) by the nearest-rank
// method, or 0 without samples.
func (l latencies) percentile(p float64) time.Duration {
	if len(l) == 0 {
		return 0
	}
	s := slices.Clone(l)
	slices.Sort(s)
	rank := int(float64(len(s))*p/100+0.999999999) - 1
	return s[min(max(rank, 0), len(s)-1)]
}

// report adds p50 and p99 (in milliseconds) to the benchmark's figures.
func (l latencies) report(b *testing.B, prefix string) {
	b.ReportMetric(ms(l.percentile(50)), prefix+"p50-ms")
	b.ReportMetric(ms(l.percentile(99)), prefix+"p99-ms")
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

// memory is the process's memory after a full garbage collection.
type memory struct {
	heapInUse uint64 // bytes, runtime.MemStats.HeapInuse
	rss       uint64 // bytes, VmRSS of /proc/self/status; 0 if unknown
}

func measureMemory() memory {
	runtime.GC()
	debug.FreeOSMemory()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	rss, _ := testenv.ProcessRSS(os.Getpid())
	return memory{heapInUse: ms.HeapInuse, rss: rss}
}

// writeHeapProfile writes a heap profile named name.heap into the directory
// BENCH_PROFILE_DIR, when that is set: the in-use heap of a moment the
// whole-run -memprofile cannot show.
func writeHeapProfile(tb testing.TB, name string) {
	tb.Helper()
	dir := os.Getenv("BENCH_PROFILE_DIR")
	if dir == "" {
		return
	}
	f, err := os.Create(filepath.Join(dir, name+".heap"))
	if err != nil {
		tb.Fatal(err)
	}
	defer f.Close()
	if err := pprof.WriteHeapProfile(f); err != nil {
		tb.Fatal(err)
	}
}

func mib(bytes uint64) float64 { return float64(bytes) / (1 << 20) }

// zkRequests is the number of ZooKeeper requests a zkclient registered on g
// has sent.
func zkRequests(tb testing.TB, g prometheus.Gatherer) float64 {
	tb.Helper()
	return testenv.CounterSum(tb, g, "zk_monitor_zookeeper_requests_total")
}

// scraper serves /metrics for a registry the way the daemon does and
// scrapes it like Prometheus (text format, gzip), in-process.
type scraper struct {
	handler http.Handler
}

func newScraper(g prometheus.Gatherer) *scraper {
	return &scraper{handler: promhttp.HandlerFor(g, promhttp.HandlerOpts{ErrorHandling: promhttp.ContinueOnError})}
}

// scrape returns the size of the (compressed) response body.
func (s *scraper) scrape(tb testing.TB) (body int) {
	tb.Helper()
	req := httptest.NewRequest(http.MethodGet, "/metrics", nil)
	req.Header.Set("Accept", "text/plain;version=0.0.4;q=0.5,*/*;q=0.1")
	req.Header.Set("Accept-Encoding", "gzip")
	rec := &countingWriter{header: http.Header{}}
	s.handler.ServeHTTP(rec, req)
	if rec.code != 0 && rec.code != http.StatusOK {
		tb.Fatalf("/metrics answered %d", rec.code)
	}
	return rec.n
}

// countingWriter is an http.ResponseWriter that keeps only the body size.
type countingWriter struct {
	header http.Header
	code   int
	n      int
}

func (w *countingWriter) Header() http.Header         { return w.header }
func (w *countingWriter) WriteHeader(code int)        { w.code = code }
func (w *countingWriter) Write(p []byte) (int, error) { w.n += len(p); return len(p), nil }
