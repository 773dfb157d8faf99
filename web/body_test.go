package web_test

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/zk-monitor/zk_monitor/internal/testenv"
	"github.com/zk-monitor/zk_monitor/web"
)

// TestGzip: every big page is served gzipped to clients that accept it
// (by name or "*", with a quality above 0), plain to the others, with the
// same content, its length, and Vary: Accept-Encoding.
func TestGzip(t *testing.T) {
	src := sourceWith(manyPaths(50, "Found children (0) less than minimum (1)"))
	h := web.NewHandler(web.Options{Source: src, Version: "1.2.3", Gatherer: prometheus.NewRegistry()})
	cases := []struct {
		acceptEncoding string
		gzip           bool
	}{
		{"", false},
		{"gzip", true},
		{"GZip", true},
		{"deflate, gzip;q=0.5", true},
		{"gzip;q=0", false},
		{"gzip; q=0.0", false},
		{"*", true},
		{"*;q=0", false},
		{"gzip;q=0, *", false},
		{"*, gzip;q=0", false},
		{"identity", false},
		{"br, zstd", false},
		{"gzip;q=nonsense", false},
	}
	for _, path := range []string{"/status", "/", "/metrics"} {
		_, plain := serve(t, h, "GET", path, "")
		for _, tc := range cases {
			t.Run(path+" "+tc.acceptEncoding, func(t *testing.T) {
				req := httptest.NewRequest("GET", path, nil)
				req.Header.Set("Accept-Encoding", tc.acceptEncoding)
				rec := httptest.NewRecorder()
				h.ServeHTTP(rec, req)
				resp := rec.Result()
				raw, _ := io.ReadAll(resp.Body)
				if got := resp.Header.Get("Content-Encoding") == "gzip"; got != tc.gzip {
					t.Fatalf("Content-Encoding %q, want gzip %v", resp.Header.Get("Content-Encoding"), tc.gzip)
				}
				if resp.Header.Get("Content-Length") != strconv.Itoa(len(raw)) || !strings.Contains(strings.Join(resp.Header.Values("Vary"), ","), "Accept-Encoding") {
					t.Fatalf("Content-Length %q for %d bytes, Vary %q", resp.Header.Get("Content-Length"), len(raw), resp.Header.Values("Vary"))
				}
				body := raw
				if tc.gzip {
					zr, err := gzip.NewReader(bytes.NewReader(raw))
					if err != nil {
						t.Fatal(err)
					}
					if body, err = io.ReadAll(zr); err != nil {
						t.Fatal(err)
					}
				}
				if string(body) != plain {
					t.Fatalf("the body differs from the plain one:\n%.300s", body)
				}
			})
		}
	}
}

// TestWriteDeadlines: a client that reads steadily gets a big answer even
// when that takes longer than WriteStall, since every chunk it takes moves
// the deadline; a client that reads a trickle too slowly is cut off at
// WriteTotal.
func TestWriteDeadlines(t *testing.T) {
	src := sourceWith(manyPaths(20000, "Found children (0) less than minimum (1)")) // 1.6 MB of /status
	cases := []struct {
		name          string
		stall, total  time.Duration
		wantCompleted bool
	}{
		{"longer than the stall", time.Second, time.Minute, true},
		{"longer than the total", time.Minute, 200 * time.Millisecond, false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			reg := prometheus.NewRegistry()
			srv := httptest.NewUnstartedServer(web.NewHandler(web.Options{
				Source:     src,
				Gatherer:   reg,
				Registerer: reg,
				Limits:     web.Limits{WriteStall: testenv.Scaled(tc.stall), WriteTotal: tc.total},
			}))
			srv.Listener = testenv.SmallSendBuffers(srv.Listener)
			srv.Start()
			t.Cleanup(srv.Close)
			start := time.Now()
			n, err := slowRead(srv.Listener.Addr().String(), "/status")
			took := time.Since(start)
			if tc.wantCompleted {
				if err != nil {
					t.Fatalf("an honest slow client got %d bytes in %v, then %v", n, took, err)
				}
				if took < testenv.Scaled(tc.stall) {
					t.Fatalf("the answer took %v, less than the stall deadline: nothing shown", took)
				}
				return
			}
			if err == nil {
				t.Fatalf("a client reading a trickle got all %d bytes in %v, past WriteTotal %v", n, took, tc.total)
			}
			testenv.Eventually(t, 10*time.Second, 10*time.Millisecond, func() bool {
				return counter(t, reg, "zk_monitor_http_cut_responses_total", "status") == 1
			}, "the cut response is not counted")
		})
	}
}

// slowRead GETs path on a fresh connection and reads the answer 16 KiB
// every 20 ms; it returns the body bytes read and an error if the answer
// ended before its Content-Length.
func slowRead(addr, path string) (int, error) {
	conn, err := net.Dial("tcp", addr)
	if err != nil {
		return 0, err
	}
	defer conn.Close()
	if _, err := fmt.Fprintf(conn, "GET %s HTTP/1.1\r\nHost: x\r\n\r\n", path); err != nil {
		return 0, err
	}
	resp, err := http.ReadResponse(bufio.NewReaderSize(conn, 16<<10), nil)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	total := 0
	buf := make([]byte, 16<<10)
	for {
		n, err := io.ReadFull(resp.Body, buf)
		total += n
		if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) && int64(total) == resp.ContentLength {
			return total, nil
		}
		if err != nil {
			return total, err
		}
		time.Sleep(20 * time.Millisecond)
	}
}
