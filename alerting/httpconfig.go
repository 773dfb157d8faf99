package alerting

import (
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"sort"

	promconfig "github.com/prometheus/common/config"
	"go.yaml.in/yaml/v2"
)

// LoadHTTPConfig reads the HTTP client configuration used towards every
// Alertmanager, in the format Prometheus uses for its own clients
// (prometheus/common's HTTPClientConfig: tls_config, basic_auth,
// authorization, oauth2, proxy_url, ...). Unknown keys are errors, relative
// file names are taken from the file's directory, and every file it names
// must be readable now: a deployment mistake stops the start or the reload
// instead of failing each delivery. Secret files are read again on every
// request and certificate files whenever they change, so rotating them
// needs no reload. An empty file means the defaults.
func LoadHTTPConfig(file string) (*promconfig.HTTPClientConfig, error) {
	content, err := os.ReadFile(file)
	if err != nil {
		return nil, err
	}
	cfg, err := ParseHTTPConfig(content)
	if err != nil {
		return nil, err
	}
	cfg.SetDirectory(filepath.Dir(file))
	files, refs := httpConfigSources(cfg)
	if len(refs) > 0 {
		return nil, fmt.Errorf("%s: secrets by reference are not supported; use a file", refs[0].Key)
	}
	for _, f := range files {
		fh, err := os.Open(f.Path)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", f.Key, err)
		}
		fh.Close()
	}
	// Parses the CA and the client certificate and key now rather than
	// at the first delivery.
	c, err := promconfig.NewClientFromConfig(*cfg, "alertmanager")
	if err != nil {
		return nil, err
	}
	c.CloseIdleConnections()
	return cfg, nil
}

// ParseHTTPConfig parses and validates an HTTP client configuration
// without looking at the files it names; LoadHTTPConfig is the whole check.
func ParseHTTPConfig(content []byte) (*promconfig.HTTPClientConfig, error) {
	// Starting from the defaults makes an empty file mean them; a
	// non-empty one is reset to them by HTTPClientConfig.UnmarshalYAML.
	cfg := promconfig.DefaultHTTPClientConfig
	if err := yaml.UnmarshalStrict(content, &cfg); err != nil {
		return nil, err
	}
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	return &cfg, nil
}

// ConfigFile is a file an HTTP client configuration reads.
type ConfigFile struct {
	// Key is where the configuration names it, such as
	// "tls_config.ca_file" or "basic_auth.password_file".
	Key  string
	Path string
}

// HTTPConfigFiles lists the files cfg reads secrets and certificates from,
// sorted by key.
func HTTPConfigFiles(cfg *promconfig.HTTPClientConfig) []ConfigFile {
	files, _ := httpConfigSources(cfg)
	return files
}

// httpConfigSources lists the files cfg reads secrets and certificates
// from, and the secrets it wants by reference (Path holding the name),
// each sorted by key.
func httpConfigSources(cfg *promconfig.HTTPClientConfig) (files, refs []ConfigFile) {
	add := func(list *[]ConfigFile, key, value string) {
		if value != "" {
			*list = append(*list, ConfigFile{key, value})
		}
	}
	addTLS := func(prefix string, t *promconfig.TLSConfig) {
		prefix += "tls_config."
		add(&files, prefix+"ca_file", t.CAFile)
		add(&files, prefix+"cert_file", t.CertFile)
		add(&files, prefix+"key_file", t.KeyFile)
		add(&refs, prefix+"ca_ref", t.CARef)
		add(&refs, prefix+"cert_ref", t.CertRef)
		add(&refs, prefix+"key_ref", t.KeyRef)
	}
	addTLS("", &cfg.TLSConfig)
	if a := cfg.BasicAuth; a != nil {
		add(&files, "basic_auth.username_file", a.UsernameFile)
		add(&files, "basic_auth.password_file", a.PasswordFile)
		add(&refs, "basic_auth.username_ref", a.UsernameRef)
		add(&refs, "basic_auth.password_ref", a.PasswordRef)
	}
	if a := cfg.Authorization; a != nil {
		add(&files, "authorization.credentials_file", a.CredentialsFile)
		add(&refs, "authorization.credentials_ref", a.CredentialsRef)
	}
	if o := cfg.OAuth2; o != nil {
		add(&files, "oauth2.client_secret_file", o.ClientSecretFile)
		add(&files, "oauth2.client_certificate_key_file", o.ClientCertificateKeyFile)
		add(&refs, "oauth2.client_secret_ref", o.ClientSecretRef)
		add(&refs, "oauth2.client_certificate_key_ref", o.ClientCertificateKeyRef)
		addTLS("oauth2.", &o.TLSConfig)
	}
	if h := cfg.HTTPHeaders; h != nil {
		for name, v := range h.Headers {
			for _, f := range v.Files {
				add(&files, "http_headers."+name+".files", f)
			}
		}
	}
	byKey := func(list []ConfigFile) {
		sort.SliceStable(list, func(i, j int) bool { return list[i].Key < list[j].Key })
	}
	byKey(files)
	byKey(refs)
	return files, refs
}

// authKey names the authentication cfg sets, "" if none.
func authKey(cfg *promconfig.HTTPClientConfig) string {
	switch {
	case cfg.BasicAuth != nil:
		return "basic_auth"
	case cfg.Authorization != nil:
		return "authorization"
	case cfg.OAuth2 != nil:
		return "oauth2"
	case cfg.BearerToken != "" || cfg.BearerTokenFile != "":
		return "bearer_token"
	}
	return ""
}

// defaultHTTPConfig is the client configuration without a file: the
// defaults, with proxies from the environment (HTTPS_PROXY, NO_PROXY) as
// Go's default transport honours them.
func defaultHTTPConfig() *promconfig.HTTPClientConfig {
	cfg := promconfig.DefaultHTTPClientConfig
	cfg.ProxyFromEnvironment = true
	return &cfg
}

// errCredentialsTwice is returned when an Alertmanager URL carries
// credentials and the HTTP client configuration sets authentication too.
var errCredentialsTwice = errors.New("credentials in both the URL and the HTTP client configuration")

// newHTTPClient builds the client of the Alertmanager at base. Credentials
// in the URL become its basic authentication; they may not be combined
// with authentication from cfg, since one would silently lose.
func newHTTPClient(base *url.URL, cfg *promconfig.HTTPClientConfig) (*http.Client, error) {
	c := *cfg
	if base.User != nil {
		if key := authKey(&c); key != "" {
			return nil, fmt.Errorf("alertmanager URL %q: %w (%s): give them in one place", base.Redacted(), errCredentialsTwice, key)
		}
		password, _ := base.User.Password()
		c.BasicAuth = &promconfig.BasicAuth{Username: base.User.Username(), Password: promconfig.Secret(password)}
	}
	return promconfig.NewClientFromConfig(c, "alertmanager")
}
