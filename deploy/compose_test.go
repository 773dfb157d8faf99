package deploy

import (
	"net"
	"net/url"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
)

// No Docker engine runs where the tests run: these tests check the compose
// file statically. Every file it mounts or builds from exists, every host
// and port one service uses to reach another is a service listening there,
// and Prometheus and Grafana are pointed at the right places.

type composeProject struct {
	Name     string                    `yaml:"name"`
	Services map[string]composeService `yaml:"services"`
	Volumes  map[string]any            `yaml:"volumes"`
}

type composeService struct {
	Image string `yaml:"image"`
	Build *struct {
		Context    string            `yaml:"context"`
		Dockerfile string            `yaml:"dockerfile"`
		Args       map[string]string `yaml:"args"`
	} `yaml:"build"`
	Command     []string          `yaml:"command"`
	Volumes     []string          `yaml:"volumes"`
	Ports       []string          `yaml:"ports"`
	Expose      []string          `yaml:"expose"`
	Environment map[string]string `yaml:"environment"`
	Hostname    string            `yaml:"hostname"`
}

func loadCompose(t *testing.T) composeProject {
	t.Helper()
	var c composeProject
	decodeYAMLFile(t, composeFile, &c)
	if len(c.Services) == 0 {
		t.Fatalf("%s defines no services", composeFile)
	}
	return c
}

// composeDir is the directory relative paths in the compose file start from.
var composeDir = filepath.Dir(composeFile)

// containerPorts returns the ports a service listens on inside its
// container: the container side of `ports`, and `expose`.
func (s composeService) containerPorts() map[string]bool {
	ports := map[string]bool{}
	for _, p := range s.Ports {
		p, _, _ = strings.Cut(p, "/")
		ports[p[strings.LastIndex(p, ":")+1:]] = true
	}
	for _, p := range s.Expose {
		p, _, _ = strings.Cut(p, "/")
		ports[p] = true
	}
	return ports
}

// bindMount is a `volumes` entry mounting a host path.
type bindMount struct{ source, target string }

// bindMounts returns the service's bind mounts with their sources relative
// to deploy/, and its named volumes.
func (s composeService) bindMounts() (binds []bindMount, named []string) {
	for _, v := range s.Volumes {
		parts := strings.Split(v, ":")
		src, dst := parts[0], parts[len(parts)-1]
		if len(parts) >= 3 {
			dst = parts[1]
		}
		if strings.HasPrefix(src, ".") || strings.HasPrefix(src, "/") {
			binds = append(binds, bindMount{filepath.Join(composeDir, src), dst})
		} else {
			named = append(named, src)
		}
	}
	return binds, named
}

// hostPath returns where the file a service sees at containerPath comes from
// on the host (relative to deploy/), through its bind mounts.
func (s composeService) hostPath(containerPath string) (string, bool) {
	binds, _ := s.bindMounts()
	best, found := "", false
	bestLen := -1
	for _, b := range binds {
		rel, err := filepath.Rel(b.target, containerPath)
		if err != nil || strings.HasPrefix(rel, "..") || len(b.target) <= bestLen {
			continue
		}
		best, found, bestLen = filepath.Join(b.source, rel), true, len(b.target)
	}
	return best, found
}

// agents returns the zk_monitor agents of the compose file: services built
// from the Dockerfile that run the agent (not a one-shot command).
func (c composeProject) agents() []string {
	var names []string
	for name, s := range c.Services {
		if s.Build != nil && (len(s.Command) == 0 || strings.HasPrefix(s.Command[0], "--")) {
			names = append(names, name)
		}
	}
	sort.Strings(names)
	return names
}

// checkEndpoint checks that host:port names a compose service listening on
// that port (localhost standing for self).
func (c composeProject) checkEndpoint(t *testing.T, where, self, hostport string) {
	t.Helper()
	host, port, err := net.SplitHostPort(hostport)
	if err != nil {
		t.Errorf("%s: %q: %v", where, hostport, err)
		return
	}
	if host == "localhost" || host == "127.0.0.1" {
		host = self
	}
	svc, ok := c.Services[host]
	if !ok {
		t.Errorf("%s: %s is not a compose service", where, hostport)
		return
	}
	if !svc.containerPorts()[port] {
		t.Errorf("%s: service %s does not expose port %s (ports/expose: %v %v)", where, host, port, svc.Ports, svc.Expose)
	}
}

