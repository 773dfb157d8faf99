package alerting

import (
	"errors"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	promconfig "github.com/prometheus/common/config"

	"github.com/zk-monitor/zk_monitor/internal/testenv"
)

func TestLoadHTTPConfig(t *testing.T) {
	dir := t.TempDir()
	write := func(name, content string) string {
		t.Helper()
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	ca, err := os.ReadFile(testenv.NewCA(t, "test").CertFile)
	if err != nil {
		t.Fatal(err)
	}
	write("ca.pem", string(ca))
	write("not-a-cert.pem", "hello\n")
	write("password", "pw\n")
	write("token", "tok\n")

	valid := []struct {
		name, content string
		check         func(t *testing.T, cfg *promconfig.HTTPClientConfig)
	}{
		{"empty file means the defaults", "", func(t *testing.T, cfg *promconfig.HTTPClientConfig) {
			if !cfg.FollowRedirects || !cfg.EnableHTTP2 || cfg.BasicAuth != nil || cfg.TLSConfig.CAFile != "" {
				t.Errorf("got %+v, want the defaults", cfg)
			}
		}},
		{"relative files are beside the config file", "tls_config: {ca_file: ca.pem}\nbasic_auth: {username: zk, password_file: password}\n",
			func(t *testing.T, cfg *promconfig.HTTPClientConfig) {
				if cfg.TLSConfig.CAFile != filepath.Join(dir, "ca.pem") || cfg.BasicAuth.PasswordFile != filepath.Join(dir, "password") {
					t.Errorf("files %q and %q not joined with %s", cfg.TLSConfig.CAFile, cfg.BasicAuth.PasswordFile, dir)
				}
			}},
		{"bearer_token_file becomes authorization", "bearer_token_file: token\n", func(t *testing.T, cfg *promconfig.HTTPClientConfig) {
			if cfg.Authorization == nil || cfg.Authorization.Type != "Bearer" || cfg.Authorization.CredentialsFile != filepath.Join(dir, "token") {
				t.Errorf("authorization %+v", cfg.Authorization)
			}
		}},
		{"proxy and oauth2", "proxy_url: http://proxy.example:3128\noauth2: {client_id: zk, client_secret_file: password, token_url: https://auth.example/token}\n",
			func(t *testing.T, cfg *promconfig.HTTPClientConfig) {
				if cfg.ProxyURL.String() != "http://proxy.example:3128" || cfg.OAuth2 == nil || cfg.OAuth2.ClientSecretFile != filepath.Join(dir, "password") {
					t.Errorf("proxy %q, oauth2 %+v", cfg.ProxyURL.String(), cfg.OAuth2)
				}
			}},
	}
	for _, tc := range valid {
		t.Run(tc.name, func(t *testing.T) {
			cfg, err := LoadHTTPConfig(write("valid.yml", tc.content))
			if err != nil {
				t.Fatal(err)
			}
			tc.check(t, cfg)
		})
	}

	invalid := []struct {
		name, content string
		want          []string // all in the error
	}{
		{"unknown key", "tls_config:\n  ca_fil: ca.pem\n", []string{"line 2", "ca_fil"}},
		{"missing password file", "basic_auth: {username: zk, password_file: nope}\n", []string{"basic_auth.password_file", filepath.Join(dir, "nope")}},
		{"missing credentials file", "authorization: {credentials_file: /nonexistent/token}\n", []string{"authorization.credentials_file", "/nonexistent/token"}},
		{"missing oauth2 secret", "oauth2: {client_id: zk, client_secret_file: nope, token_url: https://auth.example/token}\n", []string{"oauth2.client_secret_file"}},
		{"missing CA", "tls_config: {ca_file: nope.pem}\n", []string{"tls_config.ca_file", filepath.Join(dir, "nope.pem")}},
		{"CA that is no certificate", "tls_config: {ca_file: not-a-cert.pem}\n", []string{"CA cert", "not-a-cert.pem"}},
		{"client certificate without key", "tls_config: {cert_file: ca.pem}\n", []string{"key_file"}},
		{"two kinds of authentication", "basic_auth: {username: zk, password: pw}\nauthorization: {credentials: tok}\n", []string{"at most one of basic_auth, oauth2 & authorization"}},
		{"secret by reference", "basic_auth: {username: zk, password_ref: vault}\n", []string{"basic_auth.password_ref", "not supported"}},
		{"TLS secret by reference", "oauth2: {client_id: zk, token_url: https://auth.example/token, tls_config: {ca_ref: vault}}\n", []string{"oauth2.tls_config.ca_ref", "not supported"}},
		{"not YAML", "basic_auth: [\n", []string{"yaml"}},
	}
	for _, tc := range invalid {
		t.Run(tc.name, func(t *testing.T) {
			_, err := LoadHTTPConfig(write("invalid.yml", tc.content))
			if err == nil {
				t.Fatal("no error")
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not contain %q", err, w)
				}
			}
		})
	}
	if _, err := LoadHTTPConfig(filepath.Join(dir, "absent.yml")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("absent file: %v, want not exist", err)
	}
}

