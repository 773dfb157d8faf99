package deploy

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"
)

// dashboard is the part of a Grafana dashboard model the tests look at.
type dashboard struct {
	UID           string  `json:"uid"`
	Title         string  `json:"title"`
	SchemaVersion int     `json:"schemaVersion"`
	Panels        []panel `json:"panels"`
	Templating    struct {
		List []struct {
			Name       string  `json:"name"`
			Type       string  `json:"type"`
			Query      any     `json:"query"`
			Datasource *dsRef  `json:"datasource"`
			Multi      bool    `json:"multi"`
			IncludeAll bool    `json:"includeAll"`
			AllValue   *string `json:"allValue"`
		} `json:"list"`
	} `json:"templating"`
	Annotations struct {
		List []struct {
			Name       string `json:"name"`
			BuiltIn    int    `json:"builtIn"`
			Expr       string `json:"expr"`
			Datasource *dsRef `json:"datasource"`
		} `json:"list"`
	} `json:"annotations"`
}

type panel struct {
	ID         int    `json:"id"`
	Type       string `json:"type"`
	Title      string `json:"title"`
	Datasource *dsRef `json:"datasource"`
	GridPos    *struct {
		X, Y, W, H int
	} `json:"gridPos"`
	Targets []struct {
		RefID      string `json:"refId"`
		Expr       string `json:"expr"`
		Datasource *dsRef `json:"datasource"`
	} `json:"targets"`
	Repeat      string  `json:"repeat"`
	Panels      []panel `json:"panels"`
	FieldConfig struct {
		Defaults struct {
			Custom map[string]any `json:"custom"`
		} `json:"defaults"`
	} `json:"fieldConfig"`
}

type dsRef struct {
	Type string `json:"type"`
	UID  string `json:"uid"`
}

// datasourceVariable is how every panel names its data source: the
// dashboard's "datasource" variable, so the dashboard works both imported
// (pick the data source in the variable) and provisioned from a file.
var datasourceVariable = dsRef{Type: "prometheus", UID: "${datasource}"}

func loadDashboard(t *testing.T) dashboard {
	t.Helper()
	data := readFile(t, dashboardFile)
	if !json.Valid(data) {
		t.Fatalf("%s is not valid JSON", dashboardFile)
	}
	var d dashboard
	if err := json.Unmarshal(data, &d); err != nil {
		t.Fatalf("decoding %s: %v", dashboardFile, err)
	}
	return d
}

// allPanels returns the dashboard's panels, including those inside
// collapsed rows.
func allPanels(ps []panel) []panel {
	var out []panel
	for _, p := range ps {
		out = append(out, p)
		out = append(out, allPanels(p.Panels)...)
	}
	return out
}

