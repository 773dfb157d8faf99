package daemon_test

import (
	"io"
	"net/http"
	"net/url"
	"os"
	"reflect"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/zk-monitor/zk_monitor/internal/testenv"
)

const (
	msgReloaded     = `msg="configuration reloaded"`
	msgReloadFailed = `msg="reloading configuration failed; keeping the running configuration"`
)

// reloadTrigger is one way of asking a running agent to reload.
type reloadTrigger struct {
	name      string
	lifecycle bool // --web.enable-lifecycle
	// reload asks for a reload; over HTTP it returns the answer.
	reload func(t *testing.T, a *agent) (code int, body string)
}

var reloadTriggers = []reloadTrigger{
	{
		name: "SIGHUP",
		reload: func(t *testing.T, a *agent) (int, string) {
			// main turns SIGHUP into a value on Run's reload channel.
			a.reload <- struct{}{}
			return 0, ""
		},
	},
	{
		name:      "POST /-/reload",
		lifecycle: true,
		reload: func(t *testing.T, a *agent) (int, string) {
			return a.post("/-/reload")
		},
	},
}

// TestReload reloads a running agent (real ZooKeeper, real Alertmanager)
// with SIGHUP and with POST /-/reload: paths are added, removed and
// changed while unchanged paths, glob expansions and a firing alert keep
// their state; bad files are rejected with their reason and the old
// configuration keeps running; the reload gauges tell the story.
func TestReload(t *testing.T) {
	zkServer := testenv.StartZooKeeper(t)
	am := testenv.StartAlertmanager(t, "route: {receiver: 'null'}\nreceivers: [{name: 'null'}]\n")
	c := admin(t, zkServer.Addr())

	for i, tr := range reloadTriggers {
		t.Run(tr.name, func(t *testing.T) {
			p := "/reload" + strconv.Itoa(i)
			ensure(t, c, p+"/keep/a", p+"/fire", p+"/change/a", p+"/gone", p+"/glob/x/inst/a", p+"/glob2/m1")
			cfgFile := testenv.WriteFile(t, "paths.yaml", strings.ReplaceAll(`
/P/keep: {children: 1}
/P/fire: {children: 1}
/P/change: {children: 1}
/P/gone: {children: 0}
/P/glob/*/inst: {children: 1}
`, "/P", p))
			opts := baseOptions(zkServer.Addr(), cfgFile)
			opts.ClusterName = "reload" + strconv.Itoa(i)
			opts.EnableLifecycle = tr.lifecycle
			opts.AlertmanagerURLs = []*url.URL{mustURL(t, am.URL())}
			a := startAgent(t, opts)

			tooFew := func(found, min int) string {
				return "Found children (" + strconv.Itoa(found) + ") less than minimum (" + strconv.Itoa(min) + ")"
			}
			want := map[string]any{
				p + "/keep":        true,
				p + "/fire":        tooFew(0, 1),
				p + "/change":      true,
				p + "/gone":        true,
				p + "/glob/x/inst": true,
			}
			testenv.Eventually(t, waitFor, pollEvery, func() bool { return reflect.DeepEqual(a.compliance(), want) }, "compliance = %v, want %v", a.compliance(), want)
			fired := waitAlert(t, am, opts.ClusterName, p+"/fire")
			keepChanged := a.sample(`zk_monitor_znode_last_change_timestamp_seconds{path="` + p + `/keep"}`)
			globChanged := a.sample(`zk_monitor_znode_last_change_timestamp_seconds{path="` + p + `/glob/x/inst"}`)
			if got := a.sample("zk_monitor_config_last_reload_successful"); got != 1 {
				t.Fatalf("zk_monitor_config_last_reload_successful = %v at start, want 1", got)
			}
			lastSuccess := a.sample("zk_monitor_config_last_reload_success_timestamp_seconds")

			// reloadOK rewrites the file and reloads; the reload must succeed
			// and move the success timestamp.
			reloadOK := func(content string) {
				t.Helper()
				if err := os.WriteFile(cfgFile, []byte(strings.ReplaceAll(content, "/P", p)), 0o600); err != nil {
					t.Fatal(err)
				}
				before := strings.Count(a.Logs.String(), msgReloaded)
				code, body := tr.reload(t, a)
				if tr.lifecycle && (code != http.StatusOK || !strings.Contains(body, "Config reloaded")) {
					t.Fatalf("POST /-/reload: %d %q, want 200 Config reloaded", code, body)
				}
				// The gauges are set after the line is logged: wait for
				// all three.
				var ok, ts float64
				testenv.Eventually(t, waitFor, pollEvery, func() bool {
					ok = a.sample("zk_monitor_config_last_reload_successful")
					ts = a.sample("zk_monitor_config_last_reload_success_timestamp_seconds")
					return strings.Count(a.Logs.String(), msgReloaded) > before && ok == 1 && ts > lastSuccess
				}, "a good reload: logged, zk_monitor_config_last_reload_successful 1 and the success timestamp moved on from %v", lastSuccess)
				lastSuccess = ts
			}
			// sameFiringAlert checks that the alert that fired before the
			// reloads is still the same firing alert in Alertmanager.
			sameFiringAlert := func() {
				t.Helper()
				now := waitAlert(t, am, opts.ClusterName, p+"/fire")
				if now.Fingerprint != fired.Fingerprint || !now.StartsAt.Equal(fired.StartsAt) {
					t.Fatalf("firing alert changed across the reload: fingerprint %s startsAt %v -> %s %v",
						fired.Fingerprint, fired.StartsAt, now.Fingerprint, now.StartsAt)
				}
			}

			// Add a path and a glob, remove a path, change a spec; keep the rest.
			good := `
/P/keep: {children: 1}
/P/fire: {children: 1}
/P/change: {children: 2}
/P/new: {children: 2}
/P/glob/*/inst: {children: 1}
/P/glob2/*: {exists: true}
`
			reloadOK(good)
			want = map[string]any{
				p + "/keep":        true,
				p + "/fire":        tooFew(0, 1),
				p + "/change":      tooFew(1, 2),
				p + "/new":         tooFew(0, 2),
				p + "/glob/x/inst": true,
				p + "/glob2/m1":    true,
			}
			testenv.Eventually(t, waitFor, pollEvery, func() bool { return reflect.DeepEqual(a.compliance(), want) }, "compliance = %v, want %v", a.compliance(), want)
			_, metrics := a.get("/metrics")
			if strings.Contains(metrics, `path="`+p+`/gone"`) {
				t.Errorf("removed path %s/gone is still exported", p)
			}
			if got := a.sample(`zk_monitor_znode_spec_info{min_children="2",path="` + p + `/change"}`); got != 1 {
				t.Errorf("changed spec: spec_info{min_children=\"2\"} = %v, want 1", got)
			}
			if got := a.sample(`zk_monitor_znode_last_change_timestamp_seconds{path="` + p + `/keep"}`); got != keepChanged {
				t.Errorf("unchanged path lost its state: last change %v -> %v", keepChanged, got)
			}
			if got := a.sample(`zk_monitor_znode_last_change_timestamp_seconds{path="` + p + `/glob/x/inst"}`); got != globChanged {
				t.Errorf("unchanged glob match lost its state: last change %v -> %v", globChanged, got)
			}
			sameFiringAlert()
			// The changed and the added paths alert; the added one is watched.
			waitAlert(t, am, opts.ClusterName, p+"/change")
			waitAlert(t, am, opts.ClusterName, p+"/new")
			ensure(t, c, p+"/new/a", p+"/new/b")
			testenv.Eventually(t, waitFor, pollEvery, func() bool { return a.compliance()[p+"/new"] == true }, "added path %s/new is not watched", p)

			// Bad files are refused with their reason; nothing changes.
			want[p+"/new"] = true
			bad := []struct {
				name, content string
				reason        []string // in the HTTP answer and in the log
			}{
				{"syntax error", "/P/keep: {children: 1\n", []string{"paths.yaml:1: invalid YAML"}},
				{"unknown key", "/P/keep:\n  chidlren: 1\n", []string{"paths.yaml:2: path /P/keep: key chidlren: unknown key"}},
				{"wrong type", "/P/keep: {children: 1}\n/P/fire:\n  children: many\n", []string{"paths.yaml:3: path /P/fire: key children: must be a non-negative integer"}},
				{"two errors", "/P/keep: {max_children: -1}\nrelative: {children: 1}\n", []string{
					"paths.yaml:1: path /P/keep: key max_children", "paths.yaml:2: top-level key",
				}},
			}
			for _, b := range bad {
				t.Run(b.name, func(t *testing.T) {
					if err := os.WriteFile(cfgFile, []byte(strings.ReplaceAll(b.content, "/P", p)), 0o600); err != nil {
						t.Fatal(err)
					}
					before := strings.Count(a.Logs.String(), msgReloadFailed)
					code, body := tr.reload(t, a)
					testenv.Eventually(t, waitFor, pollEvery, func() bool { return strings.Count(a.Logs.String(), msgReloadFailed) > before }, "failed reload was not logged")
					logs := a.Logs.String()
					failure := logs[strings.LastIndex(logs, msgReloadFailed):]
					failure = failure[:strings.IndexByte(failure, '\n')]
					for _, r := range b.reason {
						r = strings.ReplaceAll(r, "/P", p)
						if !strings.Contains(failure, r) {
							t.Errorf("log line %q does not give the reason %q", failure, r)
						}
						if tr.lifecycle && !strings.Contains(body, r) {
							t.Errorf("HTTP answer %q does not give the reason %q", body, r)
						}
					}
					if tr.lifecycle && code != http.StatusInternalServerError {
						t.Errorf("POST /-/reload of a bad file: status %d, want 500", code)
					}
					if got := a.sample("zk_monitor_config_last_reload_successful"); got != 0 {
						t.Errorf("zk_monitor_config_last_reload_successful = %v after a bad reload, want 0", got)
					}
					if got := a.sample("zk_monitor_config_last_reload_success_timestamp_seconds"); got != lastSuccess {
						t.Errorf("success timestamp moved on a failed reload: %v -> %v", lastSuccess, got)
					}
					if got := a.compliance(); !reflect.DeepEqual(got, want) {
						t.Errorf("the running configuration changed: compliance = %v, want %v", got, want)
					}
					sameFiringAlert()
				})
			}

			// A good file again: the gauge goes back to 1, the timestamp moves.
			reloadOK(good)
			testenv.Eventually(t, waitFor, pollEvery, func() bool { return reflect.DeepEqual(a.compliance(), want) }, "compliance = %v, want %v", a.compliance(), want)
			sameFiringAlert()
			if !strings.Contains(a.Logs.String(), "err=") {
				t.Error("no err key in the failure logs")
			}
		})
	}
}

