package testenv

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"testing"
	"time"
)

// TestPrometheus starts a real Prometheus that scrapes a test target and
// evaluates a rule file: queries, rule groups and active alerts come back
// through the helpers.
func TestPrometheus(t *testing.T) {
	SkipIfShort(t, "starts Prometheus")
	target := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprint(w, "# TYPE testenv_value gauge\ntestenv_value 42\n")
	}))
	t.Cleanup(target.Close)
	rules := WriteFile(t, "rules.yml", `
groups:
  - name: testenv
    rules:
      - alert: TestenvHigh
        expr: testenv_value > 40
        labels: {severity: page}
`)
	p := StartPrometheus(t, fmt.Sprintf(`
global: {scrape_interval: 500ms, evaluation_interval: 500ms}
rule_files: [%q]
scrape_configs:
  - job_name: target
    static_configs: [{targets: [%q]}]
`, filepath.Clean(rules), target.Listener.Addr().String()))
	ctx, cancel := context.WithTimeout(context.Background(), Scaled(30*time.Second))
	defer cancel()

	Eventually(t, 20*time.Second, 100*time.Millisecond, func() bool {
		s, err := p.Query(ctx, `testenv_value{job="target"}`)
		return err == nil && len(s) == 1 && s[0].Value == 42
	}, "Prometheus never had testenv_value 42")
	Eventually(t, 20*time.Second, 100*time.Millisecond, func() bool {
		alerts, err := p.Alerts(ctx)
		return err == nil && len(alerts) == 1 && alerts[0].Labels["alertname"] == "TestenvHigh" && alerts[0].State == "firing"
	}, "TestenvHigh never fired")
	groups, err := p.RuleGroups(ctx)
	if err != nil || len(groups) != 1 || groups[0].Name != "testenv" || groups[0].LastEvaluation.IsZero() {
		t.Errorf("rule groups %+v, %v", groups, err)
	}
	if _, err := p.Query(ctx, "testenv_value["); err == nil {
		t.Error("a malformed query returned no error")
	}
}
