package testenv

import (
	"context"
	"crypto/tls"
	"net/http"
	"strings"
	"testing"
	"time"
)

// TestSecureAlertmanager starts Alertmanagers behind a client-certificate
// requirement and behind basic auth, and checks that they refuse clients
// without the credentials while the harness, holding them, gets through.
func TestSecureAlertmanager(t *testing.T) {
	SkipIfShort(t, "starts Alertmanager")
	const cfg = "route: {receiver: 'null'}\nreceivers: [{name: 'null'}]\n"
	ca := NewCA(t, "am")
	other := NewCA(t, "other")
	cases := []struct {
		name string
		web  AMWeb
		// refused are clients without the right credentials.
		refused map[string]func(req *http.Request) *http.Client
	}{
		{
			name: "client certificate",
			web:  AMWeb{CA: ca, RequireClientCert: true},
			refused: map[string]func(*http.Request) *http.Client{
				"no certificate": func(*http.Request) *http.Client {
					return tlsClient(&tls.Config{RootCAs: ca.Pool()})
				},
				"certificate of another CA": func(*http.Request) *http.Client {
					return tlsClient(&tls.Config{RootCAs: ca.Pool(), Certificates: []tls.Certificate{other.Issue(t, "stranger").TLS}})
				},
			},
		},
		{
			name: "basic auth",
			web:  AMWeb{Users: map[string]string{"alice": "alice-pw", "bob": "bob-pw"}},
			refused: map[string]func(*http.Request) *http.Client{
				"no credentials": func(*http.Request) *http.Client { return plainClient() },
				"wrong password": func(req *http.Request) *http.Client {
					req.SetBasicAuth("alice", "bob-pw")
					return plainClient()
				},
			},
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			am := StartSecureAlertmanager(t, cfg, tc.web)
			if want := tc.web.CA != nil; strings.HasPrefix(am.URL(), "https://") != want {
				t.Fatalf("URL %s: TLS is %v", am.URL(), want)
			}
			ctx, cancel := context.WithTimeout(context.Background(), Scaled(10*time.Second))
			defer cancel()
			if err := am.PostAlerts(ctx, AMPostableAlert{Labels: map[string]string{"alertname": "Secure"}}); err != nil {
				t.Fatalf("the harness cannot post: %v", err)
			}
			alerts, err := am.Alerts(ctx)
			if err != nil || len(alerts) != 1 || alerts[0].Labels["alertname"] != "Secure" {
				t.Fatalf("the harness reads %v, %v; want the alert it posted", alerts, err)
			}
			for name, client := range tc.refused {
				req, err := http.NewRequestWithContext(ctx, http.MethodGet, am.URL()+"/api/v2/alerts", nil)
				if err != nil {
					t.Fatal(err)
				}
				resp, err := client(req).Do(req)
				switch {
				case err != nil && !strings.Contains(err.Error(), "tls: "):
					t.Errorf("%s: %v, want a refused TLS handshake", name, err)
				case err == nil:
					resp.Body.Close()
					if resp.StatusCode != http.StatusUnauthorized {
						t.Errorf("%s: status %d, want 401", name, resp.StatusCode)
					}
				}
			}
		})
	}
}

func tlsClient(cfg *tls.Config) *http.Client {
	return &http.Client{Timeout: Scaled(5 * time.Second), Transport: &http.Transport{TLSClientConfig: cfg, DisableKeepAlives: true}}
}

func plainClient() *http.Client {
	return &http.Client{Timeout: Scaled(5 * time.Second), Transport: &http.Transport{DisableKeepAlives: true}}
}
