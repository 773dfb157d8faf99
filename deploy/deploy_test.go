package deploy

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"

	"github.com/zk-monitor/zk_monitor/internal/testenv"
)

// The tests run in deploy/, so paths are relative to it; repoRoot is the
// module root (the root Dockerfile, main package).
const (
	repoRoot            = ".."
	exportedMetricsFile = "testdata/exported_metrics.txt"
	prometheusConfig    = "prometheus/prometheus.yml"
	rulesFile           = "prometheus/rules/zk_monitor.rules.yml"
	rulesTestFile       = "prometheus/rules/zk_monitor.rules_test.yml"
	dashboardFile       = "grafana/zk_monitor.json"
	composeFile         = "docker-compose/docker-compose.yml"
	composeConfigFile   = "docker-compose/zk_monitor.yml"
	kubernetesDir       = "kubernetes"
	systemdUnit         = "systemd/zk_monitor.service"
	systemdDefaults     = "systemd/zk_monitor.default"
	dockerfile          = repoRoot + "/Dockerfile"
	// agentPort is zk_monitor's default --port.
	agentPort = "8080"
)

// readFile returns the content of path or fails the test.
func readFile(t *testing.T, path string) []byte {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("reading %s: %v", path, err)
	}
	return data
}

// decodeYAMLDocuments decodes every document of a (multi-document) YAML
// stream into a yaml.Node, failing on syntax errors and duplicate keys.
func decodeYAMLDocuments(data []byte) ([]*yaml.Node, error) {
	dec := yaml.NewDecoder(bytes.NewReader(data))
	var docs []*yaml.Node
	for {
		var n yaml.Node
		err := dec.Decode(&n)
		if errors.Is(err, io.EOF) {
			return docs, nil
		}
		if err != nil {
			return nil, err
		}
		docs = append(docs, &n)
	}
}

// decodeYAMLFile decodes the single-document YAML file path into v.
func decodeYAMLFile(t *testing.T, path string, v any) {
	t.Helper()
	if err := yaml.Unmarshal(readFile(t, path), v); err != nil {
		t.Fatalf("parsing %s: %v", path, err)
	}
}

// yamlFiles lists every .yml and .yaml file under deploy/.
func yamlFiles(t *testing.T) []string {
	t.Helper()
	var files []string
	err := filepath.WalkDir(".", func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if ext := filepath.Ext(path); !d.IsDir() && (ext == ".yml" || ext == ".yaml") {
			files = append(files, path)
		}
		return nil
	})
	if err != nil {
		t.Fatalf("listing YAML files: %v", err)
	}
	return files
}

func TestYAMLFilesParse(t *testing.T) {
	files := yamlFiles(t)
	for _, want := range []string{prometheusConfig, rulesFile, rulesTestFile, composeFile, composeConfigFile} {
		if !contains(files, want) {
			t.Errorf("%s is missing", want)
		}
	}
	for _, path := range files {
		t.Run(path, func(t *testing.T) {
			docs, err := decodeYAMLDocuments(readFile(t, path))
			if err != nil {
				t.Fatalf("parsing %s: %v", path, err)
			}
			if len(docs) == 0 {
				t.Fatalf("%s holds no YAML document", path)
			}
			for i, d := range docs {
				if len(d.Content) == 0 || d.Content[0].Kind != yaml.MappingNode {
					t.Errorf("%s: document %d is not a mapping", path, i+1)
				}
			}
		})
	}
}

// exportedMetrics reads the metric families zk_monitor exports.
func exportedMetrics(t *testing.T) map[string]bool {
	t.Helper()
	names := map[string]bool{}
	for _, line := range strings.Split(string(readFile(t, exportedMetricsFile)), "\n") {
		if line = strings.TrimSpace(line); line != "" {
			names[line] = true
		}
	}
	return names
}

var metricNameRE = regexp.MustCompile(`^[a-zA-Z_][a-zA-Z0-9_]*$`)

