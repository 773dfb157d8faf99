package zkclient_test

import (
	"strings"
	"testing"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/go-kit/log"
	"github.com/go-logfmt/logfmt"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/zk-monitor/zk_monitor/internal/testenv"
	"github.com/zk-monitor/zk_monitor/zkclient"
)

// TestNegotiatedSessionTimeout: the server clamps the timeout asked for
// (testenv's ZooKeeper allows 400 ms to 60 s); the client reports what was
// granted, which bounds the cluster's leadership lease. It reads it from the
// server's ConnectResponse, so it is known when the session is reported up.
func TestNegotiatedSessionTimeout(t *testing.T) {
	testenv.SkipIfShort(t, "needs a real ZooKeeper")
	zkServer := testenv.StartZooKeeper(t)
	for asked, granted := range map[time.Duration]time.Duration{
		2 * time.Second: 2 * time.Second,
		2 * time.Minute: time.Minute,
	} {
		c := testenv.ZKClient(t, zkclient.Options{ConnectString: zkServer.Addr(), SessionTimeout: asked})
		if got := c.NegotiatedSessionTimeout(); got != granted {
			t.Errorf("asked %s: granted %s, want %s", asked, got, granted)
		}
	}
}

func TestNewRejectsBadOptions(t *testing.T) {
	cases := map[string]zkclient.Options{
		"empty ZooKeeper connect string":                         {SessionTimeout: time.Second},
		"session timeout must be positive, got 0s":               {ConnectString: "localhost:2181"},
		"ZooKeeper digest auth needs both a user and a password": {ConnectString: "localhost:2181", SessionTimeout: time.Second, Username: "u"},
		"ZooKeeper user must not contain ':'":                    {ConnectString: "localhost:2181", SessionTimeout: time.Second, Username: "a:b", Password: "p"},
	}
	for want, opts := range cases {
		if _, err := zkclient.New(opts); err == nil || err.Error() != want {
			t.Errorf("New(%+v) = %v, want %q", opts, err, want)
		}
	}
}

func TestSeed(t *testing.T) {
	testenv.SkipIfShort(t, "needs a real ZooKeeper")
	zkServer := testenv.StartZooKeeper(t)
	root := testenv.ZKClient(t, zkclient.Options{ConnectString: zkServer.Addr()})
	// As with the Java client, the chroot itself must exist.
	if err := root.EnsurePath("/tenant", zkclient.DigestACL("", "")); err != nil {
		t.Fatal(err)
	}
	opts := zkclient.Options{ConnectString: zkServer.Addr() + "/tenant", SessionTimeout: 5 * time.Second}
	if err := zkclient.Seed(opts, []string{"/a/b/c", "/a/d"}, false); err != nil {
		t.Fatal(err)
	}
	children, _, err := root.Children("/tenant/a")
	if err != nil || len(children) != 2 {
		t.Fatalf("children of /tenant/a = %v, %v; want b and d under the chroot", children, err)
	}
	if err := zkclient.Seed(opts, []string{"/a", "/never-created"}, true); err != nil {
		t.Fatal(err)
	}
	if ok, _, err := root.Exists("/tenant/a"); ok || err != nil {
		t.Fatalf("/tenant/a still exists (%v) after deleting it", err)
	}
	if err := zkclient.Seed(opts, []string{"relative"}, false); err == nil {
		t.Fatal("a relative path must be refused")
	}
}

// TestLogLines: every line the client logs, its own and go-zookeeper's
// (at debug level, under the key library), has each key once beside the
// caller's own keys, and a message that starts in lower case unless it
// starts with ZooKeeper.
func TestLogLines(t *testing.T) {
	testenv.SkipIfShort(t, "needs a real ZooKeeper")
	zkServer := testenv.StartZooKeeper(t)
	proxy := testenv.NewProxy(t, zkServer.Addr())
	logs := &testenv.SyncBuffer{}
	logger := log.With(log.NewLogfmtLogger(logs), "component", "zookeeper")
	c := testenv.ZKClient(t, zkclient.Options{ConnectString: proxy.Addr() + ",127.0.0.1:1", SessionTimeout: 4 * time.Second, Logger: logger})
	proxy.Cut()
	testenv.Eventually(t, 10*time.Second, time.Millisecond, func() bool { return !c.Connected() }, "the cut was not noticed")
	proxy.Restore()
	testenv.Eventually(t, 10*time.Second, time.Millisecond, c.Connected, "no reconnect")
	c.Close()

	dec := logfmt.NewDecoder(strings.NewReader(logs.String()))
	lines, library := 0, 0
	for dec.ScanRecord() {
		lines++
		seen := map[string]bool{}
		for dec.ScanKeyval() {
			key, value := string(dec.Key()), string(dec.Value())
			if seen[key] {
				t.Errorf("line %d: key %s twice", lines, key)
			}
			seen[key] = true
			if key == "library" {
				library++
			}
			if r, _ := utf8.DecodeRuneInString(value); key == "msg" && unicode.IsUpper(r) && !strings.HasPrefix(value, "ZooKeeper") {
				t.Errorf("line %d: message %q starts in upper case", lines, value)
			}
		}
	}
	if err := dec.Err(); err != nil {
		t.Fatal(err)
	}
	if library == 0 || lines == library {
		t.Errorf("%d lines, %d of them go-zookeeper's: want both kinds\n%s", lines, library, logs)
	}
}

// TestMetricsFromTheStart: every counter family is exported before the
// first session, with a zero series per label value, so that rate() and
// the deploy files' queries work from the first scrape.
func TestMetricsFromTheStart(t *testing.T) {
	reg := prometheus.NewRegistry()
	c, err := zkclient.New(zkclient.Options{ConnectString: "127.0.0.1:1", SessionTimeout: time.Second, Registerer: reg})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	families, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	series := map[string]int{}
	for _, f := range families {
		series[f.GetName()] = len(f.GetMetric())
	}
	for name, want := range map[string]int{
		"zk_monitor_zookeeper_connected":                    1,
		"zk_monitor_zookeeper_reconnects_total":             1,
		"zk_monitor_zookeeper_session_expirations_total":    1,
		"zk_monitor_zookeeper_watch_restore_failures_total": 1,
		"zk_monitor_zookeeper_watch_events_total":           4,
		"zk_monitor_zookeeper_requests_total":               7, // children, exists, get, set, create, delete, check
		"zk_monitor_zookeeper_request_failures_total":       7,
	} {
		if series[name] != want {
			t.Errorf("%s: %d series before the first session, want %d", name, series[name], want)
		}
	}
}
