package testenv

import (
	"bytes"
	"context"
	"crypto/tls"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"golang.org/x/crypto/bcrypt"
)

const (
	amBinary = "prometheus-alertmanager"
	// Waits of the harness; they are stretched by the scale knob.
	amStartTimeout = 30 * time.Second
	amStopGrace    = 10 * time.Second
	amListTimeout  = 10 * time.Second
	// The harness's requests to the servers it runs (Alertmanager,
	// Prometheus), and each readiness probe among them.
	httpTimeout      = 5 * time.Second
	httpProbeTimeout = time.Second
)

// Alertmanager is a real Alertmanager (Debian's prometheus-alertmanager)
// listening on 127.0.0.1 with gossip disabled.
type Alertmanager struct {
	t       testing.TB
	cfgPath string
	port    int
	scheme  string
	proc    *process
	client  *http.Client
}

// AMWeb secures an Alertmanager's HTTP API through --web.config.file; the
// zero value serves plain HTTP to anyone.
type AMWeb struct {
	// CA issues the server certificate (for 127.0.0.1): TLS is on when set.
	CA *CA
	// RequireClientCert makes Alertmanager refuse clients without a
	// certificate issued by CA.
	RequireClientCert bool
	// Users are the basic-auth users and their passwords; Alertmanager
	// gets them bcrypt-hashed. Without any, no authentication is asked.
	Users map[string]string
	// ClientCert and User are what the harness itself uses for its
	// requests (ready checks, Alerts, PostAlerts): by default a certificate
	// issued by CA and the first user by name.
	ClientCert *Cert
	User       string
}

// AMAlert is one alert as returned by GET /api/v2/alerts.
type AMAlert struct {
	Labels       map[string]string `json:"labels"`
	Annotations  map[string]string `json:"annotations"`
	Fingerprint  string            `json:"fingerprint"`
	StartsAt     time.Time         `json:"startsAt"`
	EndsAt       time.Time         `json:"endsAt"`
	UpdatedAt    time.Time         `json:"updatedAt"`
	GeneratorURL string            `json:"generatorURL"`
	Receivers    []AMReceiver      `json:"receivers"`
	Status       AMAlertStatus     `json:"status"`
}

// AMReceiver names a receiver an alert is routed to.
type AMReceiver struct {
	Name string `json:"name"`
}

// AMAlertStatus is an alert's state: "active", "suppressed" or "unprocessed".
type AMAlertStatus struct {
	State       string   `json:"state"`
	SilencedBy  []string `json:"silencedBy"`
	InhibitedBy []string `json:"inhibitedBy"`
}

// AMPostableAlert is one alert of POST /api/v2/alerts, as Prometheus (or
// zk_monitor) sends it.
type AMPostableAlert struct {
	Labels       map[string]string `json:"labels"`
	Annotations  map[string]string `json:"annotations,omitempty"`
	StartsAt     time.Time         `json:"startsAt,omitzero"`
	EndsAt       time.Time         `json:"endsAt,omitzero"`
	GeneratorURL string            `json:"generatorURL,omitempty"`
}

// StartAlertmanager writes configYAML and starts Alertmanager on a free port
// with its storage in a temporary directory, and waits until GET /-/ready
// answers 200.
func StartAlertmanager(t testing.TB, configYAML string) *Alertmanager {
	t.Helper()
	return StartSecureAlertmanager(t, configYAML, AMWeb{})
}

// StartSecureAlertmanager is StartAlertmanager with the API behind the TLS
// and authentication web asks for.
func StartSecureAlertmanager(t testing.TB, configYAML string, web AMWeb) *Alertmanager {
	t.Helper()
	SkipIfShort(t, "needs a real Alertmanager")
	bin := RequireBinary(t, amBinary)
	dir := t.TempDir()
	port := FreePort(t)
	// No keep-alive: no idle connection goroutines outlive a request.
	transport := &http.Transport{DisableKeepAlives: true}
	a := &Alertmanager{
		t:       t,
		cfgPath: filepath.Join(dir, "alertmanager.yml"),
		port:    port,
		scheme:  "http",
		client:  &http.Client{Timeout: Scaled(httpTimeout), Transport: transport},
	}
	if err := os.WriteFile(a.cfgPath, []byte(configYAML), 0o644); err != nil {
		t.Fatalf("testenv: writing %s: %v", a.cfgPath, err)
	}
	var webArgs []string
	if web.CA != nil || len(web.Users) > 0 {
		webConfig, err := a.secure(t, web, transport)
		if err != nil {
			t.Fatalf("testenv: %v", err)
		}
		webArgs = append(webArgs, "--web.config.file="+WriteFile(t, "alertmanager-web.yml", webConfig))
	}
	a.proc = newProcess(t, "alertmanager", filepath.Join(dir, "alertmanager.log"), bin, append([]string{
		"--config.file=" + a.cfgPath,
		"--storage.path=" + filepath.Join(dir, "data"),
		"--web.listen-address=127.0.0.1:" + strconv.Itoa(port),
		"--web.external-url=" + a.URL(),
		"--cluster.listen-address=",
		"--data.retention=1h",
		"--log.level=debug",
	}, webArgs...)...)
	a.proc.dir = dir
	a.Start()
	return a
}

