// Command zk_monitor watches ZooKeeper znodes, exports their compliance to
// Prometheus and, from one elected agent of a cluster, sends alerts to
// Alertmanager. main only turns the command line into daemon.Options, or
// runs a subcommand.
package main

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/url"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/alecthomas/kingpin/v2"
	"github.com/go-kit/log/level"
	"github.com/prometheus/common/version"
	"github.com/prometheus/exporter-toolkit/web/kingpinflag"

	"github.com/zk-monitor/zk_monitor/cluster"
	"github.com/zk-monitor/zk_monitor/config"
	"github.com/zk-monitor/zk_monitor/daemon"
	"github.com/zk-monitor/zk_monitor/logging"
	"github.com/zk-monitor/zk_monitor/zkclient"
)

// defaultPort is the original's -p default; --web.listen-address defaults
// to every interface on it.
const defaultPort = "8080"

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

func run(args []string, stdout, stderr io.Writer) int {
	cl := newCommandLine(stdout, stderr)
	chosen, err := cl.parse(args)
	if err != nil {
		fmt.Fprintf(stderr, "zk_monitor: error: %v\n", err)
		return 2
	}
	switch chosen {
	case "":
		return 0 // --help or --version printed
	case cl.checkCmd.FullCommand():
		if !config.Check(stdout, stderr, cl.files...) {
			return 1
		}
		return 0
	case cl.seedCmd.FullCommand():
		o := cl.options
		err := zkclient.Seed(zkclient.Options{
			ConnectString: o.ZooKeeper, SessionTimeout: o.SessionTimeout,
			Username: o.ZooKeeperUser, Password: o.ZooKeeperPass,
			TLS: o.ZooKeeperTLS,
		}, cl.files, cl.seedDelete)
		if err != nil {
			fmt.Fprintf(stderr, "zk_monitor seed: %v\n", err)
			return 1
		}
		return 0
	case cl.runCmd.FullCommand():
		return runDaemon(cl.options, cl.logging, stderr)
	}
	fmt.Fprintf(stderr, "zk_monitor: error: command %q has no action\n", chosen)
	return 2
}

