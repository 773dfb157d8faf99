package main

import (
	"bytes"
	"encoding/json"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/go-zookeeper/zk"

	"github.com/zk-monitor/zk_monitor/internal/testenv"
	"github.com/zk-monitor/zk_monitor/zkclient"
)

// testVersion is put into the test binary with the ldflags .promu.yml uses.
const testVersion = "9.9.9-test"

// zkMonitor is the zk_monitor executable, built by the first test that
// needs a real process (exit statuses, signals).
var zkMonitor = testenv.NewBinary(".",
	"-ldflags", "-X github.com/prometheus/common/version.Version="+testVersion+" -X github.com/prometheus/common/version.Revision=testrev")

func TestMain(m *testing.M) {
	code := m.Run()
	zkMonitor.Remove()
	os.Exit(code)
}

// TestParseArgs turns command lines into options: the original's flags
// with their defaults, the Prometheus-style names beside them, and a
// one-line reason for every bad value.
func TestParseArgs(t *testing.T) {
	cfg := testenv.WriteFile(t, "paths.yaml", "/a: {children: 1}\n")
	passFile := testenv.WriteFile(t, "zk.pass", "s3cret-from-file\n")
	missing := filepath.Join(t.TempDir(), "missing.yaml")

	cases := []struct {
		name    string
		args    []string
		check   func(t *testing.T, c *command)
		wantErr string
	}{
		{name: "defaults", args: nil, check: func(t *testing.T, c *command) {
			o := c.options
			if c.name != "run" || o.ZooKeeper != "localhost:2181" || o.ClusterName != "zkmonitor" || o.ClusterPrefix != "/zk_monitor" ||
				o.ConfigFile != "" || !reflect.DeepEqual(o.ListenAddresses, []string{":8080"}) || o.TelemetryPath != "/metrics" ||
				o.SessionTimeout != 10*time.Second || o.EnableLifecycle || o.WebConfigFile != "" || len(o.AlertmanagerURLs) != 0 ||
				o.ResendInterval != time.Minute || o.AlertmanagerTimeout != 10*time.Second {
				t.Errorf("defaults: %+v", o)
			}
			if c.logging.Level != "warn" || c.logging.Format != "logfmt" || c.logging.SyslogFacility != "" {
				t.Errorf("logging defaults: %+v", c.logging)
			}
			if o.AgentName == "" || strings.Contains(o.AgentName, "/") {
				t.Errorf("agent name %q", o.AgentName)
			}
		}},
		{name: "legacy short flags", args: []string{"-z", "zk1:2181,zk2:2181/chroot", "-f", cfg, "-p", "9090", "-l", "INFO", "-c", "prod-monitor", "--cluster_prefix", "/x"},
			check: func(t *testing.T, c *command) {
				o := c.options
				if o.ZooKeeper != "zk1:2181,zk2:2181/chroot" || o.ConfigFile != cfg || !reflect.DeepEqual(o.ListenAddresses, []string{":9090"}) ||
					c.logging.Level != "INFO" || o.ClusterName != "prod-monitor" || o.ClusterPrefix != "/x" {
					t.Errorf("%+v %+v", o, c.logging)
				}
			}},
		{name: "legacy long flags", args: []string{"--zookeeper=zk:2181", "--file=" + cfg, "--port=8081", "--level=debug", "--cluster_name=n", "--syslog=local0", "--zookeeper_user=u", "--zookeeper_pass=p"},
			check: func(t *testing.T, c *command) {
				o := c.options
				if o.ZooKeeper != "zk:2181" || o.ConfigFile != cfg || !reflect.DeepEqual(o.ListenAddresses, []string{":8081"}) ||
					c.logging.Level != "debug" || o.ClusterName != "n" || c.logging.SyslogFacility != "local0" || o.ZooKeeperUser != "u" || o.ZooKeeperPass != "p" {
					t.Errorf("%+v %+v", o, c.logging)
				}
			}},
		{name: "explicit run command", args: []string{"run", "-p", "8082"}, check: func(t *testing.T, c *command) {
			if c.name != "run" || !reflect.DeepEqual(c.options.ListenAddresses, []string{":8082"}) {
				t.Errorf("%s %v", c.name, c.options.ListenAddresses)
			}
		}},
		{name: "config.file is -f", args: []string{"--config.file", cfg}, check: func(t *testing.T, c *command) {
			if c.options.ConfigFile != cfg {
				t.Errorf("ConfigFile %q", c.options.ConfigFile)
			}
		}},
		{name: "config.file and -f agreeing", args: []string{"--config.file", cfg, "-f", cfg}, check: func(t *testing.T, c *command) {
			if c.options.ConfigFile != cfg {
				t.Errorf("ConfigFile %q", c.options.ConfigFile)
			}
		}},
		{name: "config.file and -f disagreeing", args: []string{"--config.file", cfg, "-f", passFile}, wantErr: "disagree"},
		{name: "web.listen-address wins over -p", args: []string{"-p", "9000", "--web.listen-address", "127.0.0.1:9100", "--web.listen-address=[::1]:9100"},
			check: func(t *testing.T, c *command) {
				if want := []string{"127.0.0.1:9100", "[::1]:9100"}; !reflect.DeepEqual(c.options.ListenAddresses, want) {
					t.Errorf("ListenAddresses %v, want %v", c.options.ListenAddresses, want)
				}
			}},
		{name: "prometheus-style flags", args: []string{"--log.level=ERROR", "--log.format=json", "--web.telemetry-path=/zk/metrics", "--web.config.file=/etc/web.yml",
			"--web.enable-lifecycle", "--zookeeper.session-timeout=4s", "--web.external-url=https://mon.example.com/zk/", "--agent.name=a1",
			"--alertmanager.url=http://am1:9093", "--alertmanager.url=https://am2:9093/prefix", "--alertmanager.resend-interval=30s", "--alertmanager.timeout=3s"},
			check: func(t *testing.T, c *command) {
				o := c.options
				if c.logging.Level != "ERROR" || c.logging.Format != "json" || o.TelemetryPath != "/zk/metrics" || o.WebConfigFile != "/etc/web.yml" ||
					!o.EnableLifecycle || o.SessionTimeout != 4*time.Second || o.ExternalURL != "https://mon.example.com/zk" || o.AgentName != "a1" ||
					len(o.AlertmanagerURLs) != 2 || o.AlertmanagerURLs[1].String() != "https://am2:9093/prefix" ||
					o.ResendInterval != 30*time.Second || o.AlertmanagerTimeout != 3*time.Second {
					t.Errorf("%+v %+v", o, c.logging)
				}
			}},
		{name: "legacy -l wins over --log.level", args: []string{"--log.level=error", "-l", "Debug"}, check: func(t *testing.T, c *command) {
			if c.logging.Level != "Debug" {
				t.Errorf("level %q", c.logging.Level)
			}
		}},
		{name: "password file", args: []string{"--zookeeper_user", "monitor", "--zookeeper_pass_file", passFile}, check: func(t *testing.T, c *command) {
			if c.options.ZooKeeperUser != "monitor" || c.options.ZooKeeperPass != "s3cret-from-file" {
				t.Errorf("user %q password %q", c.options.ZooKeeperUser, c.options.ZooKeeperPass)
			}
		}},
		{name: "check-config", args: []string{"check-config", cfg, missing}, check: func(t *testing.T, c *command) {
			if c.name != "check-config" || !reflect.DeepEqual(c.files, []string{cfg, missing}) {
				t.Errorf("%s %v", c.name, c.files)
			}
		}},
		{name: "seed", args: []string{"seed", "-z", "zk:2181", "/a", "/b"}, check: func(t *testing.T, c *command) {
			if c.name != "seed" || !reflect.DeepEqual(c.files, []string{"/a", "/b"}) || c.options.ZooKeeper != "zk:2181" {
				t.Errorf("%s %v %s", c.name, c.files, c.options.ZooKeeper)
			}
		}},
		{name: "seed --delete", args: []string{"seed", "--delete", "/a"}, check: func(t *testing.T, c *command) {
			if c.name != "seed-delete" {
				t.Errorf("%s", c.name)
			}
		}},

		{name: "bad level", args: []string{"-l", "LOUD"}, wantErr: `unknown log level "LOUD"`},
		{name: "bad log.level", args: []string{"--log.level=trace"}, wantErr: `unknown log level "trace"`},
		{name: "port out of range", args: []string{"-p", "70000"}, wantErr: `-p/--port "70000" must be a port number 1-65535`},
		{name: "port zero", args: []string{"-p", "0"}, wantErr: `-p/--port "0"`},
		{name: "port not a number", args: []string{"--port", "http"}, wantErr: `-p/--port "http"`},
		{name: "alertmanager URL without scheme", args: []string{"--alertmanager.url", "alertmanager:9093"}, wantErr: `--alertmanager.url "alertmanager:9093" must be an http(s) URL`},
		{name: "alertmanager URL wrong scheme", args: []string{"--alertmanager.url", "ftp://am:9093"}, wantErr: `--alertmanager.url "ftp://am:9093"`},
		{name: "alertmanager URL without host", args: []string{"--alertmanager.url", "http://"}, wantErr: `--alertmanager.url "http://"`},
		{name: "password and password file", args: []string{"--zookeeper_user", "u", "--zookeeper_pass", "p", "--zookeeper_pass_file", passFile}, wantErr: "give --zookeeper_pass or --zookeeper_pass_file, not both"},
		{name: "missing password file", args: []string{"--zookeeper_user", "u", "--zookeeper_pass_file", missing}, wantErr: "reading --zookeeper_pass_file: open " + missing},
		{name: "user without password", args: []string{"--zookeeper_user", "u"}, wantErr: "needs both --zookeeper_user and a password"},
		{name: "password without user", args: []string{"--zookeeper_pass", "p"}, wantErr: "needs both --zookeeper_user and a password"},
		{name: "missing config file", args: []string{"-f", missing}, wantErr: "config file: open " + missing + ": no such file or directory"},
		{name: "missing config.file", args: []string{"--config.file", missing}, wantErr: "open " + missing},
		{name: "bad duration", args: []string{"--zookeeper.session-timeout", "soon"}, wantErr: `--zookeeper.session-timeout "soon" is not a duration`},
		{name: "session timeout too short", args: []string{"--zookeeper.session-timeout", "1ms"}, wantErr: "too short"},
		{name: "bad resend interval", args: []string{"--alertmanager.resend-interval", "0s"}, wantErr: "must be positive"},
		{name: "bad telemetry path", args: []string{"--web.telemetry-path", "metrics"}, wantErr: `--web.telemetry-path "metrics"`},
		{name: "bad external URL", args: []string{"--web.external-url", "mon.example.com"}, wantErr: `--web.external-url "mon.example.com"`},
		{name: "agent name with a slash", args: []string{"--agent.name", "a/b"}, wantErr: `--agent.name "a/b"`},
		{name: "unknown flag", args: []string{"--zookeeper-pass", "x"}, wantErr: "unknown long flag '--zookeeper-pass'"},
		{name: "check-config without files", args: []string{"check-config"}, wantErr: "required argument 'file' not provided"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			c, err := parseArgs(tc.args, &stdout, &stderr)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("error %v, want one containing %q", err, tc.wantErr)
				}
				if strings.Contains(err.Error(), "\n") {
					t.Errorf("error %q is not one line", err)
				}
				return
			}
			if err != nil || c == nil {
				t.Fatalf("parseArgs: %v (command %v)", err, c)
			}
			tc.check(t, c)
		})
	}
}