func TestExportedMetricsList(t *testing.T) {
	var names []string
	seen := map[string]bool{}
	for i, line := range strings.Split(strings.TrimRight(string(readFile(t, exportedMetricsFile)), "\n"), "\n") {
		switch {
		case !metricNameRE.MatchString(line):
			t.Errorf("%s:%d: %q is not a metric name", exportedMetricsFile, i+1, line)
		case !strings.HasPrefix(line, "zk_monitor_"):
			t.Errorf("%s:%d: %q lacks the zk_monitor_ prefix", exportedMetricsFile, i+1, line)
		case seen[line]:
			t.Errorf("%s:%d: %q is listed twice", exportedMetricsFile, i+1, line)
		}
		for _, suffix := range []string{"_bucket", "_sum", "_count"} {
			if strings.HasSuffix(line, suffix) {
				t.Errorf("%s:%d: %q: list histograms by family name, without %s", exportedMetricsFile, i+1, line, suffix)
			}
		}
		seen[line] = true
		names = append(names, line)
	}
	if len(names) < 20 {
		t.Errorf("%s lists only %d metrics", exportedMetricsFile, len(names))
	}
}

// stringLiteralRE matches PromQL string literals, whose content (label
// values, regexes) must not be mistaken for metric names.
var stringLiteralRE = regexp.MustCompile("\"(?:[^\"\\\\]|\\\\.)*\"|'(?:[^'\\\\]|\\\\.)*'|`[^`]*`")

// identifierRE matches PromQL identifiers: metric, label and function names,
// keywords, and recording-rule names with colons.
var identifierRE = regexp.MustCompile(`[a-zA-Z_:][a-zA-Z0-9_:]*`)

// metricNamesIn returns the zk_monitor metric names an expression uses:
// names with the zk_monitor_ prefix, and recording-rule names (level:metric:
// operations) containing "zk_monitor".
func metricNamesIn(expr string) (exported, recorded []string) {
	for _, id := range identifierRE.FindAllString(stringLiteralRE.ReplaceAllString(expr, `""`), -1) {
		switch {
		case strings.Contains(id, ":") && strings.Contains(id, "zk_monitor"):
			recorded = append(recorded, id)
		case strings.HasPrefix(id, "zk_monitor_"):
			exported = append(exported, id)
		}
	}
	return exported, recorded
}

// isExported reports whether name is an exported family, or a series of an
// exported histogram or summary family.
func isExported(exported map[string]bool, name string) bool {
	if exported[name] {
		return true
	}
	for _, suffix := range []string{"_bucket", "_sum", "_count"} {
		if base, ok := strings.CutSuffix(name, suffix); ok && exported[base] {
			return true
		}
	}
	return false
}

func TestMetricNamesIn(t *testing.T) {
	tests := []struct {
		expr               string
		exported, recorded []string
	}{
		{`up{job="zk_monitor"} == 0`, nil, nil},
		{`sum by (job) (zk_monitor_cluster_leader{job="zk_monitor_x"})`, []string{"zk_monitor_cluster_leader"}, nil},
		{`rate(zk_monitor_alertmanager_request_duration_seconds_bucket[5m])`, []string{"zk_monitor_alertmanager_request_duration_seconds_bucket"}, nil},
		{`job:zk_monitor_cluster_leader:sum > 1`, nil, []string{"job:zk_monitor_cluster_leader:sum"}},
		{`x{path=~"/zk_monitor_fake"} or zk_monitor_a`, []string{"zk_monitor_a"}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.expr, func(t *testing.T) {
			exported, recorded := metricNamesIn(tt.expr)
			if strings.Join(exported, ",") != strings.Join(tt.exported, ",") || strings.Join(recorded, ",") != strings.Join(tt.recorded, ",") {
				t.Errorf("metricNamesIn(%q) = %q, %q; want %q, %q", tt.expr, exported, recorded, tt.exported, tt.recorded)
			}
		})
	}
}

// runTool runs a command in dir and returns its combined output; it fails
// the test when the command exits non-zero.
func runTool(t *testing.T, dir, name string, args ...string) string {
	t.Helper()
	out, err := runToolErr(t, dir, name, args...)
	if err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	return out
}

// runToolErr runs a command in dir and returns its combined output, and an
// error naming the command when it exits non-zero.
func runToolErr(t *testing.T, dir, name string, args ...string) (string, error) {
	t.Helper()
	cmd := exec.Command(testenv.RequireBinary(t, name), args...)
	cmd.Dir = dir
	out, err := cmd.CombinedOutput()
	if err != nil {
		return string(out), fmt.Errorf("%s %s (in %s): %w", name, strings.Join(args, " "), dir, err)
	}
	return string(out), nil
}

// zkMonitor is the zk_monitor binary of this tree, built on first use.
var zkMonitor = testenv.NewBinary(repoRoot)

