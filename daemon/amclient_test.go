package daemon_test

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"strings"
	"sync"
	"testing"

	"github.com/go-kit/log"

	"github.com/zk-monitor/zk_monitor/daemon"
	"github.com/zk-monitor/zk_monitor/internal/testenv"
)

// nullRoute is an Alertmanager configuration that notifies nobody.
const nullRoute = "route: {receiver: 'null'}\nreceivers: [{name: 'null'}]\n"

// msgProbeDisabled is logged when an Alertmanager's status endpoint is
// given up for the leadership term.
const msgProbeDisabled = "restart detection disabled"

// amAgent starts an agent whose only path, /<cluster>/empty, has no
// children and so alerts at once, sending to amURL with the HTTP client
// configuration httpConfig ("" for none).
func amAgent(t *testing.T, zkAddr, cluster, amURL, httpConfig string) *agent {
	t.Helper()
	ensure(t, admin(t, zkAddr), "/"+cluster+"/empty")
	opts := baseOptions(zkAddr, testenv.WriteFile(t, "paths.yml", "/"+cluster+"/empty: {children: 1}\n"))
	opts.ClusterName = cluster
	opts.AlertmanagerURLs = []*url.URL{mustURL(t, amURL)}
	if httpConfig != "" {
		opts.AlertmanagerHTTPConfigFile = testenv.WriteFile(t, "alertmanager_http.yml", httpConfig)
	}
	return startAgent(t, opts)
}

// amStatus returns what /status says of the agent's only Alertmanager.
func (a *agent) amStatus() map[string]any {
	a.t.Helper()
	ams := a.status()["monitor"].(map[string]any)["alerter"].(map[string]any)["alertmanagers"].([]any)
	if len(ams) != 1 {
		a.t.Fatalf("/status lists %d Alertmanagers, want 1", len(ams))
	}
	return ams[0].(map[string]any)
}

// amCounter returns one of the agent's per-Alertmanager counters.
func (a *agent) amCounter(name, amURL string) float64 {
	a.t.Helper()
	return a.sample(fmt.Sprintf("zk_monitor_alertmanager_alerts_%s_total{alertmanager=%q}", name, amURL))
}

// waitDeliveryFailing waits until the agent counts failed alerts and
// /status shows an error containing want.
func (a *agent) waitDeliveryFailing(amURL, want string) {
	a.t.Helper()
	testenv.Eventually(a.t, waitFor, pollEvery, func() bool {
		msg, _ := a.amStatus()["last_error_message"].(string)
		return a.amCounter("failed", amURL) > 0 && strings.Contains(msg, want)
	}, "no failed delivery with an error containing %q: /status %v", want, a.amStatus())
}