// TestRunExitCodes calls run in-process for everything that must end
// before the daemon starts.
func TestRunExitCodes(t *testing.T) {
	cases := []struct {
		name       string
		args       []string
		wantCode   int
		wantStdout string
		wantStderr string // a single line
	}{
		{"version", []string{"--version"}, 0, "zk_monitor, version", ""},
		{"help", []string{"--help"}, 0, "--zookeeper_pass_file", ""},
		{"short help", []string{"-h"}, 0, "--web.listen-address", ""},
		{"check-config help", []string{"check-config", "--help"}, 0, "Check configuration files", ""},
		{"bad level", []string{"-l", "verbose"}, 2, "", `zk_monitor: error: unknown log level "verbose" (use debug, info, warn or error)`},
		{"bad port", []string{"-p", "99999"}, 2, "", `zk_monitor: error: -p/--port "99999" must be a port number 1-65535`},
		{"bad alertmanager URL", []string{"--alertmanager.url", "am:9093"}, 2, "", `zk_monitor: error: --alertmanager.url "am:9093" must be an http(s) URL such as http://alertmanager:9093`},
		{"missing config file", []string{"-f", "/nonexistent/paths.yaml"}, 2, "", "zk_monitor: error: config file: open /nonexistent/paths.yaml: no such file or directory"},
		{"bad log format", []string{"--log.format", "xml"}, 2, "", `zk_monitor: error: unknown log format "xml" (use logfmt or json)`},
		{"bad syslog facility", []string{"-s", "local9"}, 2, "", `zk_monitor: error: unknown syslog facility "local9" (use e.g. local0 or daemon)`},
		{"unknown flag", []string{"--nope"}, 2, "", "zk_monitor: error: unknown long flag '--nope'"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			code := run(tc.args, &stdout, &stderr)
			if code != tc.wantCode {
				t.Errorf("exit %d, want %d; stderr %q", code, tc.wantCode, stderr.String())
			}
			if !strings.Contains(stdout.String(), tc.wantStdout) {
				t.Errorf("stdout %q lacks %q", stdout.String(), tc.wantStdout)
			}
			if tc.wantStderr == "" && stderr.Len() > 0 {
				t.Errorf("unexpected stderr %q", stderr.String())
			}
			if tc.wantStderr != "" && stderr.String() != tc.wantStderr+"\n" {
				t.Errorf("stderr %q, want the one line %q", stderr.String(), tc.wantStderr)
			}
		})
	}
}