func TestDashboardModel(t *testing.T) {
	d := loadDashboard(t)
	if d.UID == "" || len(d.UID) > 40 {
		t.Errorf("uid %q: want 1 to 40 characters", d.UID)
	}
	if d.Title == "" {
		t.Errorf("dashboard has no title")
	}
	// Grafana 10 writes schema version 36 and later.
	if d.SchemaVersion < 36 {
		t.Errorf("schemaVersion %d, want >= 36 (Grafana 10+)", d.SchemaVersion)
	}

	vars := map[string]bool{}
	for _, v := range d.Templating.List {
		vars[v.Name] = true
		switch v.Type {
		case "datasource":
			if v.Query != "prometheus" {
				t.Errorf("variable %s: data source type %v, want prometheus", v.Name, v.Query)
			}
		case "query":
			if v.Datasource == nil || *v.Datasource != datasourceVariable {
				t.Errorf("variable %s: datasource %+v, want %+v", v.Name, v.Datasource, datasourceVariable)
			}
			if v.IncludeAll && (v.AllValue == nil || *v.AllValue == "") {
				t.Errorf("variable %s: All needs an allValue regex, or new label values are missed", v.Name)
			}
		}
	}
	for _, want := range []string{"datasource", "job", "cluster", "instance", "path"} {
		if !vars[want] {
			t.Errorf("template variable %s is missing", want)
		}
	}
	for _, v := range d.Templating.List {
		if (v.Name == "job" || v.Name == "cluster") && !v.Multi {
			t.Errorf("variable %s: want a multi-select", v.Name)
		}
	}

	ids := map[int]string{}
	for _, p := range allPanels(d.Panels) {
		name := fmt.Sprintf("panel %d %q", p.ID, p.Title)
		if p.ID <= 0 {
			t.Errorf("%s: id must be positive", name)
		}
		if other, dup := ids[p.ID]; dup {
			t.Errorf("%s: id also used by %q", name, other)
		}
		ids[p.ID] = p.Title
		if p.Title == "" {
			t.Errorf("%s: no title", name)
		}
		if g := p.GridPos; g == nil || g.W <= 0 || g.H <= 0 || g.X < 0 || g.Y < 0 || g.X+g.W > 24 {
			t.Errorf("%s: gridPos %+v outside the 24-column grid", name, g)
		}
		// One panel per path does not scale to thousands of paths.
		if p.Repeat != "" {
			t.Errorf("%s: repeats per %s; use a table or a topk instead", name, p.Repeat)
		}
		// Grafana reads decimals from fieldConfig.defaults, not from custom.
		if _, ok := p.FieldConfig.Defaults.Custom["decimals"]; ok {
			t.Errorf("%s: decimals under fieldConfig.defaults.custom, where Grafana ignores it", name)
		}
		if p.Type == "row" {
			// Rows group panels; they query nothing.
			continue
		}
		if p.Datasource == nil || *p.Datasource != datasourceVariable {
			t.Errorf("%s: datasource %+v, want %+v", name, p.Datasource, datasourceVariable)
		}
		if len(p.Targets) == 0 {
			t.Errorf("%s: no targets", name)
		}
		refIDs := map[string]bool{}
		for _, tg := range p.Targets {
			if tg.RefID == "" || refIDs[tg.RefID] {
				t.Errorf("%s: refId %q empty or repeated", name, tg.RefID)
			}
			refIDs[tg.RefID] = true
			if strings.TrimSpace(tg.Expr) == "" {
				t.Errorf("%s: target %s has no expr", name, tg.RefID)
			}
			if tg.Datasource != nil && *tg.Datasource != datasourceVariable {
				t.Errorf("%s: target %s datasource %+v, want %+v", name, tg.RefID, tg.Datasource, datasourceVariable)
			}
		}
	}
	// Top-level panels must not overlap.
	top := d.Panels
	for i := range top {
		for j := i + 1; j < len(top); j++ {
			a, b := top[i].GridPos, top[j].GridPos
			if a != nil && b != nil && a.X < b.X+b.W && b.X < a.X+a.W && a.Y < b.Y+b.H && b.Y < a.Y+a.H {
				t.Errorf("panels %q and %q overlap", top[i].Title, top[j].Title)
			}
		}
	}
}

// dashboardExpr is one PromQL expression of the dashboard, and where.
type dashboardExpr struct {
	where, expr string
}

var labelValuesRE = regexp.MustCompile(`^label_values\((.+),\s*(\w+)\)$`)

// dashboardExprs returns every PromQL expression of the dashboard: panel
// targets, annotation queries and the selectors of label_values variables.
func dashboardExprs(t *testing.T, d dashboard) []dashboardExpr {
	t.Helper()
	var exprs []dashboardExpr
	for _, p := range allPanels(d.Panels) {
		for _, tg := range p.Targets {
			exprs = append(exprs, dashboardExpr{fmt.Sprintf("panel %q target %s", p.Title, tg.RefID), tg.Expr})
		}
	}
	for _, a := range d.Annotations.List {
		if a.BuiltIn == 0 {
			exprs = append(exprs, dashboardExpr{fmt.Sprintf("annotation %q", a.Name), a.Expr})
		}
	}
	for _, v := range d.Templating.List {
		if v.Type != "query" {
			continue
		}
		q, _ := v.Query.(string)
		if m, ok := v.Query.(map[string]any); ok {
			q, _ = m["query"].(string)
		}
		m := labelValuesRE.FindStringSubmatch(strings.TrimSpace(q))
		if m == nil {
			t.Errorf("variable %s: query %v is not label_values(selector, label)", v.Name, v.Query)
			continue
		}
		exprs = append(exprs, dashboardExpr{fmt.Sprintf("variable %s", v.Name), m[1]})
	}
	return exprs
}

