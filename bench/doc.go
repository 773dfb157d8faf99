// Package bench is zk_monitor's benchmark suite. It holds no code of the
// daemon: everything lives in _test.go files and runs against real servers
// (ZooKeeper and Alertmanager from internal/testenv) on loopback.
//
// The benchmarks measure, each beside a baseline taken in the same run:
//
//   - BenchmarkScale: 1,000 / 10,000 / 100,000 watched paths (100,000 only
//     with BENCH_FULL=1): time to the first full sync, heap and resident
//     memory after it, the /metrics scrape time and the ZooKeeper requests
//     per scrape and per change, beside a naive collector that lists every
//     path's children on each scrape.
//   - BenchmarkChangeToAlert: a path goes out of spec until the alert is
//     visible in a real Alertmanager's /api/v2/alerts, beside the same poll
//     of an alert posted straight to Alertmanager.
//   - BenchmarkReconnect: 10,000 watched paths, the connection cut and
//     restored within the session: time until every path was read again,
//     and heap growth per reconnect.
//   - BenchmarkFailover: a leader cut off from ZooKeeper (the effect of
//     kill -9) or stopped gracefully, until another agent leads and sends.
//   - BenchmarkMaxAgeIdle: the agent binary watching 10,000 znodes with
//     max_age, beside the same with a children check: its CPU time over an
//     idle minute (from /proc), its resident memory, the ZooKeeper requests
//     it sends meanwhile, and how soon all 10,000 show as too old once
//     their deadlines have come.
//   - BenchmarkHugeZnode: the agent binary watching one znode with 200,000
//     children and almost 1 MB of data: its resident memory, its first
//     sync and a change until the exact new count is exported.
//   - BenchmarkZooKeeperRestart: 20 restarts of ZooKeeper, until a zkclient
//     and a plain go-zookeeper client have a session again.
//   - BenchmarkHostileClients: the real binary watching 8,000 paths, with
//     1,500 clients that never read /status and 10 that never read
//     /metrics, or 400 clients reading /status flat out: its RSS, the
//     scrapes meanwhile beside the same scrapes without the load, and
//     whether it kept its ZooKeeper session and leadership.
//
// The change→gauge latency, its raw ZooKeeper baseline, the 10,000-path
// scrape and the max_age timers (BenchmarkDeadlines, BenchmarkMaxAgeExpiry)
// are benchmarks of package collector; the first session with a hung
// first server (BenchmarkHungFirstServer) is one of package zkclient. Figures are reported with
// b.ReportMetric; nothing here asserts a time. scripts/bench.sh (make bench)
// runs them all and prints the table of figures.
//
// Plain `go test ./bench` runs only fast unit tests of the helpers.
package bench