// TestCheckConfig runs `zk_monitor check-config FILE...` in-process: a
// SUCCESS summary per good file, every error as file:line for bad ones,
// and the exit status of the worst.
func TestCheckConfig(t *testing.T) {
	dir := t.TempDir()
	write := func(name, content string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	good := write("good.yaml", "/a: {children: 1}\n/b/*/c: {exists: true}\n/c:\n")
	tokens := write("tokens.yaml", "/a:\n  children: 1\n  alerter:\n    slack: {channel: \"#ops\", token: xoxb-SECRET-CHECK}\n")
	syntax := write("syntax.yaml", "/a:\n  children: 1\n /b: x\n")
	twoErrors := write("two.yaml", "/a:\n  chidlren: 1\n/b:\n  children: -1\n")
	missing := filepath.Join(dir, "missing.yaml")
	empty := write("empty.yaml", "")

	cases := []struct {
		name       string
		files      []string
		wantCode   int
		wantStdout []string
		wantStderr []string
	}{
		{"seed README example", []string{"examples/legacy.yaml"}, 0,
			[]string{"Checking examples/legacy.yaml\n  SUCCESS: 3 paths (0 glob patterns) found\n"}, nil},
		{"good files", []string{good, empty}, 0,
			[]string{"Checking " + good + "\n  SUCCESS: 3 paths (1 glob patterns) found\n", "Checking " + empty + "\n  SUCCESS: 0 paths (0 glob patterns) found\n"},
			[]string{"WARNING: " + empty + ": file has no paths; nothing to watch"}},
		{"ignored token", []string{tokens}, 0, []string{"SUCCESS: 1 paths"},
			[]string{"WARNING: " + tokens + ":4: /a: alerter.slack.token: token is ignored"}},
		{"syntax error", []string{syntax}, 1, []string{"Checking " + syntax + "\n"},
			[]string{"  FAILED:\n    " + syntax + ":2: invalid YAML: did not find expected key"}},
		{"every error with its line", []string{twoErrors}, 1, nil, []string{
			"    " + twoErrors + ":2: path /a: key chidlren: unknown key (did you mean children?)\n",
			"    " + twoErrors + ":4: path /b: key children: must be a non-negative integer, got -1\n",
		}},
		{"missing file", []string{missing}, 1, []string{"Checking " + missing + "\n"}, []string{"FAILED:\n    reading path-spec file: open " + missing + ": no such file or directory"}},
		{"mixed good and bad", []string{good, twoErrors, missing, "examples/legacy.yaml"}, 1,
			[]string{"Checking " + good + "\n  SUCCESS", "Checking " + twoErrors + "\n", "Checking " + missing + "\n", "Checking examples/legacy.yaml\n  SUCCESS"},
			[]string{twoErrors + ":2:", twoErrors + ":4:", "open " + missing}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			code := run(append([]string{"check-config"}, tc.files...), &stdout, &stderr)
			if code != tc.wantCode {
				t.Errorf("exit %d, want %d", code, tc.wantCode)
			}
			for _, w := range tc.wantStdout {
				if !strings.Contains(stdout.String(), w) {
					t.Errorf("stdout lacks %q:\n%s", w, stdout.String())
				}
			}
			for _, w := range tc.wantStderr {
				if !strings.Contains(stderr.String(), w) {
					t.Errorf("stderr lacks %q:\n%s", w, stderr.String())
				}
			}
			if tc.wantCode == 0 && strings.Contains(stderr.String(), "FAILED") {
				t.Errorf("FAILED for a good file:\n%s", stderr.String())
			}
			if strings.Contains(stdout.String()+stderr.String(), "xoxb-SECRET-CHECK") {
				t.Error("check-config printed a token")
			}
		})
	}
}

