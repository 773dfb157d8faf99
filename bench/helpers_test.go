package bench

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"runtime/pprof"
	"slices"
	"strconv"
	"strings"
	"sync"
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

// createTree creates root and n children named by pathName, in multi
// transactions of 500 nodes sent by 4 goroutines: 100,000 nodes take
// seconds, not minutes.
func createTree(tb testing.TB, conn *zk.Conn, root string, n int) {
	tb.Helper()
	ensurePath(tb, conn, root)
	const batch = 500
	starts := make(chan int)
	errc := make(chan error, 4)
	var wg sync.WaitGroup
	for range 4 {
		wg.Go(func() {
			for start := range starts {
				ops := make([]any, 0, batch)
				for i := start; i < min(start+batch, n); i++ {
					ops = append(ops, &zk.CreateRequest{Path: pathName(root, i), Acl: zk.WorldACL(zk.PermAll)})
				}
				if _, err := conn.Multi(ops...); err != nil {
					errc <- fmt.Errorf("creating %s..: %w", pathName(root, start), err)
					return
				}
			}
		})
	}
	var err error
feed:
	for start := 0; start < n; start += batch {
		select {
		case starts <- start:
		case err = <-errc:
			break feed
		}
	}
	close(starts)
	wg.Wait()
	if err == nil {
		select {
		case err = <-errc:
		default:
		}
	}
	if err != nil {
		tb.Fatal(err)
	}
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
	rss, _ := readVmRSS("/proc/self/status")
	return memory{heapInUse: ms.HeapInuse, rss: rss}
}

// readVmRSS returns the VmRSS line of a /proc/PID/status file in bytes.
func readVmRSS(path string) (uint64, error) {
	f, err := os.Open(path)
	if err != nil {
		return 0, err
	}
	defer f.Close()
	return parseVmRSS(f)
}

func parseVmRSS(r io.Reader) (uint64, error) {
	sc := bufio.NewScanner(r)
	for sc.Scan() {
		rest, ok := strings.CutPrefix(sc.Text(), "VmRSS:")
		if !ok {
			continue
		}
		fields := strings.Fields(rest)
		if len(fields) != 2 || fields[1] != "kB" {
			return 0, fmt.Errorf("unexpected VmRSS line %q", sc.Text())
		}
		kb, err := strconv.ParseUint(fields[0], 10, 64)
		if err != nil {
			return 0, fmt.Errorf("parsing VmRSS: %w", err)
		}
		return kb * 1024, nil
	}
	if err := sc.Err(); err != nil {
		return 0, err
	}
	return 0, errors.New("no VmRSS line")
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
