package deploy

import (
	"fmt"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"
)

// promConfig is the part of prometheus.yml the tests look at.
type promConfig struct {
	Alerting struct {
		Alertmanagers []struct {
			StaticConfigs []staticConfig `yaml:"static_configs"`
		} `yaml:"alertmanagers"`
	} `yaml:"alerting"`
	RuleFiles     []string `yaml:"rule_files"`
	ScrapeConfigs []struct {
		JobName       string         `yaml:"job_name"`
		MetricsPath   string         `yaml:"metrics_path"`
		StaticConfigs []staticConfig `yaml:"static_configs"`
	} `yaml:"scrape_configs"`
}

type staticConfig struct {
	Targets []string `yaml:"targets"`
}

// ruleGroups is a Prometheus rule file.
type ruleGroups struct {
	Groups []struct {
		Name  string `yaml:"name"`
		Rules []rule `yaml:"rules"`
	} `yaml:"groups"`
}

type rule struct {
	Record      string            `yaml:"record"`
	Alert       string            `yaml:"alert"`
	Expr        string            `yaml:"expr"`
	For         string            `yaml:"for"`
	Labels      map[string]string `yaml:"labels"`
	Annotations map[string]string `yaml:"annotations"`
}

// rulesUnitTests is a promtool rule unit-test file.
type rulesUnitTests struct {
	RuleFiles []string `yaml:"rule_files"`
	Tests     []struct {
		Name          string `yaml:"name"`
		AlertRuleTest []struct {
			EvalTime  string `yaml:"eval_time"`
			Alertname string `yaml:"alertname"`
			ExpAlerts []struct {
				ExpLabels map[string]string `yaml:"exp_labels"`
			} `yaml:"exp_alerts"`
		} `yaml:"alert_rule_test"`
		PromQLExprTest []struct {
			Expr string `yaml:"expr"`
		} `yaml:"promql_expr_test"`
	} `yaml:"tests"`
}

func loadPromConfig(t *testing.T) promConfig {
	t.Helper()
	var c promConfig
	decodeYAMLFile(t, prometheusConfig, &c)
	return c
}

func loadRules(t *testing.T) []rule {
	t.Helper()
	var g ruleGroups
	decodeYAMLFile(t, rulesFile, &g)
	var rules []rule
	for _, group := range g.Groups {
		rules = append(rules, group.Rules...)
	}
	if len(rules) == 0 {
		t.Fatalf("%s holds no rules", rulesFile)
	}
	return rules
}

// TestPromtoolCheckConfig runs `promtool check config`, which also checks
// the rule files prometheus.yml names. promtool resolves rule_files relative
// to the configuration file, so the result must not depend on the directory
// it runs in.
func TestPromtoolCheckConfig(t *testing.T) {
	abs, err := filepath.Abs(prometheusConfig)
	if err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct{ dir, config string }{
		{".", prometheusConfig},
		{repoRoot, filepath.Join("deploy", prometheusConfig)},
		{t.TempDir(), abs},
	} {
		t.Run(tt.dir, func(t *testing.T) {
			out := runTool(t, tt.dir, "promtool", "check", "config", tt.config)
			for _, want := range []string{"SUCCESS: 1 rule files found", "is valid prometheus config file syntax", "zk_monitor.rules.yml"} {
				if !strings.Contains(out, want) {
					t.Errorf("promtool check config output lacks %q:\n%s", want, out)
				}
			}
		})
	}
}

func TestPromtoolCheckRules(t *testing.T) {
	out := runTool(t, ".", "promtool", "check", "rules", rulesFile)
	if want := fmt.Sprintf("SUCCESS: %d rules found", len(loadRules(t))); !strings.Contains(out, want) {
		t.Errorf("promtool check rules output lacks %q:\n%s", want, out)
	}
}

func TestPromtoolTestRules(t *testing.T) {
	out := runTool(t, ".", "promtool", "test", "rules", rulesTestFile)
	if !strings.Contains(out, "SUCCESS") {
		t.Errorf("promtool test rules did not report SUCCESS:\n%s", out)
	}
}

// TestPrometheusConfig checks what promtool cannot know: that the rule file
// is the one in this directory, the zk_monitor job scrapes three agents on
// their port, and the rules select that job.
func TestPrometheusConfig(t *testing.T) {
	c := loadPromConfig(t)
	if len(c.RuleFiles) != 1 || filepath.Join(filepath.Dir(prometheusConfig), c.RuleFiles[0]) != filepath.Clean(rulesFile) {
		t.Errorf("rule_files = %q, want the one entry rules/zk_monitor.rules.yml", c.RuleFiles)
	}
	if len(c.Alerting.Alertmanagers) == 0 {
		t.Errorf("prometheus.yml sends alerts to no Alertmanager")
	}
	jobs := map[string][]string{}
	for _, sc := range c.ScrapeConfigs {
		for _, s := range sc.StaticConfigs {
			jobs[sc.JobName] = append(jobs[sc.JobName], s.Targets...)
		}
		if sc.JobName == "zk_monitor" && sc.MetricsPath != "" && sc.MetricsPath != "/metrics" {
			t.Errorf("job zk_monitor scrapes %s, zk_monitor serves /metrics", sc.MetricsPath)
		}
	}
	agents := jobs["zk_monitor"]
	if len(agents) != 3 {
		t.Errorf("job zk_monitor has targets %q, want three agents", agents)
	}
	for _, target := range agents {
		if _, port, _ := strings.Cut(target, ":"); port != agentPort {
			t.Errorf("target %s: want port %s", target, agentPort)
		}
	}
	jobRE := regexp.MustCompile(`\bjob="([^"]*)"`)
	for _, r := range loadRules(t) {
		for _, m := range jobRE.FindAllStringSubmatch(r.Expr, -1) {
			if _, ok := jobs[m[1]]; !ok {
				t.Errorf("rule %s%s selects job %q, which prometheus.yml does not scrape", r.Alert, r.Record, m[1])
			}
		}
	}
}

