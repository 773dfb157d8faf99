package e2e

import (
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/zk-monitor/zk_monitor/internal/testenv"
	"github.com/zk-monitor/zk_monitor/zkclient"
)

// TestNotificationsEndToEnd is the whole chain with real servers: a znode
// goes out of spec in ZooKeeper → the elected zk_monitor process posts the
// alert → Alertmanager, running the shipped deploy/alertmanager config,
// has it active and mails the path's address and posts to the path's Slack
// channel with the original's wording → the znode recovers → resolved,
// and the recovery messages are delivered. A path without an alerter
// shows in Alertmanager but notifies nobody.
func TestNotificationsEndToEnd(t *testing.T) {
	zk := testenv.StartZooKeeper(t)
	smtp := testenv.StartSMTPSink(t)
	slack := testenv.StartHTTPRecorder(t)
	am := testenv.StartAlertmanager(t, testenv.ShippedAlertmanagerConfig(t, "..", smtp.Addr(), slack.URL()+"/slack"))
	admin := adminClient(t, zk.Addr())
	for _, p := range []string{"/services/web", "/services/quiet"} {
		if err := admin.EnsurePath(p, zkclient.DigestACL("", "")); err != nil {
			t.Fatal(err)
		}
	}
	cfg := testenv.WriteFile(t, "paths.yaml", `
/services/web:
  children: 1
  alerter:
    email: oncall@example.com
    slack: {channel: "#ops"}
/services/quiet:
  children: 1
`)
	agent := startAgent(t, "notifier", "-z", zk.Addr(), "-f", cfg, "-c", "prod",
		"--alertmanager.url", am.URL(), "--alertmanager.resend-interval", "1s")
	waitOneLeader(t, []*process{agent}, 15*time.Second)

	const failing = "Found children (0) less than minimum (1)"
	testenv.Eventually(t, 15*time.Second, 50*time.Millisecond, func() bool {
		alerts := znodeAlerts(t, am, "/services/web")
		return len(alerts) == 1 && alerts[0].Status.State == "active" &&
			alerts[0].Labels["email"] == "oncall@example.com" && alerts[0].Labels["slack_channel"] == "#ops" &&
			alerts[0].Labels["cluster"] == "prod" && alerts[0].Annotations["summary"] == failing
	}, "the alert is not active in Alertmanager with the path's labels: %+v", znodeAlerts(t, am, "/services/web"))
	testenv.Eventually(t, 15*time.Second, 50*time.Millisecond, func() bool {
		return len(znodeAlerts(t, am, "/services/quiet")) == 1
	}, "the path without an alerter is not in Alertmanager")

	waitMail := func(text string) {
		t.Helper()
		testenv.Eventually(t, 20*time.Second, 50*time.Millisecond, func() bool {
			for _, m := range smtp.Messages() {
				got := testenv.DecodeMail(t, m)
				if got.Text == text {
					if !slices.Equal(got.To, []string{"oncall@example.com"}) || got.Subject != "Warning! /services/web has an alert!" {
						t.Fatalf("mail to %q with subject %q", got.To, got.Subject)
					}
					return true
				}
			}
			return false
		}, "no mail with text %q", text)
	}
	waitSlack := func(text string) {
		t.Helper()
		testenv.Eventually(t, 20*time.Second, 50*time.Millisecond, func() bool {
			for _, m := range testenv.SlackMessages(t, slack.Requests()) {
				if m.Text == text {
					if m.Channel != "#ops" {
						t.Fatalf("Slack message to %q", m.Channel)
					}
					return true
				}
			}
			return false
		}, "no Slack message %q", text)
	}
	waitMail(failing + "\n/services/web is in the Error state.\n")
	waitSlack("(:exclamation:) /services/web is in Error - " + failing)

	if err := admin.EnsurePath("/services/web/host1", zkclient.DigestACL("", "")); err != nil {
		t.Fatal(err)
	}
	testenv.Eventually(t, 15*time.Second, 50*time.Millisecond, func() bool {
		return len(znodeAlerts(t, am, "/services/web")) == 0
	}, "the alert was not resolved in Alertmanager")
	waitMail("All checks pass.\n/services/web is in the OK state.\n")
	waitSlack("(:+1:) /services/web is in OK - All checks pass.")

	for _, m := range smtp.Messages() {
		if strings.Contains(m.Data, "/services/quiet") {
			t.Errorf("a mail about the path without an alerter:\n%s", m.Data)
		}
	}
	for _, m := range testenv.SlackMessages(t, slack.Requests()) {
		if strings.Contains(m.Text, "/services/quiet") {
			t.Errorf("a Slack message about the path without an alerter: %q", m.Text)
		}
	}
}