// alertsOf returns the alerts of cluster the Alertmanager holds.
func alertsOf(t *testing.T, am *testenv.Alertmanager, cluster string) []testenv.AMAlert {
	t.Helper()
	alerts, err := am.Alerts(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	var out []testenv.AMAlert
	for _, al := range alerts {
		if al.Labels["cluster"] == cluster {
			out = append(out, al)
		}
	}
	return out
}

// TestAlertmanagerClientCertificate sends alerts to a real Alertmanager
// that requires a client certificate issued by its CA. With the right
// certificate they arrive (read back with the same certificate); with a
// certificate of another CA, none, or no trust in the server's CA, every
// delivery fails, counted and shown in /status, and the private key shows
// nowhere.
func TestAlertmanagerClientCertificate(t *testing.T) {
	zkServer := testenv.StartZooKeeper(t)
	ca := testenv.NewCA(t, "am")
	client := ca.Issue(t, "zk_monitor")
	am := testenv.StartSecureAlertmanager(t, nullRoute, testenv.AMWeb{CA: ca, RequireClientCert: true, ClientCert: client})

	t.Run("good certificate", func(t *testing.T) {
		a := amAgent(t, zkServer.Addr(), "mtls", am.URL(), fmt.Sprintf(
			"tls_config:\n  ca_file: %s\n  cert_file: %s\n  key_file: %s\n", ca.CertFile, client.CertFile, client.KeyFile))
		waitAlert(t, am, "mtls", "/mtls/empty")
		testenv.Eventually(t, waitFor, pollEvery, func() bool { return a.amCounter("sent", am.URL()) > 0 }, "no sent alerts counted")
		assertNotShown(t, a, keyLines(client.KeyPEM)...)
	})

	stranger := testenv.NewCA(t, "stranger").Issue(t, "zk_monitor")
	failing := []struct {
		name, httpConfig string
		// want is in the error /status shows.
		want string
	}{
		{"certificate of another CA", fmt.Sprintf("tls_config:\n  ca_file: %s\n  cert_file: %s\n  key_file: %s\n", ca.CertFile, stranger.CertFile, stranger.KeyFile), "tls: "},
		{"no certificate", fmt.Sprintf("tls_config:\n  ca_file: %s\n", ca.CertFile), "tls: "},
		{"server CA not trusted", fmt.Sprintf("tls_config:\n  cert_file: %s\n  key_file: %s\n", client.CertFile, client.KeyFile), "x509: certificate signed by unknown authority"},
	}
	for i, tc := range failing {
		t.Run(tc.name, func(t *testing.T) {
			cluster := fmt.Sprintf("mtlsbad%d", i)
			a := amAgent(t, zkServer.Addr(), cluster, am.URL(), tc.httpConfig)
			a.waitDeliveryFailing(am.URL(), tc.want)
			if got := alertsOf(t, am, cluster); len(got) != 0 {
				t.Errorf("Alertmanager holds %d alerts of a client it should refuse", len(got))
			}
			assertNotShown(t, a, append(keyLines(stranger.KeyPEM), keyLines(client.KeyPEM)...)...)
		})
	}
}

// TestAlertmanagerBasicAuth sends alerts to a real Alertmanager that
// requires basic auth, with the password in a file. A wrong password fails
// every delivery (counted, in /status, not shown) without giving up the
// restart detection; writing the right password into the file makes the
// next delivery succeed, with no reload.
func TestAlertmanagerBasicAuth(t *testing.T) {
	const (
		user     = "zk_monitor"
		password = "am-PASSWORD-61b0c2"
		wrong    = "am-WRONG-PASSWORD-93aa1f"
	)
	zkServer := testenv.StartZooKeeper(t)
	am := testenv.StartSecureAlertmanager(t, nullRoute, testenv.AMWeb{Users: map[string]string{user: password}})
	passwordFile := testenv.WriteFile(t, "am-password", wrong+"\n")
	a := amAgent(t, zkServer.Addr(), "basic", am.URL(), "basic_auth:\n  username: "+user+"\n  password_file: "+passwordFile+"\n")

	a.waitDeliveryFailing(am.URL(), "401 Unauthorized")
	if got := alertsOf(t, am, "basic"); len(got) != 0 {
		t.Fatalf("Alertmanager holds %d alerts sent with a wrong password", len(got))
	}
	// The status probe is refused too; that must not end restart
	// detection for the term, since the password may be fixed in it.
	testenv.Eventually(t, waitFor, pollEvery, func() bool {
		return strings.Count(a.Logs.String(), "Alertmanager status probe failed")+strings.Count(a.Logs.String(), msgProbeDisabled) > 0
	}, "no status probe was made")
	if strings.Contains(a.Logs.String(), msgProbeDisabled) {
		t.Error("a refused password disabled the restart detection")
	}

	if err := os.WriteFile(passwordFile, []byte(password+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	waitAlert(t, am, "basic", "/basic/empty")
	testenv.Eventually(t, waitFor, pollEvery, func() bool {
		_, ok := a.amStatus()["last_success"]
		return ok && a.amCounter("sent", am.URL()) > 0
	}, "the delivery is not shown as successful: /status %v", a.amStatus())
	assertNotShown(t, a, password, wrong, basicAuthToken(user, password), basicAuthToken(user, wrong))
}

// basicAuthToken is what an Authorization header carries for user and
// password: the secret in another form.
func basicAuthToken(user, password string) string {
	return base64.StdEncoding.EncodeToString([]byte(user + ":" + password))
}

// TestAlertmanagerHTTPConfigReload: SIGHUP re-reads the HTTP client
// configuration file, so a fixed user name takes effect; a broken file is
// refused with the path-spec file of the same reload, and delivery goes on
// with the running configuration.
func TestAlertmanagerHTTPConfigReload(t *testing.T) {
	const password = "reload-PASSWORD-7d21"
	zkServer := testenv.StartZooKeeper(t)
	am := testenv.StartSecureAlertmanager(t, nullRoute, testenv.AMWeb{Users: map[string]string{"zk_monitor": password}})
	passwordFile := testenv.WriteFile(t, "am-password", password)
	a := amAgent(t, zkServer.Addr(), "amreload", am.URL(), "basic_auth: {username: nobody, password_file: "+passwordFile+"}\n")
	a.waitDeliveryFailing(am.URL(), "401 Unauthorized")

	httpConfigFile := testenv.WriteFile(t, "alertmanager_http.yml", "basic_auth: {username: zk_monitor, password_file: "+passwordFile+"}\n")
	opts := a.opts
	if err := os.Rename(httpConfigFile, opts.AlertmanagerHTTPConfigFile); err != nil {
		t.Fatal(err)
	}
	a.reload <- struct{}{}
	waitAlert(t, am, "amreload", "/amreload/empty")
	if v := a.sample("zk_monitor_config_last_reload_successful"); v != 1 {
		t.Fatalf("reload gauge %v after a good reload", v)
	}

	// A broken HTTP client configuration with a new path: neither is taken.
	ensure(t, admin(t, zkServer.Addr()), "/amreload/new")
	if err := os.WriteFile(opts.ConfigFile, []byte("/amreload/empty: {children: 1}\n/amreload/new: {children: 0}\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(opts.AlertmanagerHTTPConfigFile, []byte("basic_auth: {username: zk_monitor, password_file: /nonexistent/password}\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	a.reload <- struct{}{}
	testenv.Eventually(t, waitFor, pollEvery, func() bool { return a.sample("zk_monitor_config_last_reload_successful") == 0 }, "the broken reload was not reported")
	logs := a.Logs.String()
	if !strings.Contains(logs, msgReloadFailed) || !strings.Contains(logs, "--alertmanager.http-config-file "+opts.AlertmanagerHTTPConfigFile) || !strings.Contains(logs, "/nonexistent/password") {
		t.Errorf("the failed reload's log does not name the file and the missing password file:\n%s", logs)
	}
	if _, ok := a.compliance()["/amreload/new"]; ok {
		t.Error("the path-spec file of the failed reload was applied")
	}
	sent := a.amCounter("sent", am.URL())
	testenv.Eventually(t, waitFor, pollEvery, func() bool { return a.amCounter("sent", am.URL()) > sent }, "delivery stopped after the failed reload")
}

// TestAlertmanagerHTTPConfigInvalid: an HTTP client configuration that
// cannot be used stops the agent at start with an error naming the file
// and the problem.
func TestAlertmanagerHTTPConfigInvalid(t *testing.T) {
	password := testenv.WriteFile(t, "password", "pw")
	cases := []struct {
		name, content, amURL string
		want                 string
	}{
		{"unknown key", "tls_config:\n  ca_fil: x\n", "", "ca_fil"},
		{"missing password file", "basic_auth: {username: zk, password_file: /nonexistent/pw}\n", "", "basic_auth.password_file: open /nonexistent/pw"},
		{"missing CA file", "tls_config: {ca_file: /nonexistent/ca.pem}\n", "", "/nonexistent/ca.pem"},
		{"URL credentials and basic_auth", "basic_auth: {username: zk, password_file: " + password + "}\n", "http://user:url-SECRET@127.0.0.1:9093", "credentials in both the URL and the HTTP client configuration"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			opts := baseOptions("127.0.0.1:1", "")
			opts.AlertmanagerHTTPConfigFile = testenv.WriteFile(t, "alertmanager_http.yml", tc.content)
			if tc.amURL != "" {
				opts.AlertmanagerURLs = []*url.URL{mustURL(t, tc.amURL)}
			}
			ctx, cancel := context.WithTimeout(context.Background(), testenv.Scaled(waitFor))
			defer cancel()
			err := daemon.Run(ctx, opts, log.NewNopLogger(), nil)
			if ctx.Err() != nil {
				t.Fatal("the agent kept running with an unusable HTTP client configuration")
			}
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("Run returned %v, want an error containing %q", err, tc.want)
			}
			if tc.amURL == "" && !strings.Contains(err.Error(), "--alertmanager.http-config-file "+opts.AlertmanagerHTTPConfigFile) {
				t.Errorf("the error %q does not name the file", err)
			}
			if strings.Contains(err.Error(), "url-SECRET") {
				t.Errorf("the error shows the URL's password: %v", err)
			}
		})
	}
	t.Run("missing file", func(t *testing.T) {
		opts := baseOptions("127.0.0.1:1", "")
		opts.AlertmanagerHTTPConfigFile = "/nonexistent/alertmanager_http.yml"
		err := daemon.Run(context.Background(), opts, log.NewNopLogger(), nil)
		if err == nil || !strings.Contains(err.Error(), "--alertmanager.http-config-file /nonexistent/alertmanager_http.yml") {
			t.Fatalf("Run returned %v, want an error naming the file", err)
		}
	})
}

// authGate is an authenticating reverse proxy in front of a real
// Alertmanager, as deployments put one to check bearer tokens: it lets
// through only requests carrying the wanted Authorization header.
type authGate struct {
	srv  *httptest.Server
	want string

	mu      sync.Mutex
	refused int
}

func newAuthGate(t *testing.T, am *testenv.Alertmanager, want string) *authGate {
	t.Helper()
	g := &authGate{want: want}
	proxy := httputil.NewSingleHostReverseProxy(mustURL(t, am.URL()))
	proxy.Transport = &http.Transport{DisableKeepAlives: true}
	g.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Authorization") != g.want {
			g.mu.Lock()
			g.refused++
			g.mu.Unlock()
			http.Error(w, "Unauthorized", http.StatusUnauthorized)
			return
		}
		proxy.ServeHTTP(w, r)
	}))
	t.Cleanup(g.srv.Close)
	return g
}

