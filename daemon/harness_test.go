package daemon_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/go-kit/log"
	toolkitweb "github.com/prometheus/exporter-toolkit/web"

	"github.com/zk-monitor/zk_monitor/daemon"
	"github.com/zk-monitor/zk_monitor/internal/testenv"
	"github.com/zk-monitor/zk_monitor/zkclient"
)

// waitFor bounds the tests' waits (testenv.Eventually stretches it by the
// scale knob; other waits wrap it in testenv.Scaled); pollEvery is how often
// they look.
const (
	waitFor   = 30 * time.Second
	pollEvery = 20 * time.Millisecond
)

// agent is a daemon running in-process.
type agent struct {
	t *testing.T
	// opts are the options the agent was started with.
	opts daemon.Options
	URL  string
	// URLs has one URL per listen address, URL being the first.
	URLs   []string
	Logs   *testenv.SyncBuffer
	cancel context.CancelFunc
	done   chan error
	reload chan struct{}
}

// baseOptions are fast-test defaults; callers set ZooKeeper and ConfigFile.
// No test here is about sessions: the session is long enough that an agent
// starved on a loaded machine keeps it (a graceful stop ends it at once).
func baseOptions(zkAddr, configFile string) daemon.Options {
	return daemon.Options{
		ConfigFile:          configFile,
		ZooKeeper:           zkAddr,
		SessionTimeout:      10 * time.Second,
		ClusterPrefix:       "/zk_monitor",
		ClusterName:         "test",
		AgentName:           "agent-" + strings.ReplaceAll(time.Now().Format("150405.000000000"), ".", ""),
		Web:                 &toolkitweb.FlagConfig{WebListenAddresses: &[]string{"127.0.0.1:0"}},
		TelemetryPath:       "/metrics",
		ResendInterval:      200 * time.Millisecond,
		AlertmanagerTimeout: 2 * time.Second,
	}
}

func startAgent(t *testing.T, opts daemon.Options) *agent {
	t.Helper()
	a := &agent{t: t, opts: opts, Logs: &testenv.SyncBuffer{}, done: make(chan error, 1), reload: make(chan struct{}, 1)}
	listeners := len(*opts.Web.WebListenAddresses)
	addr := make(chan string, listeners)
	opts.Ready = func(s string) { addr <- s }
	ctx, cancel := context.WithCancel(context.Background())
	a.cancel = cancel
	logger := log.NewLogfmtLogger(a.Logs)
	go func() { a.done <- daemon.Run(ctx, opts, logger, a.reload) }()
	for range listeners {
		select {
		case s := <-addr:
			a.URLs = append(a.URLs, "http://"+s)
		case err := <-a.done:
			t.Fatalf("daemon exited: %v\n%s", err, a.Logs.String())
		case <-time.After(testenv.Scaled(waitFor)):
			t.Fatal("daemon did not start listening")
		}
	}
	a.URL = a.URLs[0]
	t.Cleanup(func() {
		a.Stop()
		if t.Failed() {
			t.Logf("agent logs:\n%s", a.Logs.String())
		}
	})
	return a
}

// Stop shuts the agent down and waits for it; idempotent.
func (a *agent) Stop() error {
	a.cancel()
	select {
	case err, ok := <-a.done:
		if ok {
			close(a.done)
		}
		return err
	case <-time.After(testenv.Scaled(waitFor)):
		a.t.Error("daemon did not stop")
		return nil
	}
}

func (a *agent) get(path string) (int, string) {
	a.t.Helper()
	resp, err := http.Get(a.URL + path)
	if err != nil {
		a.t.Fatalf("GET %s: %v", path, err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(body)
}

// status decodes /status.
func (a *agent) status() map[string]any {
	a.t.Helper()
	code, body := a.get("/status")
	if code != http.StatusOK {
		a.t.Fatalf("/status: %d %s", code, body)
	}
	var doc map[string]any
	if err := json.Unmarshal([]byte(body), &doc); err != nil {
		a.t.Fatalf("/status is not JSON: %v\n%s", err, body)
	}
	return doc
}

func (a *agent) compliance() map[string]any {
	return a.status()["monitor"].(map[string]any)["compliance"].(map[string]any)
}

// admin is a plain ZooKeeper client for arranging znodes.
func admin(t *testing.T, addr string) *zkclient.Client {
	return testenv.ZKClient(t, zkclient.Options{ConnectString: addr})
}

func ensure(t *testing.T, c *zkclient.Client, paths ...string) {
	t.Helper()
	for _, p := range paths {
		if err := c.EnsurePath(p, zkclient.DigestACL("", "")); err != nil {
			t.Fatalf("create %s: %v", p, err)
		}
	}
}

func mustURL(t *testing.T, raw string) *url.URL {
	t.Helper()
	u, err := url.Parse(raw)
	if err != nil {
		t.Fatal(err)
	}
	return u
}
