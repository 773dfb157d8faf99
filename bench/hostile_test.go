package bench

import (
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/zk-monitor/zk_monitor/internal/testenv"
)

// hostilePaths is how many glob matches the agent watches under hostile
// clients: /status is then about 640 KB and /metrics 5.6 MB of text, the
// sizes of issue 13.
const hostilePaths = 8000

// hostileLoads are the loads of BenchmarkHostileClients, each run for
// hostileLoadTime against a fresh agent. start returns a func that ends
// the load and returns the /status answers with 200 and 503.
var hostileLoads = []struct {
	name  string
	start func(b *testing.B, addr string) (stop func() (statusOK, status503 int64))
}{
	{"stalled", stallClients},
	{"busy", busyStatusClients},
}

// hostileLoadTime is longer than the agent's write stall (10 s), so that
// stalled clients are cut off and the figures include it.
const hostileLoadTime = 15 * time.Second

// BenchmarkHostileClients runs the real zk_monitor binary, built without
// the race detector, watching 8,000 glob matches with a 2 s ZooKeeper
// session, and measures what hostile HTTP clients cost it while a
// Prometheus-like client scrapes it every 250 ms:
//
//	load=stalled  1,500 clients GET /status and 10 GET /metrics without
//	              gzip, and never read the answers
//	load=busy     400 clients GET /status and read it, as fast as they can
//
// Reported: the agent's RSS (from /proc) before the load (idle-rss-MB,
// after 5 s of scrapes) and its peak under load (peak-rss-MB) with the
// bound the agent must stay under (bound-rss-MB = 2 × idle + 100 MB); the
// scrapes' p50, p99 and max (ms) and failures under load, beside the p50
// and p99 of the scrapes of the 5 s before it (idle-scrape-); whether the
// ZooKeeper session (session-lost: a reconnect or an expiry) or the
// leadership (lead-lost) was lost; for busy, /status answers per second
// and 503s.
func BenchmarkHostileClients(b *testing.B) {
	zkServer, _ := binaryAndTree(b, "/hostile", hostilePaths)
	cfg := testenv.WriteFile(b, "paths.yaml", "/hostile/*: {children: 1}\n")

	for _, load := range hostileLoads {
		b.Run("load="+load.name, func(b *testing.B) {
			var (
				idle, peak, failures, sessionLost, leadLost float64
				scrapes, baseline                           latencies
				ok, unavailable                             int64
			)
			for i := range b.N {
				name := fmt.Sprintf("hostile-%s-%d", load.name, i)
				a := startHostileAgent(b, zkServer.Addr(), cfg, name)
				baseline = append(baseline, a.scrapeFor(5*time.Second).took...)
				before := a.sessionSeries(b)
				rss, err := testenv.ProcessRSS(a.Pid())
				if err != nil {
					b.Fatal(err)
				}
				idle = max(idle, mib(rss))

				watch := testenv.WatchRSS(a.Pid(), 0, nil)
				done := make(chan scrapeRun, 1)
				go func() { done <- a.scrapeFor(hostileLoadTime) }()
				stop := load.start(b, a.addr)
				run := <-done
				o, u := stop()
				ok, unavailable = ok+o, unavailable+u
				p, _ := watch.Stop()
				peak = max(peak, mib(p))
				scrapes = append(scrapes, run.took...)
				failures += float64(run.failures)
				if !run.leading {
					leadLost = 1
				}
				if after := a.sessionSeries(b); after != before {
					sessionLost = 1
				}
				a.stop(b)
			}
			b.ReportMetric(idle, "idle-rss-MB")
			b.ReportMetric(peak, "peak-rss-MB")
			b.ReportMetric(2*idle+100, "bound-rss-MB")
			baseline.report(b, "idle-scrape-")
			scrapes.report(b, "scrape-")
			b.ReportMetric(ms(scrapes.percentile(100)), "scrape-max-ms")
			b.ReportMetric(failures, "scrape-failures")
			b.ReportMetric(sessionLost, "session-lost")
			b.ReportMetric(leadLost, "lead-lost")
			if load.name == "busy" {
				b.ReportMetric(float64(ok)/hostileLoadTime.Seconds()/float64(b.N), "status-per-s")
				b.ReportMetric(float64(unavailable), "status-503")
			}
		})
	}
}

