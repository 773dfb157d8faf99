package bench

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/go-zookeeper/zk"

	"github.com/zk-monitor/zk_monitor/internal/testenv"
)

// maxAgePaths is how many znodes BenchmarkMaxAgeIdle watches.
const maxAgePaths = 10000

// idleWindow is how long an idle agent's CPU time is measured: a minute,
// or BENCH_IDLE (a Go duration) for a quicker run.
func idleWindow(tb testing.TB) time.Duration {
	raw := os.Getenv("BENCH_IDLE")
	if raw == "" {
		return time.Minute
	}
	d, err := time.ParseDuration(raw)
	if err != nil || d <= 0 {
		tb.Fatalf("BENCH_IDLE=%q: want a positive duration", raw)
	}
	return d
}

// BenchmarkMaxAgeIdle runs the zk_monitor binary (built without -race, as
// shipped) on 10,000 znodes, each with a children check (check=children,
// the baseline) or each with max_age (check=max_age), one agent process
// after the other. For each it reports sync-s (start until /metrics shows
// all 10,000 compliant), rss-MB (the agent's VmRSS then), idle-cpu-pct (its
// CPU time from /proc/PID/stat over an idle minute, with no scrape and no
// change in ZooKeeper, in % of one core) and idle-zk-req (the ZooKeeper
// requests the agent sent in that minute, every part of it included). For
// max_age, the znodes' deadlines come after that minute, within about a
// second of each other: expire-s is from the last deadline until /metrics
// (polled every 250 ms) shows all 10,000 non-compliant, poll-s what one
// such look at /metrics takes (scrape and parse), and expire-zk-req the
// requests sent meanwhile. Run with -benchtime 1x.
func BenchmarkMaxAgeIdle(b *testing.B) {
	zkServer, conn := binaryAndTree(b, "/maxage", maxAgePaths)
	idle := idleWindow(b)
	for _, check := range []string{"children", "max_age"} {
		b.Run("check="+check, func(b *testing.B) {
			for b.Loop() {
				benchIdleAgent(b, zkServer.Addr(), conn, check, idle)
			}
		})
	}
}

func benchIdleAgent(b *testing.B, zkAddr string, conn *zk.Conn, check string, idle time.Duration) {
	// The max_age deadlines must come after the sync and the idle window.
	maxAge := idle + 30*time.Second
	spec := "{children: 0}"
	var last time.Time
	if check == "max_age" {
		spec = fmt.Sprintf("{max_age: %s}", maxAge)
		paths := make([]string, maxAgePaths)
		for i := range paths {
			paths[i] = pathName("/maxage", i)
		}
		for _, m := range testenv.SetDataAll(b, conn, paths, []byte("beat")) {
			if m.After(last) {
				last = m
			}
		}
	}
	var cfg strings.Builder
	for i := range maxAgePaths {
		fmt.Fprintf(&cfg, "%s: %s\n", pathName("/maxage", i), spec)
	}
	file := filepath.Join(b.TempDir(), "paths.yaml")
	if err := os.WriteFile(file, []byte(cfg.String()), 0o600); err != nil {
		b.Fatal(err)
	}
	name := "idle-" + strings.ReplaceAll(check, "_", "-")
	start := time.Now()
	a := startBinaryAgent(b, name, "-z", zkAddr, "-f", file, "-c", name, "--agent.name", name)
	pid := a.Pid()
	defer a.stop(b)
	compliant := func(want float64) func() bool {
		return func() bool {
			m := a.get("/metrics")
			return metricSum(m, "zk_monitor_znode_compliant") == want && metricSum(m, "zk_monitor_znode_stale") == 0
		}
	}
	testenv.Eventually(b, waitFor, 10*time.Millisecond, compliant(maxAgePaths), "the agent did not report %d compliant paths", maxAgePaths)
	sync := time.Since(start)
	rss, err := testenv.ProcessRSS(pid)
	if err != nil {
		b.Fatal(err)
	}

	requests := func() float64 { return metricSum(a.get("/metrics"), "zk_monitor_zookeeper_requests_total") }
	req0 := requests()
	cpu0, err := testenv.ProcessCPU(pid)
	if err != nil {
		b.Fatal(err)
	}
	time.Sleep(idle)
	cpu1, err := testenv.ProcessCPU(pid)
	if err != nil {
		b.Fatal(err)
	}
	req1 := requests()
	b.ReportMetric(sync.Seconds(), "sync-s")
	b.ReportMetric(mib(rss), "rss-MB")
	b.ReportMetric(100*(cpu1-cpu0).Seconds()/idle.Seconds(), "idle-cpu-pct")
	b.ReportMetric(req1-req0, "idle-zk-req")
	if check != "max_age" {
		return
	}
	if !compliant(maxAgePaths)() {
		b.Fatalf("paths failed max_age during the idle window: it was too short for the sync")
	}
	deadline := last.Add(maxAge)
	time.Sleep(time.Until(deadline))
	testenv.Eventually(b, waitFor, 250*time.Millisecond, compliant(0), "the agent did not report all %d paths too old", maxAgePaths)
	b.ReportMetric(time.Since(deadline).Seconds(), "expire-s")
	b.ReportMetric(requests()-req1, "expire-zk-req")
	// What one look costs: the resolution of expire-s.
	begin := time.Now()
	compliant(0)()
	b.ReportMetric(time.Since(begin).Seconds(), "poll-s")
}