func TestComposeReferencedFilesExist(t *testing.T) {
	c := loadCompose(t)
	for name, svc := range c.Services {
		t.Run(name, func(t *testing.T) {
			if svc.Image == "" && svc.Build == nil {
				t.Errorf("neither image nor build")
			}
			if svc.Build != nil {
				ctx := filepath.Join(composeDir, svc.Build.Context)
				df := svc.Build.Dockerfile
				if df == "" {
					df = "Dockerfile"
				}
				if _, err := os.Stat(filepath.Join(ctx, df)); err != nil {
					t.Errorf("build: %v", err)
				}
				if filepath.Join(ctx, df) != filepath.Clean(dockerfile) {
					t.Errorf("build uses %s, want the root Dockerfile", filepath.Join(ctx, df))
				}
			}
			binds, named := svc.bindMounts()
			for _, b := range binds {
				if _, err := os.Stat(b.source); err != nil {
					t.Errorf("volume %s: %v", b.target, err)
				}
			}
			for _, v := range named {
				if _, ok := c.Volumes[v]; !ok {
					t.Errorf("named volume %s is not declared", v)
				}
			}
			// Files the command line and environment point at must be mounted.
			var files []string
			if f, ok := flagValue(svc.Command, "config.file"); ok {
				files = append(files, f)
			}
			if f, ok := svc.Environment["GF_DASHBOARDS_DEFAULT_HOME_DASHBOARD_PATH"]; ok {
				files = append(files, f)
			}
			for _, f := range files {
				host, ok := svc.hostPath(f)
				if !ok {
					if svc.Build != nil {
						continue // the image has it (the Dockerfile test checks its COPY)
					}
					t.Errorf("%s is not mounted", f)
					continue
				}
				if st, err := os.Stat(host); err != nil || st.IsDir() {
					t.Errorf("%s (from %s) is not a file: %v", f, host, err)
				}
			}
		})
	}
}

func TestComposeTopology(t *testing.T) {
	c := loadCompose(t)
	if zk, ok := c.Services["zookeeper"]; !ok || !strings.HasPrefix(zk.Image, "zookeeper:3.8") {
		t.Errorf("no zookeeper service on image zookeeper:3.8")
	}
	for _, want := range []string{"alertmanager", "prometheus", "grafana"} {
		if _, ok := c.Services[want]; !ok {
			t.Errorf("service %s is missing", want)
		}
	}
	agents := c.agents()
	if len(agents) != 3 {
		t.Fatalf("agents %v, want three", agents)
	}
	clusters := map[string]bool{}
	hostnames := map[string]bool{}
	for _, name := range agents {
		svc := c.Services[name]
		where := composeFile + " service " + name
		cluster, _ := flagValue(svc.Command, "cluster_name")
		clusters[cluster] = true
		if svc.Hostname == "" || hostnames[svc.Hostname] {
			t.Errorf("%s: hostname %q empty or shared: agents are named after their host", where, svc.Hostname)
		}
		hostnames[svc.Hostname] = true
		if cf, ok := flagValue(svc.Command, "config.file"); !ok {
			t.Errorf("%s: no --config.file", where)
		} else if host, ok := svc.hostPath(cf); !ok || filepath.Clean(host) != filepath.Clean(composeConfigFile) {
			t.Errorf("%s: --config.file %s is not %s", where, cf, composeConfigFile)
		}
		zk, ok := flagValue(svc.Command, "zookeeper")
		if !ok {
			t.Errorf("%s: no --zookeeper", where)
		}
		zk, _, _ = strings.Cut(zk, "/") // chroot
		for _, server := range strings.Split(zk, ",") {
			c.checkEndpoint(t, where+" --zookeeper", name, server)
		}
		am, ok := flagValue(svc.Command, "alertmanager.url")
		if u, err := url.Parse(am); !ok || err != nil || u.Host == "" {
			t.Errorf("%s: --alertmanager.url %q", where, am)
		} else {
			c.checkEndpoint(t, where+" --alertmanager.url", name, u.Host)
		}
		if !svc.containerPorts()[listenPort(svc.Command)] {
			t.Errorf("%s: listens on %s, which the service does not expose", where, listenPort(svc.Command))
		}
	}
	if len(clusters) != 1 {
		t.Errorf("agents use cluster names %v: one cluster must elect one leader", clusters)
	}
	// Host ports must not clash.
	hostPorts := map[string]string{}
	for name, svc := range c.Services {
		for _, p := range svc.Ports {
			parts := strings.Split(p, ":")
			if len(parts) < 2 {
				continue
			}
			hp := parts[len(parts)-2]
			if other, dup := hostPorts[hp]; dup {
				t.Errorf("host port %s used by %s and %s", hp, name, other)
			}
			hostPorts[hp] = name
		}
		if svc.Build == nil && (!strings.Contains(svc.Image, ":") || strings.HasSuffix(svc.Image, ":latest")) {
			t.Errorf("service %s: image %q is not pinned to a version", name, svc.Image)
		}
	}
}

