package web_test

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"reflect"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/version"

	"github.com/zk-monitor/zk_monitor/collector"
	"github.com/zk-monitor/zk_monitor/compliance"
	"github.com/zk-monitor/zk_monitor/config"
	"github.com/zk-monitor/zk_monitor/logging"
	"github.com/zk-monitor/zk_monitor/web"
)

// fakeSource is a fixed snapshot; the daemon tests run the real watcher.
type fakeSource struct {
	states    []*collector.PathState
	connected bool
}

func (f fakeSource) Snapshot() []*collector.PathState { return f.states }
func (f fakeSource) Connected() bool                  { return f.connected }
func (f fakeSource) Generation() uint64               { return 0 }

// changingSource is a snapshot a test changes; every change moves its
// generation, as the Watcher's does.
type changingSource struct {
	mu     sync.Mutex
	states []*collector.PathState
	gen    uint64
}

func (s *changingSource) Snapshot() []*collector.PathState {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.states
}

func (s *changingSource) Connected() bool { return true }

func (s *changingSource) Generation() uint64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.gen
}

func sourceWith(states []*collector.PathState) *changingSource {
	s := &changingSource{}
	s.set(states)
	return s
}

func (s *changingSource) set(states []*collector.PathState) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.states = states
	s.gen++
}

// manyPaths are n paths in error, each with msg: about 80 bytes of /status
// and 700 of /metrics per path.
func manyPaths(n int, msg string) []*collector.PathState {
	one := 1
	states := make([]*collector.PathState, n)
	for i := range states {
		states[i] = &collector.PathState{
			Spec:        config.PathSpec{Path: fmt.Sprintf("/many/instance-%06d", i), MinChildren: &one},
			Observation: compliance.Observation{Known: true, Exists: true},
			Result:      compliance.Result{State: compliance.Error, Message: msg},
		}
	}
	return states
}

// counter reads one series of a counter family.
func counter(t *testing.T, g prometheus.Gatherer, name, handler string) float64 {
	t.Helper()
	families, err := g.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range families {
		if f.GetName() != name {
			continue
		}
		for _, m := range f.GetMetric() {
			if handler == "" || (len(m.GetLabel()) == 1 && m.GetLabel()[0].GetValue() == handler) {
				return m.GetCounter().GetValue()
			}
		}
	}
	t.Fatalf("no series %s{handler=%q}", name, handler)
	return 0
}

func pathState(path string, state compliance.State, msg string, children int, known bool) *collector.PathState {
	return &collector.PathState{
		Spec:        config.PathSpec{Path: path},
		Observation: compliance.Observation{Known: known, Exists: known, Children: children},
		Result:      compliance.Result{State: state, Message: msg},
	}
}

