package daemon_test

import (
	"strings"
	"testing"

	"github.com/zk-monitor/zk_monitor/internal/testenv"
)

// TestWarningsOnce: the HipChat and ignored-token warnings are logged once
// per process, however many paths carry them and however often the file
// is reloaded.
func TestWarningsOnce(t *testing.T) {
	zkServer := testenv.StartZooKeeper(t)
	cfg := testenv.WriteFile(t, "zk.yaml", `
/a: {children: 1, alerter: {hipchat: {room: ops, token: tok-a}}}
/b: {children: 1, alerter: {hipchat: {room: dev, token: tok-b}}}
`)
	a := startAgent(t, baseOptions(zkServer.Addr(), cfg))
	a.reload <- struct{}{}
	testenv.Eventually(t, waitFor, pollEvery, func() bool { return strings.Contains(a.Logs.String(), "configuration reloaded") }, "no reload")
	logs := a.Logs.String()
	if n := strings.Count(logs, "HipChat"); n != 1 {
		t.Errorf("HipChat warning logged %d times, want once:\n%s", n, logs)
	}
	if n := strings.Count(logs, "token is ignored"); n != 1 {
		t.Errorf("token warning logged %d times, want once:\n%s", n, logs)
	}
	if strings.Contains(logs, "tok-a") || strings.Contains(logs, "tok-b") {
		t.Errorf("a token reached the logs:\n%s", logs)
	}
}
