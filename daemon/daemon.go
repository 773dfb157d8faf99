// Package daemon runs a zk_monitor agent: it wires the configuration, the
// ZooKeeper connection, the znode watcher, the cluster election, the
// alert delivery and the HTTP server together, and reloads the
// configuration on request. main turns flags into Options and calls Run;
// tests call Run in-process.
package daemon

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"os"
	"path"
	"sync"
	"time"

	"github.com/coreos/go-systemd/v22/activation"
	"github.com/go-kit/log"
	"github.com/go-kit/log/level"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	versioncollector "github.com/prometheus/client_golang/prometheus/collectors/version"
	promconfig "github.com/prometheus/common/config"
	"github.com/prometheus/common/version"
	toolkitweb "github.com/prometheus/exporter-toolkit/web"
	"gopkg.in/yaml.v3"

	"github.com/zk-monitor/zk_monitor/alerting"
	"github.com/zk-monitor/zk_monitor/clockskew"
	"github.com/zk-monitor/zk_monitor/cluster"
	"github.com/zk-monitor/zk_monitor/collector"
	"github.com/zk-monitor/zk_monitor/config"
	"github.com/zk-monitor/zk_monitor/logging"
	"github.com/zk-monitor/zk_monitor/web"
	"github.com/zk-monitor/zk_monitor/zkclient"
)

// Options are everything the command line sets.
type Options struct {
	ConfigFile string // "" = nothing to watch

	ZooKeeper      string
	SessionTimeout time.Duration
	ZooKeeperUser  string
	ZooKeeperPass  string
	ZooKeeperTLS   zkclient.TLSOptions

	ClusterPrefix string
	ClusterName   string
	AgentName     string // "" = the cluster's default, <hostname>-<pid>

	// Web is how the HTTP face listens and serves: exporter-toolkit's
	// --web.listen-address, --web.systemd-socket and --web.config.file.
	// Nil fields count as unset.
	Web             *toolkitweb.FlagConfig
	TelemetryPath   string
	ExternalURL     string
	EnableLifecycle bool

	// ComplianceState also exports zk_monitor_znode_compliance_state
	// (--collector.compliance-state).
	ComplianceState bool

	AlertmanagerURLs    []*url.URL
	ResendInterval      time.Duration
	AlertmanagerTimeout time.Duration
	// AlertmanagerHTTPConfigFile holds the HTTP client configuration
	// (TLS, authentication, proxy) towards the Alertmanagers, in
	// Prometheus's format; "" = defaults. Reloads re-read it.
	AlertmanagerHTTPConfigFile string

	// Ready, if set, receives each listener's address once bound (tests).
	Ready func(addr string)
}

// Daemon is a running agent.
type Daemon struct {
	opts     Options
	web      toolkitweb.FlagConfig // opts.Web without nil fields
	logger   log.Logger
	registry *prometheus.Registry

	reloadMu sync.Mutex
	cfg      *config.Config
	warned   map[string]bool

	watcher *collector.Watcher
	alerter *alerting.Alerter
	cluster *cluster.Cluster

	reloadSuccess   prometheus.Gauge
	reloadTimestamp prometheus.Gauge
}

// LoadConfig reads the file, or returns an empty configuration when no
// file is given.
func LoadConfig(file string) (*config.Config, []config.Warning, error) {
	if file == "" {
		return &config.Config{}, nil, nil
	}
	return config.Load(file)
}

// Run runs an agent until ctx is cancelled; a value on reload reloads the
// configuration file (SIGHUP).
func Run(ctx context.Context, opts Options, logger log.Logger, reload <-chan struct{}) error {
	d := &Daemon{opts: opts, web: webFlags(opts.Web), logger: logger, registry: prometheus.NewRegistry(), warned: map[string]bool{}}
	cfg, warnings, err := LoadConfig(opts.ConfigFile)
	if err != nil {
		return fmt.Errorf("loading configuration: %w", err)
	}
	d.logWarnings(warnings)
	// Refuse to start rather than serve without the TLS or authentication
	// the operator asked for.
	if err := toolkitweb.Validate(*d.web.WebConfigFile); err != nil {
		return fmt.Errorf("--web.config.file %s: %w", *d.web.WebConfigFile, err)
	}
	// Likewise rather than send alerts without them.
	httpConfig, err := d.loadHTTPConfig()
	if err != nil {
		return err
	}
	if opts.ConfigFile == "" {
		level.Warn(logger).Log("msg", "no configuration file given (-f/--config.file): nothing to watch")
	}
	d.cfg = cfg
	return d.run(ctx, reload, httpConfig)
}