// runBinary runs the built zk_monitor to completion.
func runBinary(t *testing.T, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errOut bytes.Buffer
	cmd := exec.Command(zkMonitor.Path(t), args...)
	cmd.Stdout, cmd.Stderr = &out, &errOut
	err := cmd.Run()
	if ee, ok := err.(*exec.ExitError); ok {
		return ee.ExitCode(), out.String(), errOut.String()
	}
	if err != nil {
		t.Fatal(err)
	}
	return 0, out.String(), errOut.String()
}

// TestBinaryExitStatus checks what a shell or CI sees of the real process.
func TestBinaryExitStatus(t *testing.T) {
	bad := testenv.WriteFile(t, "bad.yaml", "/a:\n  children: true\n")
	cases := []struct {
		name           string
		args           []string
		wantCode       int
		wantStdout     string
		wantStderrLine string
	}{
		{"version", []string{"--version"}, 0, "zk_monitor, version " + testVersion, ""},
		{"check-config good", []string{"check-config", "examples/legacy.yaml"}, 0, "SUCCESS: 3 paths", ""},
		{"check-config mixed", []string{"check-config", "examples/legacy.yaml", bad}, 1, "SUCCESS: 3 paths", ""},
		{"bad level", []string{"-l", "chatty"}, 2, "", `zk_monitor: error: unknown log level "chatty" (use debug, info, warn or error)`},
		{"missing config file", []string{"-f", "/nonexistent.yaml"}, 2, "", "zk_monitor: error: config file: open /nonexistent.yaml: no such file or directory"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			code, stdout, stderr := runBinary(t, tc.args...)
			if code != tc.wantCode || !strings.Contains(stdout, tc.wantStdout) {
				t.Errorf("exit %d stdout %q, want %d containing %q (stderr %q)", code, stdout, tc.wantCode, tc.wantStdout, stderr)
			}
			if tc.wantStderrLine != "" && stderr != tc.wantStderrLine+"\n" {
				t.Errorf("stderr %q, want the one line %q", stderr, tc.wantStderrLine)
			}
		})
	}
}

