package logging

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"net"
	"net/http"
	"regexp"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/go-kit/log/level"
	toolkitweb "github.com/prometheus/exporter-toolkit/web"

	"github.com/zk-monitor/zk_monitor/internal/testenv"
)

func TestLevelsAndFormats(t *testing.T) {
	cases := []struct {
		cfg          Config
		wantErr      string
		logs, absent []string
	}{
		{cfg: Config{Level: "INFO"}, logs: []string{`level=info caller=logging_test.go:\d+ msg=shown`, `level=warn caller=logging_test.go:\d+ msg=warned`}, absent: []string{"hidden"}},
		{cfg: Config{Level: "warn"}, logs: []string{`level=warn .*msg=warned`}, absent: []string{"shown", "hidden"}},
		{cfg: Config{Level: "Warning"}, logs: []string{`level=warn .*msg=warned`}, absent: []string{"shown"}},
		{cfg: Config{Level: "debug", Format: "json"}, logs: []string{`"level":"debug"`, `"msg":"hidden"`}},
		{cfg: Config{Level: "ERROR"}, absent: []string{"shown", "warned", "hidden"}},
		{cfg: Config{Level: "loud"}, wantErr: `unknown log level "loud"`},
		{cfg: Config{Level: "info", Format: "xml"}, wantErr: `unknown log format "xml"`},
		{cfg: Config{Level: "info", SyslogFacility: "local9"}, wantErr: `unknown syslog facility "local9"`},
	}
	for _, tc := range cases {
		t.Run(tc.cfg.Level+"/"+tc.cfg.Format+tc.cfg.SyslogFacility, func(t *testing.T) {
			var buf bytes.Buffer
			logger, err := New(tc.cfg, &buf)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("err = %v, want %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			level.Debug(logger).Log("msg", "hidden")
			level.Info(logger).Log("msg", "shown")
			level.Warn(logger).Log("msg", "warned")
			for _, s := range tc.logs {
				if !regexp.MustCompile(s).MatchString(buf.String()) {
					t.Errorf("missing %q in:\n%s", s, buf.String())
				}
			}
			for _, s := range tc.absent {
				if strings.Contains(buf.String(), "msg="+s) || strings.Contains(buf.String(), `"msg":"`+s) {
					t.Errorf("%q should be filtered out:\n%s", s, buf.String())
				}
			}
		})
	}
}

// TestSyslog sends through a real UDP socket, as the original's -s did.
func TestSyslog(t *testing.T) {
	conn, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	logger, err := New(Config{Level: "info", SyslogFacility: "local0", SyslogAddress: conn.LocalAddr().String()}, nil)
	if err != nil {
		t.Fatal(err)
	}
	level.Warn(logger).Log("msg", "to syslog")
	buf := make([]byte, 2048)
	conn.SetReadDeadline(time.Now().Add(testenv.Scaled(5 * time.Second)))
	n, _, err := conn.ReadFrom(buf)
	if err != nil {
		t.Fatal(err)
	}
	got := string(buf[:n])
	// local0 (16) * 8 + warning (4) = 132.
	if !strings.HasPrefix(got, "<132>") || !strings.Contains(got, "zk_monitor") || !strings.Contains(got, `msg="to syslog"`) {
		t.Fatalf("syslog datagram = %q", got)
	}
}

// line returns the line after the call, where the test logs.
func line() int {
	_, _, l, _ := runtime.Caller(1)
	return l + 1
}

// jsonLines decodes JSON log output, one record per line.
func jsonLines(t *testing.T, out string) []map[string]any {
	t.Helper()
	var recs []map[string]any
	for _, l := range strings.Split(strings.TrimSpace(out), "\n") {
		var rec map[string]any
		if err := json.Unmarshal([]byte(l), &rec); err != nil {
			t.Fatalf("not a JSON record: %q: %v", l, err)
		}
		recs = append(recs, rec)
	}
	return recs
}

// TestSlogBridge: records through the *slog.Logger adapter keep their
// level, attribute types and groups, and name the code that logged.
func TestSlogBridge(t *testing.T) {
	var buf bytes.Buffer
	logger, err := New(Config{Level: "info", Format: "json"}, &buf)
	if err != nil {
		t.Fatal(err)
	}
	s := Slog(logger).With("component", "toolkit", "ready", true).WithGroup("tls")
	s.Debug("dropped")
	at := line()
	s.Log(context.Background(), slog.LevelError, "handshake failed", "remote", "127.0.0.1", "http2", false, "tries", 3,
		slog.Group("cert", "expired", true, slog.Group("", "inlined", 1.5)), slog.Attr{}, slog.Group("empty"))
	recs := jsonLines(t, buf.String())
	if len(recs) != 1 {
		t.Fatalf("want only the error record, got %v", recs)
	}
	want := map[string]any{
		"level": "error", "msg": "handshake failed", "caller": fmt.Sprintf("logging_test.go:%d", at),
		"component": "toolkit", "ready": true,
		"tls.remote": "127.0.0.1", "tls.http2": false, "tls.tries": float64(3),
		"tls.cert.expired": true, "tls.cert.inlined": 1.5,
	}
	got := recs[0]
	delete(got, "ts")
	if !maps.Equal(got, want) {
		t.Errorf("record\n got  %v\n want %v", got, want)
	}
}

// TestErrorLog: lines of a standard library logger become error records
// with a constant message, the line under err, and the real caller.
func TestErrorLog(t *testing.T) {
	var buf bytes.Buffer
	logger, err := New(Config{Level: "error"}, &buf)
	if err != nil {
		t.Fatal(err)
	}
	l := ErrorLog(logger, "library failed")
	at := line()
	l.Printf("disk %s is full", "sda")
	want := fmt.Sprintf(`level=error caller=logging_test.go:%d msg="library failed" err="disk sda is full"`, at)
	if got := strings.TrimSpace(buf.String()); !strings.HasSuffix(got, want) || strings.Count(got, "\n") != 0 {
		t.Errorf("got %q, want one line ending in %q", got, want)
	}
}

// TestAdaptedLibrariesNameTheirCaller runs the real libraries the daemon
// adapts loggers for: exporter-toolkit through Slog, net/http through
// ErrorLog. Their lines name the library's file, never this package's.
func TestAdaptedLibrariesNameTheirCaller(t *testing.T) {
	var buf testenv.SyncBuffer
	logger, err := New(Config{Level: "info", Format: "json"}, &buf)
	if err != nil {
		t.Fatal(err)
	}

	// exporter-toolkit logs "Listening on" and "TLS is disabled." from Serve.
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	// A handler panic is reported by net/http through the server's ErrorLog.
	panics := http.HandlerFunc(func(http.ResponseWriter, *http.Request) { panic("boom") })
	srv := &http.Server{Handler: panics, ErrorLog: ErrorLog(logger, "http server error")}
	webConfig := ""
	served := make(chan error, 1)
	go func() {
		served <- toolkitweb.Serve(l, srv, &toolkitweb.FlagConfig{WebConfigFile: &webConfig}, Slog(logger))
	}()
	var out string
	testenv.Eventually(t, 10*time.Second, 10*time.Millisecond, func() bool {
		if resp, err := http.Get("http://" + l.Addr().String()); err == nil {
			resp.Body.Close()
		}
		out = buf.String()
		return strings.Contains(out, "boom")
	}, "net/http logged no panic:\n%s", testenv.Last(&out))
	srv.Close()
	if err := <-served; !errors.Is(err, http.ErrServerClosed) {
		t.Fatalf("Serve: %v", err)
	}

	seen := map[string]bool{}
	for _, rec := range jsonLines(t, buf.String()) {
		msg, _ := rec["msg"].(string)
		caller, _ := rec["caller"].(string)
		seen[msg] = true
		switch msg {
		case "Listening on":
			if !strings.HasPrefix(caller, "tls_config.go:") {
				t.Errorf("%q: caller %q, want exporter-toolkit's tls_config.go", msg, caller)
			}
		case "TLS is disabled.":
			if rec["http2"] != false {
				t.Errorf("%q: http2 = %#v, want the boolean false", msg, rec["http2"])
			}
		case "http server error":
			if !strings.HasPrefix(caller, "server.go:") || !strings.Contains(rec["err"].(string), "boom") || rec["level"] != "error" {
				t.Errorf("net/http's line: %v, want level error, caller server.go and the panic under err", rec)
			}
		}
		if strings.HasPrefix(caller, "logging.go:") {
			t.Errorf("%q names the adapter as its caller: %v", msg, rec)
		}
	}
	for _, msg := range []string{"Listening on", "TLS is disabled.", "http server error"} {
		if !seen[msg] {
			t.Errorf("no %q record in:\n%s", msg, buf.String())
		}
	}
}
