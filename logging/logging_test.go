package logging

import (
	"bytes"
	"context"
	"log/slog"
	"net"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/go-kit/log/level"

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

func TestSlogBridge(t *testing.T) {
	var buf bytes.Buffer
	logger, err := New(Config{Level: "info"}, &buf)
	if err != nil {
		t.Fatal(err)
	}
	s := Slog(logger).With("component", "toolkit").WithGroup("tls")
	s.Debug("dropped")
	s.Log(context.Background(), slog.LevelError, "handshake failed", "remote", "127.0.0.1")
	out := buf.String()
	if strings.Contains(out, "dropped") {
		t.Errorf("debug record passed the info filter:\n%s", out)
	}
	for _, want := range []string{"level=error", `msg="handshake failed"`, "component=toolkit", "tls.remote=127.0.0.1"} {
		if !strings.Contains(out, want) {
			t.Errorf("missing %q in %s", want, out)
		}
	}
}
