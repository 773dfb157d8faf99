package deploy

import (
	"bufio"
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// unitFile is a parsed systemd unit: section -> key -> values in order.
type unitFile map[string]map[string][]string

func (u unitFile) get(section, key string) string {
	v := u[section][key]
	if len(v) == 0 {
		return ""
	}
	return v[len(v)-1]
}

// parseUnitFile parses the INI-like systemd unit syntax: sections, Key=Value
// lines, comments starting with # or ;, and lines continued with a
// backslash.
func parseUnitFile(t *testing.T, data []byte) unitFile {
	t.Helper()
	u := unitFile{}
	section := ""
	sc := bufio.NewScanner(bytes.NewReader(data))
	var pending string
	n := 0
	for sc.Scan() {
		n++
		line := strings.TrimSpace(sc.Text())
		if pending != "" {
			line = pending + " " + line
			pending = ""
		}
		if line == "" || line[0] == '#' || line[0] == ';' {
			continue
		}
		if strings.HasSuffix(line, `\`) {
			pending = strings.TrimSuffix(line, `\`)
			continue
		}
		if strings.HasPrefix(line, "[") && strings.HasSuffix(line, "]") {
			section = line[1 : len(line)-1]
			if u[section] == nil {
				u[section] = map[string][]string{}
			}
			continue
		}
		key, value, ok := strings.Cut(line, "=")
		if !ok || section == "" {
			t.Fatalf("%s:%d: not a Key=Value line in a section: %q", systemdUnit, n, line)
		}
		key = strings.TrimSpace(key)
		u[section][key] = append(u[section][key], strings.TrimSpace(value))
	}
	return u
}

// systemdArgs returns the command-line arguments zk_monitor.default sets in
// ARGS, split on white space as systemd splits an unbraced $ARGS.
func systemdArgs(t *testing.T) []string {
	t.Helper()
	for _, line := range strings.Split(string(readFile(t, systemdDefaults)), "\n") {
		value, ok := strings.CutPrefix(strings.TrimSpace(line), "ARGS=")
		if !ok {
			continue
		}
		if unq, err := strconv.Unquote(value); err == nil {
			value = unq
		}
		return strings.Fields(value)
	}
	t.Fatalf("%s does not set ARGS", systemdDefaults)
	return nil
}

// TestSystemdUnit checks the unit's content: the binary, the arguments file,
// restarts, reload, and the hardening the unit promises.
func TestSystemdUnit(t *testing.T) {
	u := parseUnitFile(t, readFile(t, systemdUnit))
	for _, s := range []string{"Unit", "Service", "Install"} {
		if u[s] == nil {
			t.Errorf("section [%s] is missing", s)
		}
	}
	exec := strings.Fields(u.get("Service", "ExecStart"))
	if len(exec) == 0 || exec[0] != "/usr/bin/zk_monitor" || !contains(exec, "$ARGS") {
		t.Errorf("ExecStart=%s, want /usr/bin/zk_monitor $ARGS", u.get("Service", "ExecStart"))
	}
	if env := strings.TrimPrefix(u.get("Service", "EnvironmentFile"), "-"); env != "/etc/default/zk_monitor" {
		t.Errorf("EnvironmentFile=%s, want /etc/default/zk_monitor (where %s is installed)", env, systemdDefaults)
	}
	if r := u.get("Service", "ExecReload"); !strings.Contains(r, "-HUP") || !strings.Contains(r, "$MAINPID") {
		t.Errorf("ExecReload=%s, want SIGHUP to $MAINPID", r)
	}
	if u.get("Service", "DynamicUser") != "yes" && u.get("Service", "User") == "" {
		t.Errorf("the service runs as root: set DynamicUser=yes or User=")
	}
	for _, kv := range [][2]string{
		{"Restart", "on-failure"},
		{"NoNewPrivileges", "yes"},
		{"ProtectSystem", "strict"},
		{"ProtectHome", "yes"},
		{"PrivateTmp", "yes"},
		{"ConfigurationDirectory", "zk_monitor"},
	} {
		if got := u.get("Service", kv[0]); got != kv[1] {
			t.Errorf("%s=%s, want %s", kv[0], got, kv[1])
		}
	}
	if got := u.get("Install", "WantedBy"); got != "multi-user.target" {
		t.Errorf("WantedBy=%s, want multi-user.target", got)
	}

	args := systemdArgs(t)
	// ProtectSystem=strict leaves /etc readable; ConfigurationDirectory
	// creates /etc/zk_monitor for the path-spec file.
	if cf, ok := flagValue(args, "config.file"); !ok || filepath.Dir(cf) != "/etc/zk_monitor" {
		t.Errorf("ARGS: --config.file=%s, want a file in /etc/zk_monitor", cf)
	}
	if _, ok := flagValue(args, "zookeeper"); !ok {
		t.Errorf("ARGS: no --zookeeper")
	}
	if p := listenPort(args); p != agentPort {
		t.Errorf("ARGS: listens on port %s, want %s (prometheus.yml and the docs assume it)", p, agentPort)
	}
}

// TestSystemdAnalyzeVerify runs `systemd-analyze verify` on the unit, which
// checks every directive systemd knows. It needs systemd-analyze, not a
// running systemd; where systemd-analyze is missing the test is skipped and
// TestSystemdUnit's own parse is all the checking done. verify also insists
// that ExecStart's binary exists, so it checks a copy of the unit whose
// ExecStart names a stand-in executable. The drop-in for Alertmanager
// credentials is checked with it.
func TestSystemdAnalyzeVerify(t *testing.T) {
	analyze, err := exec.LookPath("systemd-analyze")
	if err != nil {
		t.Skip("systemd-analyze not installed; TestSystemdUnit checks the unit's content")
	}
	dir := t.TempDir()
	stub := filepath.Join(dir, "zk_monitor")
	if err := os.WriteFile(stub, []byte("#!/bin/sh\nexit 0\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	unit := strings.ReplaceAll(string(readFile(t, systemdUnit)), "ExecStart=/usr/bin/zk_monitor ", "ExecStart="+stub+" ")
	if !strings.Contains(unit, stub) {
		t.Fatalf("ExecStart of %s does not start with /usr/bin/zk_monitor", systemdUnit)
	}
	path := filepath.Join(dir, filepath.Base(systemdUnit))
	if err := os.WriteFile(path, []byte(unit), 0o644); err != nil {
		t.Fatal(err)
	}
	// verify reads the drop-ins beside the unit too.
	dropIns := path + ".d"
	if err := os.Mkdir(dropIns, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dropIns, filepath.Base(systemdCredentials)), readFile(t, systemdCredentials), 0o644); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(analyze, "verify", "--man=no", path)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("systemd-analyze verify: %v\n%s", err, out)
	}
	// Unknown or misspelt directives are only warnings: fail on them too.
	for _, line := range strings.Split(string(out), "\n") {
		if strings.Contains(line, filepath.Base(systemdUnit)) {
			t.Errorf("systemd-analyze verify: %s", line)
		}
	}
}