// grafanaBuiltins are Grafana's global variables that can stand in PromQL,
// with a valid value for each.
var grafanaBuiltins = map[string]string{
	"__rate_interval": "5m",
	"__interval":      "1m",
	"__interval_ms":   "60000",
	"__range":         "1h",
	"__range_s":       "3600",
	"__range_ms":      "3600000",
}

var grafanaVariableRE = regexp.MustCompile(`\$\{(\w+)(?::\w+)?\}|\$(\w+)|\[\[(\w+)(?::\w+)?\]\]`)

// substituteGrafanaVariables replaces Grafana's variables in expr: built-in
// ones by a valid value, the dashboard's own (which all stand in regex label
// matchers) by ".+". An unknown variable is an error.
func substituteGrafanaVariables(expr string, vars map[string]bool) (string, error) {
	var err error
	out := grafanaVariableRE.ReplaceAllStringFunc(expr, func(m string) string {
		sub := grafanaVariableRE.FindStringSubmatch(m)
		name := sub[1] + sub[2] + sub[3]
		if v, ok := grafanaBuiltins[name]; ok {
			return v
		}
		if vars[name] {
			return ".+"
		}
		if err == nil {
			err = fmt.Errorf("unknown variable $%s", name)
		}
		return m
	})
	return out, err
}

func TestSubstituteGrafanaVariables(t *testing.T) {
	vars := map[string]bool{"job": true, "path": true}
	tests := []struct {
		in, want, err string
	}{
		{`rate(x{job=~"$job"}[$__rate_interval])`, `rate(x{job=~".+"}[5m])`, ""},
		{`x{path=~"${path}"} * $__range_s`, `x{path=~".+"} * 3600`, ""},
		{`x{path=~"${path:regex}",job=~"[[job]]"}[$__range]`, `x{path=~".+",job=~".+"}[1h]`, ""},
		{`x{a=~"foo$"}`, `x{a=~"foo$"}`, ""},
		{`x{instance=~"$instance"}`, "", "unknown variable $instance"},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, err := substituteGrafanaVariables(tt.in, vars)
			if tt.err != "" {
				if err == nil || err.Error() != tt.err {
					t.Fatalf("error %v, want %q", err, tt.err)
				}
				return
			}
			if err != nil || got != tt.want {
				t.Errorf("got %q, %v; want %q", got, err, tt.want)
			}
		})
	}
}

// TestDashboardExprsParse writes every PromQL expression of the dashboard,
// with Grafana's variables substituted, into a rule file as recording rules
// and has promtool check it: promtool parses each expression with the
// Prometheus parser.
func TestDashboardExprsParse(t *testing.T) {
	d := loadDashboard(t)
	vars := map[string]bool{}
	for _, v := range d.Templating.List {
		vars[v.Name] = true
	}
	type recording struct {
		Record string `yaml:"record"`
		Expr   string `yaml:"expr"`
	}
	var rules []recording
	var legend strings.Builder
	for i, e := range dashboardExprs(t, d) {
		expr, err := substituteGrafanaVariables(e.expr, vars)
		if err != nil {
			t.Errorf("%s: %v", e.where, err)
			continue
		}
		name := fmt.Sprintf("dashboard:expr_%d", i+1)
		rules = append(rules, recording{name, expr})
		fmt.Fprintf(&legend, "%s = %s: %s\n", name, e.where, expr)
	}
	file := map[string]any{"groups": []any{map[string]any{"name": "dashboard", "rules": rules}}}
	var buf bytes.Buffer
	enc := yaml.NewEncoder(&buf)
	if err := enc.Encode(file); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "dashboard.rules.yml")
	if err := os.WriteFile(path, buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	out, err := runToolErr(t, ".", "promtool", "check", "rules", path)
	if err != nil {
		t.Fatalf("%v\n%s\nexpressions:\n%s", err, out, legend.String())
	}
	if want := fmt.Sprintf("SUCCESS: %d rules found", len(rules)); !strings.Contains(out, want) {
		t.Errorf("promtool check rules output lacks %q:\n%s\nexpressions:\n%s", want, out, legend.String())
	}
	if len(rules) < 20 {
		t.Errorf("only %d expressions found in the dashboard", len(rules))
	}
}