// TestURLCredentialsAndHTTPConfig: credentials in an Alertmanager URL and
// authentication in the HTTP client configuration are refused together,
// without showing the password; with a configuration that sets no
// authentication the URL's credentials are sent.
func TestURLCredentialsAndHTTPConfig(t *testing.T) {
	am := newFakeAM(t)
	u := am.url(t)
	u.User = url.UserPassword("zk", "url-s3cret")
	for _, cfg := range []*promconfig.HTTPClientConfig{
		{BasicAuth: &promconfig.BasicAuth{Username: "other", Password: "x"}},
		{Authorization: &promconfig.Authorization{Type: "Bearer", Credentials: "x"}},
		{OAuth2: &promconfig.OAuth2{ClientID: "zk", TokenURL: "https://auth.example/token"}},
	} {
		_, err := New(Options{AlertmanagerURLs: []*url.URL{u}, HTTPConfig: cfg})
		if !errors.Is(err, errCredentialsTwice) || strings.Contains(err.Error(), "url-s3cret") {
			t.Errorf("auth %s: New returned %v, want errCredentialsTwice without the password", authKey(cfg), err)
		}
	}

	cfg := promconfig.DefaultHTTPClientConfig
	cfg.TLSConfig.InsecureSkipVerify = true
	a, _ := newTestAlerter(t, Options{AlertmanagerURLs: []*url.URL{u}, HTTPConfig: &cfg})
	lead(t, a)
	a.Update(spec("/a"), errorResult(testMsg))
	testenv.Eventually(t, 10*time.Second, 5*time.Millisecond, func() bool { return len(am.posts()) >= 1 }, "a POST")
	if got, want := am.authorization(0), basicAuth("zk", "url-s3cret"); got != want {
		t.Errorf("Authorization %q, want %q", got, want)
	}
	// A reload to a configuration with authentication is refused the same
	// way, and changes nothing.
	err := a.SetHTTPConfig(&promconfig.HTTPClientConfig{BasicAuth: &promconfig.BasicAuth{Username: "other"}})
	if !errors.Is(err, errCredentialsTwice) {
		t.Errorf("SetHTTPConfig: %v, want errCredentialsTwice", err)
	}
}

// TestSetHTTPConfig: a new HTTP client configuration takes effect from the
// next request, and a rewritten password file from the next request
// without one.
func TestSetHTTPConfig(t *testing.T) {
	am := newFakeAM(t)
	passwordFile := filepath.Join(t.TempDir(), "password")
	if err := os.WriteFile(passwordFile, []byte("first\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg := func(user string) *promconfig.HTTPClientConfig {
		c := promconfig.DefaultHTTPClientConfig
		c.BasicAuth = &promconfig.BasicAuth{Username: user, PasswordFile: passwordFile}
		return &c
	}
	a, _ := newTestAlerter(t, Options{AlertmanagerURLs: []*url.URL{am.url(t)}, HTTPConfig: cfg("alice")})
	lead(t, a)
	post := func(n int, path string) {
		t.Helper()
		a.Update(spec(path), errorResult(testMsg))
		testenv.Eventually(t, 10*time.Second, 5*time.Millisecond, func() bool { return len(am.posts()) >= n }, "POST %s", path)
	}
	post(1, "/a")
	if got, want := am.authorization(0), basicAuth("alice", "first"); got != want {
		t.Fatalf("first POST: Authorization %q, want %q", got, want)
	}
	if err := os.WriteFile(passwordFile, []byte("second\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	post(2, "/b")
	if got, want := am.authorization(1), basicAuth("alice", "second"); got != want {
		t.Errorf("after the password file changed: Authorization %q, want %q", got, want)
	}
	if err := a.SetHTTPConfig(cfg("bob")); err != nil {
		t.Fatal(err)
	}
	post(3, "/c")
	if got, want := am.authorization(2), basicAuth("bob", "second"); got != want {
		t.Errorf("after SetHTTPConfig: Authorization %q, want %q", got, want)
	}
}

// authorization returns the Authorization header of the i-th POST.
func (f *fakeAM) authorization(i int) string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.auth[i]
}

func basicAuth(user, password string) string {
	req, _ := http.NewRequest(http.MethodGet, "/", nil)
	req.SetBasicAuth(user, password)
	return req.Header.Get("Authorization")
}