// TestMain removes the zk_monitor binary.
func TestMain(m *testing.M) {
	code := m.Run()
	zkMonitor.Remove()
	os.Exit(code)
}

var helpFlagRE = regexp.MustCompile(`(?m)^\s+(?:-\w, )?--(?:\[no-\])?([a-zA-Z0-9_.-]+)`)

// zkMonitorFlags returns the long flag names `zk_monitor --help` lists.
func zkMonitorFlags(t *testing.T) map[string]bool {
	t.Helper()
	// Only the help text matters, not the exit status.
	out, _ := exec.Command(zkMonitor.Path(t), "--help").Output()
	flags := map[string]bool{}
	for _, m := range helpFlagRE.FindAllStringSubmatch(string(out), -1) {
		flags[m[1]] = true
	}
	if !flags["zookeeper"] || !flags["config.file"] {
		t.Fatalf("zk_monitor --help lists no --zookeeper or --config.file flag:\n%s", out)
	}
	return flags
}

// commandLine is one zk_monitor command line found in a deploy file.
type commandLine struct {
	where string
	args  []string
}

// flagValue returns the value of --name=value in args and whether it is
// there.
func flagValue(args []string, name string) (string, bool) {
	for _, a := range args {
		if v, ok := strings.CutPrefix(a, "--"+name+"="); ok {
			return v, true
		}
	}
	return "", false
}

// listenPort returns the port of --web.listen-address, or zk_monitor's
// default port.
func listenPort(args []string) string {
	if addr, ok := flagValue(args, "web.listen-address"); ok {
		_, port, _ := strings.Cut(addr, ":")
		return port
	}
	if port, ok := flagValue(args, "port"); ok {
		return port
	}
	return agentPort
}

// TestCommandLineFlagsExist checks that every zk_monitor command line in the
// deploy files (systemd, Dockerfile, docker-compose, Kubernetes) only uses
// flags and commands the zk_monitor binary built from this tree knows.
func TestCommandLineFlagsExist(t *testing.T) {
	var lines []commandLine
	lines = append(lines, commandLine{systemdDefaults, systemdArgs(t)})
	lines = append(lines, commandLine{dockerfile + " CMD", parseDockerfile(t).cmd})
	for name, svc := range loadCompose(t).Services {
		if svc.Build != nil {
			lines = append(lines, commandLine{composeFile + " service " + name, svc.Command})
		}
	}
	for _, c := range kubernetesContainers(t) {
		if strings.Contains(c.Image, "zk_monitor") {
			lines = append(lines, commandLine{"kubernetes container " + c.Name, c.Args})
		}
	}
	if len(lines) < 6 {
		t.Fatalf("found only %d zk_monitor command lines", len(lines))
	}
	flags := zkMonitorFlags(t)
	commands := []string{"run", "seed", "check-config"}
	sort.Slice(lines, func(i, j int) bool { return lines[i].where < lines[j].where })
	for _, l := range lines {
		t.Run(l.where, func(t *testing.T) {
			for i, a := range l.args {
				name, isFlag := strings.CutPrefix(a, "--")
				if !isFlag {
					if i == 0 && !strings.HasPrefix(a, "/") && !contains(commands, a) {
						t.Errorf("unknown command %q", a)
					}
					continue
				}
				name, _, _ = strings.Cut(name, "=")
				if !flags[name] {
					t.Errorf("unknown flag --%s", name)
				}
			}
		})
	}
}

// zkTLSFlagRE matches the ZooKeeper TLS flags the deploy files show in
// comments (TLS needs certificates the agent test cannot provide).
var zkTLSFlagRE = regexp.MustCompile(`--(zookeeper\.tls[a-z.-]*)`)

// TestZooKeeperTLSExamples checks that the systemd, compose and Kubernetes
// files each show where ZooKeeper's TLS files go, with flags zk_monitor knows.
func TestZooKeeperTLSExamples(t *testing.T) {
	flags := zkMonitorFlags(t)
	for _, file := range []string{systemdDefaults, composeFile, kubernetesDir + "/zk_monitor.yaml"} {
		found := zkTLSFlagRE.FindAllStringSubmatch(string(readFile(t, file)), -1)
		if len(found) < 3 {
			t.Errorf("%s shows %d --zookeeper.tls.* flags, want the CA, the certificate and the key", file, len(found))
		}
		for _, m := range found {
			if !flags[m[1]] {
				t.Errorf("%s: unknown flag --%s", file, m[1])
			}
		}
	}
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}