func serve(t *testing.T, h http.Handler, method, target, accept string) (*http.Response, string) {
	t.Helper()
	req := httptest.NewRequest(method, target, nil)
	if accept != "" {
		req.Header.Set("Accept", accept)
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	resp := rec.Result()
	body, _ := io.ReadAll(resp.Body)
	return resp, string(body)
}

// TestLandingPage: the page a browser gets at / in the exporter-toolkit
// style: the name, version and description, links to the metrics (at the
// configured telemetry path), the status view, readiness and health, and
// a compliance table with one escaped row per path.
func TestLandingPage(t *testing.T) {
	src := fakeSource{connected: true, states: []*collector.PathState{
		pathState("/services/foo/min_0", compliance.OK, compliance.MsgOK, 0, true),
		pathState("/services/foo/min_3", compliance.Error, "Found children (2) less than minimum (3)", 2, true),
		pathState("/never/read", compliance.Unknown, compliance.MsgNeverRead, 0, false),
		pathState("/odd/<b>name</b>", compliance.Unknown, compliance.MsgNoChecks, 1, true),
	}}
	h := web.NewHandler(web.Options{
		Source:        src,
		Version:       "1.2.3",
		TelemetryPath: "/custom-metrics",
		Gatherer:      prometheus.NewRegistry(),
		Alerting:      func() bool { return true },
	})

	resp, body := serve(t, h, "GET", "/", "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8")
	if resp.StatusCode != http.StatusOK || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/html") {
		t.Fatalf("GET /: %d %s", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	for _, want := range []string{
		"<title>zk_monitor</title>",
		"<h1>zk_monitor</h1>",
		"version 1.2.3",
		`<a href="/custom-metrics">Metrics</a>`,
		`<a href="/status">Status (JSON)</a>`,
		`<a href="/-/ready">Readiness</a>`,
		`<a href="/-/healthy">Health</a>`,
		"ZooKeeper connected: <b>true</b>",
		"this agent sends alerts: <b>true</b>",
		"<tr><th>Path</th><th>State</th><th>Children</th><th>Message</th></tr>",
		`<tr><td>/services/foo/min_0</td><td class="ok">ok</td><td>0</td><td>All checks pass.</td></tr>`,
		`<tr><td>/services/foo/min_3</td><td class="error">error</td><td>2</td><td>Found children (2) less than minimum (3)</td></tr>`,
		`<tr><td>/never/read</td><td class="unknown">unknown</td><td>-</td><td>No data has been read from ZooKeeper for this path yet.</td></tr>`,
		`<td>/odd/&lt;b&gt;name&lt;/b&gt;</td>`,
	} {
		if !strings.Contains(body, want) {
			t.Errorf("landing page lacks %q", want)
		}
	}
	if strings.Contains(body, "<b>name</b>") {
		t.Error("a path is not HTML-escaped")
	}
	if rows := regexp.MustCompile(`<tr><td>`).FindAllString(body, -1); len(rows) != 4 {
		t.Errorf("%d table rows, want 4", len(rows))
	}

	// No paths: the table says so.
	empty := web.NewHandler(web.Options{Source: fakeSource{}, Version: "1.2.3", Gatherer: prometheus.NewRegistry()})
	_, body = serve(t, empty, "GET", "/", "")
	if !strings.Contains(body, "No paths are configured.") || !strings.Contains(body, `<a href="/metrics">`) {
		t.Errorf("empty landing page:\n%s", body)
	}

	// The original's root answered JSON: clients asking for it still get it.
	resp, body = serve(t, h, "GET", "/", "application/json")
	var doc map[string]string
	if err := json.Unmarshal([]byte(body), &doc); err != nil || doc["version"] != "1.2.3" || len(doc) != 1 {
		t.Errorf("GET / as JSON: %s %q", resp.Header.Get("Content-Type"), body)
	}
}

func TestStatusDocument(t *testing.T) {
	src := fakeSource{connected: false, states: []*collector.PathState{
		pathState("/b", compliance.Error, "Found children (0) less than minimum (1)", 0, true),
		pathState("/a", compliance.OK, compliance.MsgOK, 1, true),
		pathState("/c", compliance.Unknown, compliance.MsgNoChecks, 0, true),
	}}
	h := web.NewHandler(web.Options{Source: src, Version: "1.2.3", Gatherer: prometheus.NewRegistry()})
	for _, p := range []string{"/status", "/state"} {
		resp, body := serve(t, h, "GET", p, "")
		want := `{
    "monitor": {
        "alerter": {
            "alerting": false
        },
        "compliance": {
            "/a": true,
            "/b": "Found children (0) less than minimum (1)",
            "/c": "No information is available about this path."
        }
    },
    "version": "1.2.3",
    "zookeeper": {
        "connected": false
    }
}
`
		if body != want || resp.Header.Get("Content-Type") != "application/json; charset=utf-8" {
			t.Errorf("GET %s: %s\n%s\nwant\n%s", p, resp.Header.Get("Content-Type"), body, want)
		}
	}
}

// TestStatusStat: paths with checks on the Stat also show, under
// monitor.stat, what those checks looked at, the owner's session in hex
// first; the others do not appear there.
func TestStatusStat(t *testing.T) {
	owned := pathState("/controller", compliance.OK, compliance.MsgOK, 0, true)
	owned.Spec.Ephemeral = new(true)
	owned.Observation.EphemeralOwner = 0x100000a1b2c0005
	owned.Observation.DataLength = 7
	owned.Observation.Modified = time.Date(2026, 3, 4, 12, 0, 0, 5e6, time.FixedZone("CET", 3600))
	persistent := pathState("/hb", compliance.Error, "Path is persistent but should be ephemeral", 0, true)
	persistent.Spec.MaxAge = time.Minute
	persistent.Observation.Modified = time.Date(2026, 3, 4, 11, 0, 0, 0, time.UTC)
	gone := pathState("/gone", compliance.Error, "Path does not exist", 0, true)
	gone.Spec.Ephemeral = new(true)
	gone.Observation.Exists = false
	src := fakeSource{connected: true, states: []*collector.PathState{
		owned, persistent, gone,
		pathState("/plain", compliance.OK, compliance.MsgOK, 1, true),
	}}
	h := web.NewHandler(web.Options{Source: src, Version: "1.2.3", Gatherer: prometheus.NewRegistry()})
	_, body := serve(t, h, "GET", "/status", "")
	var doc struct {
		Monitor struct {
			Stat map[string]map[string]any `json:"stat"`
		} `json:"monitor"`
	}
	if err := json.Unmarshal([]byte(body), &doc); err != nil {
		t.Fatal(err)
	}
	want := map[string]map[string]any{
		"/controller": {"ephemeral_owner": "0x100000a1b2c0005", "data_bytes": 7.0, "modified": "2026-03-04T11:00:00.005Z"},
		"/hb":         {"ephemeral_owner": "0x0", "data_bytes": 0.0, "modified": "2026-03-04T11:00:00.000Z"},
	}
	if !reflect.DeepEqual(doc.Monitor.Stat, want) {
		t.Errorf("monitor.stat = %v, want %v", doc.Monitor.Stat, want)
	}
}

func TestMethodsAndReload(t *testing.T) {
	var reloads int
	reloadErr := error(nil)
	opts := web.Options{Source: fakeSource{}, Version: "x", Gatherer: prometheus.NewRegistry()}
	disabled := web.NewHandler(opts)
	opts.Reload = func() error { reloads++; return reloadErr }
	enabled := web.NewHandler(opts)

	cases := []struct {
		name     string
		h        http.Handler
		method   string
		path     string
		wantCode int
		wantBody string
		allow    string
	}{
		{"reload disabled", disabled, "POST", "/-/reload", 403, "--web.enable-lifecycle", ""},
		{"reload by GET", enabled, "GET", "/-/reload", 405, "use POST", "POST, PUT"},
		{"reload", enabled, "POST", "/-/reload", 200, "Config reloaded.", ""},
		{"reload by PUT", enabled, "PUT", "/-/reload", 200, "Config reloaded.", ""},
		{"status by POST", enabled, "POST", "/status", 405, "use GET or HEAD", "GET, HEAD"},
		{"landing by DELETE", enabled, "DELETE", "/", 405, "", "GET, HEAD"},
		{"metrics", enabled, "GET", "/metrics", 200, "", ""},
		{"metrics by HEAD", enabled, "HEAD", "/metrics", 200, "", ""},
		{"metrics by PUT", enabled, "PUT", "/metrics", 405, "use GET or HEAD", "GET, HEAD"},
		{"metrics by DELETE", enabled, "DELETE", "/metrics", 405, "use GET or HEAD", "GET, HEAD"},
		{"metrics by TRACE", enabled, "TRACE", "/metrics", 405, "use GET or HEAD", "GET, HEAD"},
		{"metrics by OPTIONS", enabled, "OPTIONS", "/metrics", 405, "use GET or HEAD", "GET, HEAD"},
		{"metrics by POST", enabled, "POST", "/metrics", 405, "use GET or HEAD", "GET, HEAD"},
		{"healthy", enabled, "GET", "/-/healthy", 200, "Healthy.", ""},
		{"ready without a readiness func", enabled, "GET", "/-/ready", 200, "Ready.", ""},
		{"unknown page", enabled, "GET", "/nope", 404, "", ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			resp, body := serve(t, tc.h, tc.method, tc.path, "")
			if resp.StatusCode != tc.wantCode || !strings.Contains(body, tc.wantBody) || resp.Header.Get("Allow") != tc.allow {
				t.Fatalf("%s %s: %d %q Allow %q, want %d containing %q Allow %q",
					tc.method, tc.path, resp.StatusCode, body, resp.Header.Get("Allow"), tc.wantCode, tc.wantBody, tc.allow)
			}
		})
	}
	if reloads != 2 {
		t.Errorf("%d reloads, want 2", reloads)
	}

	reloadErr = errors.New("paths.yaml:2: path /a: key chidlren: unknown key")
	resp, body := serve(t, enabled, "POST", "/-/reload", "")
	if resp.StatusCode != http.StatusInternalServerError || !strings.Contains(body, "failed to reload config: paths.yaml:2: path /a: key chidlren: unknown key") {
		t.Errorf("failed reload: %d %q", resp.StatusCode, body)
	}

	notReady := web.NewHandler(web.Options{Source: fakeSource{}, Gatherer: prometheus.NewRegistry(), Ready: func() bool { return false }})
	if resp, _ := serve(t, notReady, "GET", "/-/ready", ""); resp.StatusCode != http.StatusServiceUnavailable {
		t.Errorf("not ready: %d, want 503", resp.StatusCode)
	}
}

// TestMetricsErrorLogged: a failing collector is logged once as an error
// record with a constant message, the gatherer's error under err and the
// telemetry handler as the caller.
func TestMetricsErrorLogged(t *testing.T) {
	var logs strings.Builder
	logger, err := logging.New(logging.Config{Level: "error"}, &logs)
	if err != nil {
		t.Fatal(err)
	}
	broken := prometheus.GathererFunc(func() ([]*dto.MetricFamily, error) { return nil, errors.New("collector broke") })
	h := web.NewHandler(web.Options{Source: fakeSource{}, Gatherer: broken, Logger: logger})
	serve(t, h, http.MethodGet, "/metrics", "")
	line := strings.TrimSpace(logs.String())
	want := regexp.MustCompile(`^ts=\S+ level=error caller=telemetry\.go:\d+ msg="gathering metrics failed" err="collector broke"$`)
	if !want.MatchString(line) {
		t.Errorf("log %q does not match %s", line, want)
	}
}

// clusterStatus has the JSON shape of cluster.Status, which the daemon's
// Options.Cluster returns.
type clusterStatus struct {
	Name     string   `json:"name"`
	Agent    string   `json:"agent"`
	Leader   string   `json:"leader"`
	Agents   []string `json:"agents"`
	IsLeader bool     `json:"is_leader"`
}

// TestLandingPageCluster: the landing page names the cluster, its leader
// and agents, and the revision the binary was built from.
func TestLandingPageCluster(t *testing.T) {
	old := version.Revision
	version.Revision = "abc1234"
	t.Cleanup(func() { version.Revision = old })
	tests := []struct {
		name    string
		cluster func() any
		want    []string
		notWant []string
	}{
		{
			name: "with a leader",
			cluster: func() any {
				return clusterStatus{Name: "team-a", Agent: "agent-2", Leader: "agent-1", Agents: []string{"agent-1", "agent-2", "agent-<3>"}}
			},
			want: []string{"Cluster <b>team-a</b>", "leader: <b>agent-1</b>", "3 agents: agent-1 agent-2 agent-&lt;3&gt;", "this agent: agent-2", "(revision abc1234)"},
		},
		{
			name:    "without a leader",
			cluster: func() any { return clusterStatus{Name: "team-b", Agent: "agent-9", Agents: []string{"agent-9"}} },
			want:    []string{"Cluster <b>team-b</b>", "leader: <b>none</b>", "1 agent: agent-9"},
		},
		{
			name:    "no cluster",
			want:    []string{"(revision abc1234)"},
			notWant: []string{"Cluster <b>"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := web.NewHandler(web.Options{Source: fakeSource{connected: true}, Version: "1.2.3", Gatherer: prometheus.NewRegistry(), Cluster: tt.cluster})
			_, body := serve(t, h, "GET", "/", "text/html")
			for _, want := range tt.want {
				if !strings.Contains(body, want) {
					t.Errorf("landing page lacks %q:\n%s", want, body)
				}
			}
			for _, no := range tt.notWant {
				if strings.Contains(body, no) {
					t.Errorf("landing page has %q:\n%s", no, body)
				}
			}
		})
	}
}
