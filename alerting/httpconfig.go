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
	for _, f := range httpConfigFiles(cfg) {
		fh, err := os.Open(f.path)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", f.key, err)
		}
		fh.Close()
	}
	// Reads and parses the CA and the client certificate and key, and
	// refuses what this agent cannot provide (secrets by reference).
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

// configFile is a file an HTTP client configuration names, with its key.
type configFile struct{ key, path string }

// httpConfigFiles lists the files cfg names, sorted by key.
func httpConfigFiles(cfg *promconfig.HTTPClientConfig) []configFile {
	var files []configFile
	add := func(key, path string) {
		if path != "" {
			files = append(files, configFile{key, path})
		}
	}
	addTLS := func(prefix string, t *promconfig.TLSConfig) {
		add(prefix+"tls_config.ca_file", t.CAFile)
		add(prefix+"tls_config.cert_file", t.CertFile)
		add(prefix+"tls_config.key_file", t.KeyFile)
	}
	addTLS("", &cfg.TLSConfig)
	if a := cfg.BasicAuth; a != nil {
		add("basic_auth.username_file", a.UsernameFile)
		add("basic_auth.password_file", a.PasswordFile)
	}
	if a := cfg.Authorization; a != nil {
		add("authorization.credentials_file", a.CredentialsFile)
	}
	add("bearer_token_file", cfg.BearerTokenFile)
	if o := cfg.OAuth2; o != nil {
		add("oauth2.client_secret_file", o.ClientSecretFile)
		add("oauth2.client_certificate_key_file", o.ClientCertificateKeyFile)
		addTLS("oauth2.", &o.TLSConfig)
	}
	if h := cfg.HTTPHeaders; h != nil {
		for name, v := range h.Headers {
			for _, f := range v.Files {
				add("http_headers."+name+".files", f)
			}
		}
	}
	sort.SliceStable(files, func(i, j int) bool { return files[i].key < files[j].key })
	return files
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
