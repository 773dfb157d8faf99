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
	"regexp"
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

// parsed is a parsed command line.
type parsed struct {
	*commandLine
	chosen string // FullCommand of the chosen command
}

func parseArgs(args []string) (parsed, error) {
	var stdout, stderr bytes.Buffer
	cl := newCommandLine(&stdout, &stderr)
	chosen, err := cl.parse(args)
	return parsed{cl, chosen}, err
}

// TestLegacyFlags: every flag of the original's command line still sets
// what it set, alone and in its long and short forms.
func TestLegacyFlags(t *testing.T) {
	cfg := testenv.WriteFile(t, "paths.yaml", "/a: {children: 1}\n")
	passFile := testenv.WriteFile(t, "zk.pass", "s3cret-from-file\n")
	var (
		zookeeper   = func(c parsed) any { return c.options.ZooKeeper }
		file        = func(c parsed) any { return c.options.ConfigFile }
		clusterName = func(c parsed) any { return c.options.ClusterName }
		prefix      = func(c parsed) any { return c.options.ClusterPrefix }
		listen      = func(c parsed) any { return *c.options.Web.WebListenAddresses }
		logLevel    = func(c parsed) any { return c.logging.Level }
		syslog      = func(c parsed) any { return c.logging.SyslogFacility }
		digest      = func(c parsed) any { return []string{c.options.ZooKeeperUser, c.options.ZooKeeperPass} }
	)
	cases := []struct {
		args []string
		get  func(parsed) any
		want any
	}{
		{[]string{"-z", "zk1:2181,zk2:2181/chroot"}, zookeeper, "zk1:2181,zk2:2181/chroot"},
		{[]string{"--zookeeper", "zk1:2181"}, zookeeper, "zk1:2181"},
		{[]string{"--zookeeper=zk1:2182"}, zookeeper, "zk1:2182"},
		{[]string{"-f", cfg}, file, cfg},
		{[]string{"--file", cfg}, file, cfg},
		{[]string{"--file=" + cfg}, file, cfg},
		{[]string{"-c", "prod-monitor"}, clusterName, "prod-monitor"},
		{[]string{"--cluster_name", "prod-monitor"}, clusterName, "prod-monitor"},
		{[]string{"--cluster_prefix", "/x/y"}, prefix, "/x/y"},
		{[]string{"--cluster_prefix=/"}, prefix, "/"},
		{[]string{"-p", "9090"}, listen, []string{":9090"}},
		{[]string{"--port", "9091"}, listen, []string{":9091"}},
		{[]string{"--port=9092"}, listen, []string{":9092"}},
		{[]string{"-p", "9000", "--web.listen-address", "127.0.0.1:9100"}, listen, []string{"127.0.0.1:9100"}},
		{[]string{"--web.listen-address", "127.0.0.1:9100", "-p", "9000"}, listen, []string{"127.0.0.1:9100"}},
		{[]string{"--web.listen-address=:8080", "-p", "9000"}, listen, []string{":8080"}}, // given, though equal to the default
		{[]string{"-l", "INFO"}, logLevel, "INFO"},
		{[]string{"--level", "debug"}, logLevel, "debug"},
		{[]string{"--level=Warn"}, logLevel, "Warn"},
		{[]string{"-s", "local0"}, syslog, "local0"},
		{[]string{"--syslog", "daemon"}, syslog, "daemon"},
		{[]string{"--zookeeper_user", "u", "--zookeeper_pass", "p"}, digest, []string{"u", "p"}},
		{[]string{"--zookeeper_user=monitor", "--zookeeper_pass_file=" + passFile}, digest, []string{"monitor", "s3cret-from-file"}},
	}
	for _, tc := range cases {
		t.Run(strings.Join(tc.args, " "), func(t *testing.T) {
			c, err := parseArgs(tc.args)
			if err != nil {
				t.Fatal(err)
			}
			if c.chosen != c.runCmd.FullCommand() {
				t.Errorf("command %q, want the daemon", c.chosen)
			}
			if got := tc.get(c); !reflect.DeepEqual(got, tc.want) {
				t.Errorf("got %#v, want %#v", got, tc.want)
			}
		})
	}
}

