package deploy

import (
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/zk-monitor/zk_monitor/alerting"
)

const (
	systemdHTTPConfig  = "systemd/alertmanager_http.yml"
	systemdCredentials = "systemd/alertmanager-credentials.conf"
	// systemdCredentialsDir is where systemd puts the unit's credentials.
	systemdCredentialsDir = "/run/credentials/zk_monitor.service"
)

// httpConfigFlagRE finds --alertmanager.http-config-file=PATH in a deploy
// file, commented out or not: the examples show it without turning it on.
var httpConfigFlagRE = regexp.MustCompile(`--alertmanager\.http-config-file=(\S+)`)

// httpConfigFlag returns the path the file's examples pass to
// --alertmanager.http-config-file, which must be a flag of zk_monitor and
// the same path wherever the file mentions it.
func httpConfigFlag(t *testing.T, file string, flags map[string]bool) string {
	t.Helper()
	matches := httpConfigFlagRE.FindAllStringSubmatch(string(readFile(t, file)), -1)
	if len(matches) == 0 {
		t.Fatalf("%s shows no --alertmanager.http-config-file=PATH", file)
	}
	if !flags["alertmanager.http-config-file"] {
		t.Fatalf("%s uses --alertmanager.http-config-file, which zk_monitor --help does not list", file)
	}
	path := ""
	for _, m := range matches {
		// A sentence may end right after the path.
		p := strings.TrimRight(m[1], ".,;)")
		if path != "" && p != path {
			t.Errorf("%s passes both %s and %s to --alertmanager.http-config-file", file, path, p)
		}
		path = p
	}
	return path
}

// parseExampleHTTPConfig parses an example HTTP client configuration as
// zk_monitor does, placed in dir (where relative paths start), and returns
// it with the files it reads.
func parseExampleHTTPConfig(t *testing.T, where string, content []byte, dir string) []alerting.ConfigFile {
	t.Helper()
	cfg, err := alerting.ParseHTTPConfig(content)
	if err != nil {
		t.Fatalf("%s: %v", where, err)
	}
	cfg.SetDirectory(dir)
	files := alerting.HTTPConfigFiles(cfg)
	if len(files) == 0 || cfg.TLSConfig.CAFile == "" || cfg.TLSConfig.KeyFile == "" {
		t.Fatalf("%s names no CA and client key: it is no TLS example", where)
	}
	return files
}

// isSecret reports whether a setting holds a private key or a password.
func isSecret(f alerting.ConfigFile) bool {
	return !strings.HasSuffix(f.Key, "ca_file") && !strings.HasSuffix(f.Key, "cert_file")
}

// TestSystemdAlertmanagerHTTPConfig: the example HTTP client configuration
// for systemd is valid, is installed where zk_monitor.default says, and
// reads its public files from /etc/zk_monitor and its secrets from
// credentials the drop-in loads from /etc/zk_monitor (the dynamic user
// could not read them there).
func TestSystemdAlertmanagerHTTPConfig(t *testing.T) {
	installed := httpConfigFlag(t, systemdDefaults, zkMonitorFlags(t))
	if installed != "/etc/zk_monitor/"+filepath.Base(systemdHTTPConfig) {
		t.Errorf("%s installs the HTTP client configuration as %s, want /etc/zk_monitor/%s", systemdDefaults, installed, filepath.Base(systemdHTTPConfig))
	}
	files := parseExampleHTTPConfig(t, systemdHTTPConfig, readFile(t, systemdHTTPConfig), filepath.Dir(installed))

	dropIn := parseUnitFile(t, readFile(t, systemdCredentials))
	credentials := map[string]string{}
	for _, lc := range dropIn["Service"]["LoadCredential"] {
		id, source, ok := strings.Cut(lc, ":")
		if !ok || !strings.HasPrefix(source, "/etc/zk_monitor/") {
			t.Errorf("%s: LoadCredential=%s, want ID:/etc/zk_monitor/...", systemdCredentials, lc)
		}
		credentials[id] = source
	}
	for _, f := range files {
		id, isCredential := strings.CutPrefix(f.Path, systemdCredentialsDir+"/")
		switch {
		case isCredential && credentials[id] == "":
			t.Errorf("%s: %s %s is a credential %s does not load", systemdHTTPConfig, f.Key, f.Path, systemdCredentials)
		case !isCredential && isSecret(f):
			t.Errorf("%s: %s %s: a secret, which the service's dynamic user can only read as a credential", systemdHTTPConfig, f.Key, f.Path)
		case !isCredential && !strings.HasPrefix(f.Path, "/etc/zk_monitor/"):
			t.Errorf("%s: %s %s is outside /etc/zk_monitor", systemdHTTPConfig, f.Key, f.Path)
		}
	}
}

// TestKubernetesAlertmanagerHTTPConfig: the commented-out
// --alertmanager.http-config-file of the Deployment names a ConfigMap key
// mounted there; that configuration is valid and reads its certificates
// from an optional Secret (the manifest applies without it) that the
// non-root agent can read.
func TestKubernetesAlertmanagerHTTPConfig(t *testing.T) {
	objs := loadKubernetes(t)
	var spec deploymentSpec
	var manifest string
	for _, o := range objs {
		if o.Kind == "Deployment" {
			decodeSpec(t, o, &spec)
			manifest = o.file
		}
	}
	pod, c := spec.Template.Spec, spec.Template.Spec.Containers[0]
	path := httpConfigFlag(t, manifest, zkMonitorFlags(t))
	content, ok := mountedConfigMapFile(objs, pod, c, path)
	if !ok {
		t.Fatalf("%s: %s is not a key of a ConfigMap mounted there", manifest, path)
	}
	files := parseExampleHTTPConfig(t, manifest+" "+path, []byte(content), filepath.Dir(path))

	secretMounts := map[string]bool{}
	for _, m := range c.VolumeMounts {
		for _, v := range pod.Volumes {
			if v.Name != m.Name || v.Secret == nil {
				continue
			}
			secretMounts[filepath.Clean(m.MountPath)] = true
			if v.Secret.Optional == nil || !*v.Secret.Optional {
				t.Errorf("%s: Secret %s is not optional: the manifest would not start without it", manifest, v.Secret.SecretName)
			}
			if mode := v.Secret.DefaultMode; mode == nil || *mode&0o040 == 0 {
				t.Errorf("%s: Secret %s: defaultMode must let the group (fsGroup) read", manifest, v.Secret.SecretName)
			}
		}
	}
	if fs := pod.SecurityContext.FSGroup; fs == nil {
		t.Errorf("%s: no fsGroup: the non-root agent could not read the mounted Secret", manifest)
	}
	for _, f := range files {
		if !secretMounts[filepath.Dir(f.Path)] && isSecret(f) {
			t.Errorf("%s: %s %s is not in a mounted Secret", manifest, f.Key, f.Path)
		}
		if !secretMounts[filepath.Dir(f.Path)] && filepath.Dir(f.Path) != filepath.Dir(path) {
			t.Errorf("%s: %s %s is in no mounted volume", manifest, f.Key, f.Path)
		}
	}
}

// TestComposeAlertmanagerHTTPConfig: the compose file's hint uses the
// flag zk_monitor has.
func TestComposeAlertmanagerHTTPConfig(t *testing.T) {
	path := httpConfigFlag(t, composeFile, zkMonitorFlags(t))
	if !strings.HasPrefix(path, "/etc/zk_monitor/") {
		t.Errorf("%s: the HTTP client configuration %s is not under /etc/zk_monitor", composeFile, path)
	}
}
