package daemon

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/zk-monitor/zk_monitor/internal/testenv"
)

func TestDefaultExternalURL(t *testing.T) {
	host, err := os.Hostname()
	if err != nil {
		t.Fatal(err)
	}
	tlsConfig := testenv.WriteFile(t, "tls.yml", "tls_server_config:\n  cert_file: a.crt\n  key_file: a.key\n")
	authOnly := testenv.WriteFile(t, "auth.yml", "basic_auth_users:\n  u: $2y$10$x\n")
	cases := []struct {
		addr   string
		config string
		want   string
	}{
		{":8080", "", "http://" + host + ":8080"},
		{"0.0.0.0:9000", "", "http://" + host + ":9000"},
		{"[::]:9000", "", "http://" + host + ":9000"}, // a systemd socket on every interface
		{"10.1.2.3:8080", "", "http://10.1.2.3:8080"},
		{"[::1]:8080", "", "http://[::1]:8080"},
		{"zk-monitor-1:8080", tlsConfig, "https://zk-monitor-1:8080"},
		{"zk-monitor-1:8080", authOnly, "http://zk-monitor-1:8080"},
	}
	for _, tc := range cases {
		if got := defaultExternalURL(tc.addr, tc.config); got != tc.want {
			t.Errorf("defaultExternalURL(%q, %q) = %q, want %q", tc.addr, filepath.Base(tc.config), got, tc.want)
		}
	}
}
