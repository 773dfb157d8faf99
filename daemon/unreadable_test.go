package daemon_test

import (
	"maps"
	"net/url"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/zk-monitor/zk_monitor/internal/testenv"
)

// TestUnreadablePathAlerts runs an agent without credentials on a znode
// whose digest ACL belongs to another identity, through a real
// Alertmanager with the shipped configuration: after the path's hold-down
// ZnodeUnreadable fires with the path's routing labels and reaches mail
// and Slack with its own wording; /status, the landing page and /metrics
// show the path cannot be read; once the ACL is opened the alert resolves.
// A path without checks under the same ACL stays silent.
func TestUnreadablePathAlerts(t *testing.T) {
	testenv.SkipIfShort(t, "needs a real ZooKeeper and Alertmanager")
	const (
		hold   = 3 * time.Second
		reason = "not authorized (check --zookeeper_user and the znode's ACL)"
	)
	zkServer := testenv.StartZooKeeper(t)
	smtp := testenv.StartSMTPSink(t)
	slack := testenv.StartHTTPRecorder(t)
	am := testenv.StartAlertmanager(t, testenv.ShippedAlertmanagerConfig(t, "..", smtp.Addr(), slack.URL()+"/slack"))
	locked := testenv.CreateProtectedZnode(t, zkServer.Addr(), "/locked", "owner", "s3cret")
	testenv.CreateProtectedZnode(t, zkServer.Addr(), "/locked-nochecks", "owner", "s3cret")
	cfg := testenv.WriteFile(t, "paths.yaml", `
/locked:
  children: 0
  cancel_timeout: 3
  severity: critical
  labels: {team: storage}
  alerter:
    email: oncall@example.com
    slack: {channel: ops}
/locked-nochecks:
  alerter:
    email: oncall@example.com
`)
	opts := baseOptions(zkServer.Addr(), cfg)
	opts.ClusterName = "unreadable"
	opts.AlertmanagerURLs = []*url.URL{mustURL(t, am.URL())}
	started := time.Now()
	a := startAgent(t, opts)

	unreadableAlerts := func() []testenv.AMAlert { return am.AlertsWith(t, map[string]string{"cluster": "unreadable"}) }
	var fired testenv.AMAlert
	testenv.Eventually(t, waitFor, pollEvery, func() bool {
		alerts := unreadableAlerts()
		if len(alerts) == 1 && alerts[0].Status.State == "active" {
			fired = alerts[0]
			return true
		}
		return false
	}, "no ZnodeUnreadable alert in Alertmanager: %+v", unreadableAlerts())
	wantLabels := map[string]string{
		"alertname": "ZnodeUnreadable", "path": "/locked", "cluster": "unreadable", "severity": "critical",
		"email": "oncall@example.com", "slack_channel": "ops", "team": "storage",
	}
	if !maps.Equal(fired.Labels, wantLabels) {
		t.Errorf("labels %v, want %v", fired.Labels, wantLabels)
	}
	if got := fired.Annotations["summary"]; got != "Cannot read path: "+reason {
		t.Errorf("summary %q", got)
	}
	// The agent cannot have seen the failure before it started: an alert
	// starting earlier than a hold-down after that skipped the hold-down.
	if fired.StartsAt.Before(started.Add(hold)) {
		t.Errorf("the alert starts at %s, %s after the agent started: sooner than the %s hold-down", fired.StartsAt, fired.StartsAt.Sub(started), hold)
	}

	monitor := a.status()["monitor"].(map[string]any)
	if got, want := monitor["unreadable"], map[string]any{"/locked": reason}; !reflect.DeepEqual(got, want) {
		t.Errorf("/status monitor.unreadable = %v, want %v", got, want)
	}
	if got := a.compliance()["/locked-nochecks"]; got != "No information is available about this path." {
		t.Errorf("/status: /locked-nochecks is %v", got)
	}
	if _, page := a.get("/"); !strings.Contains(page, `<td class="unreadable">unreadable</td>`) || !strings.Contains(page, "1 path cannot be read") {
		t.Errorf("the landing page does not show /locked as unreadable:\n%s", page)
	}
	if got := a.sample("zk_monitor_unreadable_paths"); got != 1 {
		t.Errorf("zk_monitor_unreadable_paths = %v, want 1", got)
	}

	for _, step := range []struct {
		name, mail, slack string
	}{
		{name: "firing", mail: "Cannot read path: " + reason + "\n/locked cannot be read.\n", slack: "(:exclamation:) /locked cannot be read - " + reason},
		{name: "resolved", mail: "Reads succeed again.\n/locked can be read again.\n", slack: "(:+1:) /locked can be read again."},
	} {
		if step.name == "resolved" {
			locked.Open()
			testenv.Eventually(t, waitFor, pollEvery, func() bool { return len(unreadableAlerts()) == 0 }, "the alert was not resolved: %+v", unreadableAlerts())
			testenv.Eventually(t, waitFor, pollEvery, func() bool { return a.sample("zk_monitor_unreadable_paths") == 0 }, "zk_monitor_unreadable_paths stays above 0")
		}
		testenv.Eventually(t, waitFor, pollEvery, func() bool {
			for _, m := range smtp.Messages() {
				if got := testenv.DecodeMail(t, m); got.Text == step.mail {
					if !slices.Equal(got.To, []string{"oncall@example.com"}) || got.Subject != "Warning! /locked cannot be read!" {
						t.Fatalf("%s mail to %q, subject %q", step.name, got.To, got.Subject)
					}
					return true
				}
			}
			return false
		}, "no %s mail", step.name)
		testenv.Eventually(t, waitFor, pollEvery, func() bool {
			for _, m := range testenv.SlackMessages(t, slack.Requests()) {
				if m.Text == step.slack {
					return m.Channel == "#ops"
				}
			}
			return false
		}, "no %s Slack message", step.name)
	}
	if _, ok := a.status()["monitor"].(map[string]any)["unreadable"]; ok {
		t.Error("/status still lists unreadable paths")
	}
	for _, m := range smtp.Messages() {
		if strings.Contains(m.Data, "locked-nochecks") {
			t.Errorf("mail about the path without checks:\n%s", m.Data)
		}
	}
}
