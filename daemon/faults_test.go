package daemon_test

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/go-zookeeper/zk"
	"go.uber.org/goleak"

	"github.com/zk-monitor/zk_monitor/internal/testenv"
)

// In-process faults: what only the test's own process can measure, the
// daemon's goroutines and heap. The multi-process faults are in
// e2e/faults_test.go.

// faultHTTP never keeps connections, so no idle-connection goroutine of
// the test's own blurs a goroutine count.
var faultHTTP = &http.Client{Timeout: testenv.Scaled(10 * time.Second), Transport: &http.Transport{DisableKeepAlives: true}}

func faultGet(t *testing.T, base, path string) (int, string) {
	t.Helper()
	resp, err := faultHTTP.Get(base + path)
	if err != nil {
		return 0, err.Error()
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// faultMetric reads one series ("name" or `name{label="value"}`) from /metrics.
func faultMetric(t *testing.T, base, series string) (float64, bool) {
	t.Helper()
	code, body := faultGet(t, base, "/metrics")
	if code != http.StatusOK {
		return 0, false
	}
	return testenv.SampleValue(body, series)
}

// heapInUse returns the live heap after two collections.
func heapInUse() uint64 {
	runtime.GC()
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return m.HeapAlloc
}

// settledGoroutines waits until the goroutine count is at most limit and
// returns it (or the last count seen when timeout, stretched by the scale
// knob, passes).
func settledGoroutines(limit int, timeout time.Duration) int {
	deadline := time.Now().Add(testenv.Scaled(timeout))
	for {
		http.DefaultClient.CloseIdleConnections()
		n := runtime.NumGoroutine()
		if n <= limit || time.Now().After(deadline) {
			return n
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// rawZK opens n plain go-zookeeper connections, the way other clients of
// the ensemble would write to it, closed at the end of the test.
func rawZK(t *testing.T, addr string, n int) []*zk.Conn {
	t.Helper()
	var conns []*zk.Conn
	for range n {
		conns = append(conns, testenv.RawZK(t, addr, 10*time.Second))
	}
	return conns
}

// parallelZK runs op(conn, i) for i in [0, n) from workers goroutines
// spread over conns, and returns the first error.
func parallelZK(conns []*zk.Conn, n, workers int, op func(c *zk.Conn, i int) error) error {
	var (
		next     atomic.Int64
		firstErr error
		mu       sync.Mutex
		wg       sync.WaitGroup
	)
	for w := range workers {
		c := conns[w%len(conns)]
		wg.Go(func() {
			for {
				i := int(next.Add(1)) - 1
				if i >= n {
					return
				}
				if err := op(c, i); err != nil {
					mu.Lock()
					if firstErr == nil {
						firstErr = fmt.Errorf("operation %d: %w", i, err)
					}
					mu.Unlock()
					return
				}
			}
		})
	}
	wg.Wait()
	return firstErr
}

// TestFaultChildBurst creates 10,000 children of one watched path as fast
// as four clients with 64 concurrent requests can, then deletes 5,000 of
// them the same way. Watches fire once per registration, so the agent sees
// a fraction of the events; what matters is that the final state is exact
// (no change lost), and that the burst leaves neither goroutines nor heap
// behind.
func TestFaultChildBurst(t *testing.T) {
	zkServer := testenv.StartZooKeeper(t)
	c := admin(t, zkServer.Addr())
	ensure(t, c, "/burst/svc")
	cfg := testenv.WriteFile(t, "paths.yaml", "/burst/svc: {children: 10000}\n")
	a := startAgent(t, baseOptions(zkServer.Addr(), cfg))
	const series = `zk_monitor_znode_children{path="/burst/svc"}`
	waitState := func(children int, compliant any) {
		t.Helper()
		var got float64
		var st any
		testenv.Eventually(t, waitFor, pollEvery, func() bool {
			got, _ = faultMetric(t, a.URL, series)
			code, body := faultGet(t, a.URL, "/status")
			st = nil
			if code == http.StatusOK {
				st = statusCompliance(body, "/burst/svc")
			}
			return got == float64(children) && st == compliant
		}, "children %v and compliance %v, want %d and %v", testenv.Last(&got), testenv.Last(&st), children, compliant)
	}
	waitState(0, "Found children (0) less than minimum (10000)")
	conns := rawZK(t, zkServer.Addr(), 4)
	const eventsSeries = `zk_monitor_zookeeper_watch_events_total{type="children_changed"}`
	// watchEvents returns the agent's count of child watch events; before
	// the first one the series may not exist yet.
	watchEvents := func() float64 {
		t.Helper()
		v, _ := faultMetric(t, a.URL, eventsSeries)
		return v
	}
	eventsBefore := watchEvents()

	heapBefore := heapInUse()
	goroutinesBefore := settledGoroutines(0, 0)
	start := time.Now()
	err := parallelZK(conns, 10000, 64, func(c *zk.Conn, i int) error {
		_, err := c.Create(fmt.Sprintf("/burst/svc/c%05d", i), nil, 0, zk.WorldACL(zk.PermAll))
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("created 10000 children in %s", time.Since(start).Round(time.Millisecond))
	waitState(10000, true)
	t.Logf("the agent reported 10000 children %s after the burst began", time.Since(start).Round(time.Millisecond))
	eventsCreated := watchEvents()

	start = time.Now()
	err = parallelZK(conns, 5000, 64, func(c *zk.Conn, i int) error {
		return c.Delete(fmt.Sprintf("/burst/svc/c%05d", 2*i), -1)
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("deleted 5000 children in %s", time.Since(start).Round(time.Millisecond))
	waitState(5000, "Found children (5000) less than minimum (10000)")
	// The agent learnt of each burst through its watch (not by polling),
	// and from at most one event per change.
	eventsDeleted := watchEvents()
	t.Logf("15000 changes reached the agent as %v watch events (%v while creating, %v while deleting)",
		eventsDeleted-eventsBefore, eventsCreated-eventsBefore, eventsDeleted-eventsCreated)
	if eventsCreated-eventsBefore < 1 || eventsDeleted-eventsCreated < 1 {
		t.Errorf("%s went %v -> %v -> %v: a burst reached the agent without a watch event", eventsSeries, eventsBefore, eventsCreated, eventsDeleted)
	}
	if eventsDeleted-eventsBefore > 15000 {
		t.Errorf("%v watch events for 15000 changes", eventsDeleted-eventsBefore)
	}

	goroutinesAfter := settledGoroutines(goroutinesBefore+5, 10*time.Second)
	heapAfter := heapInUse()
	t.Logf("goroutines %d -> %d, heap %d KiB -> %d KiB", goroutinesBefore, goroutinesAfter, heapBefore>>10, heapAfter>>10)
	if goroutinesAfter > goroutinesBefore+5 {
		t.Errorf("goroutines grew from %d to %d over the burst", goroutinesBefore, goroutinesAfter)
	}
	// 10,000 child names are about 100 KiB; keeping every one of them, or
	// every event, would still fit. 64 MiB only catches real growth.
	if heapAfter > heapBefore+64<<20 {
		t.Errorf("heap grew from %d MiB to %d MiB over the burst", heapBefore>>20, heapAfter>>20)
	}
}

// statusCompliance digs the compliance value of path out of a /status body.
func statusCompliance(body, path string) any {
	var doc struct {
		Monitor struct {
			Compliance map[string]any `json:"compliance"`
		} `json:"monitor"`
	}
	if err := json.Unmarshal([]byte(body), &doc); err != nil {
		return nil
	}
	return doc.Monitor.Compliance[path]
}

// TestFaultStartStopLeak starts and stops a complete agent three times
// against real ZooKeeper, each time leading, delivering an alert to a
// recording Alertmanager, serving every endpoint and reloading: after each
// stop no goroutine it started is left, and the heap does not grow from
// cycle to cycle.
func TestFaultStartStopLeak(t *testing.T) {
	zkServer := testenv.StartZooKeeper(t)
	c := admin(t, zkServer.Addr())
	ensure(t, c, "/leak/ok/host1", "/leak/bad", "/leak/g/a/x")
	cfg := testenv.WriteFile(t, "paths.yaml", "/leak/ok: {children: 1}\n/leak/bad: {children: 1}\n/leak/g/*: {children: 1}\n")
	rec := testenv.StartHTTPRecorder(t)
	opts := baseOptions(zkServer.Addr(), cfg)
	opts.AlertmanagerURLs = []*url.URL{mustURL(t, rec.URL())}
	opts.EnableLifecycle = true

	// Everything running now (ZooKeeper's watchers, the admin client, the
	// recorder) is the baseline.
	settledGoroutines(0, 0)
	baseline := goleak.IgnoreCurrent()
	goroutines := runtime.NumGoroutine()
	var heaps []uint64
	for cycle := 1; cycle <= 3; cycle++ {
		posted := len(rec.Requests())
		a := startAgent(t, opts)
		testenv.Eventually(t, waitFor, pollEvery, func() bool {
			code, body := faultGet(t, a.URL, "/status")
			return code == http.StatusOK &&
				statusCompliance(body, "/leak/ok") == true &&
				statusCompliance(body, "/leak/bad") == "Found children (0) less than minimum (1)" &&
				statusCompliance(body, "/leak/g/a") == true &&
				strings.Contains(body, `"alerting": true`)
		}, "cycle %d: agent did not lead with the expected compliance", cycle)
		testenv.Eventually(t, waitFor, pollEvery, func() bool {
			for _, r := range rec.Requests()[posted:] {
				if r.Method == http.MethodPost && strings.Contains(string(r.Body), "/leak/bad") {
					return true
				}
			}
			return false
		}, "cycle %d: the alert for /leak/bad was not delivered", cycle)
		for _, p := range []string{"/", "/metrics", "/state", "/-/healthy", "/-/ready"} {
			if code, body := faultGet(t, a.URL, p); code != http.StatusOK {
				t.Fatalf("cycle %d: GET %s: %d %s", cycle, p, code, body)
			}
		}
		resp, err := faultHTTP.Post(a.URL+"/-/reload", "text/plain", nil)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("cycle %d: POST /-/reload: %s", cycle, resp.Status)
		}
		if cycle == 1 && goleak.Find(baseline) == nil {
			t.Fatal("goleak sees no goroutine of the running agent: the check below would prove nothing")
		}
		if err := a.Stop(); err != nil {
			t.Fatalf("cycle %d: Run returned %v", cycle, err)
		}

		var leaked error
		deadline := time.Now().Add(testenv.Scaled(waitFor))
		for {
			http.DefaultClient.CloseIdleConnections()
			if leaked = goleak.Find(baseline); leaked == nil || time.Now().After(deadline) {
				break
			}
		}
		if leaked != nil {
			t.Fatalf("cycle %d: goroutines left after the agent stopped (%d now, %d before the first start):\n%v",
				cycle, runtime.NumGoroutine(), goroutines, leaked)
		}
		heaps = append(heaps, heapInUse())
	}
	t.Logf("goroutines back to %d after each of 3 cycles; heap after each cycle: %d, %d, %d KiB",
		runtime.NumGoroutine(), heaps[0]>>10, heaps[1]>>10, heaps[2]>>10)
	// One agent's state is a few MiB at most; what one cycle keeps, three
	// would keep three times.
	if heaps[2] > heaps[0]+16<<20 {
		t.Errorf("heap grew from %d KiB after the first cycle to %d KiB after the third", heaps[0]>>10, heaps[2]>>10)
	}
}