// oauth2Server is a token endpoint for the client credentials grant that
// hands out token to id with secret.
func oauth2Server(t *testing.T, id, secret, token string) *httptest.Server {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		gotID, gotSecret, ok := r.BasicAuth()
		if !ok {
			gotID, gotSecret = r.PostFormValue("client_id"), r.PostFormValue("client_secret")
		}
		w.Header().Set("Content-Type", "application/json")
		if r.PostFormValue("grant_type") != "client_credentials" || gotID != id || gotSecret != secret {
			w.WriteHeader(http.StatusUnauthorized)
			json.NewEncoder(w).Encode(map[string]string{"error": "invalid_client"})
			return
		}
		json.NewEncoder(w).Encode(map[string]any{"access_token": token, "token_type": "Bearer", "expires_in": 3600})
	}))
	t.Cleanup(srv.Close)
	return srv
}

// TestAlertmanagerTokensNeverShown delivers alerts through an
// authenticating proxy to a real Alertmanager with a bearer token from
// authorization.credentials_file and with an OAuth2 access token got with a
// client secret from a file, first with wrong secrets (failed deliveries,
// shown in /status and the logs) and then with the right ones (alerts
// arrive). No token or secret appears in the logs, /status, the landing
// page or /metrics.
func TestAlertmanagerTokensNeverShown(t *testing.T) {
	zkServer := testenv.StartZooKeeper(t)
	am := testenv.StartAlertmanager(t, nullRoute)

	t.Run("authorization", func(t *testing.T) {
		const token, wrong = "BEARER-TOKEN-5e01c9", "BEARER-WRONG-TOKEN-b27d"
		gate := newAuthGate(t, am, "Bearer "+token)
		tokenFile := testenv.WriteFile(t, "token", wrong+"\n")
		a := amAgent(t, zkServer.Addr(), "bearer", gate.srv.URL, "authorization:\n  credentials_file: "+tokenFile+"\n")
		a.waitDeliveryFailing(gate.srv.URL, "401 Unauthorized")
		if err := os.WriteFile(tokenFile, []byte(token), 0o600); err != nil {
			t.Fatal(err)
		}
		waitAlert(t, am, "bearer", "/bearer/empty")
		assertNotShown(t, a, token, wrong)
	})

	t.Run("oauth2", func(t *testing.T) {
		const (
			secret = "OAUTH2-CLIENT-SECRET-0c4d"
			wrong  = "OAUTH2-WRONG-SECRET-83f2"
			token  = "OAUTH2-ACCESS-TOKEN-a61e"
		)
		tokens := oauth2Server(t, "zk_monitor", secret, token)
		gate := newAuthGate(t, am, "Bearer "+token)
		secretFile := testenv.WriteFile(t, "client-secret", wrong)
		a := amAgent(t, zkServer.Addr(), "oauth", gate.srv.URL, fmt.Sprintf(
			"oauth2:\n  client_id: zk_monitor\n  client_secret_file: %s\n  token_url: %s/token\n", secretFile, tokens.URL))
		a.waitDeliveryFailing(gate.srv.URL, "invalid_client")
		if err := os.WriteFile(secretFile, []byte(secret), 0o600); err != nil {
			t.Fatal(err)
		}
		waitAlert(t, am, "oauth", "/oauth/empty")
		assertNotShown(t, a, secret, wrong, token)
	})
}