// runDaemon runs the agent until SIGINT or SIGTERM; SIGHUP reloads the
// configuration file.
func runDaemon(opts daemon.Options, logCfg logging.Config, stderr io.Writer) int {
	logger, err := logging.New(logCfg, stderr)
	if err != nil {
		fmt.Fprintf(stderr, "zk_monitor: error: %v\n", err)
		return 2
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	reload := make(chan struct{}, 1)
	hup := make(chan os.Signal, 1)
	signal.Notify(hup, syscall.SIGHUP)
	defer signal.Stop(hup)
	go func() {
		for range hup {
			select {
			case reload <- struct{}{}:
			default:
			}
		}
	}()
	if err := daemon.Run(ctx, opts, logger, reload); err != nil {
		level.Error(logger).Log("msg", "zk_monitor stopped", "err", err)
		return 1
	}
	return 0
}

// commandLine is zk_monitor's kingpin application and where its flags and
// arguments land.
type commandLine struct {
	app                       *kingpin.Application
	runCmd, checkCmd, seedCmd *kingpin.CmdClause
	// terminated is set when --help or --version printed: kingpin then
	// goes on parsing instead of exiting the process.
	terminated bool

	options    daemon.Options
	logging    logging.Config
	files      []string // check-config files or seed paths
	seedDelete bool

	// Values combined or checked after parsing.
	configFile, legacyFile string
	port                   string
	listenSet              bool
	logLevel, legacyLevel  string
	passwordFile           string
	alertmanagers          []string
}

func newCommandLine(stdout, stderr io.Writer) *commandLine {
	app := kingpin.New("zk_monitor", "Watches ZooKeeper znodes, exports their compliance to Prometheus and sends alerts to Alertmanager from one elected agent.")
	app.UsageWriter(stdout)
	app.ErrorWriter(stderr)
	c := &commandLine{app: app}
	app.Terminate(func(int) { c.terminated = true })
	app.Version(version.Print("zk_monitor"))
	app.HelpFlag.Short('h')
	o := &c.options

	c.runCmd = app.Command("run", "Run the agent (the default).").Default()

	// ZooKeeper.
	app.Flag("zookeeper", "ZooKeeper connect string: host:port[,host:port...][/chroot].").Short('z').Default("localhost:2181").StringVar(&o.ZooKeeper)
	app.Flag("zookeeper_user", "ZooKeeper digest-auth user.").StringVar(&o.ZooKeeperUser)
	app.Flag("zookeeper_pass", "ZooKeeper digest-auth password (visible in ps; prefer --zookeeper_pass_file).").StringVar(&o.ZooKeeperPass)
	app.Flag("zookeeper_pass_file", "File holding the ZooKeeper digest-auth password.").StringVar(&c.passwordFile)
	app.Flag("zookeeper.session-timeout", "ZooKeeper session timeout; a leader that loses its session is replaced within it.").Default("10s").DurationVar(&o.SessionTimeout)
	// TLS to ZooKeeper's secureClientPort; on when any of these is given.
	// The files are read again on every connection.
	app.Flag("zookeeper.tls", "Connect to ZooKeeper with TLS, verifying the servers with the system's root CAs unless --zookeeper.tls.ca-file is given.").BoolVar(&o.ZooKeeperTLS.Enabled)
	app.Flag("zookeeper.tls.ca-file", "CA certificates (PEM) that verify the ZooKeeper servers; turns on TLS.").StringVar(&o.ZooKeeperTLS.CAFile)
	app.Flag("zookeeper.tls.cert-file", "Client certificate (PEM) for ZooKeeper servers that require one, with --zookeeper.tls.key-file; turns on TLS.").StringVar(&o.ZooKeeperTLS.CertFile)
	app.Flag("zookeeper.tls.key-file", "Private key (PEM) of --zookeeper.tls.cert-file; turns on TLS.").StringVar(&o.ZooKeeperTLS.KeyFile)
	app.Flag("zookeeper.tls.server-name", "Name the ZooKeeper servers' certificates must carry (default: each server's host); turns on TLS.").StringVar(&o.ZooKeeperTLS.ServerName)
	app.Flag("zookeeper.tls.insecure-skip-verify", "Do not verify the ZooKeeper servers' certificates (testing only); turns on TLS.").BoolVar(&o.ZooKeeperTLS.InsecureSkipVerify)

	// Cluster.
	app.Flag("cluster_name", "Unique cluster name (ie, prod-zookeeper-monitor); agents with the same name elect one leader.").Short('c').Default(cluster.DefaultName).StringVar(&o.ClusterName)
	app.Flag("cluster_prefix", "Prefix path in ZooKeeper for all zk_monitor clusters.").Default(cluster.DefaultPrefix).StringVar(&o.ClusterPrefix)
	app.Flag("agent.name", "Name of this agent in the cluster (default <hostname>-<pid>).").StringVar(&o.AgentName)

	// Path specs.
	app.Flag("file", "Path to YAML file with znodes to monitor (same as --config.file).").Short('f').StringVar(&c.legacyFile)
	app.Flag("config.file", "Path to YAML file with znodes to monitor.").StringVar(&c.configFile)

	// HTTP: --web.listen-address, --web.systemd-socket and --web.config.file
	// are exporter-toolkit's.
	o.Web = kingpinflag.AddFlags(app, ":"+defaultPort)
	app.GetFlag("web.listen-address").IsSetByUser(&c.listenSet).
		Help("Address to listen on for the web interface and telemetry; repeatable. Wins over -p.")
	app.Flag("port", "Port to listen on (def: "+defaultPort+"); --web.listen-address wins.").Short('p').Default(defaultPort).StringVar(&c.port)
	app.Flag("web.telemetry-path", "Path under which to expose metrics.").Default("/metrics").StringVar(&o.TelemetryPath)
	app.Flag("web.external-url", "URL under which this agent is reachable, used in alert links.").StringVar(&o.ExternalURL)
	app.Flag("web.enable-lifecycle", "Enable configuration reload via HTTP POST /-/reload.").BoolVar(&o.EnableLifecycle)
	app.Flag("collector.compliance-state", "Also export zk_monitor_znode_compliance_state{path,state}: three series a path repeating zk_monitor_znode_compliant, as versions before 0.3 did.").BoolVar(&o.ComplianceState)

	// Alertmanager.
	app.Flag("alertmanager.url", "Alertmanager base URL (e.g. http://alertmanager:9093); repeat for each Alertmanager of an HA set.").StringsVar(&c.alertmanagers)
	app.Flag("alertmanager.resend-interval", "How often firing alerts are re-sent to Alertmanager.").Default("1m").DurationVar(&o.ResendInterval)
	app.Flag("alertmanager.timeout", "Timeout of one request to Alertmanager.").Default("10s").DurationVar(&o.AlertmanagerTimeout)
	app.Flag("alertmanager.http-config-file", "Path to an HTTP client configuration file for Alertmanager (Prometheus format: tls_config, basic_auth, authorization, oauth2, proxy_url); re-read on reload.").StringVar(&o.AlertmanagerHTTPConfigFile)

	// Logging.
	app.Flag("level", "Set logging level (INFO|WARN|DEBUG|ERROR); same as --log.level.").Short('l').StringVar(&c.legacyLevel)
	app.Flag("log.level", "Only log messages with the given severity or above: debug, info, warn, error.").Default("warn").StringVar(&c.logLevel)
	app.Flag("log.format", "Output format of log messages: logfmt or json.").Default("logfmt").StringVar(&c.logging.Format)
	app.Flag("syslog", "Log to syslog (UDP 127.0.0.1:514). Supply facility name (ie \"local0\").").Short('s').StringVar(&c.logging.SyslogFacility)

	c.seedCmd = app.Command("seed", "Create znodes (with their parents) or, with --delete, delete them; for demos and tests.").Hidden()
	c.seedCmd.Flag("delete", "Delete the znodes (and their children) instead.").BoolVar(&c.seedDelete)
	c.seedCmd.Arg("path", "Znode paths.").Required().StringsVar(&c.files)

	c.checkCmd = app.Command("check-config", "Check configuration files and exit: 0 when all are valid.")
	// Plain strings, not ExistingFiles: a missing file is reported with the
	// others rather than stopping the check of the rest.
	c.checkCmd.Arg("file", "Configuration files to check.").Required().StringsVar(&c.files)

	nameFlagErrors(app)
	return c
}

// parse parses args and returns the FullCommand of the chosen command, ""
// when --help or --version printed.
func (c *commandLine) parse(args []string) (string, error) {
	if err := c.checkBoolValues(args); err != nil {
		return "", err
	}
	chosen, err := c.app.Parse(args)
	if c.terminated {
		return "", nil
	}
	if err != nil {
		return "", err
	}
	if chosen == c.checkCmd.FullCommand() {
		return chosen, nil // its arguments are all it needs
	}
	return chosen, c.finish()
}

// checkBoolValues refuses --flag=value for boolean flags, which kingpin
// would report as an "unexpected value" argument without naming the flag.
func (c *commandLine) checkBoolValues(args []string) error {
	bools := map[string]bool{}
	model := c.app.Model()
	groups := []*kingpin.FlagGroupModel{model.FlagGroupModel}
	for _, cmd := range model.Commands {
		groups = append(groups, cmd.FlagGroupModel)
	}
	for _, g := range groups {
		for _, f := range g.Flags {
			if f.IsBoolFlag() {
				bools[f.Name] = true
			}
		}
	}
	for _, a := range args {
		if a == "--" {
			break
		}
		name, value, ok := strings.Cut(strings.TrimPrefix(a, "--"), "=")
		if ok && strings.HasPrefix(a, "--") && bools[strings.TrimPrefix(name, "no-")] {
			return fmt.Errorf("--%s takes no value, got %q: give --%s or --no-%s", name, value, strings.TrimPrefix(name, "no-"), strings.TrimPrefix(name, "no-"))
		}
	}
	return nil
}

// finish combines the legacy flags with their Prometheus-style twins and
// checks what kingpin cannot; every error names its flag.
func (c *commandLine) finish() error {
	o := &c.options

	c.logging.Level = c.logLevel
	if c.legacyLevel != "" {
		c.logging.Level = c.legacyLevel
	}
	if _, err := logging.ParseLevel(c.logging.Level); err != nil {
		return err
	}

	if err := zkclient.ValidateConnectString(o.ZooKeeper); err != nil {
		return fmt.Errorf("-z/--zookeeper: %w", err)
	}
	if o.SessionTimeout < 100*time.Millisecond {
		return fmt.Errorf("--zookeeper.session-timeout %s is too short", o.SessionTimeout)
	}
	if c.passwordFile != "" {
		if o.ZooKeeperPass != "" {
			return fmt.Errorf("give --zookeeper_pass or --zookeeper_pass_file, not both")
		}
		b, err := os.ReadFile(c.passwordFile)
		if err != nil {
			return fmt.Errorf("reading --zookeeper_pass_file: %w", err)
		}
		o.ZooKeeperPass = strings.TrimRight(string(b), "\r\n")
	}
	if (o.ZooKeeperUser == "") != (o.ZooKeeperPass == "") {
		return fmt.Errorf("ZooKeeper digest auth needs both --zookeeper_user and a password")
	}

	if err := config.ValidateZnodePath(o.ClusterPrefix); err != nil {
		return fmt.Errorf("--cluster_prefix %q: %w", o.ClusterPrefix, err)
	}
	if err := config.ValidateNodeName(o.ClusterName); err != nil {
		return fmt.Errorf("-c/--cluster_name %q: %w", o.ClusterName, err)
	}
	// Empty: the cluster names the agent <hostname>-<pid>.
	if o.AgentName != "" {
		if err := config.ValidateNodeName(o.AgentName); err != nil {
			return fmt.Errorf("--agent.name %q: %w", o.AgentName, err)
		}
	}

	switch {
	case c.configFile != "" && c.legacyFile != "" && c.configFile != c.legacyFile:
		return fmt.Errorf("-f/--file %q and --config.file %q disagree; give one", c.legacyFile, c.configFile)
	case c.configFile != "":
		o.ConfigFile = c.configFile
	default:
		o.ConfigFile = c.legacyFile
	}
	if o.ConfigFile != "" {
		// Fail now, naming the file, rather than from inside the daemon.
		f, err := os.Open(o.ConfigFile)
		if err != nil {
			return fmt.Errorf("config file: %w", err)
		}
		f.Close()
	}

	if n, err := strconv.ParseUint(c.port, 10, 16); err != nil || n == 0 {
		return fmt.Errorf("-p/--port %q must be a port number 1-65535", c.port)
	}
	if !c.listenSet {
		*o.Web.WebListenAddresses = []string{":" + c.port}
	}
	for _, addr := range *o.Web.WebListenAddresses {
		if strings.HasPrefix(addr, "vsock://") {
			return fmt.Errorf("--web.listen-address %q: vsock is not supported", addr)
		}
		if _, _, err := net.SplitHostPort(addr); err != nil {
			return fmt.Errorf("--web.listen-address %q must be host:port or :port: %w", addr, err)
		}
	}
	if !strings.HasPrefix(o.TelemetryPath, "/") || o.TelemetryPath == "/" {
		return fmt.Errorf("--web.telemetry-path %q must start with / and not be /", o.TelemetryPath)
	}
	if o.ExternalURL != "" {
		if u, err := url.Parse(o.ExternalURL); err != nil || u.Scheme == "" || u.Host == "" {
			return fmt.Errorf("--web.external-url %q must be an absolute URL", o.ExternalURL)
		}
		o.ExternalURL = strings.TrimRight(o.ExternalURL, "/")
	}

	for _, raw := range c.alertmanagers {
		u, err := url.Parse(raw)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return fmt.Errorf("--alertmanager.url %q must be an http(s) URL such as http://alertmanager:9093", raw)
		}
		o.AlertmanagerURLs = append(o.AlertmanagerURLs, u)
	}
	if o.ResendInterval <= 0 {
		return fmt.Errorf("--alertmanager.resend-interval %s must be positive", o.ResendInterval)
	}
	if o.AlertmanagerTimeout <= 0 {
		return fmt.Errorf("--alertmanager.timeout %s must be positive", o.AlertmanagerTimeout)
	}
	return nil
}

