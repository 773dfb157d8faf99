package e2e

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/go-zookeeper/zk"

	"github.com/zk-monitor/zk_monitor/internal/testenv"
)

// slowPaths is how many glob matches the agent watches in
// TestFaultHostileSlowClients: /status is then about 670 KB and /metrics
// about 6 MB of text, the sizes of issue 13.
const slowPaths = 8000

// sessionSeries are the series that move when the agent loses its
// ZooKeeper connection or session, or its leadership; the last two are
// 1 while it is connected and leads.
var sessionSeries = []string{
	"zk_monitor_zookeeper_reconnects_total",
	"zk_monitor_zookeeper_session_expirations_total",
	`zk_monitor_cluster_leader_changes_total{cluster="slow"}`,
	"zk_monitor_zookeeper_connected",
	`zk_monitor_cluster_leader{cluster="slow"}`,
}

// TestFaultHostileSlowClients: clients that ask for a big page and never
// read the answer cost nobody else an answer, and the agent neither its
// memory nor its ZooKeeper session (issue 13, items 4 and 5). The agent
// watches 8,000 glob matches with a 4 s session; every scrape in between
// is a normal one, as Prometheus sends it.
func TestFaultHostileSlowClients(t *testing.T) {
	testenv.SkipIfShort(t, "needs a real ZooKeeper")
	zkServer := testenv.StartZooKeeper(t)
	conn := testenv.RawZK(t, zkServer.Addr(), 10*time.Second)
	if _, err := conn.Create("/slow", nil, 0, zk.WorldACL(zk.PermAll)); err != nil {
		t.Fatal(err)
	}
	paths := make([]string, slowPaths)
	for i := range paths {
		paths[i] = fmt.Sprintf("/slow/instance-%05d", i)
	}
	testenv.CreateNodes(t, conn, paths)
	cfg := testenv.WriteFile(t, "paths.yaml", "/slow/*: {children: 1}\n")
	// The session timeout the README recommends: the race detector and a
	// busy machine alone can delay a 2 s lease's renewal.
	a := startAgent(t, "slow", "-z", zkServer.Addr(), "-f", cfg, "-c", "slow", "--zookeeper.session-timeout", "4s")
	addr := strings.TrimPrefix(a.URL, "http://")

	// Generous: the race detector makes rendering 6 MB ten times slower.
	// The 1 s a scrape takes at most without it is make bench's figure.
	scraper := &http.Client{Timeout: testenv.Scaled(20 * time.Second)}
	scrape := func() (string, time.Duration, error) {
		start := time.Now()
		text, err := testenv.Scrape(scraper, a.URL+"/metrics")
		took := time.Since(start)
		if err == nil {
			if v, ok := testenv.SampleValue(text, "zk_monitor_watched_paths"); !ok || v != slowPaths {
				err = fmt.Errorf("incomplete scrape of %d bytes: zk_monitor_watched_paths %v", len(text), v)
			}
		}
		return text, took, err
	}
	var (
		before     []float64
		goroutines float64
	)
	testenv.Eventually(t, 60*time.Second, 200*time.Millisecond, func() bool {
		text, _, err := scrape()
		if err != nil {
			return false
		}
		before = seriesValues(text, sessionSeries)
		goroutines, _ = testenv.SampleValue(text, "go_goroutines")
		code, _, err := a.Get("/-/ready")
		return err == nil && code == http.StatusOK && before[3] == 1 && before[4] == 1
	}, "the agent did not read its %d paths and lead", slowPaths)

	idle, err := testenv.ProcessRSS(a.Pid())
	if err != nil {
		t.Fatal(err)
	}

	// waitGoroutines waits until the agent runs at most limit goroutines.
	waitGoroutines := func(t *testing.T, limit float64, when string) {
		t.Helper()
		var running float64
		testenv.Eventually(t, 30*time.Second, 200*time.Millisecond, func() bool {
			text, _, err := scrape()
			running, _ = testenv.SampleValue(text, "go_goroutines")
			return err == nil && running <= limit
		}, "the agent runs %v goroutines %s, %v before any load", testenv.Last(&running), when, goroutines)
	}

	// scrapeUnderLoad scrapes n times, 100 ms apart: every scrape must
	// succeed and the ZooKeeper session and leadership must last.
	scrapeUnderLoad := func(t *testing.T, n int) {
		t.Helper()
		var slowest time.Duration
		for range n {
			text, took, err := scrape()
			if err != nil {
				t.Fatalf("a normal scrape failed after %v: %v", took.Round(time.Millisecond), err)
			}
			slowest = max(slowest, took)
			if now := seriesValues(text, sessionSeries); fmt.Sprint(now) != fmt.Sprint(before) {
				t.Fatalf("the agent lost its session or leadership: %v = %v, before %v", sessionSeries, now, before)
			}
			time.Sleep(100 * time.Millisecond)
		}
		t.Logf("%d scrapes, the slowest took %v", n, slowest.Round(time.Millisecond))
	}

	t.Run("10 stalled scrapes", func(t *testing.T) {
		stalled := testenv.StallRequests(t, addr, "GET /metrics HTTP/1.1\r\nHost: slow\r\n\r\n", 10)
		waitAnswered(t, stalled, 10)
		scrapeUnderLoad(t, 5)
		stalled.Close()
	})

	t.Run("1500 stalled status pages and 10 stalled scrapes", func(t *testing.T) {
		// Far above what the agent needs and far below what it took when
		// every stalled answer held its own rendering (gigabytes): the
		// exact figure for the real binary is make bench's.
		limit := 2*idle + 600<<20
		load := &stalledLoad{}
		watch := testenv.WatchRSS(a.Pid(), limit, load.close)
		defer func() {
			peak, exceeded := watch.Stop()
			t.Logf("RSS idle %.0f MiB, peak %.0f MiB under load", mib(idle), mib(peak))
			if exceeded {
				t.Errorf("RSS reached %.0f MiB, over %.0f MiB (idle %.0f MiB)", mib(peak), mib(limit), mib(idle))
			}
		}()
		// In steps, so that a runaway agent is noticed before it has all.
		for range 15 {
			s := testenv.StallRequests(t, addr, "GET /status HTTP/1.1\r\nHost: slow\r\n\r\n", 100)
			load.add(s)
			waitAnswered(t, s, 100)
		}
		// While they all still wait for their answers, the agent serves a
		// bounded number of them (16) and turns the others away: it does
		// not hold a goroutine, let alone a rendering, for each.
		waitGoroutines(t, goroutines+100, "for 1,500 stalled clients")
		scrapeUnderLoad(t, 5)
		metrics := testenv.StallRequests(t, addr, "GET /metrics HTTP/1.1\r\nHost: slow\r\n\r\n", 10)
		load.add(metrics)
		waitAnswered(t, metrics, 10)
		scrapeUnderLoad(t, 5)
		load.close()
	})

	// Once the clients are gone, so are the goroutines that served them,
	// and the pages answer again.
	waitGoroutines(t, goroutines+20, "after the stalled clients left")
	resp, err := scraper.Get(a.URL + "/status")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var st Status
	if err := json.NewDecoder(resp.Body).Decode(&st); err != nil || len(st.Monitor.Compliance) != slowPaths {
		t.Fatalf("/status after the stalled clients: %v, %d paths", err, len(st.Monitor.Compliance))
	}
}

