package daemon_test

import (
	"fmt"
	"net/url"
	"os"
	"testing"

	"github.com/zk-monitor/zk_monitor/internal/testenv"
)

// TestDefaultAgentName: without --agent.name the cluster names the agent
// <hostname>-<pid>, and the same name reaches /status and the alerts'
// agent annotation.
func TestDefaultAgentName(t *testing.T) {
	testenv.SkipIfShort(t, "needs a real ZooKeeper and Alertmanager")
	zkServer := testenv.StartZooKeeper(t)
	am := testenv.StartAlertmanager(t, "route: {receiver: 'null'}\nreceivers: [{name: 'null'}]\n")
	opts := baseOptions(zkServer.Addr(), testenv.WriteFile(t, "zk.yaml", "/default-agent: {exists: true}\n"))
	opts.ClusterName = "default-agent"
	opts.AgentName = ""
	opts.AlertmanagerURLs = []*url.URL{mustURL(t, am.URL())}
	a := startAgent(t, opts)

	host, err := os.Hostname()
	if err != nil {
		t.Fatal(err)
	}
	want := fmt.Sprintf("%s-%d", host, os.Getpid())
	alert := waitAlert(t, am, opts.ClusterName, "/default-agent")
	if got := alert.Annotations["agent"]; got != want {
		t.Errorf("agent annotation %q, want %q", got, want)
	}
	cluster, _ := a.status()["cluster"].(map[string]any)
	if got := cluster["agent"]; got != want {
		t.Errorf("/status cluster.agent %v, want %q", got, want)
	}
}
