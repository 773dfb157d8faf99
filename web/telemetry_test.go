package web_test

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/zk-monitor/zk_monitor/collector"
	"github.com/zk-monitor/zk_monitor/internal/testenv"
	"github.com/zk-monitor/zk_monitor/web"
)

// telemetryServer serves src's metrics the way the daemon does, on a
// loopback server whose connections have small send buffers.
func telemetryServer(t *testing.T, src *changingSource, limits web.Limits) (*httptest.Server, *prometheus.Registry) {
	t.Helper()
	reg := prometheus.NewRegistry()
	srv := httptest.NewUnstartedServer(web.NewHandler(web.Options{
		Source:     src,
		Gatherer:   collector.NewGatherer(src, reg, collector.GathererOptions{}),
		Registerer: reg,
		Limits:     limits,
	}))
	srv.Listener = testenv.SmallSendBuffers(srv.Listener)
	srv.Start()
	t.Cleanup(srv.Close)
	return srv, reg
}

// TestStalledScrapersDoNotBlockScrapes: clients that ask for the metrics
// and never read hold renderings, never the renderer, so however many
// they are every scrape is answered in full (issue 13: ten of them took
// all of promhttp's in-flight requests, and every scrape got 503).
func TestStalledScrapersDoNotBlockScrapes(t *testing.T) {
	src := sourceWith(manyPaths(500, "Found children (0) less than minimum (1)")) // 350 KB of text
	srv, reg := telemetryServer(t, src, web.Limits{WriteStall: time.Minute})
	stalled := testenv.StallRequests(t, srv.Listener.Addr().String(), "GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n", 20)
	client := &http.Client{Timeout: testenv.Scaled(10 * time.Second)}
	for i := range 10 {
		text, err := testenv.Scrape(client, srv.URL+"/metrics")
		if err != nil {
			t.Fatalf("scrape %d with 20 stalled scrapers: %v", i, err)
		}
		if !strings.Contains(text, "\nzk_monitor_watched_paths 500\n") {
			t.Fatalf("scrape %d is incomplete (%d bytes)", i, len(text))
		}
	}
	text, err := testenv.Scrape(client, srv.URL+"/metrics?name[]=zk_monitor_watched_paths")
	if err != nil || text != "# HELP zk_monitor_watched_paths Number of znode paths being monitored, glob matches included.\n# TYPE zk_monitor_watched_paths gauge\nzk_monitor_watched_paths 500\n" {
		t.Fatalf("a filtered scrape: %v\n%s", err, text)
	}
	if n := counter(t, reg, "zk_monitor_http_cut_responses_total", "metrics"); n != 0 {
		t.Fatalf("%v responses cut within a minute's WriteStall", n)
	}
	stalled.Close()
}

// TestScrapeMemoryBudget: while slow clients hold as many bytes of
// renderings as the budget allows, a scrape gets the latest rendering
// rather than a new one (and a filtered scrape, which cannot, a 503); once
// they are cut off, scrapes are rendered anew.
func TestScrapeMemoryBudget(t *testing.T) {
	src := sourceWith(manyPaths(500, "Found children (0) less than minimum (1)"))
	srv, reg := telemetryServer(t, src, web.Limits{ScrapeMemory: 1, WriteStall: testenv.Scaled(3 * time.Second)})
	client := &http.Client{Timeout: testenv.Scaled(10 * time.Second)}
	scrapeWatched := func() string {
		t.Helper()
		text, err := testenv.Scrape(client, srv.URL+"/metrics")
		if err != nil {
			t.Fatal(err)
		}
		i := strings.Index(text, "\nzk_monitor_watched_paths ")
		if i < 0 {
			t.Fatalf("no zk_monitor_watched_paths in %d bytes", len(text))
		}
		return strings.SplitN(text[i+1:], "\n", 2)[0]
	}
	if got := scrapeWatched(); got != "zk_monitor_watched_paths 500" {
		t.Fatal(got)
	}
	stalled := testenv.StallRequests(t, srv.Listener.Addr().String(), "GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n", 1)
	testenv.Eventually(t, 10*time.Second, 10*time.Millisecond, func() bool { return stalled.Answered() == 1 },
		"the stalled scrape was not answered")
	// Once the stalled scrape holds its rendering, a change is not shown:
	// the budget of one byte is used up.
	testenv.Eventually(t, 10*time.Second, 10*time.Millisecond, func() bool {
		scrapeWatched()
		return counter(t, reg, "zk_monitor_http_reused_scrapes_total", "") > 0
	}, "no scrape reused the latest rendering")
	src.set(manyPaths(600, "Found children (0) less than minimum (1)"))
	if got := scrapeWatched(); got != "zk_monitor_watched_paths 500" {
		t.Fatalf("a scrape with the budget used up got a new rendering: %s", got)
	}
	resp, err := client.Get(srv.URL + "/metrics?name[]=zk_monitor_watched_paths")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusServiceUnavailable || resp.Header.Get("Retry-After") != "1" {
		t.Fatalf("a filtered scrape with the budget used up: %s, Retry-After %q", resp.Status, resp.Header.Get("Retry-After"))
	}

	testenv.Eventually(t, 30*time.Second, 20*time.Millisecond, func() bool {
		return counter(t, reg, "zk_monitor_http_cut_responses_total", "metrics") == 1
	}, "the stalled scrape was not cut off")
	if got := scrapeWatched(); got != "zk_monitor_watched_paths 600" {
		t.Fatalf("once the stalled scrape was gone: %s", got)
	}
	stalled.Close()
}

// TestScrapesAreFresh: however many scrapes share renderings, each shows
// every change made before it was sent, as Prometheus and an operator
// checking a reload expect.
func TestScrapesAreFresh(t *testing.T) {
	src := sourceWith(manyPaths(100, "Found children (0) less than minimum (1)"))
	srv, _ := telemetryServer(t, src, web.Limits{})
	client := &http.Client{Timeout: testenv.Scaled(10 * time.Second)}
	stop := make(chan struct{})
	var others sync.WaitGroup
	for range 4 {
		others.Go(func() {
			for {
				select {
				case <-stop:
					return
				default:
				}
				testenv.Scrape(client, srv.URL+"/metrics")
			}
		})
	}
	defer func() { close(stop); others.Wait() }()
	for i := 1; i <= 20; i++ {
		src.set(manyPaths(100+i, "Found children (0) less than minimum (1)"))
		text, err := testenv.Scrape(client, srv.URL+"/metrics")
		if err != nil {
			t.Fatal(err)
		}
		if want := fmt.Sprintf("\nzk_monitor_watched_paths %d\n", 100+i); !strings.Contains(text, want) {
			t.Fatalf("change %d: the scrape after it does not show it (want %s)", i, strings.TrimSpace(want))
		}
	}
}
