package zkclient_test

import (
	"os"
	"strings"
	"testing"
	"time"

	"github.com/go-kit/log"
	"github.com/go-zookeeper/zk"

	"github.com/zk-monitor/zk_monitor/internal/testenv"
	"github.com/zk-monitor/zk_monitor/zkclient"
)

// failedMsg is the line the client logs, once per cause, when it cannot connect.
const failedMsg = `msg="connecting to ZooKeeper failed; trying the next server"`

// TestTLS connects to a real ZooKeeper's secureClientPort (Netty, PEM key
// and trust stores, client certificates required) with certificates made
// here, and checks that every wrong certificate leaves the client not
// connected with the TLS or x509 error in the log once, not on every retry.
func TestTLS(t *testing.T) {
	testenv.SkipIfShort(t, "needs a real ZooKeeper")
	ca := testenv.NewCA(t, "zk_monitor test CA")
	server := ca.Issue(t, "zookeeper")
	zkServer := testenv.StartZooKeeper(t, testenv.ZKTLS(
		testenv.WriteFile(t, "zookeeper.pem", string(server.KeyPEM)+string(server.CertPEM)),
		testenv.WriteFile(t, "ca.pem", string(ca.PEM)),
	))
	caFile := testenv.WriteFile(t, "ca.pem", string(ca.PEM))
	otherCA := testenv.NewCA(t, "another CA")
	// files writes a certificate and its key and returns TLS options using them.
	files := func(c *testenv.Cert, caFile string) zkclient.TLSOptions {
		return zkclient.TLSOptions{
			CAFile:   caFile,
			CertFile: testenv.WriteFile(t, "client.pem", string(c.CertPEM)),
			KeyFile:  testenv.WriteFile(t, "client.key", string(c.KeyPEM)),
		}
	}
	valid := ca.Issue(t, "zk_monitor")
	expired := ca.IssueWindow(t, "zk_monitor", time.Now().Add(-48*time.Hour), time.Now().Add(-24*time.Hour))

	t.Run("connects", func(t *testing.T) {
		// With digest auth too: only this user may read the node.
		const user, password = "monitor", "pw-over-tls"
		c := testenv.ZKClient(t, zkclient.Options{ConnectString: zkServer.SecureAddr(), TLS: files(valid, caFile), Username: user, Password: password})
		acl := zk.DigestACL(zk.PermAll, user, password)
		if _, err := c.Create("/over-tls", []byte("x"), 0, acl); err != nil {
			t.Fatal(err)
		}
		if data, _, err := c.Get("/over-tls"); err != nil || string(data) != "x" {
			t.Fatalf("read back %q, %v", data, err)
		}
	})

	for _, tc := range []struct {
		name    string
		tls     zkclient.TLSOptions
		wantErr string // in the logged error
	}{
		{"server certificate from another CA", files(valid, testenv.WriteFile(t, "other-ca.pem", string(otherCA.PEM))),
			"tls: failed to verify certificate: x509: certificate signed by unknown authority"},
		{"no client certificate", zkclient.TLSOptions{CAFile: caFile}, "remote error: tls: "},
		{"expired client certificate", files(expired, caFile), "x509: certificate has expired or is not yet valid"},
		{"client certificate from another CA", files(otherCA.Issue(t, "zk_monitor"), caFile), "remote error: tls: "},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			proxy := testenv.NewProxy(t, zkServer.SecureAddr())
			logs := &testenv.SyncBuffer{}
			c, err := zkclient.New(zkclient.Options{ConnectString: proxy.Addr(), SessionTimeout: 4 * time.Second, TLS: tc.tls, Logger: log.NewLogfmtLogger(logs)})
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(c.Close)
			const attempts = 3
			testenv.Eventually(t, 15*time.Second, 10*time.Millisecond, func() bool { return proxy.Accepted() >= attempts },
				"the client did not retry")
			if c.Connected() {
				t.Fatal("connected with a wrong certificate")
			}
			// The attempt whose failure counted last may not be logged yet.
			testenv.Eventually(t, 5*time.Second, 10*time.Millisecond, func() bool { return strings.Contains(logs.String(), failedMsg) },
				"the failure was not logged:\n%s", logs)
			lines := grepLines(logs.String(), failedMsg)
			if len(lines) != 1 || !strings.Contains(lines[0], tc.wantErr) {
				t.Fatalf("after %d attempts, logged %q; want one line with %q", proxy.Accepted(), lines, tc.wantErr)
			}
		})
	}

	// Certificate files are read on every connection attempt: replacing an
	// expired certificate on disk is enough, no restart.
	t.Run("rotated certificate", func(t *testing.T) {
		t.Parallel()
		opts := files(expired, caFile)
		logs := &testenv.SyncBuffer{}
		c, err := zkclient.New(zkclient.Options{ConnectString: zkServer.SecureAddr(), SessionTimeout: 4 * time.Second, TLS: opts, Logger: log.NewLogfmtLogger(logs)})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(c.Close)
		testenv.Eventually(t, 15*time.Second, 10*time.Millisecond, func() bool { return strings.Contains(logs.String(), "has expired") },
			"no attempt with the expired certificate:\n%s", logs)
		if c.Connected() {
			t.Fatal("connected with an expired certificate")
		}
		for file, content := range map[string][]byte{opts.CertFile: valid.CertPEM, opts.KeyFile: []byte(valid.KeyPEM)} {
			if err := os.WriteFile(file+".new", content, 0o600); err != nil {
				t.Fatal(err)
			}
		}
		// As a secret manager would: each file replaced atomically; a dial
		// between the two renames fails and the next succeeds.
		for _, file := range []string{opts.CertFile, opts.KeyFile} {
			if err := os.Rename(file+".new", file); err != nil {
				t.Fatal(err)
			}
		}
		testenv.Eventually(t, 15*time.Second, 10*time.Millisecond, c.Connected, "not connected after the certificate was renewed")
	})
}

func TestNewRejectsBadTLSFiles(t *testing.T) {
	missing := t.TempDir() + "/missing.pem"
	for _, tc := range []struct {
		tls  zkclient.TLSOptions
		want string
	}{
		{zkclient.TLSOptions{CertFile: "client.pem"}, "ZooKeeper TLS: a client certificate needs both a certificate file and a key file"},
		{zkclient.TLSOptions{CAFile: missing}, "ZooKeeper TLS: unable to read CA cert: "},
		{zkclient.TLSOptions{CAFile: testenv.WriteFile(t, "garbage.pem", "not a certificate")}, "ZooKeeper TLS: unable to use specified CA cert"},
		{zkclient.TLSOptions{CertFile: missing, KeyFile: missing}, "ZooKeeper TLS: "},
	} {
		_, err := zkclient.New(zkclient.Options{ConnectString: "127.0.0.1:1", SessionTimeout: time.Second, TLS: tc.tls})
		if err == nil || !strings.HasPrefix(err.Error(), tc.want) {
			t.Errorf("New with %+v: %v, want an error starting %q", tc.tls, err, tc.want)
		}
	}
}

// grepLines returns the lines of s that contain sub.
func grepLines(s, sub string) []string {
	var out []string
	for _, line := range strings.Split(s, "\n") {
		if strings.Contains(line, sub) {
			out = append(out, line)
		}
	}
	return out
}
