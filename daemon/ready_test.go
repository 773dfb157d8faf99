package daemon_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/zk-monitor/zk_monitor/internal/testenv"
)

// TestReadyOnlyAfterFirstRead starts an agent whose ZooKeeper cannot be
// reached: it serves, says it is not ready, reports the path as unknown
// (never as failing), and becomes ready with the right verdict once
// ZooKeeper answers.
func TestReadyOnlyAfterFirstRead(t *testing.T) {
	zkServer := testenv.StartZooKeeper(t)
	ensure(t, admin(t, zkServer.Addr()), "/ready")
	proxy := testenv.NewProxy(t, zkServer.Addr())
	proxy.Cut()
	cfg := testenv.WriteFile(t, "zk.yaml", "/ready: {children: 1}\n")
	a := startAgent(t, baseOptions(proxy.Addr(), cfg))

	if code, body := a.get("/-/ready"); code != http.StatusServiceUnavailable {
		t.Fatalf("/-/ready before any read: %d %s", code, body)
	}
	if code, _ := a.get("/-/healthy"); code != http.StatusOK {
		t.Fatalf("/-/healthy: %d", code)
	}
	msg, _ := a.compliance()["/ready"].(string)
	if !strings.HasPrefix(msg, "No data has been read") {
		t.Fatalf("compliance before any read = %q, want the unknown message", msg)
	}
	_, metrics := a.get("/metrics")
	if strings.Contains(metrics, `zk_monitor_znode_compliant{path="/ready"}`) || !strings.Contains(metrics, `zk_monitor_znode_stale{path="/ready"} 1`) {
		t.Fatalf("metrics before any read must say unknown, not compliant or failing:\n%s", metrics)
	}

	proxy.Restore()
	testenv.Eventually(t, waitFor, pollEvery, func() bool { code, _ := a.get("/-/ready"); return code == http.StatusOK }, "never became ready")
	if got := a.compliance()["/ready"]; got != "Found children (0) less than minimum (1)" {
		t.Fatalf("compliance after the first read = %v", got)
	}
}