// secure returns the web configuration web asks for and sets up the
// harness's own client (transport, user) to pass it.
func (a *Alertmanager) secure(t testing.TB, web AMWeb, transport *http.Transport) (string, error) {
	var b strings.Builder
	if web.CA != nil {
		a.scheme = "https"
		server := web.CA.Issue(t, fmt.Sprintf("alertmanager-%d", a.port))
		fmt.Fprintf(&b, "tls_server_config:\n  cert_file: %q\n  key_file: %q\n", server.CertFile, server.KeyFile)
		if web.RequireClientCert {
			fmt.Fprintf(&b, "  client_auth_type: RequireAndVerifyClientCert\n  client_ca_file: %q\n", web.CA.CertFile)
		}
		transport.TLSClientConfig = &tls.Config{RootCAs: web.CA.Pool(), MinVersion: tls.VersionTLS12}
		if web.RequireClientCert {
			client := web.ClientCert
			if client == nil {
				client = web.CA.Issue(t, fmt.Sprintf("testenv-%d", a.port))
			}
			transport.TLSClientConfig.Certificates = []tls.Certificate{client.TLS}
		}
	}
	if len(web.Users) > 0 {
		names := make([]string, 0, len(web.Users))
		for name := range web.Users {
			names = append(names, name)
		}
		sort.Strings(names)
		b.WriteString("basic_auth_users:\n")
		for _, name := range names {
			// The lowest cost: the tests are about who gets in, not about
			// how hard the hash is to break.
			hash, err := bcrypt.GenerateFromPassword([]byte(web.Users[name]), bcrypt.MinCost)
			if err != nil {
				return "", fmt.Errorf("hashing the password of %s: %w", name, err)
			}
			fmt.Fprintf(&b, "  %q: %q\n", name, hash)
		}
		user := web.User
		if user == "" {
			user = names[0]
		}
		a.client.Transport = basicAuth{user: user, password: web.Users[user], next: a.client.Transport}
	}
	return b.String(), nil
}

// URL returns the base URL, "http://127.0.0.1:PORT" (https with TLS).
func (a *Alertmanager) URL() string { return a.scheme + "://127.0.0.1:" + strconv.Itoa(a.port) }

// LogPath returns the path of Alertmanager's output log.
func (a *Alertmanager) LogPath() string { return a.proc.logPath }

// Pid returns the pid of the running (or last) process, 0 if it never ran.
func (a *Alertmanager) Pid() int { return a.proc.pid() }

// Start (re)starts Alertmanager on the same port with the same configuration
// and storage, and waits until it is ready.
func (a *Alertmanager) Start() {
	a.t.Helper()
	if err := a.proc.start(); err != nil {
		a.t.Fatalf("testenv: %v", err)
	}
	if err := a.waitReady(Scaled(amStartTimeout)); err != nil {
		a.t.Fatalf("testenv: %v", err)
	}
}

// Stop sends SIGTERM and waits for the exit (SIGKILL after 10s). Idempotent.
func (a *Alertmanager) Stop() {
	a.t.Helper()
	if err := a.proc.stop(amStopGrace); err != nil {
		a.t.Fatalf("testenv: stopping alertmanager: %v", err)
	}
}

// Kill sends SIGKILL and waits for the exit.
func (a *Alertmanager) Kill() {
	a.t.Helper()
	if err := a.proc.kill(); err != nil {
		a.t.Fatalf("testenv: killing alertmanager: %v", err)
	}
}

// Reload writes a new configuration and asks the running Alertmanager to load
// it (POST /-/reload); an invalid configuration is an error.
func (a *Alertmanager) Reload(ctx context.Context, configYAML string) error {
	if err := os.WriteFile(a.cfgPath, []byte(configYAML), 0o644); err != nil {
		return fmt.Errorf("writing %s: %w", a.cfgPath, err)
	}
	_, err := a.do(ctx, http.MethodPost, "/-/reload", nil, http.StatusOK)
	return err
}

