package alerting

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/zk-monitor/zk_monitor/internal/testenv"
)

// BenchmarkUpdateToAlertmanager measures the time from Update (a path goes
// out of spec, no hold-down) to the alert being listed as active by a real
// Alertmanager, and reports its p50 and p99.
func BenchmarkUpdateToAlertmanager(b *testing.B) {
	am := testenv.StartAlertmanager(b, nullAMConfig)
	u, err := url.Parse(am.URL())
	if err != nil {
		b.Fatal(err)
	}
	a, err := New(Options{AlertmanagerURLs: []*url.URL{u}, ClusterName: "bench"})
	if err != nil {
		b.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		a.Lead(ctx)
	}()
	defer func() {
		cancel()
		<-done
	}()

	client := &http.Client{Timeout: testenv.Scaled(5 * time.Second), Transport: &http.Transport{}}
	defer client.CloseIdleConnections()
	active := func(path string) bool {
		q := url.Values{"filter": {`path="` + path + `"`}, "active": {"true"}}
		resp, err := client.Get(am.URL() + "/api/v2/alerts?" + q.Encode())
		if err != nil {
			b.Fatal(err)
		}
		defer resp.Body.Close()
		var alerts []json.RawMessage
		if err := json.NewDecoder(resp.Body).Decode(&alerts); err != nil {
			b.Fatal(err)
		}
		return len(alerts) > 0
	}

	latencies := make([]time.Duration, 0, b.N)
	for i := 0; b.Loop(); i++ {
		path := "/bench/" + strconv.Itoa(i)
		start := time.Now()
		a.Update(spec(path), errorResult(testMsg))
		for limit := testenv.Scaled(10 * time.Second); !active(path); {
			if time.Since(start) > limit {
				b.Fatalf("%s not active after %v", path, limit)
			}
		}
		latencies = append(latencies, time.Since(start))
		a.Update(spec(path), okResult)
	}
	b.StopTimer()
	slices.Sort(latencies)
	pct := func(p float64) time.Duration { return latencies[int(p*float64(len(latencies)-1))] }
	b.ReportMetric(float64(pct(0.50).Microseconds())/1000, "p50-ms")
	b.ReportMetric(float64(pct(0.99).Microseconds())/1000, "p99-ms")
	b.Logf("n=%d p50=%v p99=%v", len(latencies), pct(0.50), pct(0.99))
}
