package daemon_test

import (
	"context"
	"crypto/tls"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/go-kit/log"
	toolkitweb "github.com/prometheus/exporter-toolkit/web"
	"golang.org/x/crypto/bcrypt"

	"github.com/zk-monitor/zk_monitor/daemon"
	"github.com/zk-monitor/zk_monitor/internal/testenv"
)

// TestWebConfigTLSAndBasicAuth serves the agent through exporter-toolkit
// with --web.config.file (TLS and basic auth) on two listen addresses and
// talks to it with a real TLS client.
func TestWebConfigTLSAndBasicAuth(t *testing.T) {
	zkServer := testenv.StartZooKeeper(t)
	c := admin(t, zkServer.Addr())
	ensure(t, c, "/tls/a")
	dir := t.TempDir()
	ca := testenv.NewCA(t, "web")
	server := ca.Issue(t, "zk_monitor")
	certFile, keyFile := server.CertFile, server.KeyFile
	const user, password = "prometheus", "correct horse battery staple"
	hash, err := bcrypt.GenerateFromPassword([]byte(password), bcrypt.MinCost)
	if err != nil {
		t.Fatal(err)
	}
	webConfig := filepath.Join(dir, "web.yml")
	content := "tls_server_config:\n  cert_file: " + certFile + "\n  key_file: " + keyFile +
		"\nbasic_auth_users:\n  " + user + ": " + string(hash) + "\n"
	if err := os.WriteFile(webConfig, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}

	opts := baseOptions(zkServer.Addr(), testenv.WriteFile(t, "zk.yaml", "/tls: {children: 1}\n"))
	opts.Web = &toolkitweb.FlagConfig{WebListenAddresses: &[]string{"127.0.0.1:0", "127.0.0.1:0"}, WebConfigFile: &webConfig}
	opts.EnableLifecycle = true
	a := startAgent(t, opts)

	// An unknown user costs the server a bcrypt of cost 10 (so that it
	// takes as long as a known one): seconds with the race detector on a
	// busy machine. The timeout only has to catch a server that hangs.
	client := &http.Client{Timeout: testenv.Scaled(time.Minute), Transport: &http.Transport{
		TLSClientConfig:   &tls.Config{RootCAs: ca.Pool(), MinVersion: tls.VersionTLS12},
		DisableKeepAlives: true,
	}}
	do := func(t *testing.T, method, rawURL, user, password string) (int, string, http.Header) {
		t.Helper()
		req, err := http.NewRequest(method, rawURL, nil)
		if err != nil {
			t.Fatal(err)
		}
		if user != "" {
			req.SetBasicAuth(user, password)
		}
		resp, err := client.Do(req)
		if err != nil {
			t.Fatalf("%s %s: %v", method, rawURL, err)
		}
		defer resp.Body.Close()
		body, _ := io.ReadAll(resp.Body)
		if resp.TLS == nil {
			t.Fatalf("%s %s: answered without TLS", method, rawURL)
		}
		return resp.StatusCode, string(body), resp.Header
	}

	for _, base := range a.URLs {
		httpsURL := "https://" + strings.TrimPrefix(base, "http://")
		testenv.Eventually(t, waitFor, pollEvery, func() bool {
			code, _, _ := do(t, "GET", httpsURL+"/-/ready", user, password)
			return code == http.StatusOK
		}, "%s never ready", httpsURL)

		endpoints := []struct {
			method, path, want string
		}{
			{"GET", "/metrics", "zk_monitor_znode_children{path=\"/tls\"} 1"},
			{"GET", "/status", `"/tls": true`},
			{"GET", "/state", `"/tls": true`},
			{"GET", "/", `<a href="/metrics">`},
			{"GET", "/-/healthy", "Healthy"},
			{"GET", "/-/ready", "Ready"},
			{"POST", "/-/reload", "Config reloaded"},
		}
		for _, ep := range endpoints {
			t.Run(strings.TrimPrefix(base, "http://")+ep.path, func(t *testing.T) {
				code, _, header := do(t, ep.method, httpsURL+ep.path, "", "")
				if code != http.StatusUnauthorized || !strings.Contains(header.Get("WWW-Authenticate"), "Basic") {
					t.Errorf("without credentials: %d %v, want 401 with a Basic challenge", code, header)
				}
				if code, _, _ := do(t, ep.method, httpsURL+ep.path, user, "wrong"); code != http.StatusUnauthorized {
					t.Errorf("with a wrong password: %d, want 401", code)
				}
				if code, _, _ := do(t, ep.method, httpsURL+ep.path, "nobody", password); code != http.StatusUnauthorized {
					t.Errorf("with an unknown user: %d, want 401", code)
				}
				code, body, _ := do(t, ep.method, httpsURL+ep.path, user, password)
				if code != http.StatusOK || !strings.Contains(body, ep.want) {
					t.Errorf("with credentials: %d, body %.300q, want 200 containing %q", code, body, ep.want)
				}
			})
		}

		// Plain HTTP gets no page; a client that does not trust the
		// certificate cannot connect.
		resp, err := (&http.Client{Timeout: testenv.Scaled(10 * time.Second)}).Get(base + "/metrics")
		if err == nil {
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != http.StatusBadRequest || strings.Contains(string(body), "zk_monitor_") {
				t.Errorf("plain HTTP: %d %.200q, want 400 and no metrics", resp.StatusCode, body)
			}
		}
		untrusting := &http.Client{Timeout: testenv.Scaled(10 * time.Second), Transport: &http.Transport{TLSClientConfig: &tls.Config{MinVersion: tls.VersionTLS12}}}
		if resp, err := untrusting.Get(httpsURL + "/metrics"); err == nil {
			resp.Body.Close()
			t.Errorf("a client without the certificate in its roots connected: %d", resp.StatusCode)
		} else if !strings.Contains(err.Error(), "certificate") {
			t.Errorf("untrusted certificate: unexpected error %v", err)
		}
	}
	// The server's own complaints go to the agent's logger, not to stderr.
	testenv.Eventually(t, waitFor, pollEvery, func() bool {
		return strings.Contains(a.Logs.String(), "TLS handshake error")
	}, "TLS handshake errors were not logged through the agent's logger")
}

// TestWebConfigInvalid: a web config file that cannot be used stops the
// agent with an error naming the problem, instead of serving without the
// TLS or authentication the operator asked for.
func TestWebConfigInvalid(t *testing.T) {
	zkServer := testenv.StartZooKeeper(t)
	cases := []struct {
		name, content, want string
	}{
		{"missing key file", "tls_server_config:\n  cert_file: /nonexistent/cert.pem\n  key_file: /nonexistent/key.pem\n", "/nonexistent/"},
		{"unknown key", "tls_server_config:\n  cert_fil: x\n", "cert_fil"},
		{"basic auth without hash", "basic_auth_users:\n  alice: \"\"\n", "bcrypt"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			opts := baseOptions(zkServer.Addr(), "")
			webConfig := testenv.WriteFile(t, "web.yml", tc.content)
			opts.Web.WebConfigFile = &webConfig
			ctx, cancel := context.WithTimeout(context.Background(), testenv.Scaled(waitFor))
			defer cancel()
			err := daemon.Run(ctx, opts, log.NewNopLogger(), nil)
			if ctx.Err() != nil {
				t.Fatal("the agent kept running with an unusable web config file")
			}
			if err == nil || !strings.Contains(err.Error(), "--web.config.file "+webConfig) || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("Run returned %v, want an error naming the file and %q", err, tc.want)
			}
		})
	}
}