func (a *Alertmanager) waitReady(timeout time.Duration) error {
	return waitHTTPReady(a.proc, a.client, a.URL()+"/-/ready", timeout)
}

// waitHTTPReady polls url until it answers 200, the process exits or
// timeout passes (the caller scales it).
func waitHTTPReady(p *process, client *http.Client, url string, timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	exited := p.exited()
	for {
		ctx, cancel := context.WithTimeout(context.Background(), Scaled(httpProbeTimeout))
		_, err := request(ctx, client, http.MethodGet, url, nil, http.StatusOK)
		cancel()
		if err == nil {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("%s not ready at %s after %v: %w", p.name, url, timeout, err)
		}
		select {
		case <-exited:
			return p.diedError()
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// Alerts returns the alerts Alertmanager holds (GET /api/v2/alerts).
func (a *Alertmanager) Alerts(ctx context.Context) ([]AMAlert, error) {
	body, err := a.do(ctx, http.MethodGet, "/api/v2/alerts", nil, http.StatusOK)
	if err != nil {
		return nil, err
	}
	var alerts []AMAlert
	if err := json.Unmarshal(body, &alerts); err != nil {
		return nil, fmt.Errorf("decoding alerts: %w", err)
	}
	return alerts, nil
}

// AlertsNow returns the alerts Alertmanager holds, waiting up to 10 s
// (stretched by the scale knob) for the answer. Not getting one fails t: a
// check must not pass for "no alert" because nobody answered.
func (a *Alertmanager) AlertsNow(t testing.TB) []AMAlert {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), Scaled(amListTimeout))
	defer cancel()
	alerts, err := a.Alerts(ctx)
	if err != nil {
		t.Fatalf("testenv: listing Alertmanager's alerts: %v", err)
	}
	return alerts
}

// PostAlerts sends alerts with POST /api/v2/alerts, as Prometheus would.
func (a *Alertmanager) PostAlerts(ctx context.Context, alerts ...AMPostableAlert) error {
	body, err := json.Marshal(alerts)
	if err != nil {
		return fmt.Errorf("encoding alerts: %w", err)
	}
	_, err = a.do(ctx, http.MethodPost, "/api/v2/alerts", body, http.StatusOK)
	return err
}

// do sends a request and returns the body if the status is want.
func (a *Alertmanager) do(ctx context.Context, method, path string, body []byte, want int) ([]byte, error) {
	return request(ctx, a.client, method, a.URL()+path, body, want)
}

// request sends a request (with a JSON body, if any) and returns the
// response body if the status is want.
func request(ctx context.Context, client *http.Client, method, url string, body []byte, want int) ([]byte, error) {
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, method, url, rd)
	if err != nil {
		return nil, fmt.Errorf("%s %s: %w", method, url, err)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := client.Do(req)
	if err != nil {
		return nil, fmt.Errorf("%s %s: %w", method, url, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return nil, fmt.Errorf("%s %s: reading body: %w", method, url, err)
	}
	if resp.StatusCode != want {
		return b, fmt.Errorf("%s %s: status %d: %s", method, url, resp.StatusCode, bytes.TrimSpace(b))
	}
	return b, nil
}

// AlertsReceived returns how many alerts, firing and resolved, Alertmanager
// has received through its API since it started
// (alertmanager_alerts_received_total). Unlike Alerts, it also counts an
// alert that was resolved before anyone looked.
func (a *Alertmanager) AlertsReceived(ctx context.Context) (float64, error) {
	body, err := a.do(ctx, http.MethodGet, "/metrics", nil, http.StatusOK)
	if err != nil {
		return 0, err
	}
	var sum float64
	found := false
	for _, line := range strings.Split(string(body), "\n") {
		if !strings.HasPrefix(line, "alertmanager_alerts_received_total{") {
			continue
		}
		fields := strings.Fields(line)
		v, err := strconv.ParseFloat(fields[len(fields)-1], 64)
		if err != nil {
			return 0, fmt.Errorf("parsing %q: %w", line, err)
		}
		sum += v
		found = true
	}
	if !found {
		return 0, fmt.Errorf("no alertmanager_alerts_received_total in %s/metrics", a.URL())
	}
	return sum, nil
}

// basicAuth sends every request of the harness's own client with the
// credentials of one of the Alertmanager's users.
type basicAuth struct {
	user, password string
	next           http.RoundTripper
}

func (b basicAuth) RoundTrip(req *http.Request) (*http.Response, error) {
	req = req.Clone(req.Context())
	req.SetBasicAuth(b.user, b.password)
	return b.next.RoundTrip(req)
}
