package main

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/zk-monitor/zk_monitor/internal/testenv"
	"github.com/zk-monitor/zk_monitor/zkclient"
)

// TestBinaryZooKeeperTLS runs the real binary against a ZooKeeper that only
// takes TLS clients with a certificate: `seed` and the agent take the same
// --zookeeper.tls.* flags.
func TestBinaryZooKeeperTLS(t *testing.T) {
	ca := testenv.NewCA(t, "zk_monitor test CA")
	server, client := ca.Issue(t, "zookeeper"), ca.Issue(t, "zk_monitor")
	caFile := testenv.WriteFile(t, "ca.pem", string(ca.PEM))
	zkServer := testenv.StartZooKeeper(t, testenv.ZKTLS(testenv.WriteFile(t, "zookeeper.pem", string(server.KeyPEM)+string(server.CertPEM)), caFile))
	tlsFlags := []string{
		"-z", zkServer.SecureAddr(),
		"--zookeeper.tls.ca-file", caFile,
		"--zookeeper.tls.cert-file", testenv.WriteFile(t, "client.pem", string(client.CertPEM)),
		"--zookeeper.tls.key-file", testenv.WriteFile(t, "client.key", string(client.KeyPEM)),
	}

	if code, stdout, stderr := runBinary(t, append(append([]string{"seed"}, tlsFlags...), "/tls/a/child")...); code != 0 {
		t.Fatalf("seed over TLS: exit %d\n%s%s", code, stdout, stderr)
	}
	admin := testenv.ZKClient(t, zkclient.Options{ConnectString: zkServer.Addr()})
	if ok, _, err := admin.Exists("/tls/a/child"); !ok || err != nil {
		t.Fatalf("/tls/a/child not created over TLS: %v", err)
	}

	cfg := testenv.WriteFile(t, "paths.yaml", "/tls/a:\n  children: 1\n")
	a := testenv.StartAgent(t, zkMonitor.Path(t), "zk_monitor", append(tlsFlags, "-f", cfg)...)
	metrics := func() string {
		code, body, err := a.Get("/metrics")
		if err != nil || code != http.StatusOK {
			return ""
		}
		return string(body)
	}
	testenv.Eventually(t, 20*time.Second, 20*time.Millisecond, func() bool {
		m := metrics()
		return strings.Contains(m, "\nzk_monitor_zookeeper_connected 1\n") && strings.Contains(m, `zk_monitor_znode_compliant{path="/tls/a"} 1`)
	}, "the agent did not read /tls/a over TLS")
}
