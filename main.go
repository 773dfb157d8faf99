// Command zk_monitor watches ZooKeeper znodes, exports their compliance to
// Prometheus and, from one elected agent of a cluster, sends alerts to
// Alertmanager. main only turns flags into daemon.Options.
package main

import (
	"context"
	"fmt"
	"io"
	"net/url"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/alecthomas/kingpin/v2"
	"github.com/prometheus/common/version"

	"github.com/zk-monitor/zk_monitor/config"
	"github.com/zk-monitor/zk_monitor/daemon"
	"github.com/zk-monitor/zk_monitor/logging"
	"github.com/zk-monitor/zk_monitor/zkclient"
)

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

// command is what the command line asks for.
type command struct {
	name    string // "run" or "check-config"
	files   []string
	options daemon.Options
	logging logging.Config
}

func run(args []string, stdout, stderr io.Writer) int {
	cmd, err := parseArgs(args, stdout, stderr)
	if err != nil {
		fmt.Fprintf(stderr, "zk_monitor: error: %v\n", err)
		return 2
	}
	if cmd == nil {
		return 0 // --help or --version printed
	}
	switch cmd.name {
	case "check-config":
		if !config.Check(stdout, stderr, cmd.files...) {
			return 1
		}
		return 0
	case "seed", "seed-delete":
		o := cmd.options
		err := zkclient.Seed(zkclient.Options{
			ConnectString: o.ZooKeeper, SessionTimeout: o.SessionTimeout,
			Username: o.ZooKeeperUser, Password: o.ZooKeeperPass,
		}, cmd.files, cmd.name == "seed-delete")
		if err != nil {
			fmt.Fprintf(stderr, "zk_monitor seed: %v\n", err)
			return 1
		}
		return 0
	}
	logger, err := logging.New(cmd.logging, stderr)
	if err != nil {
		fmt.Fprintf(stderr, "zk_monitor: error: %v\n", err)
		return 2
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	reload := make(chan struct{}, 1)
	hup := make(chan os.Signal, 1)
	signal.Notify(hup, syscall.SIGHUP)
	go func() {
		for range hup {
			select {
			case reload <- struct{}{}:
			default:
			}
		}
	}()
	if err := daemon.Run(ctx, cmd.options, logger, reload); err != nil {
		logger.Log("level", "error", "msg", "zk_monitor stopped", "err", err)
		return 1
	}
	return 0
}

// parseArgs parses the command line; a nil command with no error means
// help or version was printed.
func parseArgs(args []string, stdout, stderr io.Writer) (*command, error) {
	app := kingpin.New("zk_monitor", "Watches ZooKeeper znodes, exports their compliance to Prometheus and sends alerts to Alertmanager from one elected agent.")
	app.UsageWriter(stdout)
	app.ErrorWriter(stderr)
	// --help and --version print and "terminate"; parsing then goes on, so
	// remember that they ran and stop here instead of exiting the process.
	terminated := false
	app.Terminate(func(int) { terminated = true })
	app.Version(version.Print("zk_monitor"))
	app.HelpFlag.Short('h')

	cmd := &command{name: "run"}
	o := &cmd.options
	var (
		port          string
		sessionTO     string
		resend        string
		amTimeout     string
		listen        []string
		level         string
		legacyLevel   string
		legacyFile    string
		configFile    string
		passwordFile  string
		alertmanagers []string
	)
	runCmd := app.Command("run", "Run the agent (the default).").Default()
	app.Flag("zookeeper", "ZooKeeper connect string: host:port[,host:port...][/chroot].").Short('z').Default("localhost:2181").StringVar(&o.ZooKeeper)
	app.Flag("zookeeper_user", "ZooKeeper digest-auth user.").StringVar(&o.ZooKeeperUser)
	app.Flag("zookeeper_pass", "ZooKeeper digest-auth password (visible in ps; prefer --zookeeper_pass_file).").StringVar(&o.ZooKeeperPass)
	app.Flag("zookeeper_pass_file", "File holding the ZooKeeper digest-auth password.").StringVar(&passwordFile)
	app.Flag("zookeeper.session-timeout", "ZooKeeper session timeout; a leader that loses its session is replaced within it.").Default("10s").StringVar(&sessionTO)
	app.Flag("cluster_name", "Unique cluster name (ie, prod-zookeeper-monitor); agents with the same name elect one leader.").Short('c').Default("zkmonitor").StringVar(&o.ClusterName)
	app.Flag("cluster_prefix", "Prefix path in ZooKeeper for all zk_monitor clusters.").Default("/zk_monitor").StringVar(&o.ClusterPrefix)
	app.Flag("agent.name", "Name of this agent in the cluster (default <hostname>-<pid>).").StringVar(&o.AgentName)
	app.Flag("file", "Path to YAML file with znodes to monitor (same as --config.file).").Short('f').StringVar(&legacyFile)
	app.Flag("config.file", "Path to YAML file with znodes to monitor.").StringVar(&configFile)
	app.Flag("port", "Port to listen on (def: 8080); --web.listen-address wins.").Short('p').Default("8080").StringVar(&port)
	app.Flag("web.listen-address", "Address to listen on for the web interface and telemetry; repeatable.").StringsVar(&listen)
	app.Flag("web.config.file", "Path to a web configuration file enabling TLS or basic authentication (exporter-toolkit format).").StringVar(&o.WebConfigFile)
	app.Flag("web.telemetry-path", "Path under which to expose metrics.").Default("/metrics").StringVar(&o.TelemetryPath)
	app.Flag("web.external-url", "URL under which this agent is reachable, used in alert links.").StringVar(&o.ExternalURL)
	app.Flag("web.enable-lifecycle", "Enable configuration reload via HTTP POST /-/reload.").BoolVar(&o.EnableLifecycle)
	app.Flag("alertmanager.url", "Alertmanager base URL (e.g. http://alertmanager:9093); repeat for each Alertmanager of an HA set.").StringsVar(&alertmanagers)
	app.Flag("alertmanager.resend-interval", "How often firing alerts are re-sent to Alertmanager.").Default("1m").StringVar(&resend)
	app.Flag("alertmanager.timeout", "Timeout of one request to Alertmanager.").Default("10s").StringVar(&amTimeout)
	app.Flag("level", "Set logging level (INFO|WARN|DEBUG|ERROR); same as --log.level.").Short('l').StringVar(&legacyLevel)
	app.Flag("log.level", "Only log messages with the given severity or above: debug, info, warn, error.").Default("warn").StringVar(&level)
	app.Flag("log.format", "Output format of log messages: logfmt or json.").Default("logfmt").StringVar(&cmd.logging.Format)
	app.Flag("syslog", "Log to syslog (UDP 127.0.0.1:514). Supply facility name (ie \"local0\").").Short('s').StringVar(&cmd.logging.SyslogFacility)

	seedCmd := app.Command("seed", "Create znodes (with their parents) or, with --delete, delete them; for demos and tests.").Hidden()
	seedDelete := seedCmd.Flag("delete", "Delete the znodes (and their children) instead.").Bool()
	seedCmd.Arg("path", "Znode paths.").Required().StringsVar(&cmd.files)

	checkCmd := app.Command("check-config", "Check configuration files and exit: 0 when all are valid.")
	// Plain strings, not ExistingFiles: a missing file is reported with the
	// others rather than stopping the check of the rest.
	checkCmd.Arg("file", "Configuration files to check.").Required().StringsVar(&cmd.files)

	chosen, err := app.Parse(args)
	if terminated {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	if chosen == "" {
		return nil, nil
	}
	switch chosen {
	case checkCmd.FullCommand():
		cmd.name = "check-config"
		return cmd, nil
	case seedCmd.FullCommand():
		cmd.name = "seed"
		if *seedDelete {
			cmd.name = "seed-delete"
		}
	}
	_ = runCmd

	cmd.logging.Level = level
	if legacyLevel != "" {
		cmd.logging.Level = legacyLevel
	}
	if _, err := logging.ParseLevel(cmd.logging.Level); err != nil {
		return nil, err
	}
	switch {
	case configFile != "" && legacyFile != "" && configFile != legacyFile:
		return nil, fmt.Errorf("-f/--file %q and --config.file %q disagree; give one", legacyFile, configFile)
	case configFile != "":
		o.ConfigFile = configFile
	default:
		o.ConfigFile = legacyFile
	}
	if o.ConfigFile != "" {
		// Fail now, naming the file, rather than from inside the daemon.
		f, err := os.Open(o.ConfigFile)
		if err != nil {
			return nil, fmt.Errorf("config file: %w", err)
		}
		f.Close()
	}
	n, err := strconv.ParseUint(port, 10, 16)
	if err != nil || n == 0 {
		return nil, fmt.Errorf("-p/--port %q must be a port number 1-65535", port)
	}
	o.ListenAddresses = listen
	if len(o.ListenAddresses) == 0 {
		o.ListenAddresses = []string{fmt.Sprintf(":%d", n)}
	}
	for _, d := range []struct {
		flag  string
		value string
		dst   *time.Duration
	}{
		{"--zookeeper.session-timeout", sessionTO, &o.SessionTimeout},
		{"--alertmanager.resend-interval", resend, &o.ResendInterval},
		{"--alertmanager.timeout", amTimeout, &o.AlertmanagerTimeout},
	} {
		v, err := time.ParseDuration(d.value)
		if err != nil {
			return nil, fmt.Errorf("%s %q is not a duration such as 10s or 1m", d.flag, d.value)
		}
		*d.dst = v
	}
	if o.SessionTimeout < 100*time.Millisecond {
		return nil, fmt.Errorf("--zookeeper.session-timeout %s is too short", o.SessionTimeout)
	}
	if o.ResendInterval <= 0 || o.AlertmanagerTimeout <= 0 {
		return nil, fmt.Errorf("--alertmanager.resend-interval and --alertmanager.timeout must be positive")
	}
	if !strings.HasPrefix(o.TelemetryPath, "/") || o.TelemetryPath == "/" {
		return nil, fmt.Errorf("--web.telemetry-path %q must start with / and not be /", o.TelemetryPath)
	}
	if passwordFile != "" {
		if o.ZooKeeperPass != "" {
			return nil, fmt.Errorf("give --zookeeper_pass or --zookeeper_pass_file, not both")
		}
		b, err := os.ReadFile(passwordFile)
		if err != nil {
			return nil, fmt.Errorf("reading --zookeeper_pass_file: %w", err)
		}
		o.ZooKeeperPass = strings.TrimRight(string(b), "\r\n")
	}
	if (o.ZooKeeperUser == "") != (o.ZooKeeperPass == "") {
		return nil, fmt.Errorf("ZooKeeper digest auth needs both --zookeeper_user and a password")
	}
	if o.AgentName == "" {
		host, err := os.Hostname()
		if err != nil || host == "" {
			host = "localhost"
		}
		o.AgentName = fmt.Sprintf("%s-%d", host, os.Getpid())
	}
	if strings.ContainsAny(o.AgentName, "/") {
		return nil, fmt.Errorf("--agent.name %q must not contain /", o.AgentName)
	}
	for _, raw := range alertmanagers {
		u, err := url.Parse(raw)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return nil, fmt.Errorf("--alertmanager.url %q must be an http(s) URL such as http://alertmanager:9093", raw)
		}
		o.AlertmanagerURLs = append(o.AlertmanagerURLs, u)
	}
	if o.ExternalURL != "" {
		if u, err := url.Parse(o.ExternalURL); err != nil || u.Scheme == "" || u.Host == "" {
			return nil, fmt.Errorf("--web.external-url %q must be an absolute URL", o.ExternalURL)
		}
		o.ExternalURL = strings.TrimRight(o.ExternalURL, "/")
	}
	return cmd, nil
}