// TestDashboardUsesExportedMetrics checks that the dashboard only queries
// metrics zk_monitor exports (and recording rules the rule file defines),
// and that it shows what the issue asks for.
func TestDashboardUsesExportedMetrics(t *testing.T) {
	exported := exportedMetrics(t)
	recorded := map[string]bool{}
	for _, r := range loadRules(t) {
		recorded[r.Record] = r.Record != ""
	}
	used := map[string]bool{}
	for _, e := range dashboardExprs(t, loadDashboard(t)) {
		names, records := metricNamesIn(e.expr)
		for _, n := range names {
			used[n] = true
			if !isExported(exported, n) {
				t.Errorf("%s uses %s, which is not in %s", e.where, n, exportedMetricsFile)
			}
		}
		for _, n := range records {
			if !recorded[n] {
				t.Errorf("%s uses %s, which no recording rule defines", e.where, n)
			}
		}
	}
	for _, want := range []string{
		// compliance table: verdict, children and the spec's limits;
		// which check fails
		"zk_monitor_znode_compliant", "zk_monitor_znode_stale", "zk_monitor_znode_children", "zk_monitor_znode_spec_info",
		"zk_monitor_znode_check_passing",
		// clusters, leader and agents
		"zk_monitor_cluster_info", "zk_monitor_cluster_leader", "zk_monitor_cluster_agents",
		// ZooKeeper connection
		"zk_monitor_zookeeper_connected",
		// alert delivery
		"zk_monitor_alertmanager_alerts_sent_total", "zk_monitor_alertmanager_alerts_failed_total",
		"zk_monitor_alertmanager_alerts_dropped_total", "zk_monitor_alertmanager_queue_length",
		// configuration reloads
		"zk_monitor_config_last_reload_successful",
	} {
		if !used[want] {
			t.Errorf("the dashboard does not show %s", want)
		}
	}
}

// selectorRE matches the vector selectors of an expression: a metric name
// and its matchers.
var selectorRE = regexp.MustCompile(`\b(up|zk_monitor_[a-zA-Z0-9_]*)(\{[^}]*\})?`)

// TestDashboardQueriesNarrowed checks that every selector of every panel
// and annotation query carries the Agent or the Cluster variable, so a
// dashboard showing one cluster never mixes in another's series.
func TestDashboardQueriesNarrowed(t *testing.T) {
	d := loadDashboard(t)
	var exprs []dashboardExpr
	for _, e := range dashboardExprs(t, d) {
		if !strings.HasPrefix(e.where, "variable ") {
			exprs = append(exprs, e)
		}
	}
	if len(exprs) < 20 {
		t.Fatalf("only %d panel and annotation expressions", len(exprs))
	}
	for _, e := range exprs {
		for _, m := range selectorRE.FindAllStringSubmatch(e.expr, -1) {
			if !strings.Contains(m[2], `instance=~"$instance"`) && !strings.Contains(m[2], `cluster=~"$cluster"`) {
				t.Errorf("%s: selector %s%s has neither instance=~\"$instance\" nor cluster=~\"$cluster\"", e.where, m[1], m[2])
			}
		}
	}
}
