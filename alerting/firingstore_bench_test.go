package alerting

import (
	"context"
	"fmt"
	"os"
	"testing"
	"time"

	"github.com/zk-monitor/zk_monitor/internal/testenv"
)

// BenchmarkFiringSet measures what the firing set in ZooKeeper costs at
// 1,000, 10,000 and (with BENCH_FULL=1) 100,000 firing alerts: the time
// to record them all from an empty set (record-s), and what a new leader
// spends before it sends anything: reading the set and merging it into its
// engine (takeover-s).
func BenchmarkFiringSet(b *testing.B) {
	sizes := []int{1000, 10000}
	if os.Getenv("BENCH_FULL") == "1" {
		sizes = append(sizes, 100000)
	}
	zkServer := testenv.StartZooKeeper(b)
	ctx := context.Background()
	for _, n := range sizes {
		b.Run(fmt.Sprintf("alerts=%d", n), func(b *testing.B) {
			alerts := make([]*alert, n)
			changes := make([]recordChange, n)
			for i := range alerts {
				alerts[i] = firingAlertOf(notCompliant, fmt.Sprintf("/services/svc-%03d/instances/host-%06d", i%500, i), t0)
				data, _, err := encodeRecord(alerts[i])
				if err != nil {
					b.Fatal(err)
				}
				changes[i] = recordChange{name: nodeName(alerts[i].key()), data: data}
			}
			var record, takeover time.Duration
			for i := range b.N {
				env := newStoreEnv(b, zkServer.Addr(), fmt.Sprintf("/bench-%d-%d", n, i))
				start := time.Now()
				if done, err := env.store.write(ctx, env.fence, changes); err != nil || done != n {
					b.Fatalf("write: %d of %d, %v", done, n, err)
				}
				record += time.Since(start)

				start = time.Now()
				recs, bad, err := env.store.load(ctx)
				if err != nil || len(bad) > 0 || len(recs) != n {
					b.Fatalf("load: %d records, %v %v", len(recs), bad, err)
				}
				e := newEngine(alertBuilder{cluster: "c", agent: "b"}, time.Minute, nil)
				r := newRecorder(env.store, env.fence)
				e.adopt(r.loaded(recs), t0.Add(time.Hour))
				takeover += time.Since(start)
				if e.firing() != n {
					b.Fatalf("%d firing after the takeover, want %d", e.firing(), n)
				}
			}
			b.ReportMetric(record.Seconds()/float64(b.N), "record-s")
			b.ReportMetric(takeover.Seconds()/float64(b.N), "takeover-s")
		})
	}
}
