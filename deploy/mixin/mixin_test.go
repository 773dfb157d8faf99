package mixin

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"

	"github.com/zk-monitor/zk_monitor/internal/testenv"
)

// TestGeneratedFilesUpToDate fails when a committed file differs from what
// the mixin generates: edit deploy/mixin, then run `go generate ./deploy`.
func TestGeneratedFilesUpToDate(t *testing.T) {
	files, err := Generate("")
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"grafana/zk_monitor.json", "kubernetes/prometheusrule.yaml", "prometheus/rules/zk_monitor.rules.yml"}
	var got []string
	for _, f := range files {
		got = append(got, f.Path)
		committed, err := os.ReadFile(filepath.Join("..", f.Path))
		if err != nil {
			t.Errorf("%v; run `go generate ./deploy`", err)
			continue
		}
		if !bytes.Equal(committed, f.Data) {
			t.Errorf("deploy/%s is out of date with deploy/mixin; run `go generate ./deploy`", f.Path)
		}
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("generated %q, want %q", got, want)
	}
}

type ruleFile struct {
	Groups []struct {
		Name  string `yaml:"name"`
		Rules []struct {
			Record string `yaml:"record"`
			Alert  string `yaml:"alert"`
			Expr   string `yaml:"expr"`
		} `yaml:"rules"`
	} `yaml:"groups"`
}

func generated(t *testing.T, config string) map[string][]byte {
	t.Helper()
	files, err := Generate(config)
	if err != nil {
		t.Fatal(err)
	}
	m := map[string][]byte{}
	for _, f := range files {
		m[f.Path] = f.Data
	}
	return m
}

// TestSelectorsConfigurable generates the mixin with another selector and
// cluster label: every rule and every dashboard variable uses them, nothing
// is left of the defaults, and promtool accepts the rules.
func TestSelectorsConfigurable(t *testing.T) {
	files := generated(t, `{"zkMonitorSelector": "job=\"zk\",env=\"prod\"", "clusterLabel": "zk_cluster"}`)
	for path, data := range files {
		if bytes.Contains(data, []byte(`job="zk_monitor"`)) {
			t.Errorf("%s still selects job=\"zk_monitor\"", path)
		}
	}
	var rules ruleFile
	if err := yaml.Unmarshal(files["prometheus/rules/zk_monitor.rules.yml"], &rules); err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, g := range rules.Groups {
		for _, r := range g.Rules {
			n++
			if !strings.Contains(r.Expr, `{job="zk",env="prod"}`) {
				t.Errorf("rule %s%s does not use the selector: %s", r.Alert, r.Record, r.Expr)
			}
			if strings.Contains(r.Expr, "cluster_leader") && !strings.Contains(r.Expr, "by (job, zk_cluster)") {
				t.Errorf("rule %s%s does not aggregate by the cluster label: %s", r.Alert, r.Record, r.Expr)
			}
		}
	}
	if n < 10 {
		t.Errorf("only %d rules", n)
	}
	dashboard := string(files["grafana/zk_monitor.json"])
	if !strings.Contains(dashboard, `{job=\"zk\",env=\"prod\"`) {
		t.Errorf("the dashboard's variables do not use the selector")
	}

	t.Run("promtool check rules", func(t *testing.T) {
		promtool := testenv.RequireBinary(t, "promtool")
		path := filepath.Join(t.TempDir(), "rules.yml")
		if err := os.WriteFile(path, files["prometheus/rules/zk_monitor.rules.yml"], 0o644); err != nil {
			t.Fatal(err)
		}
		if out, err := exec.Command(promtool, "check", "rules", path).CombinedOutput(); err != nil {
			t.Errorf("promtool check rules: %v\n%s", err, out)
		}
	})
}

// TestPrometheusRule checks the Prometheus Operator object: it carries the
// very groups of the rule file.
func TestPrometheusRule(t *testing.T) {
	files := generated(t, "")
	var obj struct {
		APIVersion string `yaml:"apiVersion"`
		Kind       string `yaml:"kind"`
		Metadata   struct {
			Name      string `yaml:"name"`
			Namespace string `yaml:"namespace"`
		} `yaml:"metadata"`
		Spec ruleFile `yaml:"spec"`
	}
	if err := yaml.Unmarshal(files["kubernetes/prometheusrule.yaml"], &obj); err != nil {
		t.Fatal(err)
	}
	if obj.APIVersion != "monitoring.coreos.com/v1" || obj.Kind != "PrometheusRule" || obj.Metadata.Name == "" || obj.Metadata.Namespace == "" {
		t.Errorf("PrometheusRule header %+v", obj)
	}
	var rules ruleFile
	if err := yaml.Unmarshal(files["prometheus/rules/zk_monitor.rules.yml"], &rules); err != nil {
		t.Fatal(err)
	}
	if len(rules.Groups) == 0 || !reflect.DeepEqual(obj.Spec, rules) {
		t.Errorf("PrometheusRule groups differ from the rule file's")
	}
}

func TestGenerateRejectsBadConfig(t *testing.T) {
	if _, err := Generate(`{"zkMonitorSelector": `); err == nil {
		t.Error("Generate accepted a config that is not JSON")
	}
}