// lastPathJudged tells whether the agent has read the last of the glob's
// matches (it has no children: out of spec). zk_monitor_znode_compliant is
// absent while a path is unknown, so its presence is the read.
func lastPathJudged(metrics string) bool {
	v, ok := testenv.SampleValue(metrics, `zk_monitor_znode_compliant{path="/hostile/p007999"}`)
	return ok && v == 0
}

// startHostileAgent starts the binary and waits until it has read every
// path, leads its cluster and has been scraped a few times.
func startHostileAgent(b *testing.B, zkAddr, cfg, name string) *binaryAgent {
	b.Helper()
	a := startBinaryAgent(b, name, "-z", zkAddr, "-f", cfg, "-c", name, "--agent.name", name,
		"--zookeeper.session-timeout", sessionTimeout.String())
	addr := a.addr
	testenv.Eventually(b, waitFor, 100*time.Millisecond, func() bool {
		text, err := testenv.Scrape(a.client, "http://"+addr+"/metrics")
		return err == nil && metricSum(text, "zk_monitor_watched_paths") == hostilePaths &&
			metricSum(text, "zk_monitor_cluster_leader") == 1 &&
			lastPathJudged(text)
	}, "agent %s did not read its paths and lead", name)
	// Idle as in production: scraped, and the status page asked for.
	for range 3 {
		testenv.Scrape(a.client, "http://"+addr+"/metrics")
		if resp, err := a.client.Get("http://" + addr + "/status"); err == nil {
			io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
		}
	}
	time.Sleep(2 * time.Second)
	return a
}

// sessionSeries are the counters that move when the agent loses its
// ZooKeeper connection or session, or changes leader.
func (a *binaryAgent) sessionSeries(b *testing.B) string {
	b.Helper()
	text, err := testenv.Scrape(a.client, "http://"+a.addr+"/metrics")
	if err != nil {
		b.Fatal(err)
	}
	var out []string
	for _, name := range []string{"zk_monitor_zookeeper_reconnects_total", "zk_monitor_zookeeper_session_expirations_total", "zk_monitor_cluster_leader_changes_total"} {
		out = append(out, fmt.Sprint(metricSum(text, name)))
	}
	return strings.Join(out, " ")
}

// scrapeRun is what a Prometheus-like client saw.
type scrapeRun struct {
	took     latencies
	failures int  // errors, incomplete answers, answers over 10 s
	leading  bool // the agent claimed the lead in every scrape
}

// scrapeFor scrapes every 250 ms for d, as Prometheus would.
func (a *binaryAgent) scrapeFor(d time.Duration) scrapeRun {
	run := scrapeRun{leading: true}
	end := time.Now().Add(d)
	for time.Now().Before(end) {
		start := time.Now()
		text, err := testenv.Scrape(a.client, "http://"+a.addr+"/metrics")
		run.took = append(run.took, time.Since(start))
		if err != nil || metricSum(text, "zk_monitor_watched_paths") != hostilePaths {
			run.failures++
		} else if metricSum(text, "zk_monitor_cluster_leader") != 1 {
			run.leading = false
		}
		time.Sleep(250 * time.Millisecond)
	}
	return run
}

// stallClients opens 1,500 stalled /status and 10 stalled /metrics
// requests.
func stallClients(b *testing.B, addr string) func() (int64, int64) {
	status := testenv.StallRequests(b, addr, "GET /status HTTP/1.1\r\nHost: x\r\n\r\n", 1500)
	metrics := testenv.StallRequests(b, addr, "GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n", 10)
	return func() (int64, int64) {
		status.Close()
		metrics.Close()
		return 0, 0
	}
}

// busyStatusClients starts 400 clients that GET /status and read it,
// again and again.
func busyStatusClients(b *testing.B, addr string) func() (int64, int64) {
	const clients = 400
	transport := &http.Transport{MaxIdleConnsPerHost: clients}
	client := &http.Client{Transport: transport, Timeout: 30 * time.Second}
	var ok, unavailable atomic.Int64
	var wg sync.WaitGroup
	stop := make(chan struct{})
	for range clients {
		wg.Go(func() {
			for {
				select {
				case <-stop:
					return
				default:
				}
				resp, err := client.Get("http://" + addr + "/status")
				if err != nil {
					continue
				}
				io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				switch resp.StatusCode {
				case http.StatusOK:
					ok.Add(1)
				case http.StatusServiceUnavailable:
					unavailable.Add(1)
				}
			}
		})
	}
	return func() (int64, int64) {
		close(stop)
		wg.Wait()
		transport.CloseIdleConnections()
		return ok.Load(), unavailable.Load()
	}
}