// waitAnswered waits until the agent has begun to answer all n stalled
// requests (with the page or with 503): until then the load is not all
// there.
func waitAnswered(t *testing.T, s *testenv.StalledClients, n int) {
	t.Helper()
	answered := 0
	testenv.Eventually(t, 60*time.Second, 50*time.Millisecond, func() bool {
		answered = s.Answered()
		return answered == n
	}, "the agent answered %v of %d stalled requests", testenv.Last(&answered), n)
}

// seriesValues reads several series from a text exposition, -1 for a
// missing one.
func seriesValues(text string, series []string) []float64 {
	out := make([]float64, len(series))
	for i, s := range series {
		v, ok := testenv.SampleValue(text, s)
		if !ok {
			v = -1
		}
		out[i] = v
	}
	return out
}

// stalledLoad is every stalled connection of a test, closed at once by
// close; connections added after that are closed at once.
type stalledLoad struct {
	mu      sync.Mutex
	clients []*testenv.StalledClients
	closed  bool
}

func (l *stalledLoad) add(c *testenv.StalledClients) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.closed {
		c.Close()
		return
	}
	l.clients = append(l.clients, c)
}

func (l *stalledLoad) close() {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.closed = true
	for _, c := range l.clients {
		c.Close()
	}
}

func mib(b uint64) float64 { return float64(b) / (1 << 20) }
