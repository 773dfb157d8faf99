package main

import (
	"strings"
	"testing"

	"github.com/zk-monitor/zk_monitor/internal/testenv"
)

// TestBinaryAlertmanagerHTTPConfigFile: the real binary hands
// --alertmanager.http-config-file to the agent, which refuses to start
// with a file it cannot use and says which and why.
func TestBinaryAlertmanagerHTTPConfigFile(t *testing.T) {
	bad := testenv.WriteFile(t, "alertmanager_http.yml", "basic_auth: {username: zk, password_file: /nonexistent/password}\n")
	code, _, stderr := runBinary(t, "--zookeeper=127.0.0.1:1", "--web.listen-address=127.0.0.1:0",
		"--alertmanager.url=https://127.0.0.1:9093", "--alertmanager.http-config-file="+bad)
	want := "--alertmanager.http-config-file " + bad + ": basic_auth.password_file: open /nonexistent/password"
	if code != 1 || !strings.Contains(stderr, want) {
		t.Errorf("exit %d, stderr %q; want 1 and %q", code, stderr, want)
	}
}
