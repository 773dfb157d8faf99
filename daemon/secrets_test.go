package daemon_test

import (
	"encoding/json"
	"net/http"
	"net/url"
	"os"
	"strings"
	"testing"

	"github.com/go-zookeeper/zk"

	"github.com/zk-monitor/zk_monitor/internal/testenv"
	"github.com/zk-monitor/zk_monitor/zkclient"
)

// TestSecretsNeverShown runs an agent with ZooKeeper digest credentials on
// a digest-protected path, a path-spec file holding Slack and HipChat
// tokens, and an Alertmanager that wants a client certificate and a
// password (given in an HTTP client configuration file), drives it through
// alerts and good and bad reloads, and then looks for the passwords, the
// tokens and the private key everywhere the agent writes: its logs
// (everything, debug included), /status, /state, /metrics, the landing
// page, the answers to /-/reload, the alerts Alertmanager received and the
// znodes the agent created. They must be nowhere.
func TestSecretsNeverShown(t *testing.T) {
	const (
		user       = "monitor"
		password   = "zk-PASSWORD-9f3c1e"
		slackToken = "xoxb-SLACK-TOKEN-4a7d2b"
		hipToken   = "HIPCHAT-TOKEN-c81e55"
		badToken   = "xoxb-BAD-FILE-TOKEN-0d2f"
		amPassword = "am-PASSWORD-2c77e0"
	)

	zkServer := testenv.StartZooKeeper(t)
	ca := testenv.NewCA(t, "am")
	client := ca.Issue(t, "zk_monitor")
	am := testenv.StartSecureAlertmanager(t, "route: {receiver: 'null'}\nreceivers: [{name: 'null'}]\n", testenv.AMWeb{
		CA: ca, RequireClientCert: true, ClientCert: client,
		Users: map[string]string{"zk_monitor": amPassword},
	})
	secrets := append([]string{password, slackToken, hipToken, badToken, amPassword, basicAuthToken("zk_monitor", amPassword)}, keyLines(client.KeyPEM)...)
	owner := testenv.ZKClient(t, zkclient.Options{ConnectString: zkServer.Addr(), Username: user, Password: password})
	acl := zk.DigestACL(zk.PermAll, user, password)
	for _, p := range []string{"/vault", "/vault/a", "/vault/empty"} {
		if _, err := owner.Create(p, nil, 0, acl); err != nil {
			t.Fatalf("create %s: %v", p, err)
		}
	}
	// The protected path really is protected.
	if _, _, err := admin(t, zkServer.Addr()).Children("/vault"); err == nil {
		t.Fatal("an anonymous client can list /vault: the ACL does not protect it")
	}

	alerter := `
  alerter:
    email: ops@example.com
    slack: {channel: "#ops", token: ` + slackToken + `, from: zkbot}
    hipchat: {room: ops-room, token: ` + hipToken + `}
`
	good := "/vault:\n  children: 1" + alerter + "/vault/empty:\n  children: 1" + alerter
	cfgFile := testenv.WriteFile(t, "secrets.yaml", good)
	opts := baseOptions(zkServer.Addr(), cfgFile)
	opts.ZooKeeperUser, opts.ZooKeeperPass = user, password
	opts.ClusterName = "secrets"
	opts.EnableLifecycle = true
	opts.AlertmanagerURLs = []*url.URL{mustURL(t, am.URL())}
	opts.AlertmanagerHTTPConfigFile = testenv.WriteFile(t, "alertmanager_http.yml",
		"tls_config: {ca_file: "+ca.CertFile+", cert_file: "+client.CertFile+", key_file: "+client.KeyFile+"}\n"+
			"basic_auth: {username: zk_monitor, password_file: "+testenv.WriteFile(t, "am-password", amPassword)+"}\n")
	a := startAgent(t, opts)

	// The credentials work: the protected paths are read, and the failing
	// one alerts with its Slack channel and HipChat room as labels.
	testenv.Eventually(t, waitFor, pollEvery, func() bool {
		c := a.compliance()
		return c["/vault"] == true && c["/vault/empty"] == "Found children (0) less than minimum (1)"
	}, "protected paths not read with the credentials: %v", a.compliance())
	alert := waitAlert(t, am, "secrets", "/vault/empty")
	if alert.Labels["slack_channel"] != "#ops" || alert.Labels["hipchat_room"] != "ops-room" {
		t.Errorf("alert labels %v lack the Slack channel or HipChat room", alert.Labels)
	}
	if !strings.Contains(a.Logs.String(), "token is ignored") {
		t.Error("no warning that the tokens are ignored")
	}

	// Reloads, good and bad (a token where it does not belong), with their
	// answers kept for the search.
	var answers []string
	_, body := a.post("/-/reload")
	answers = append(answers, body)
	bad := "/vault:\n  children: 1\n  alerter:\n    slack: {channel: \"#ops\", token: [" + badToken + "]}\n"
	if err := os.WriteFile(cfgFile, []byte(bad), 0o600); err != nil {
		t.Fatal(err)
	}
	code, body := a.post("/-/reload")
	if code != http.StatusInternalServerError {
		t.Fatalf("reload of a bad file: %d %s", code, body)
	}
	answers = append(answers, body)
	a.reload <- struct{}{}
	testenv.Eventually(t, waitFor, pollEvery, func() bool {
		return strings.Count(a.Logs.String(), msgReloadFailed) >= 2
	}, "the SIGHUP reload of the bad file was not logged")

	alertsJSON, _ := json.Marshal(am.AlertsNow(t))
	tree := dumpTree(t, owner, "/zk_monitor")
	if !strings.Contains(tree, "/zk_monitor/secrets/") {
		t.Fatalf("the agent's znodes are not in the tree:\n%s", tree)
	}
	where := a.shown()
	if !strings.Contains(where["/"], "/vault/empty") || !strings.Contains(where["/metrics"], `path="/vault"`) {
		t.Fatal("the pages do not show the protected paths: the search below would prove nothing")
	}
	where["reload answers"] = strings.Join(answers, "\n")
	where["alerts in Alertmanager"] = string(alertsJSON)
	where["znodes under /zk_monitor"] = tree
	findSecrets(t, where, secrets)
}