// TestComposePortsMatchPrometheus checks that every target of prometheus.yml
// (scraped agents, Prometheus itself, Alertmanager) is a compose service
// listening on the target's port, and that Prometheus and Alertmanager get
// their configuration from deploy/.
func TestComposePortsMatchPrometheus(t *testing.T) {
	c := loadCompose(t)
	p := loadPromConfig(t)
	var agentTargets []string
	for _, sc := range p.ScrapeConfigs {
		for _, s := range sc.StaticConfigs {
			for _, target := range s.Targets {
				c.checkEndpoint(t, "scrape job "+sc.JobName, "prometheus", target)
				if sc.JobName == "zk_monitor" {
					host, _, _ := strings.Cut(target, ":")
					agentTargets = append(agentTargets, host)
				}
			}
		}
	}
	for _, am := range p.Alerting.Alertmanagers {
		for _, s := range am.StaticConfigs {
			for _, target := range s.Targets {
				c.checkEndpoint(t, "alerting", "prometheus", target)
			}
		}
	}
	sort.Strings(agentTargets)
	if strings.Join(agentTargets, ",") != strings.Join(c.agents(), ",") {
		t.Errorf("prometheus.yml scrapes agents %v, compose runs %v", agentTargets, c.agents())
	}

	mounted := []struct{ service, containerPath, want string }{
		{"prometheus", "/etc/prometheus/prometheus.yml", prometheusConfig},
		{"prometheus", "/etc/prometheus/rules/zk_monitor.rules.yml", rulesFile},
		{"alertmanager", "/etc/alertmanager/alertmanager.yml", "alertmanager/alertmanager.yml"},
		{"grafana", "/var/lib/grafana/dashboards/zk_monitor/zk_monitor.json", dashboardFile},
	}
	for _, m := range mounted {
		host, ok := c.Services[m.service].hostPath(m.containerPath)
		if !ok || filepath.Clean(host) != filepath.Clean(m.want) {
			t.Errorf("service %s sees %s from %q, want %s", m.service, m.containerPath, host, m.want)
		}
	}
	if cf, _ := flagValue(c.Services["prometheus"].Command, "config.file"); cf != "/etc/prometheus/prometheus.yml" {
		t.Errorf("prometheus --config.file=%s", cf)
	}
	if cf, _ := flagValue(c.Services["alertmanager"].Command, "config.file"); cf != "/etc/alertmanager/alertmanager.yml" {
		t.Errorf("alertmanager --config.file=%s", cf)
	}
}

// TestGrafanaProvisioning checks the provisioning files the compose Grafana
// loads: the data source is the compose Prometheus, and the dashboard
// provider reads the directory where the dashboard is mounted.
func TestGrafanaProvisioning(t *testing.T) {
	c := loadCompose(t)
	grafana := c.Services["grafana"]
	provisioning, ok := grafana.hostPath("/etc/grafana/provisioning")
	if !ok {
		t.Fatalf("grafana: /etc/grafana/provisioning is not mounted")
	}
	dsFiles, _ := filepath.Glob(filepath.Join(provisioning, "datasources", "*.yml"))
	dbFiles, _ := filepath.Glob(filepath.Join(provisioning, "dashboards", "*.yml"))
	if len(dsFiles) == 0 || len(dbFiles) == 0 {
		t.Fatalf("provisioning %s: data sources %v, dashboards %v", provisioning, dsFiles, dbFiles)
	}
	prometheusSources := 0
	for _, f := range dsFiles {
		var ds struct {
			APIVersion  int `yaml:"apiVersion"`
			Datasources []struct {
				Name, Type, URL string
			} `yaml:"datasources"`
		}
		decodeYAMLFile(t, f, &ds)
		if ds.APIVersion != 1 {
			t.Errorf("%s: apiVersion %d, want 1", f, ds.APIVersion)
		}
		for _, d := range ds.Datasources {
			if d.Type != "prometheus" {
				continue
			}
			prometheusSources++
			u, err := url.Parse(d.URL)
			if err != nil {
				t.Errorf("%s: data source %s: %v", f, d.Name, err)
				continue
			}
			if u.Host != "prometheus:9090" {
				t.Errorf("%s: data source %s points at %s, want prometheus:9090", f, d.Name, u.Host)
			}
			c.checkEndpoint(t, f, "grafana", u.Host)
		}
	}
	if prometheusSources != 1 {
		t.Errorf("%d Prometheus data sources provisioned, want 1", prometheusSources)
	}
	dashboards := 0
	for _, f := range dbFiles {
		var db struct {
			APIVersion int `yaml:"apiVersion"`
			Providers  []struct {
				Name    string `yaml:"name"`
				Type    string `yaml:"type"`
				Options struct {
					Path string `yaml:"path"`
				} `yaml:"options"`
			} `yaml:"providers"`
		}
		decodeYAMLFile(t, f, &db)
		if db.APIVersion != 1 {
			t.Errorf("%s: apiVersion %d, want 1", f, db.APIVersion)
		}
		for _, p := range db.Providers {
			host, ok := grafana.hostPath(p.Options.Path)
			if p.Type != "file" || !ok {
				t.Errorf("%s: provider %s (type %s) reads %s, which is not mounted", f, p.Name, p.Type, p.Options.Path)
				continue
			}
			if _, err := os.Stat(filepath.Join(host, filepath.Base(dashboardFile))); err == nil {
				dashboards++
			}
		}
	}
	if dashboards != 1 {
		t.Errorf("%s is provisioned by %d providers, want 1", dashboardFile, dashboards)
	}
}