// waitAlert waits until Alertmanager holds a firing ZnodeNotCompliant
// alert for path from cluster, and returns it.
func waitAlert(t *testing.T, am *testenv.Alertmanager, cluster, path string) testenv.AMAlert {
	t.Helper()
	var found testenv.AMAlert
	testenv.Eventually(t, waitFor, pollEvery, func() bool {
		var firing bool
		found, firing = firingAlert(t, am, cluster, path)
		return firing
	}, "no firing alert for %s in Alertmanager", path)
	return found
}

// firingAlert returns the firing ZnodeNotCompliant alert for path from
// Alertmanager, if it holds one; failing to list the alerts fails t.
func firingAlert(t *testing.T, am *testenv.Alertmanager, cluster, path string) (testenv.AMAlert, bool) {
	t.Helper()
	for _, al := range am.AlertsNow(t) {
		if al.Labels["alertname"] == "ZnodeNotCompliant" && al.Labels["cluster"] == cluster && al.Labels["path"] == path && al.EndsAt.After(time.Now()) {
			return al, true
		}
	}
	return testenv.AMAlert{}, false
}

// post sends an empty POST and returns the answer.
func (a *agent) post(path string) (int, string) {
	a.t.Helper()
	resp, err := http.Post(a.URL+path, "text/plain", nil)
	if err != nil {
		a.t.Fatalf("POST %s: %v", path, err)
	}
	defer resp.Body.Close()
	var b strings.Builder
	if _, err := io.Copy(&b, resp.Body); err != nil {
		a.t.Fatalf("POST %s: %v", path, err)
	}
	return resp.StatusCode, b.String()
}

// sample returns the value of one series of /metrics, written as in the
// exposition format (`name{label="value"}`); it fails the test when the
// series is absent.
func (a *agent) sample(series string) float64 {
	a.t.Helper()
	_, body := a.get("/metrics")
	v, ok := testenv.SampleValue(body, series)
	if !ok {
		a.t.Fatalf("series %s not in /metrics", series)
	}
	return v
}