// shown returns everything the agent shows, by where: /status, /state,
// /metrics, the landing page (HTML and JSON), /-/ready, /-/healthy, and
// its logs, complete since shown stops the agent.
func (a *agent) shown() map[string]string {
	a.t.Helper()
	where := map[string]string{}
	for _, p := range []string{"/status", "/state", "/metrics", "/", "/-/ready", "/-/healthy"} {
		_, where[p] = a.get(p)
	}
	req, _ := http.NewRequest("GET", a.URL+"/", nil)
	req.Header.Set("Accept", "application/json")
	if resp, err := http.DefaultClient.Do(req); err == nil {
		var v map[string]any
		json.NewDecoder(resp.Body).Decode(&v)
		resp.Body.Close()
		b, _ := json.Marshal(v)
		where["/ (JSON)"] = string(b)
	}
	a.Stop()
	where["logs"] = a.Logs.String()
	return where
}

// assertNotShown stops the agent and fails the test for every secret it
// shows anywhere.
func assertNotShown(t *testing.T, a *agent, secrets ...string) {
	t.Helper()
	findSecrets(t, a.shown(), secrets)
}

func findSecrets(t *testing.T, where map[string]string, secrets []string) {
	t.Helper()
	for name, text := range where {
		for _, s := range secrets {
			if strings.Contains(text, s) {
				t.Errorf("%s shows the secret %q", name, s)
			}
		}
	}
}

// keyLines returns the base64 lines of a PEM private key: any of them in
// the output would be part of the key.
func keyLines(keyPEM string) []string {
	var lines []string
	for _, l := range strings.Split(keyPEM, "\n") {
		if l != "" && !strings.HasPrefix(l, "-----") {
			lines = append(lines, l)
		}
	}
	return lines
}

// dumpTree returns the paths and data of every znode under root.
func dumpTree(t *testing.T, c *zkclient.Client, root string) string {
	t.Helper()
	var b strings.Builder
	var walk func(p string)
	walk = func(p string) {
		data, _, err := c.Get(p)
		if err != nil {
			t.Fatalf("get %s: %v", p, err)
		}
		b.WriteString(p + " " + string(data) + "\n")
		children, _, err := c.Children(p)
		if err != nil {
			t.Fatalf("children %s: %v", p, err)
		}
		for _, child := range children {
			walk(strings.TrimSuffix(p, "/") + "/" + child)
		}
	}
	walk(root)
	return b.String()
}
