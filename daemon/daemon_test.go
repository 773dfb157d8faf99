package daemon_test

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"reflect"
	"sort"
	"strings"
	"testing"

	"github.com/zk-monitor/zk_monitor/internal/testenv"
)

// TestSeedReadmeStatus runs the original README's example end to end: its
// YAML, its znodes, and exactly the /status compliance map it shows, kept
// live by watches.
func TestSeedReadmeStatus(t *testing.T) {
	zkServer := testenv.StartZooKeeper(t)
	c := admin(t, zkServer.Addr())
	ensure(t, c, "/services/foo/min_1", "/services/foo/min_0", "/services/foo/min_3/host1", "/services/foo/min_3/host2")
	a := startAgent(t, baseOptions(zkServer.Addr(), "../examples/legacy.yaml"))

	want := map[string]any{
		"/services/foo/min_0": true,
		"/services/foo/min_1": "Found children (0) less than minimum (1)",
		"/services/foo/min_3": "Found children (2) less than minimum (3)",
	}
	testenv.Eventually(t, waitFor, pollEvery, func() bool { return reflect.DeepEqual(a.compliance(), want) }, "compliance = %v, want %v", a.compliance(), want)

	doc := a.status()
	if got := doc["zookeeper"].(map[string]any)["connected"]; got != true {
		t.Errorf("zookeeper.connected = %v", got)
	}
	if _, ok := doc["monitor"].(map[string]any)["alerter"].(map[string]any)["alerting"].(bool); !ok {
		t.Errorf("monitor.alerter.alerting missing or not a bool: %v", doc["monitor"])
	}
	if v, _ := doc["version"].(string); v == "" {
		t.Error("version missing")
	}
	// Pretty-printed with sorted keys at every level, like the original.
	_, body := a.get("/status")
	if err := keysSorted(body); err != nil {
		t.Errorf("/status: %v\n%s", err, body)
	}
	if !strings.HasPrefix(body, "{\n    \"cluster\"") || strings.Index(body, "\"monitor\"") > strings.Index(body, "\"version\"") {
		t.Errorf("/status is not pretty-printed with sorted keys:\n%s", body)
	}
	// /state is the same view under the original's other name.
	code, state := a.get("/state")
	var stateDoc map[string]any
	if err := json.Unmarshal([]byte(state), &stateDoc); code != http.StatusOK || err != nil {
		t.Fatalf("/state: %d %v\n%s", code, err, state)
	}
	if got := stateDoc["monitor"].(map[string]any)["compliance"]; !reflect.DeepEqual(got, want) {
		t.Errorf("/state compliance = %v, want %v", got, want)
	}

	ensure(t, c, "/services/foo/min_1/host1")
	testenv.Eventually(t, waitFor, pollEvery, func() bool { return a.compliance()["/services/foo/min_1"] == true }, "min_1 did not become compliant")
}

func TestHTTPEndpoints(t *testing.T) {
	zkServer := testenv.StartZooKeeper(t)
	a := startAgent(t, baseOptions(zkServer.Addr(), ""))
	testenv.Eventually(t, waitFor, pollEvery, func() bool { code, _ := a.get("/-/ready"); return code == http.StatusOK }, "never ready")

	cases := []struct {
		method, path, accept string
		wantCode             int
		wantBody             string
	}{
		{"GET", "/", "application/json", 200, `"version"`},
		{"GET", "/", "text/html", 200, "<a href=\"/metrics\">"},
		{"GET", "/-/healthy", "", 200, "Healthy"},
		{"GET", "/-/ready", "", 200, "Ready"},
		{"HEAD", "/status", "", 200, ""},
		{"POST", "/status", "", 405, ""},
		{"DELETE", "/state", "", 405, ""},
		{"PUT", "/", "", 405, ""},
		{"POST", "/-/reload", "", 403, "not enabled"},
		{"GET", "/nope", "", 404, ""},
	}
	for _, tc := range cases {
		t.Run(tc.method+tc.path, func(t *testing.T) {
			req, _ := http.NewRequest(tc.method, a.URL+tc.path, nil)
			if tc.accept != "" {
				req.Header.Set("Accept", tc.accept)
			}
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			buf := new(strings.Builder)
			bufio.NewReader(resp.Body).WriteTo(buf)
			if resp.StatusCode != tc.wantCode || !strings.Contains(buf.String(), tc.wantBody) {
				t.Fatalf("%s %s: %d %q, want %d containing %q", tc.method, tc.path, resp.StatusCode, buf.String(), tc.wantCode, tc.wantBody)
			}
		})
	}
}