// TestBinaryLegacyCommandLine runs the real binary with the original's
// command line (-z -f -p -l -c --cluster_prefix) plus digest auth from a
// password file, against a real ZooKeeper: it serves the protected paths,
// reloads on SIGHUP and exits cleanly on SIGTERM.
func TestBinaryLegacyCommandLine(t *testing.T) {
	const user, password = "monitor", "pw-from-file-7b1d"
	zkServer := testenv.StartZooKeeper(t)
	owner := testenv.ZKClient(t, zkclient.Options{ConnectString: zkServer.Addr(), Username: user, Password: password})
	acl := zk.DigestACL(zk.PermAll, user, password)
	for _, p := range []string{"/services", "/services/foo", "/services/foo/min_1", "/services/foo/min_1/host1", "/services/foo/min_3"} {
		if _, err := owner.Create(p, nil, 0, acl); err != nil {
			t.Fatalf("create %s: %v", p, err)
		}
	}
	cfg := testenv.WriteFile(t, "paths.yaml", "/services/foo/min_1:\n  children: 1\n")
	passFile := testenv.WriteFile(t, "zk.pass", password+"\n")
	legacyPort := testenv.FreePort(t)

	// StartAgent adds a --web.listen-address on loopback, as tests must; it
	// also shows that it wins over -p.
	a := testenv.StartAgent(t, zkMonitor.Path(t), "legacy",
		"-z", zkServer.Addr(), "-f", cfg, "-p", strconv.Itoa(legacyPort), "-l", "INFO", "-c", "legacy", "--cluster_prefix", "/x",
		"--zookeeper_user", user, "--zookeeper_pass_file", passFile,
		"--zookeeper.session-timeout", "10s")
	compliance := func() map[string]any {
		code, body, err := a.Get("/status")
		if err != nil || code != http.StatusOK {
			return nil
		}
		var doc struct {
			Monitor struct {
				Compliance map[string]any `json:"compliance"`
			} `json:"monitor"`
		}
		if json.Unmarshal(body, &doc) != nil {
			return nil
		}
		return doc.Monitor.Compliance
	}
	want := map[string]any{"/services/foo/min_1": true}
	testenv.Eventually(t, 15*time.Second, 50*time.Millisecond, func() bool { return reflect.DeepEqual(compliance(), want) },
		"compliance %v, want %v", compliance(), want)
	if c, err := net.DialTimeout("tcp", "127.0.0.1:"+strconv.Itoa(legacyPort), testenv.Scaled(time.Second)); err == nil {
		c.Close()
		t.Errorf("-p %d is listening although --web.listen-address was given", legacyPort)
	}
	// --cluster_prefix and -c place the workspace.
	testenv.Eventually(t, 15*time.Second, 50*time.Millisecond, func() bool {
		ok, _, err := owner.Exists("/x/legacy/agents")
		return err == nil && ok
	}, "no workspace under /x/legacy")

	// SIGHUP reloads the file.
	if err := os.WriteFile(cfg, []byte("/services/foo/min_1:\n  children: 1\n/services/foo/min_3:\n  children: 3\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	a.Signal(syscall.SIGHUP)
	want["/services/foo/min_3"] = "Found children (0) less than minimum (3)"
	testenv.Eventually(t, 15*time.Second, 50*time.Millisecond, func() bool { return reflect.DeepEqual(compliance(), want) },
		"after SIGHUP: compliance %v, want %v", compliance(), want)

	// SIGTERM: a clean exit with status 0.
	a.Signal(syscall.SIGTERM)
	if err := a.Wait(15 * time.Second); err != nil {
		t.Errorf("exit after SIGTERM: %v", err)
	}

	out := a.Logs()
	// -l INFO: info lines, no debug lines.
	if !strings.Contains(out, "level=info") || !strings.Contains(out, `msg="configuration reloaded"`) || strings.Contains(out, "level=debug") {
		t.Errorf("-l INFO: output does not have the info lines and only them:\n%s", out)
	}
	if strings.Contains(out, password) {
		t.Error("the output shows the ZooKeeper password")
	}
}