// nameFlagErrors makes a bad flag value an error naming the flag: kingpin
// returns the value parser's error alone (`time: invalid duration "soon"`).
func nameFlagErrors(app *kingpin.Application) {
	wrap := func(f *kingpin.FlagClause) {
		m := f.Model()
		name := "--" + m.Name
		if m.Short != 0 {
			name = "-" + string(m.Short) + "/" + name
		}
		placeholder := m.FormatPlaceHolder()
		f.SetValue(namedValue{Value: m.Value, flag: name})
		// Kingpin quotes the default in --help only for its own string
		// values; keep the help text as it was.
		if f.Model().FormatPlaceHolder() != placeholder {
			f.PlaceHolder(placeholder)
		}
	}
	model := app.Model()
	for _, m := range model.Flags {
		wrap(app.GetFlag(m.Name))
	}
	for _, cmd := range model.Commands {
		for _, m := range cmd.Flags {
			wrap(app.GetCommand(cmd.Name).GetFlag(m.Name))
		}
	}
}

// namedValue is a flag's kingpin.Value whose Set errors name the flag.
type namedValue struct {
	kingpin.Value
	flag string
}

func (v namedValue) Set(s string) error {
	if err := v.Value.Set(s); err != nil {
		return fmt.Errorf("invalid value %q for %s: %w", s, v.flag, err)
	}
	return nil
}

// IsBoolFlag and IsCumulative pass on what kingpin asks of the wrapped
// value: whether the flag takes no argument, whether it may be repeated.
func (v namedValue) IsBoolFlag() bool {
	b, ok := v.Value.(interface{ IsBoolFlag() bool })
	return ok && b.IsBoolFlag()
}

func (v namedValue) IsCumulative() bool {
	r, ok := v.Value.(interface{ IsCumulative() bool })
	return ok && r.IsCumulative()
}