// TestMetricsLint checks /metrics with promtool and against the list of
// metric names the dashboards and rules in deploy/ rely on.
func TestMetricsLint(t *testing.T) {
	promtool := testenv.RequireBinary(t, "promtool")
	zkServer := testenv.StartZooKeeper(t)
	am := testenv.StartAlertmanager(t, "route: {receiver: 'null'}\nreceivers: [{name: 'null'}]\n")
	c := admin(t, zkServer.Addr())
	ensure(t, c, "/lint/a")
	cfg := testenv.WriteFile(t, "zk.yaml", "/lint: {children: 2, max_children: 4}\n/lint/a:\n")
	opts := baseOptions(zkServer.Addr(), cfg)
	opts.AlertmanagerURLs = []*url.URL{mustURL(t, am.URL())}
	a := startAgent(t, opts)
	testenv.Eventually(t, waitFor, pollEvery, func() bool {
		_, body := a.get("/metrics")
		return strings.Contains(body, "zk_monitor_alertmanager_alerts_sent_total{") && strings.Contains(body, `zk_monitor_cluster_leader{cluster="test"} 1`) &&
			strings.Contains(body, "zk_monitor_zookeeper_clock_skew_seconds ")
	}, "alert delivery, leader or clock skew metrics never appeared")
	_, body := a.get("/metrics")

	cmd := exec.Command(promtool, "check", "metrics")
	cmd.Stdin = strings.NewReader(body)
	if out, err := cmd.CombinedOutput(); err != nil || len(strings.TrimSpace(string(out))) > 0 {
		t.Fatalf("promtool check metrics: %v\n%s", err, out)
	}

	exported := map[string]bool{}
	for _, line := range strings.Split(body, "\n") {
		if strings.HasPrefix(line, "# TYPE zk_monitor_") {
			exported[strings.Fields(line)[2]] = true
		}
	}
	listed, err := os.ReadFile("../deploy/testdata/exported_metrics.txt")
	if err != nil {
		t.Fatal(err)
	}
	var missing []string
	for _, name := range strings.Fields(string(listed)) {
		if strings.HasPrefix(name, "#") {
			continue
		}
		if !exported[name] {
			missing = append(missing, name)
		}
		delete(exported, name)
	}
	var unlisted []string
	for name := range exported {
		unlisted = append(unlisted, name)
	}
	sort.Strings(unlisted)
	if len(missing) > 0 || len(unlisted) > 0 {
		t.Fatalf("deploy/testdata/exported_metrics.txt is out of date:\n listed but not exported: %v\n exported but not listed: %v", missing, unlisted)
	}
}

// keysSorted checks that every JSON object in doc lists its keys in order.
func keysSorted(doc string) error {
	dec := json.NewDecoder(strings.NewReader(doc))
	type object struct {
		last    string
		wantKey bool
	}
	var stack []*object
	for {
		tok, err := dec.Token()
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return err
		}
		var top *object
		if len(stack) > 0 {
			top = stack[len(stack)-1]
		}
		switch v := tok.(type) {
		case json.Delim:
			switch v {
			case '{':
				if top != nil {
					top.wantKey = true
				}
				stack = append(stack, &object{wantKey: true})
				continue
			case '}', ']':
				stack = stack[:len(stack)-1]
				if len(stack) > 0 && stack[len(stack)-1] != nil {
					stack[len(stack)-1].wantKey = true
				}
				continue
			case '[':
				stack = append(stack, nil)
				continue
			}
		case string:
			if top != nil && top.wantKey {
				if v < top.last {
					return fmt.Errorf("key %q after %q", v, top.last)
				}
				top.last, top.wantKey = v, false
				continue
			}
		}
		if top != nil {
			top.wantKey = true
		}
	}
}

func TestKeysSorted(t *testing.T) {
	for doc, sorted := range map[string]bool{
		`{"a":1,"b":{"c":[{"x":1,"y":2},{"x":"z"}],"d":"e"}}`: true,
		`{"a":[1,"q",{"k":"v"}],"b":true}`:                    true,
		`{"b":1,"a":2}`:                                       false,
		`{"a":{"z":1,"y":2}}`:                                 false,
		`{"a":[{"y":1,"x":2}]}`:                               false,
	} {
		if err := keysSorted(doc); (err == nil) != sorted {
			t.Errorf("keysSorted(%s) = %v, want sorted=%v", doc, err, sorted)
		}
	}
}
