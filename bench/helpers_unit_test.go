package bench

import (
	"testing"
	"time"
)

// The tests of this package are fast unit tests of the measuring helpers;
// the benchmarks only run with -bench.

func TestPercentile(t *testing.T) {
	ms := func(v ...int) latencies {
		var l latencies
		for _, x := range v {
			l = append(l, time.Duration(x)*time.Millisecond)
		}
		return l
	}
	hundred := make([]int, 100)
	for i := range hundred {
		hundred[i] = 100 - i // reversed: percentile must sort
	}
	cases := []struct {
		name    string
		samples latencies
		p       float64
		want    time.Duration
	}{
		{"empty", nil, 50, 0},
		{"one", ms(7), 99, 7 * time.Millisecond},
		{"median of odd", ms(3, 1, 2), 50, 2 * time.Millisecond},
		{"median of even takes the lower", ms(4, 1, 3, 2), 50, 2 * time.Millisecond},
		{"p99 of 100", ms(hundred...), 99, 99 * time.Millisecond},
		{"p100 is the max", ms(hundred...), 100, 100 * time.Millisecond},
		{"p1 of 100", ms(hundred...), 1, time.Millisecond},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if got := tc.samples.percentile(tc.p); got != tc.want {
				t.Fatalf("percentile(%v) = %v, want %v", tc.p, got, tc.want)
			}
		})
	}
}

func TestMetricSum(t *testing.T) {
	text := `# HELP zk_monitor_alertmanager_alerts_sent_total Alerts sent.
# TYPE zk_monitor_alertmanager_alerts_sent_total counter
zk_monitor_alertmanager_alerts_sent_total{alertmanager="a"} 2
zk_monitor_alertmanager_alerts_sent_total{alertmanager="b"} 3
zk_monitor_alertmanager_alerts_sent_total_other 100
zk_monitor_cluster_leader 1
`
	cases := []struct {
		name string
		want float64
	}{
		{"zk_monitor_alertmanager_alerts_sent_total", 5},
		{"zk_monitor_cluster_leader", 1},
		{"zk_monitor_absent", 0},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if got := metricSum(text, tc.name); got != tc.want {
				t.Fatalf("metricSum(%s) = %v, want %v", tc.name, got, tc.want)
			}
		})
	}
}
