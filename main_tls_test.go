package main

import (
	"io"
	"net/http"
	"os/exec"
	"strconv"
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
	if testing.Short() {
		t.Skip("needs a real ZooKeeper")
	}
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

	port := testenv.FreePort(t)
	cfg := testenv.WriteFile(t, "paths.yaml", "/tls/a:\n  children: 1\n")
	var output testenv.SyncBuffer
	cmd := exec.Command(binary, append(tlsFlags, "-f", cfg, "--web.listen-address", "127.0.0.1:"+strconv.Itoa(port))...)
	cmd.Stdout, cmd.Stderr = &output, &output
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		cmd.Process.Kill()
		cmd.Wait()
		if t.Failed() {
			t.Logf("zk_monitor output:\n%s", output.String())
		}
	})
	httpClient := &http.Client{Timeout: 2 * time.Second, Transport: &http.Transport{DisableKeepAlives: true}}
	metrics := func() string {
		resp, err := httpClient.Get("http://127.0.0.1:" + strconv.Itoa(port) + "/metrics")
		if err != nil {
			return ""
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return string(b)
	}
	testenv.Eventually(t, 20*time.Second, 20*time.Millisecond, func() bool {
		m := metrics()
		return strings.Contains(m, "\nzk_monitor_zookeeper_connected 1\n") && strings.Contains(m, `zk_monitor_znode_compliant{path="/tls/a"} 1`)
	}, "the agent did not read /tls/a over TLS")
}
