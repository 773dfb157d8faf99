package bench

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"testing"
	"time"

	"github.com/go-zookeeper/zk"

	"github.com/zk-monitor/zk_monitor/internal/testenv"
)

// pollInterval is how often a benchmark looks for the effect it times; it
// is the resolution of the alert and failover figures.
const pollInterval = 250 * time.Microsecond

const nullReceiverConfig = "route: {receiver: 'null'}\nreceivers: [{name: 'null'}]\n"

// amAlertVisible reports whether Alertmanager lists an active (or not yet
// processed) alert whose path label is path.
func amAlertVisible(b *testing.B, am *testenv.Alertmanager, path string) bool {
	q := url.Values{"filter": {fmt.Sprintf("path=%q", path)}}
	resp, err := httpClient.Get(am.URL() + "/api/v2/alerts?" + q.Encode())
	if err != nil {
		b.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil || resp.StatusCode != http.StatusOK {
		b.Fatalf("GET /api/v2/alerts: %d %v %s", resp.StatusCode, err, body)
	}
	var alerts []testenv.AMAlert
	if err := json.Unmarshal(body, &alerts); err != nil {
		b.Fatal(err)
	}
	for _, a := range alerts {
		if a.Labels["path"] == path && a.Status.State != "suppressed" {
			return true
		}
	}
	return false
}

// waitAlert polls Alertmanager until the alert of path is (visible=true) or
// is no longer (false) listed, and returns when that was seen.
func waitAlert(b *testing.B, am *testenv.Alertmanager, path string, visible bool) time.Time {
	b.Helper()
	deadline := time.Now().Add(testenv.Scaled(waitFor))
	for {
		if amAlertVisible(b, am, path) == visible {
			return time.Now()
		}
		if time.Now().After(deadline) {
			b.Fatalf("alert of %s visible=%v not seen after %v", path, !visible, testenv.Scaled(waitFor))
		}
		time.Sleep(pollInterval)
	}
}

// postAlert sends one alert straight to Alertmanager, as the baseline of
// what zk_monitor does.
func postAlert(b *testing.B, am *testenv.Alertmanager, path string, startsAt, endsAt time.Time) {
	b.Helper()
	alerts := []testenv.AMPostableAlert{{
		Labels:   map[string]string{"alertname": "BenchDirect", "path": path},
		StartsAt: startsAt,
		EndsAt:   endsAt,
	}}
	body, err := json.Marshal(alerts)
	if err != nil {
		b.Fatal(err)
	}
	resp, err := httpClient.Post(am.URL()+"/api/v2/alerts", "application/json", bytes.NewReader(body))
	if err != nil {
		b.Fatal(err)
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, resp.Body)
	if resp.StatusCode != http.StatusOK {
		b.Fatalf("POST /api/v2/alerts: %s", resp.Status)
	}
}

// BenchmarkChangeToAlert times a path going out of spec (no hold-down)
// until its alert is listed by a real Alertmanager's /api/v2/alerts, with a
// single agent (daemon.Run in-process, leader of its own cluster). Its
// baseline, "direct", posts an alert straight to the same Alertmanager and
// polls for it the same way: the floor of this measurement. Both report
// the return to normal too (resolve-p50/p99: resolved alert gone from the
// list).
func BenchmarkChangeToAlert(b *testing.B) {
	zkServer := testenv.StartZooKeeper(b)
	am := testenv.StartAlertmanager(b, nullReceiverConfig)

	b.Run("direct", func(b *testing.B) {
		var fire, resolve latencies
		for range b.N {
			start := time.Now()
			postAlert(b, am, "/direct", start, time.Time{})
			fire = append(fire, waitAlert(b, am, "/direct", true).Sub(start))
			end := time.Now()
			postAlert(b, am, "/direct", start, end)
			resolve = append(resolve, waitAlert(b, am, "/direct", false).Sub(end))
		}
		fire.report(b, "")
		resolve.report(b, "resolve-")
	})

	b.Run("zk_monitor", func(b *testing.B) {
		admin := testenv.RawZK(b, zkServer.Addr(), 10*time.Second)
		const path = "/alert/p0"
		child := path + "/c"
		ensurePath(b, admin, child) // in spec: one child
		cfg := testenv.WriteFile(b, "zk_monitor.yaml", path+": {children: 1}\n")
		opts, err := agentOptions(zkServer.Addr(), cfg, "alert", agentName("alert", 0), am.URL())
		if err != nil {
			b.Fatal(err)
		}
		a := startAgent(b, opts)
		testenv.Eventually(b, waitFor, 10*time.Millisecond, func() bool { return a.ready() && a.cluster().IsLeader }, "agent never led")
		var fire, resolve latencies
		b.ResetTimer()
		for range b.N {
			start := time.Now()
			if err := admin.Delete(child, -1); err != nil {
				b.Fatal(err)
			}
			fire = append(fire, waitAlert(b, am, path, true).Sub(start))
			start = time.Now()
			if _, err := admin.Create(child, nil, 0, zk.WorldACL(zk.PermAll)); err != nil {
				b.Fatal(err)
			}
			resolve = append(resolve, waitAlert(b, am, path, false).Sub(start))
		}
		b.StopTimer()
		fire.report(b, "")
		resolve.report(b, "resolve-")
		a.stop(b)
	})
}