// webFlags returns f with every nil field pointing to its zero value.
func webFlags(f *toolkitweb.FlagConfig) toolkitweb.FlagConfig {
	var w toolkitweb.FlagConfig
	if f != nil {
		w = *f
	}
	if w.WebListenAddresses == nil {
		w.WebListenAddresses = new([]string)
	}
	if w.WebSystemdSocket == nil {
		w.WebSystemdSocket = new(bool)
	}
	if w.WebConfigFile == nil {
		w.WebConfigFile = new(string)
	}
	return w
}

// loadHTTPConfig reads the Alertmanager HTTP client configuration file;
// nil without one.
func (d *Daemon) loadHTTPConfig() (*promconfig.HTTPClientConfig, error) {
	file := d.opts.AlertmanagerHTTPConfigFile
	if file == "" {
		return nil, nil
	}
	cfg, err := alerting.LoadHTTPConfig(file)
	if err != nil {
		return nil, fmt.Errorf("--alertmanager.http-config-file %s: %w", file, err)
	}
	return cfg, nil
}

func (d *Daemon) run(ctx context.Context, reload <-chan struct{}, httpConfig *promconfig.HTTPClientConfig) error {
	opts, logger, reg := d.opts, d.logger, d.registry
	reg.MustRegister(
		versioncollector.NewCollector("zk_monitor"),
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
	)
	d.reloadSuccess = prometheus.NewGauge(prometheus.GaugeOpts{
		Name: "zk_monitor_config_last_reload_successful",
		Help: "Whether the last configuration load or reload succeeded (1) or failed (0).",
	})
	d.reloadTimestamp = prometheus.NewGauge(prometheus.GaugeOpts{
		Name: "zk_monitor_config_last_reload_success_timestamp_seconds",
		Help: "Unix time of the last successful configuration load or reload.",
	})
	reg.MustRegister(d.reloadSuccess, d.reloadTimestamp)
	d.reloadSuccess.Set(1)
	d.reloadTimestamp.SetToCurrentTime()

	listeners, err := d.listen()
	if err != nil {
		return err
	}
	// serve closes them once it runs; this covers the errors before.
	defer closeListeners(listeners)

	client, err := zkclient.New(zkclient.Options{
		ConnectString:  opts.ZooKeeper,
		SessionTimeout: opts.SessionTimeout,
		Username:       opts.ZooKeeperUser,
		Password:       opts.ZooKeeperPass,
		TLS:            opts.ZooKeeperTLS,
		Logger:         log.With(logger, "component", "zookeeper"),
		Registerer:     reg,
	})
	if err != nil {
		return err
	}
	defer client.Close()

	agentURL := opts.ExternalURL
	if agentURL == "" {
		agentURL = defaultExternalURL(listeners[0].Addr().String(), *d.web.WebConfigFile)
	}
	d.cluster, err = cluster.New(client, cluster.Options{
		Prefix:    opts.ClusterPrefix,
		Name:      opts.ClusterName,
		AgentName: opts.AgentName,
		ZooKeeper: opts.ZooKeeper,
		WebURL:    agentURL,
		// Leadership is also a lease of one session timeout, so an agent
		// paused past it stops claiming the lead the instant it wakes.
		SessionTimeout: opts.SessionTimeout,
		Version:        agentVersion(),
		Username:       opts.ZooKeeperUser,
		Password:       opts.ZooKeeperPass,
		Logger:         log.With(logger, "component", "cluster"),
		Registerer:     reg,
	})
	if err != nil {
		return err
	}
	d.alerter, err = alerting.New(alerting.Options{
		AlertmanagerURLs: opts.AlertmanagerURLs,
		HTTPConfig:       httpConfig,
		ResendInterval:   opts.ResendInterval,
		Timeout:          opts.AlertmanagerTimeout,
		ClusterName:      opts.ClusterName,
		// The cluster defaults an empty name to <hostname>-<pid>.
		AgentName:   d.cluster.AgentName(),
		ExternalURL: agentURL,
		// The leader keeps the firing alerts in the cluster's workspace,
		// fenced by its election node, for whoever leads next.
		FiringStore: alerting.NewFiringStore(client, d.cluster.Workspace()+"/firing",
			zkclient.DigestACL(opts.ZooKeeperUser, opts.ZooKeeperPass), d.cluster.FencePath),
		Logger:     log.With(logger, "component", "alerting"),
		Registerer: reg,
	})
	if err != nil {
		return err
	}
	d.watcher = collector.NewWatcher(client, d.cfg, d.alerter, collector.Options{
		Logger: log.With(logger, "component", "watcher"),
	})
	// max_age compares ZooKeeper's mtimes with this agent's clock: measure
	// how far apart they are, with a write of our own in the workspace.
	skew, err := clockskew.New(client, clockskew.Options{
		Path:       path.Join(d.cluster.Workspace(), "clock"),
		ACL:        zkclient.DigestACL(opts.ZooKeeperUser, opts.ZooKeeperPass),
		Agent:      d.cluster.AgentName(),
		Logger:     log.With(logger, "component", "clockskew"),
		Registerer: reg,
	})
	if err != nil {
		return err
	}

	webLogger := log.With(logger, "component", "web")
	webOpts := web.Options{
		Source:        d.watcher,
		Version:       agentVersion(),
		TelemetryPath: opts.TelemetryPath,
		Gatherer:      collector.NewGatherer(d.watcher, reg, collector.GathererOptions{ComplianceState: opts.ComplianceState}),
		Alerting:      d.cluster.IsLeader,
		Alertmanagers: func() any { return d.alerter.Status().Alertmanagers },
		Cluster:       func() any { return d.cluster.Status() },
		Ready: func() bool {
			select {
			case <-d.watcher.Synced():
				return true
			default:
				return false
			}
		},
		Registerer: reg,
		Logger:     webLogger,
	}
	if opts.EnableLifecycle {
		webOpts.Reload = d.Reload
	}
	handler := web.NewHandler(webOpts)

	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var wg sync.WaitGroup
	errc := make(chan error, 5)
	start := func(name string, fn func() error) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := fn(); err != nil && !errors.Is(err, context.Canceled) {
				errc <- fmt.Errorf("%s: %w", name, err)
			}
			cancel()
		}()
	}
	// Logged before anything runs: a reload may swap d.cfg from then on.
	level.Info(logger).Log("msg", "zk_monitor started", "version", agentVersion(), "build", version.Info(), "zookeeper", opts.ZooKeeper,
		"agent", d.cluster.AgentName(), "paths", len(d.cfg.Paths))
	start("watcher", func() error { return d.watcher.Run(ctx) })
	wg.Add(1)
	go func() {
		defer wg.Done()
		select {
		case <-ctx.Done():
		case <-d.watcher.Synced():
			// Every monitored path has been reported to the alerter: a
			// recorded alert of another path is of one no longer monitored.
			d.alerter.AllPathsReported()
		}
	}()
	start("alerting", func() error { return d.alerter.Run(ctx) })
	start("cluster", func() error { return d.cluster.Run(ctx, d.alerter.Lead) })
	start("clock skew", func() error { return skew.Run(ctx) })
	start("web", func() error { return d.serve(ctx, handler, listeners, webLogger) })
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			select {
			case <-ctx.Done():
				return
			case <-reload:
				d.Reload()
			}
		}
	}()
	wg.Wait()
	close(errc)
	return <-errc
}

