package deploy

import (
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/zk-monitor/zk_monitor/internal/testenv"
)

// TestAgentRunsWithDeployArgs runs the zk_monitor binary built from this
// tree with the command lines of the deploy files, against a real
// ZooKeeper, and checks the endpoints the deployments rely on. Addresses
// that only exist inside a deployment (ZooKeeper, Alertmanager, the listen
// address, the config file's location) are replaced by test ones; every
// other flag is kept as the file has it.
func TestAgentRunsWithDeployArgs(t *testing.T) {
	testenv.SkipIfShort(t, "starts ZooKeeper and zk_monitor agents")
	bin := zkMonitor.Path(t)
	zk := testenv.StartZooKeeper(t)
	am := testenv.StartHTTPRecorder(t)
	absComposeConfig, err := filepath.Abs(composeConfigFile)
	if err != nil {
		t.Fatal(err)
	}

	t.Run("docker-compose", func(t *testing.T) {
		c := loadCompose(t)
		// The zk-seed service creates the demo's znodes.
		seed := withFlags(c.Services["zk-seed"].Command, map[string]string{"zookeeper": zk.Addr()}, nil)
		if out, err := exec.Command(bin, seed...).CombinedOutput(); err != nil {
			t.Fatalf("zk_monitor %s: %v\n%s", strings.Join(seed, " "), err, out)
		}
		args := withFlags(c.Services["zk-monitor-1"].Command,
			map[string]string{"zookeeper": zk.Addr(), "config.file": absComposeConfig},
			map[string]string{"alertmanager.url": am.URL()})
		a := startAgent(t, bin, args)
		a.waitStatus(t, "/-/ready", http.StatusOK)
		a.waitStatus(t, "/-/healthy", http.StatusOK)
		// What the README promises of the demo.
		a.waitMetric(t, `zk_monitor_znode_compliant{path="/services/web/instances"}`, "1")
		a.waitMetric(t, `zk_monitor_znode_compliant{path="/services/db/instances"}`, "0")
		// With an Alertmanager and a max_children check configured, every
		// family of testdata/exported_metrics.txt is exported, and nothing
		// else. Some appear only with their first sample (the watch events
		// counter, after the first watch fired): wait for the set itself.
		exported := exportedMetrics(t)
		var missing, unlisted []string
		testenv.Eventually(t, 30*time.Second, 100*time.Millisecond, func() bool {
			served := a.metricFamilies(t)
			missing, unlisted = nil, nil
			for name := range exported {
				if !served[name] {
					missing = append(missing, name)
				}
			}
			for name := range served {
				if strings.HasPrefix(name, "zk_monitor_") && !exported[name] {
					unlisted = append(unlisted, name)
				}
			}
			return len(missing) == 0 && len(unlisted) == 0
		}, "%s lists families the agent does not export %v, and the agent exports families it does not list %v", exportedMetricsFile, testenv.Last(&missing), testenv.Last(&unlisted))
		// The agents run with --web.enable-lifecycle: curl -X POST /-/reload works.
		if code := a.post(t, "/-/reload"); code != http.StatusOK {
			t.Errorf("POST /-/reload: status %d, want 200", code)
		}
	})

	t.Run("kubernetes", func(t *testing.T) {
		objs := loadKubernetes(t)
		var spec deploymentSpec
		var monitorPath string
		for _, o := range objs {
			switch o.Kind {
			case "Deployment":
				decodeSpec(t, o, &spec)
			case "ServiceMonitor":
				var m monitorSpec
				decodeSpec(t, o, &m)
				monitorPath = m.Endpoints[0].Path
			}
		}
		c := spec.Template.Spec.Containers[0]
		data, ok := configMapFile(t, objs, spec.Template.Spec, c)
		if !ok {
			t.Fatalf("no path-spec file in a ConfigMap")
		}
		configFile := filepath.Join(t.TempDir(), "zk_monitor.yml")
		if err := os.WriteFile(configFile, []byte(data), 0o644); err != nil {
			t.Fatal(err)
		}
		args := withFlags(c.Args,
			map[string]string{"zookeeper": zk.Addr(), "config.file": configFile},
			map[string]string{"alertmanager.url": am.URL()})
		for i := range args {
			args[i] = strings.ReplaceAll(args[i], "$(POD_NAME)", "zk-monitor-7d9f-abcde")
		}
		a := startAgent(t, bin, args)
		a.waitStatus(t, c.ReadinessProbe.HTTPGet.Path, http.StatusOK)
		a.waitStatus(t, c.LivenessProbe.HTTPGet.Path, http.StatusOK)
		if monitorPath == "" {
			monitorPath = "/metrics"
		}
		a.waitStatus(t, monitorPath, http.StatusOK)
		// The agent watches the paths of the ConfigMap, and has read them.
		paths := regexp.MustCompile(`(?m)^(/\S+):`).FindAllStringSubmatch(data, -1)
		if len(paths) == 0 {
			t.Fatalf("no paths found in the ConfigMap's path-spec file")
		}
		for _, path := range paths {
			a.waitMetric(t, fmt.Sprintf(`zk_monitor_znode_stale{path=%q}`, path[1]), "0")
		}
		// A ConfigMap change: the kubelet replaces the mounted file, the
		// config-reload sidecar POSTs /-/reload (as here), and the agent
		// watches the new path without a restart.
		if err := os.WriteFile(configFile, []byte(data+"/services/added:\n  exists: false\n"), 0o644); err != nil {
			t.Fatal(err)
		}
		if code := a.post(t, "/-/reload"); code != http.StatusOK {
			t.Fatalf("POST /-/reload: status %d, want 200 (--web.enable-lifecycle)", code)
		}
		a.waitMetric(t, `zk_monitor_znode_compliant{path="/services/added"}`, "1")
	})

	t.Run("systemd", func(t *testing.T) {
		args := withFlags(systemdArgs(t),
			map[string]string{"zookeeper": zk.Addr(), "config.file": absComposeConfig},
			map[string]string{"alertmanager.url": am.URL()})
		a := startAgent(t, bin, args)
		a.waitStatus(t, "/-/ready", http.StatusOK)
	})

	t.Run("Dockerfile", func(t *testing.T) {
		d := parseDockerfile(t)
		args := withFlags(d.cmd, map[string]string{"zookeeper": zk.Addr(), "config.file": absComposeConfig}, nil)
		a := startAgent(t, bin, args)
		a.waitStatus(t, "/-/ready", http.StatusOK)
	})
}