// TestAlertingRules checks each alert's metadata and that the alerts the
// issue asks for are all there.
func TestAlertingRules(t *testing.T) {
	alerts := map[string]rule{}
	for _, r := range loadRules(t) {
		if r.Alert == "" {
			continue
		}
		if _, dup := alerts[r.Alert]; dup {
			t.Errorf("alert %s is defined twice", r.Alert)
		}
		alerts[r.Alert] = r
	}
	for _, want := range []string{
		"ZkMonitorDown", "ZkMonitorNoLeader", "ZkMonitorSplitBrain", "ZkMonitorZooKeeperDisconnected",
		"ZkMonitorAlertDeliveryFailing", "ZkMonitorAlertsDropped", "ZkMonitorConfigReloadFailed",
	} {
		if _, ok := alerts[want]; !ok {
			t.Errorf("alert %s is missing", want)
		}
	}
	for name, r := range alerts {
		t.Run(name, func(t *testing.T) {
			if s := r.Labels["severity"]; s != "warning" && s != "critical" {
				t.Errorf("severity %q, want warning or critical", s)
			}
			for _, a := range []string{"summary", "description"} {
				if strings.TrimSpace(r.Annotations[a]) == "" {
					t.Errorf("annotation %s is empty", a)
				}
			}
			if r.For != "" {
				if _, err := time.ParseDuration(r.For); err != nil {
					t.Errorf("for %q: %v", r.For, err)
				}
			}
		})
	}
	if r := alerts["ZkMonitorNoLeader"]; !strings.Contains(r.Expr, "absent(") {
		t.Errorf("ZkMonitorNoLeader does not fire when no agent reports zk_monitor_cluster_leader: %s", r.Expr)
	}
}

// TestRulesUnitTestCoverage checks that the promtool unit tests test every
// alert both firing and not firing, and every recording rule.
func TestRulesUnitTestCoverage(t *testing.T) {
	var u rulesUnitTests
	decodeYAMLFile(t, rulesTestFile, &u)
	if len(u.RuleFiles) != 1 || filepath.Join(filepath.Dir(rulesTestFile), u.RuleFiles[0]) != filepath.Clean(rulesFile) {
		t.Errorf("%s tests rule_files %q, want %s", rulesTestFile, u.RuleFiles, filepath.Base(rulesFile))
	}
	firing, quiet := map[string]bool{}, map[string]bool{}
	var exprs []string
	for _, tc := range u.Tests {
		for _, a := range tc.AlertRuleTest {
			if len(a.ExpAlerts) > 0 {
				firing[a.Alertname] = true
			} else {
				quiet[a.Alertname] = true
			}
		}
		for _, e := range tc.PromQLExprTest {
			exprs = append(exprs, e.Expr)
		}
	}
	for _, r := range loadRules(t) {
		switch {
		case r.Alert != "":
			if !firing[r.Alert] {
				t.Errorf("no unit test expects alert %s to fire", r.Alert)
			}
			if !quiet[r.Alert] {
				t.Errorf("no unit test expects alert %s not to fire", r.Alert)
			}
		case r.Record != "":
			tested := false
			for _, e := range exprs {
				tested = tested || strings.Contains(e, r.Record)
			}
			if !tested {
				t.Errorf("no promql_expr_test evaluates recording rule %s", r.Record)
			}
		}
	}
}

// TestRulesUseExportedMetrics checks that the rules only use metrics that
// zk_monitor exports, and recording rules the rule file defines.
func TestRulesUseExportedMetrics(t *testing.T) {
	exported := exportedMetrics(t)
	rules := loadRules(t)
	recorded := map[string]bool{}
	for _, r := range rules {
		if r.Record != "" {
			recorded[r.Record] = true
		}
	}
	for _, r := range rules {
		names, records := metricNamesIn(r.Expr)
		for _, n := range names {
			if !isExported(exported, n) {
				t.Errorf("rule %s%s uses %s, which is not in %s", r.Alert, r.Record, n, exportedMetricsFile)
			}
		}
		for _, n := range records {
			if !recorded[n] {
				t.Errorf("rule %s%s uses %s, which no recording rule defines", r.Alert, r.Record, n)
			}
		}
	}
}