// listen opens the HTTP listeners: the sockets systemd passed
// (--web.systemd-socket), or else one per --web.listen-address. Binding
// here rather than in exporter-toolkit makes a busy port a start-up error
// and lets tests learn the port the kernel picked.
func (d *Daemon) listen() ([]net.Listener, error) {
	var listeners []net.Listener
	if *d.web.WebSystemdSocket {
		// Also unsets LISTEN_FDS and LISTEN_PID: children must not take
		// the sockets for theirs.
		ls, err := activation.Listeners()
		if err != nil {
			return nil, fmt.Errorf("--web.systemd-socket: %w", err)
		}
		for i, l := range ls {
			if l == nil {
				closeListeners(ls)
				return nil, fmt.Errorf("--web.systemd-socket: file descriptor %d from systemd is not a listening stream socket", 3+i)
			}
		}
		if len(ls) == 0 {
			return nil, errors.New("--web.systemd-socket: systemd passed no sockets (LISTEN_FDS and LISTEN_PID are unset or not for this process)")
		}
		listeners = ls
	} else {
		for _, addr := range *d.web.WebListenAddresses {
			l, err := net.Listen("tcp", addr)
			if err != nil {
				closeListeners(listeners)
				return nil, fmt.Errorf("listening on %s: %w", addr, err)
			}
			listeners = append(listeners, l)
		}
		if len(listeners) == 0 {
			return nil, errors.New("no --web.listen-address to listen on")
		}
	}
	if d.opts.Ready != nil {
		for _, l := range listeners {
			d.opts.Ready(l.Addr().String())
		}
	}
	return listeners, nil
}

func closeListeners(listeners []net.Listener) {
	for _, l := range listeners {
		if l != nil {
			l.Close()
		}
	}
}