// withFlags returns a copy of args with --name=value set for each entry of
// set (added when missing) and replaced for each entry of replace that
// args has. --web.listen-address is always replaced by a free port on
// 127.0.0.1 by startAgent.
func withFlags(args []string, set, replace map[string]string) []string {
	out := append([]string(nil), args...)
	apply := func(name, value string, add bool) {
		for i, a := range out {
			if strings.HasPrefix(a, "--"+name+"=") {
				out[i] = "--" + name + "=" + value
				return
			}
		}
		if add {
			out = append(out, "--"+name+"="+value)
		}
	}
	names := make([]string, 0, len(set))
	for name := range set {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		apply(name, set[name], true)
	}
	for name, value := range replace {
		apply(name, value, false)
	}
	return out
}

// agent is a running zk_monitor process.
type agent struct {
	*testenv.Agent
}

// startAgent starts zk_monitor with args, listening on a free port of
// 127.0.0.1 instead of the deployment's address, and stops it with SIGTERM
// when the test ends, as the deployments do.
func startAgent(t *testing.T, bin string, args []string) *agent {
	t.Helper()
	var kept []string
	for _, a := range args {
		if !strings.HasPrefix(a, "--web.listen-address=") && !strings.HasPrefix(a, "--port=") {
			kept = append(kept, a)
		}
	}
	a := &agent{testenv.StartAgent(t, bin, "zk_monitor", kept...)}
	// Runs before StartAgent's own cleanup, which kills what is left.
	t.Cleanup(func() {
		a.Signal(syscall.SIGTERM)
		if err := a.Wait(15 * time.Second); err != nil {
			t.Errorf("zk_monitor %s on SIGTERM: %v", strings.Join(kept, " "), err)
		}
	})
	return a
}

// post sends a POST without a body and returns the status code (0 when
// the request failed).
func (a *agent) post(t *testing.T, path string) int {
	t.Helper()
	client := &http.Client{Timeout: testenv.Scaled(10 * time.Second), Transport: &http.Transport{DisableKeepAlives: true}}
	resp, err := client.Post(a.URL+path, "text/plain", nil)
	if err != nil {
		t.Logf("POST %s: %v", path, err)
		return 0
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	_ = resp.Body.Close()
	return resp.StatusCode
}

func (a *agent) waitStatus(t *testing.T, path string, want int) {
	t.Helper()
	last := 0
	testenv.Eventually(t, 30*time.Second, 100*time.Millisecond, func() bool {
		last, _, _ = a.Get(path)
		return last == want
	}, "GET %s: status %v, want %d", path, testenv.Last(&last), want)
}

func (a *agent) metrics(t *testing.T) string {
	t.Helper()
	code, body, err := a.Get("/metrics")
	if err != nil || code != http.StatusOK {
		return ""
	}
	return string(body)
}

// waitMetric waits until /metrics has the series (name and labels exactly
// as the exposition format writes them) with the value.
func (a *agent) waitMetric(t *testing.T, series, value string) {
	t.Helper()
	want := series + " " + value
	testenv.Eventually(t, 30*time.Second, 100*time.Millisecond, func() bool {
		for _, line := range strings.Split(a.metrics(t), "\n") {
			if line == want {
				return true
			}
		}
		return false
	}, "/metrics has no line %q", want)
}

// metricFamilies returns the metric families /metrics declares (# TYPE).
func (a *agent) metricFamilies(t *testing.T) map[string]bool {
	t.Helper()
	families := map[string]bool{}
	for _, line := range strings.Split(a.metrics(t), "\n") {
		if f := strings.Fields(line); len(f) >= 3 && f[0] == "#" && f[1] == "TYPE" {
			families[f[2]] = true
		}
	}
	if len(families) == 0 {
		t.Fatalf("/metrics declares no metric families")
	}
	return families
}