// TestParseArgs turns command lines into options: the defaults, the
// Prometheus-style names, the subcommands, and a one-line reason naming
// the flag for every bad value.
func TestParseArgs(t *testing.T) {
	cfg := testenv.WriteFile(t, "paths.yaml", "/a: {children: 1}\n")
	passFile := testenv.WriteFile(t, "zk.pass", "s3cret-from-file\n")
	missing := filepath.Join(t.TempDir(), "missing.yaml")

	cases := []struct {
		name    string
		args    []string
		check   func(t *testing.T, c parsed)
		wantErr string
	}{
		{name: "defaults", args: nil, check: func(t *testing.T, c parsed) {
			o := c.options
			if c.chosen != "run" || o.ZooKeeper != "localhost:2181" || o.ClusterName != "zkmonitor" || o.ClusterPrefix != "/zk_monitor" ||
				o.ConfigFile != "" || !reflect.DeepEqual(*o.Web.WebListenAddresses, []string{":8080"}) || *o.Web.WebSystemdSocket ||
				*o.Web.WebConfigFile != "" || o.TelemetryPath != "/metrics" ||
				o.SessionTimeout != 10*time.Second || o.EnableLifecycle || len(o.AlertmanagerURLs) != 0 ||
				o.ResendInterval != time.Minute || o.AlertmanagerTimeout != 10*time.Second {
				t.Errorf("defaults: %+v", o)
			}
			if c.logging.Level != "warn" || c.logging.Format != "logfmt" || c.logging.SyslogFacility != "" {
				t.Errorf("logging defaults: %+v", c.logging)
			}
			// The cluster names the agent <hostname>-<pid>.
			if o.AgentName != "" {
				t.Errorf("agent name %q, want it left to the cluster", o.AgentName)
			}
		}},
		{name: "explicit run command", args: []string{"run", "-p", "8082"}, check: func(t *testing.T, c parsed) {
			if c.chosen != c.runCmd.FullCommand() || !reflect.DeepEqual(*c.options.Web.WebListenAddresses, []string{":8082"}) {
				t.Errorf("%s %v", c.chosen, *c.options.Web.WebListenAddresses)
			}
		}},
		{name: "config.file is -f", args: []string{"--config.file", cfg}, check: func(t *testing.T, c parsed) {
			if c.options.ConfigFile != cfg {
				t.Errorf("ConfigFile %q", c.options.ConfigFile)
			}
		}},
		{name: "config.file and -f agreeing", args: []string{"--config.file", cfg, "-f", cfg}, check: func(t *testing.T, c parsed) {
			if c.options.ConfigFile != cfg {
				t.Errorf("ConfigFile %q", c.options.ConfigFile)
			}
		}},
		{name: "config.file and -f disagreeing", args: []string{"--config.file", cfg, "-f", passFile}, wantErr: "disagree"},
		{name: "repeated web.listen-address", args: []string{"--web.listen-address", "127.0.0.1:9100", "--web.listen-address=[::1]:9100"},
			check: func(t *testing.T, c parsed) {
				if want := []string{"127.0.0.1:9100", "[::1]:9100"}; !reflect.DeepEqual(*c.options.Web.WebListenAddresses, want) {
					t.Errorf("listen addresses %v, want %v", *c.options.Web.WebListenAddresses, want)
				}
			}},
		{name: "prometheus-style flags", args: []string{"--log.level=ERROR", "--log.format=json", "--web.telemetry-path=/zk/metrics", "--web.config.file=/etc/web.yml",
			"--web.enable-lifecycle", "--web.systemd-socket", "--zookeeper.session-timeout=4s", "--web.external-url=https://mon.example.com/zk/", "--agent.name=a1",
			"--alertmanager.url=http://am1:9093", "--alertmanager.url=https://am2:9093/prefix", "--alertmanager.resend-interval=30s", "--alertmanager.timeout=3s"},
			check: func(t *testing.T, c parsed) {
				o := c.options
				if c.logging.Level != "ERROR" || c.logging.Format != "json" || o.TelemetryPath != "/zk/metrics" || *o.Web.WebConfigFile != "/etc/web.yml" ||
					!*o.Web.WebSystemdSocket || !o.EnableLifecycle || o.SessionTimeout != 4*time.Second || o.ExternalURL != "https://mon.example.com/zk" || o.AgentName != "a1" ||
					len(o.AlertmanagerURLs) != 2 || o.AlertmanagerURLs[1].String() != "https://am2:9093/prefix" ||
					o.ResendInterval != 30*time.Second || o.AlertmanagerTimeout != 3*time.Second {
					t.Errorf("%+v %+v", o, c.logging)
				}
			}},
		{name: "compliance_state is off by default", args: nil, check: func(t *testing.T, c parsed) {
			if c.options.ComplianceState {
				t.Errorf("ComplianceState on without --collector.compliance-state")
			}
		}},
		{name: "collector.compliance-state", args: []string{"--collector.compliance-state"}, check: func(t *testing.T, c parsed) {
			if !c.options.ComplianceState {
				t.Errorf("ComplianceState off with --collector.compliance-state")
			}
		}},
		{name: "durations in Prometheus notation", args: []string{"--zookeeper.session-timeout=1m30s", "--alertmanager.resend-interval=2h"}, check: func(t *testing.T, c parsed) {
			if c.options.SessionTimeout != 90*time.Second || c.options.ResendInterval != 2*time.Hour {
				t.Errorf("%s %s", c.options.SessionTimeout, c.options.ResendInterval)
			}
		}},
		{name: "legacy -l wins over --log.level", args: []string{"--log.level=error", "-l", "Debug"}, check: func(t *testing.T, c parsed) {
			if c.logging.Level != "Debug" {
				t.Errorf("level %q", c.logging.Level)
			}
		}},
		{name: "check-config", args: []string{"check-config", cfg, missing}, check: func(t *testing.T, c parsed) {
			if c.chosen != c.checkCmd.FullCommand() || !reflect.DeepEqual(c.files, []string{cfg, missing}) {
				t.Errorf("%s %v", c.chosen, c.files)
			}
		}},
		{name: "seed", args: []string{"seed", "-z", "zk:2181", "/a", "/b"}, check: func(t *testing.T, c parsed) {
			if c.chosen != c.seedCmd.FullCommand() || c.seedDelete || !reflect.DeepEqual(c.files, []string{"/a", "/b"}) || c.options.ZooKeeper != "zk:2181" {
				t.Errorf("%s delete=%v %v %s", c.chosen, c.seedDelete, c.files, c.options.ZooKeeper)
			}
		}},
		{name: "seed --delete", args: []string{"seed", "--delete", "/a"}, check: func(t *testing.T, c parsed) {
			if c.chosen != c.seedCmd.FullCommand() || !c.seedDelete {
				t.Errorf("%s delete=%v", c.chosen, c.seedDelete)
			}
		}},
		{name: "ZooKeeper TLS", args: []string{"--zookeeper.tls.ca-file=ca.pem", "--zookeeper.tls.cert-file=c.pem", "--zookeeper.tls.key-file=c.key",
			"--zookeeper.tls.server-name=zk.example.com", "--zookeeper.tls.insecure-skip-verify"}, check: func(t *testing.T, c parsed) {
			want := zkclient.TLSOptions{CAFile: "ca.pem", CertFile: "c.pem", KeyFile: "c.key", ServerName: "zk.example.com", InsecureSkipVerify: true}
			if c.options.ZooKeeperTLS != want {
				t.Errorf("TLS %+v, want %+v", c.options.ZooKeeperTLS, want)
			}
		}},
		{name: "ZooKeeper TLS with system roots", args: []string{"--zookeeper.tls"}, check: func(t *testing.T, c parsed) {
			if c.options.ZooKeeperTLS != (zkclient.TLSOptions{Enabled: true}) {
				t.Errorf("TLS %+v", c.options.ZooKeeperTLS)
			}
		}},
		{name: "seed with ZooKeeper TLS", args: []string{"seed", "--zookeeper.tls.ca-file", "ca.pem", "/a"}, check: func(t *testing.T, c parsed) {
			if c.chosen != c.seedCmd.FullCommand() || c.options.ZooKeeperTLS.CAFile != "ca.pem" {
				t.Errorf("%s %+v", c.chosen, c.options.ZooKeeperTLS)
			}
		}},
		{name: "port too large", args: []string{"-p", "70000"}, wantErr: `-p/--port "70000" must be a port number 1-65535`},
		{name: "port zero", args: []string{"-p", "0"}, wantErr: `-p/--port "0"`},
		{name: "port not a number", args: []string{"--port", "http"}, wantErr: `-p/--port "http"`},
		{name: "listen address without port", args: []string{"--web.listen-address", "localhost"}, wantErr: `--web.listen-address "localhost" must be host:port or :port: address localhost: missing port in address`},
		{name: "vsock listen address", args: []string{"--web.listen-address", "vsock://:9100"}, wantErr: `--web.listen-address "vsock://:9100": vsock is not supported`},
		{name: "value for a boolean flag", args: []string{"--web.systemd-socket=true"}, wantErr: `--web.systemd-socket takes no value, got "true": give --web.systemd-socket or --no-web.systemd-socket`},
		{name: "value for a negated boolean flag", args: []string{"--no-web.enable-lifecycle=1"}, wantErr: `--no-web.enable-lifecycle takes no value, got "1": give --web.enable-lifecycle or --no-web.enable-lifecycle`},
		{name: "value for a subcommand's boolean flag", args: []string{"seed", "--delete=yes", "/a"}, wantErr: `--delete takes no value, got "yes"`},
		{name: "alertmanager URL without scheme", args: []string{"--alertmanager.url", "alertmanager:9093"}, wantErr: `--alertmanager.url "alertmanager:9093" must be an http(s) URL`},
		{name: "alertmanager URL wrong scheme", args: []string{"--alertmanager.url", "ftp://am:9093"}, wantErr: `--alertmanager.url "ftp://am:9093"`},
		{name: "alertmanager URL without host", args: []string{"--alertmanager.url", "http://"}, wantErr: `--alertmanager.url "http://"`},
		{name: "password and password file", args: []string{"--zookeeper_user", "u", "--zookeeper_pass", "p", "--zookeeper_pass_file", passFile}, wantErr: "give --zookeeper_pass or --zookeeper_pass_file, not both"},
		{name: "missing password file", args: []string{"--zookeeper_user", "u", "--zookeeper_pass_file", missing}, wantErr: "reading --zookeeper_pass_file: open " + missing},
		{name: "user without password", args: []string{"--zookeeper_user", "u"}, wantErr: "needs both --zookeeper_user and a password"},
		{name: "password without user", args: []string{"--zookeeper_pass", "p"}, wantErr: "needs both --zookeeper_user and a password"},
		{name: "missing config file", args: []string{"-f", missing}, wantErr: "config file: open " + missing + ": no such file or directory"},
		{name: "missing config.file", args: []string{"--config.file", missing}, wantErr: "open " + missing},
		{name: "bad duration", args: []string{"--zookeeper.session-timeout", "soon"}, wantErr: `invalid value "soon" for --zookeeper.session-timeout: time: invalid duration "soon"`},
		{name: "duration without unit", args: []string{"--alertmanager.timeout=10"}, wantErr: `invalid value "10" for --alertmanager.timeout: time: missing unit in duration "10"`},
		{name: "session timeout too short", args: []string{"--zookeeper.session-timeout", "1ms"}, wantErr: "--zookeeper.session-timeout 1ms is too short"},
		{name: "zero resend interval", args: []string{"--alertmanager.resend-interval", "0s"}, wantErr: "--alertmanager.resend-interval 0s must be positive"},
		{name: "negative alertmanager timeout", args: []string{"--alertmanager.timeout=-1s"}, wantErr: "--alertmanager.timeout -1s must be positive"},
		{name: "bad telemetry path", args: []string{"--web.telemetry-path", "metrics"}, wantErr: `--web.telemetry-path "metrics"`},
		{name: "bad external URL", args: []string{"--web.external-url", "mon.example.com"}, wantErr: `--web.external-url "mon.example.com"`},
		{name: "bad chroot", args: []string{"-z", "zk1:2181/apps/"}, wantErr: `-z/--zookeeper: chroot "/apps/": path must not end with "/"`},
		{name: "bad ZooKeeper port", args: []string{"--zookeeper", "zk1:0"}, wantErr: `-z/--zookeeper: connect string "zk1:0": server "zk1:0": port must be 1-65535`},
		{name: "relative cluster prefix", args: []string{"--cluster_prefix", "zk_monitor"}, wantErr: `--cluster_prefix "zk_monitor": path must start with "/"`},
		{name: "cluster prefix with a control character", args: []string{"--cluster_prefix", "/zk\tmon"}, wantErr: `--cluster_prefix "/zk\tmon": path must not contain control or reserved characters`},
		{name: "cluster name with a slash", args: []string{"-c", "prod/eu"}, wantErr: `-c/--cluster_name "prod/eu": name must not contain "/"`},
		{name: "empty cluster name", args: []string{"--cluster_name="}, wantErr: `-c/--cluster_name "": name must not be empty`},
		{name: "dot cluster name", args: []string{"-c", ".."}, wantErr: `-c/--cluster_name "..": path must not contain "." or ".." segments`},
		{name: "agent name with a slash", args: []string{"--agent.name", "a/b"}, wantErr: `--agent.name "a/b": name must not contain "/"`},
		{name: "agent name with a reserved character", args: []string{"--agent.name", "a\ufff0"}, wantErr: `--agent.name "a\ufff0": path must not contain control or reserved characters`},
		{name: "unknown flag", args: []string{"--zookeeper-pass", "x"}, wantErr: "unknown long flag '--zookeeper-pass'"},
		{name: "repeated single-valued flag", args: []string{"-z", "a:1", "-z", "b:1"}, wantErr: "flag 'zookeeper' cannot be repeated"},
		{name: "check-config without files", args: []string{"check-config"}, wantErr: "required argument 'file' not provided"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c, err := parseArgs(tc.args)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("error %v, want one containing %q", err, tc.wantErr)
				}
				if strings.Contains(err.Error(), "\n") {
					t.Errorf("error %q is not one line", err)
				}
				return
			}
			if err != nil {
				t.Fatalf("parseArgs: %v", err)
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
		{"help shows exporter-toolkit's flags", []string{"--help"}, 0, "--[no-]web.systemd-socket", ""},
		{"help keeps quoted string defaults", []string{"--help"}, 0, `--cluster_name="zkmonitor"`, ""},
		{"check-config help", []string{"check-config", "--help"}, 0, "Check configuration files", ""},
		{"bad level", []string{"-l", "verbose"}, 2, "", `zk_monitor: error: unknown log level "verbose" (use debug, info, warn or error)`},
		{"bad port", []string{"-p", "99999"}, 2, "", `zk_monitor: error: -p/--port "99999" must be a port number 1-65535`},
		{"bad alertmanager URL", []string{"--alertmanager.url", "am:9093"}, 2, "", `zk_monitor: error: --alertmanager.url "am:9093" must be an http(s) URL such as http://alertmanager:9093`},
		{"missing config file", []string{"-f", "/nonexistent/paths.yaml"}, 2, "", "zk_monitor: error: config file: open /nonexistent/paths.yaml: no such file or directory"},
		{"bad log format", []string{"--log.format", "xml"}, 2, "", `zk_monitor: error: unknown log format "xml" (use logfmt or json)`},
		{"bad syslog facility", []string{"-s", "local9"}, 2, "", `zk_monitor: error: unknown syslog facility "local9" (use e.g. local0 or daemon)`},
		{"unknown flag", []string{"--nope"}, 2, "", "zk_monitor: error: unknown long flag '--nope'"},
		{"bad duration", []string{"--alertmanager.timeout", "ten"}, 2, "", `zk_monitor: error: invalid value "ten" for --alertmanager.timeout: time: invalid duration "ten"`},
		{"bad cluster name", []string{"-c", "a/b"}, 2, "", `zk_monitor: error: -c/--cluster_name "a/b": name must not contain "/"`},
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
	statErrors := write("stat.yaml", "/hb:\n  max_age: 0\n/ids:\n  children_matching: '[0-9'\n/blob:\n  min_data_bytes: 9\n  max_data_bytes: 8\n  ephemeral: maybe\n")

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
		{"Stat and matching-children examples", []string{"examples/heartbeats.yaml", "examples/ephemeral.yaml", "examples/data-size.yaml", "examples/matching-children.yaml"}, 0,
			[]string{
				"Checking examples/heartbeats.yaml\n  SUCCESS: 2 paths (1 glob patterns) found\n",
				"Checking examples/ephemeral.yaml\n  SUCCESS: 3 paths (0 glob patterns) found\n",
				"Checking examples/data-size.yaml\n  SUCCESS: 2 paths (1 glob patterns) found\n",
				"Checking examples/matching-children.yaml\n  SUCCESS: 2 paths (0 glob patterns) found\n",
			}, nil},
		{"Stat and matching-children errors", []string{statErrors}, 1, nil, []string{
			"    " + statErrors + ":2: path /hb: key max_age: must be positive, got 0\n",
			"    " + statErrors + ":4: path /ids: key children_matching: invalid regex \"[0-9\": missing closing ]\n",
			"    " + statErrors + ":4: path /ids: key children_matching: needs children or max_children: it only says which children they count\n",
			"    " + statErrors + ":7: path /blob: key max_data_bytes: max_data_bytes (8) is less than min_data_bytes (9)\n",
			"    " + statErrors + ":8: path /blob: key ephemeral: must be true or false, got \"maybe\"\n",
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

// TestBinarySystemdSocket starts the real binary the way systemd's socket
// activation does: the listening socket as file descriptor 3, LISTEN_FDS=1,
// and LISTEN_PID set to the agent's own pid (a shell exports its pid and
// execs zk_monitor, which keeps it). The agent serves on that socket and
// binds no --web.listen-address. ZooKeeper is not needed for that: -z
// points at a port nobody listens on.
func TestBinarySystemdSocket(t *testing.T) {
	zkAddr := "127.0.0.1:" + strconv.Itoa(testenv.FreePort(t))
	unused := "127.0.0.1:" + strconv.Itoa(testenv.FreePort(t))

	t.Run("without sockets", func(t *testing.T) {
		code, _, stderr := runBinary(t, "--web.systemd-socket", "-z", zkAddr)
		if code != 1 || !strings.Contains(stderr, "--web.systemd-socket: systemd passed no sockets") {
			t.Errorf("exit %d, stderr %q; want 1 and the missing sockets named", code, stderr)
		}
	})

	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	socket, err := l.(*net.TCPListener).File()
	l.Close() // the duplicate in socket stays open
	if err != nil {
		t.Fatal(err)
	}
	agent := testenv.StartProcess(t, testenv.Command{
		Name: "zk_monitor",
		Path: "/bin/sh",
		Args: []string{"-c", `export LISTEN_PID=$$ LISTEN_FDS=1; exec "$0" "$@"`, zkMonitor.Path(t),
			"--web.systemd-socket", "--web.listen-address", unused, "-z", zkAddr, "-l", "info"},
		ExtraFiles: []*os.File{socket}, // file descriptor 3
	})
	socket.Close() // now only the agent holds it

	client := &http.Client{Timeout: testenv.Scaled(2 * time.Second), Transport: &http.Transport{DisableKeepAlives: true}}
	metrics := func() string {
		resp, err := client.Get("http://" + addr + "/metrics")
		if err != nil {
			return err.Error()
		}
		defer resp.Body.Close()
		var b bytes.Buffer
		b.ReadFrom(resp.Body)
		return b.String()
	}
	var page string
	testenv.Eventually(t, 15*time.Second, 50*time.Millisecond, func() bool {
		page = metrics()
		return strings.Contains(page, "zk_monitor_build_info{")
	}, "no metrics on the systemd socket %s: %.300s", addr, testenv.Last(&page))
	if c, err := net.DialTimeout("tcp", unused, testenv.Scaled(time.Second)); err == nil {
		c.Close()
		t.Errorf("--web.listen-address %s is listening although systemd passed a socket", unused)
	}
	agent.Signal(syscall.SIGTERM)
	if err := agent.Wait(15 * time.Second); err != nil {
		t.Errorf("exit after SIGTERM: %v", err)
	}
	// exporter-toolkit's line, with its own caller.
	if want := regexp.MustCompile(`level=info caller=tls_config\.go:\d+ component=web msg="Listening on" address=` + regexp.QuoteMeta(addr)); !want.MatchString(agent.Logs()) {
		t.Errorf("output lacks %s:\n%s", want, agent.Logs())
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
