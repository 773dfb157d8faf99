package web_test

import (
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/zk-monitor/zk_monitor/internal/testenv"
	"github.com/zk-monitor/zk_monitor/web"
)

// TestPagesRenderedOncePerChange: /status (and /state) and the landing
// page are rendered once per change of any of their inputs, and every
// request in between gets the same bytes.
func TestPagesRenderedOncePerChange(t *testing.T) {
	src := sourceWith(manyPaths(100, "Found children (0) less than minimum (1)"))
	var alerting atomic.Bool
	var leader atomic.Value
	leader.Store("agent1")
	reg := prometheus.NewRegistry()
	h := web.NewHandler(web.Options{
		Source:     src,
		Version:    "1.2.3",
		Gatherer:   reg,
		Registerer: reg,
		Alerting:   alerting.Load,
		Cluster:    func() any { return map[string]string{"leader": leader.Load().(string)} },
	})
	// get sends n requests at once and returns the body they all got.
	get := func(target string, n int) string {
		t.Helper()
		bodies := make([]string, n)
		var wg sync.WaitGroup
		for i := range bodies {
			wg.Go(func() { _, bodies[i] = serve(t, h, "GET", target, "") })
		}
		wg.Wait()
		for _, b := range bodies[1:] {
			if b != bodies[0] {
				t.Fatalf("GET %s: requests without a change in between got different pages", target)
			}
		}
		return bodies[0]
	}
	steps := []struct {
		name   string
		change func()
		want   string
	}{
		{"first", func() {}, `"/many/instance-000099": "Found children (0) less than minimum (1)"`},
		{"compliance", func() { src.set(manyPaths(100, "Found children (1) less than minimum (2)")) }, `"/many/instance-000099": "Found children (1) less than minimum (2)"`},
		{"leadership", func() { alerting.Store(true) }, `"alerting": true`},
		{"cluster", func() { leader.Store("agent2") }, `"leader": "agent2"`},
	}
	for i, step := range steps {
		step.change()
		if body := get("/status", 20); !strings.Contains(body, step.want) {
			t.Fatalf("%s: /status lacks %s", step.name, step.want)
		}
		if body := get("/state", 5); !strings.Contains(body, step.want) {
			t.Fatalf("%s: /state lacks %s", step.name, step.want)
		}
		if n := counter(t, reg, "zk_monitor_http_renders_total", "status"); n != float64(i+1) {
			t.Fatalf("%s: /status rendered %v times after %d changes", step.name, n, i+1)
		}
	}

	page := get("/", 20)
	src.set(manyPaths(100, "Found children (5) less than minimum (6)"))
	if changed := get("/", 20); changed == page || !strings.Contains(changed, "Found children (5) less than minimum (6)") {
		t.Fatal("the landing page did not follow a change")
	}
	if n := counter(t, reg, "zk_monitor_http_renders_total", "landing"); n != 2 {
		t.Fatalf("the landing page was rendered %v times for 2 states", n)
	}
}

// TestPageBudget: /status requests beyond the budget wait for a turn, then
// get 503 (with Retry-After, closing their connection) while clients that
// never read hold every turn; those are cut off once they took no data
// for WriteStall, and the pages answer again. Scrapes are not in that
// budget and keep working.
func TestPageBudget(t *testing.T) {
	// Long enough for the checks below, made while the clients stall.
	const stall = 3 * time.Second
	src := sourceWith(manyPaths(3000, "Found children (0) less than minimum (1)"))
	reg := prometheus.NewRegistry()
	srv := httptest.NewUnstartedServer(web.NewHandler(web.Options{
		Source:     src,
		Gatherer:   reg,
		Registerer: reg,
		Limits:     web.Limits{PageRequests: 2, PageWait: 50 * time.Millisecond, WriteStall: testenv.Scaled(stall)},
	}))
	srv.Listener = testenv.SmallSendBuffers(srv.Listener)
	srv.Start()
	t.Cleanup(srv.Close)
	client := &http.Client{Timeout: testenv.Scaled(10 * time.Second), Transport: &http.Transport{DisableKeepAlives: true}}
	get := func(path string) (*http.Response, string) {
		t.Helper()
		resp, err := client.Get(srv.URL + path)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, err := io.ReadAll(resp.Body)
		if err != nil {
			t.Fatal(err)
		}
		return resp, string(b)
	}

	start := time.Now()
	stalled := testenv.StallRequests(t, srv.Listener.Addr().String(), "GET /status HTTP/1.1\r\nHost: x\r\n\r\n", 2)
	testenv.Eventually(t, 10*time.Second, 10*time.Millisecond, func() bool { return stalled.Answered() == 2 },
		"the stalled requests were not answered")
	testenv.Eventually(t, 10*time.Second, 10*time.Millisecond, func() bool {
		resp, body := get("/status")
		if resp.StatusCode != http.StatusServiceUnavailable {
			return false
		}
		if resp.Header.Get("Retry-After") != "1" || !resp.Close || !strings.Contains(body, "too many requests") {
			t.Fatalf("503 without Retry-After or Connection: close: %v %q", resp.Header, body)
		}
		return true
	}, "/status never answered 503 while two clients held both turns")
	if resp, _ := get("/"); resp.StatusCode != http.StatusServiceUnavailable {
		t.Fatalf("the landing page answered %d, want 503: it shares the budget of /status", resp.StatusCode)
	}
	if resp, _ := get("/metrics"); resp.StatusCode != http.StatusOK {
		t.Fatalf("a scrape answered %d while the pages were busy", resp.StatusCode)
	}
	if resp, _ := get("/-/healthy"); resp.StatusCode != http.StatusOK {
		t.Fatalf("/-/healthy answered %d while the pages were busy", resp.StatusCode)
	}

	testenv.Eventually(t, 30*time.Second, 20*time.Millisecond, func() bool {
		return counter(t, reg, "zk_monitor_http_cut_responses_total", "status") == 2
	}, "the clients that never read were not cut off")
	if took := time.Since(start); took < testenv.Scaled(stall) {
		t.Fatalf("clients were cut off after %v, before WriteStall (%v)", took, testenv.Scaled(stall))
	}
	if resp, _ := get("/status"); resp.StatusCode != http.StatusOK {
		t.Fatalf("/status answered %d once the stalled clients were gone", resp.StatusCode)
	}
	if n := counter(t, reg, "zk_monitor_http_rejected_requests_total", "status"); n < 1 {
		t.Fatalf("zk_monitor_http_rejected_requests_total{handler=\"status\"} = %v", n)
	}
	stalled.Close()
}