func (d *Daemon) serve(ctx context.Context, handler http.Handler, listeners []net.Listener, webLogger log.Logger) error {
	slogger := logging.Slog(webLogger)
	// One http.Server per listener: exporter-toolkit's Serve wraps the
	// server's handler and sets its TLS config in place, so ServeMultiple
	// with one shared server races (and wraps twice) when there are several
	// listen addresses.
	errorLog := logging.ErrorLog(webLogger, "http server error")
	servers := make([]*http.Server, len(listeners))
	serveErr := make(chan error, len(listeners))
	for i, l := range listeners {
		srv := &http.Server{
			Handler:           handler,
			ReadHeaderTimeout: 10 * time.Second,
			// No request needs a body of more than 1 KiB (web limits it).
			ReadTimeout: 30 * time.Second,
			// A backstop for the answers that are not written under the
			// web handler's own deadlines: those of the big pages move
			// with every chunk the client takes and end later.
			WriteTimeout: 30 * time.Second,
			ConnState:    web.ConnState,
			// Idle keep-alive connections would otherwise each hold a file
			// descriptor and a goroutine for ever.
			IdleTimeout:    2 * time.Minute,
			MaxHeaderBytes: 64 << 10,
			// TLS handshake failures and the like go to our logger, not stderr.
			ErrorLog: errorLog,
		}
		servers[i] = srv
		go func() {
			// Serve reads only the web config file of the flags.
			err := toolkitweb.Serve(l, srv, &d.web, slogger)
			if errors.Is(err, http.ErrServerClosed) {
				err = nil
			}
			serveErr <- err
		}()
	}
	// shutdown stops every server and waits for the serving goroutines
	// that have not returned yet.
	shutdown := func(pending int) {
		shutdownCtx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		for _, srv := range servers {
			srv.Shutdown(shutdownCtx)
		}
		for range pending {
			<-serveErr
		}
	}
	select {
	case err := <-serveErr:
		// One listener failed (or was closed): stop the others too.
		shutdown(len(servers) - 1)
		if err == nil {
			return errors.New("web server stopped")
		}
		return err
	case <-ctx.Done():
		shutdown(len(servers))
		return nil
	}
}

// Reload re-reads the configuration file and the Alertmanager HTTP client
// configuration file; if either is bad, both running configurations stay.
func (d *Daemon) Reload() (err error) {
	d.reloadMu.Lock()
	defer d.reloadMu.Unlock()
	defer func() {
		if err != nil {
			d.reloadSuccess.Set(0)
			level.Error(d.logger).Log("msg", "reloading configuration failed; keeping the running configuration", "file", d.opts.ConfigFile, "err", err)
			return
		}
		d.reloadSuccess.Set(1)
		d.reloadTimestamp.SetToCurrentTime()
	}()
	cfg, warnings, err := LoadConfig(d.opts.ConfigFile)
	if err != nil {
		return err
	}
	httpConfig, err := d.loadHTTPConfig()
	if err != nil {
		return err
	}
	if d.opts.AlertmanagerHTTPConfigFile != "" {
		if err := d.alerter.SetHTTPConfig(httpConfig); err != nil {
			return fmt.Errorf("--alertmanager.http-config-file %s: %w", d.opts.AlertmanagerHTTPConfigFile, err)
		}
	}
	d.logWarnings(warnings)
	d.watcher.SetConfig(cfg)
	d.cfg = cfg
	level.Info(d.logger).Log("msg", "configuration reloaded", "file", d.opts.ConfigFile, "paths", len(cfg.Paths))
	return nil
}

// logWarnings logs each kind of warning once per process.
func (d *Daemon) logWarnings(warnings []config.Warning) {
	for _, w := range warnings {
		// Once per kind (ignored token, HipChat, ...) for the life of the
		// process, not once per path or per reload: the first occurrence
		// names where.
		kind := w.Key + "\x00" + w.Message
		if d.warned[kind] {
			continue
		}
		d.warned[kind] = true
		level.Warn(d.logger).Log("msg", "configuration warning", "warning", w.String())
	}
}

// defaultExternalURL is how other hosts reach this agent when
// --web.external-url is not given: the address of the first listener, with
// this host's name when it listens on every interface, and https when the
// web config enables TLS.
func defaultExternalURL(addr string, webConfigFile string) string {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		host, port = addr, "8080"
	}
	if host == "" || host == "0.0.0.0" || host == "::" {
		if name, err := os.Hostname(); err == nil && name != "" {
			host = name
		} else {
			host = "localhost"
		}
	}
	scheme := "http"
	if usesTLS(webConfigFile) {
		scheme = "https"
	}
	return scheme + "://" + net.JoinHostPort(host, port)
}

// usesTLS reports whether an exporter-toolkit web config enables TLS. The
// file was validated before: an unreadable one counts as plain HTTP.
func usesTLS(webConfigFile string) bool {
	if webConfigFile == "" {
		return false
	}
	b, err := os.ReadFile(webConfigFile)
	if err != nil {
		return false
	}
	var cfg struct {
		TLS map[string]any `yaml:"tls_server_config"`
	}
	return yaml.Unmarshal(b, &cfg) == nil && len(cfg.TLS) > 0
}

// agentVersion is the release version, "devel" for builds without ldflags.
func agentVersion() string {
	if version.Version == "" {
		return "devel"
	}
	return version.Version
}
