package bench

import (
	"context"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/zk-monitor/zk_monitor/internal/testenv"
)

// BenchmarkPrometheusCost measures what a 3-agent cluster costs the
// Prometheus that scrapes it (the README's series budget table): three
// in-process agents watch the same paths, each with a children-only spec,
// and a real Prometheus scrapes them every 2 seconds. It reports the head
// series Prometheus holds and its heap in use per series, the heap it had
// before the agents' first scrape subtracted, after 2 minutes of scrapes
// (60 samples a series, half of a head chunk). One iteration whatever
// b.N: the figure is a size, not a rate.
func BenchmarkPrometheusCost(b *testing.B) {
	n := 10000
	if v, err := strconv.Atoi(os.Getenv("BENCH_PROM_PATHS")); err == nil && v > 0 {
		n = v
	}
	zkServer := testenv.StartZooKeeper(b)
	admin := testenv.RawZK(b, zkServer.Addr(), 10*time.Second)
	root := "/promcost"
	createTree(b, admin, root, n)
	var yaml strings.Builder
	for i := range n {
		fmt.Fprintf(&yaml, "%s: {children: 1}\n", pathName(root, i))
	}
	cfg := testenv.WriteFile(b, "promcost.yaml", yaml.String())

	const agents = 3
	ports := make([]string, agents)
	for i := range ports {
		ports[i] = fmt.Sprintf("%q", "127.0.0.1:"+strconv.Itoa(testenv.FreePort(b)))
	}
	prom := testenv.StartPrometheus(b, fmt.Sprintf(`
global: {scrape_interval: 2s, scrape_timeout: 2s}
scrape_configs:
  - job_name: zk_monitor
    static_configs: [{targets: [%s]}]
`, strings.Join(ports, ", ")))
	ctx := context.Background()
	// value is the one sample of an instant query, 0 when there is none.
	value := func(expr string) float64 {
		s, err := prom.Query(ctx, expr)
		if err != nil || len(s) > 1 {
			b.Fatalf("query %s: %v %v", expr, s, err)
		}
		if len(s) == 0 {
			return 0
		}
		return s[0].Value
	}
	// Prometheus's own series, and the up series of the down targets.
	testenv.Eventually(b, waitFor, 100*time.Millisecond, func() bool { return value(`count(up{job="zk_monitor"})`) == agents },
		"Prometheus never scraped the (down) targets")
	// Prometheus's own figures, from its /metrics (it does not scrape
	// itself here).
	self := func(name string) float64 {
		resp, err := httpClient.Get(prom.URL() + "/metrics")
		if err != nil {
			b.Fatal(err)
		}
		defer resp.Body.Close()
		var body strings.Builder
		if _, err := io.Copy(&body, resp.Body); err != nil {
			b.Fatal(err)
		}
		return metricSum(body.String(), name)
	}
	heapBefore, rssBefore := self("go_memstats_heap_inuse_bytes"), self("process_resident_memory_bytes")
	seriesBefore := self("prometheus_tsdb_head_series")

	for i := range agents {
		opts, err := agentOptions(zkServer.Addr(), cfg, "promcost", agentName("promcost", i))
		if err != nil {
			b.Fatal(err)
		}
		opts.Web.WebListenAddresses = &[]string{strings.Trim(ports[i], `"`)}
		a := startAgent(b, opts)
		b.Cleanup(func() { a.stop(b) })
	}
	testenv.Eventually(b, waitFor, time.Second, func() bool {
		return value(`count(zk_monitor_znode_compliant{job="zk_monitor"})`) == float64(agents*n)
	}, "Prometheus never had the compliance of every path from every agent")
	time.Sleep(2 * time.Minute)
	series := self("prometheus_tsdb_head_series") - seriesBefore
	heap := self("go_memstats_heap_inuse_bytes") - heapBefore
	rss := self("process_resident_memory_bytes") - rssBefore
	b.ReportMetric(series, "head-series")
	b.ReportMetric(heap/series, "heap-B/series")
	b.ReportMetric(rss/series, "rss-B/series")
	for range b.N {
	}
}
