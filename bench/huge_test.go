package bench

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/go-zookeeper/zk"

	"github.com/zk-monitor/zk_monitor/internal/testenv"
)

// hugeChildren and hugeData are the size of BenchmarkHugeZnode's znode:
// issue 13's trial, ZooKeeper's 1 MiB - 1 request limit less room for the
// path and the header.
const (
	hugeChildren = 200000
	hugeData     = 1<<20 - 1024
)

// binaryAndTree builds the zk_monitor binary (if no benchmark did yet) and
// starts a ZooKeeper holding root with n children, written through the
// connection it returns.
func binaryAndTree(b *testing.B, root string, n int) (*testenv.ZooKeeper, *zk.Conn) {
	b.Helper()
	zkMonitor.Path(b)
	zkServer := testenv.StartZooKeeper(b)
	conn := testenv.RawZK(b, zkServer.Addr(), 10*time.Second)
	createTree(b, conn, root, n)
	return zkServer, conn
}

// BenchmarkHugeZnode runs the zk_monitor binary (built without -race, as
// shipped) against one znode holding 200,000 children and almost 1 MB of
// data, watched with a children and a data check. It reports sync-s (start
// until /metrics shows exactly 200,000 children and the checks pass),
// rss-MB (the agent's VmRSS then) and rss-end-MB (after the iterations).
// One iteration is one child created or deleted until /metrics shows the
// exact new count (change-p50/p99): each is a full listing of 200,000
// names and a read of the data. Its baseline (raw-p50/p99) is that listing
// and read alone, by a plain go-zookeeper client.
func BenchmarkHugeZnode(b *testing.B) {
	dir := b.TempDir()
	zkServer, conn := binaryAndTree(b, "/huge", hugeChildren)
	// The data comes last: under a megabyte, ZooKeeper 3.8 creates
	// children over ten times slower.
	if _, err := conn.Set("/huge", append(bytes.Repeat([]byte{'A'}, hugeData-1), 'Z'), -1); err != nil {
		b.Fatal(err)
	}
	cfg := filepath.Join(dir, "paths.yaml")
	if err := os.WriteFile(cfg, fmt.Appendf(nil, "/huge: {children: %d, data: {regex: '^A+Z$'}}\n", hugeChildren), 0o600); err != nil {
		b.Fatal(err)
	}

	start := time.Now()
	a := startBinaryAgent(b, "huge", "-z", zkServer.Addr(), "-f", cfg, "-c", "huge", "--agent.name", "huge")
	pid := a.Pid()
	exact := func(children int) func() bool {
		return func() bool {
			m := a.get("/metrics")
			return metricSum(m, "zk_monitor_znode_children") == float64(children) && metricSum(m, "zk_monitor_znode_compliant") == 1
		}
	}
	testenv.Eventually(b, waitFor, 10*time.Millisecond, exact(hugeChildren), "the agent did not report exactly %d children with passing checks", hugeChildren)
	sync := time.Since(start)
	rss, err := testenv.ProcessRSS(pid)
	if err != nil {
		b.Fatal(err)
	}

	var change, raw latencies
	children := hugeChildren
	b.ResetTimer()
	for range b.N {
		begin := time.Now()
		if children == hugeChildren {
			_, err = conn.Create("/huge/extra", nil, 0, zk.WorldACL(zk.PermAll))
			children++
		} else {
			err = conn.Delete("/huge/extra", -1)
			children--
		}
		if err != nil {
			b.Fatal(err)
		}
		testenv.Eventually(b, waitFor, time.Millisecond, exact(children), "the agent did not report exactly %d children", children)
		change = append(change, time.Since(begin))

		begin = time.Now()
		names, _, err := conn.Children("/huge")
		if err != nil || len(names) != children {
			b.Fatalf("raw listing: %d children, %v", len(names), err)
		}
		if _, _, err := conn.Get("/huge"); err != nil {
			b.Fatal(err)
		}
		raw = append(raw, time.Since(begin))
	}
	b.StopTimer()
	rssEnd, err := testenv.ProcessRSS(pid)
	if err != nil {
		b.Fatal(err)
	}
	b.ReportMetric(sync.Seconds(), "sync-s")
	b.ReportMetric(mib(rss), "rss-MB")
	b.ReportMetric(mib(rssEnd), "rss-end-MB")
	change.report(b, "change-")
	raw.report(b, "raw-")
}
