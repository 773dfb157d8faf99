package alerting

// Tests of the shipped Alertmanager configuration and templates in
// deploy/alertmanager: amtool's checks, and end to end through a real
// Alertmanager to an SMTP sink and a fake Slack webhook.

import (
	"bytes"
	"context"
	"encoding/json"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/zk-monitor/zk_monitor/config"
	"github.com/zk-monitor/zk_monitor/internal/testenv"
)

var (
	deployConfig    = filepath.Join("..", "deploy", "alertmanager", "alertmanager.yml")
	deployTemplates = filepath.Join("..", "deploy", "alertmanager", "zk_monitor.tmpl")
)

func amtool(t *testing.T, args ...string) string {
	t.Helper()
	bin := testenv.RequireBinary(t, "amtool")
	ctx, cancel := context.WithTimeout(context.Background(), testenv.Scaled(30*time.Second))
	defer cancel()
	out, err := exec.CommandContext(ctx, bin, args...).CombinedOutput()
	if err != nil {
		t.Fatalf("amtool %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return string(out)
}

// receivers returns the receivers the shipped configuration routes an
// alert with labels to, comma-separated, as amtool prints them.
func receivers(t *testing.T, labels ...string) string {
	t.Helper()
	out := amtool(t, append([]string{"config", "routes", "test", "--config.file=" + deployConfig}, labels...)...)
	// amtool also prints a warning about --alertmanager.url.
	lines := strings.Split(strings.TrimSpace(out), "\n")
	return lines[len(lines)-1]
}

func TestDeployConfigIsValid(t *testing.T) {
	out := amtool(t, "check-config", deployConfig)
	if !strings.Contains(out, "SUCCESS") || !strings.Contains(out, "1 templates") {
		t.Fatalf("amtool check-config:\n%s", out)
	}
}

func TestDeployConfigRoutes(t *testing.T) {
	for _, tc := range []struct {
		labels []string
		want   string
	}{
		{labels: []string{"email=a@b.c", "path=/x"}, want: "zk_monitor_email"},
		{labels: []string{"slack_channel=ops", "path=/x"}, want: "zk_monitor_slack"},
		{labels: []string{"email=a@b.c", "slack_channel=#ops", "path=/x"}, want: "zk_monitor_email,zk_monitor_slack"},
		{labels: []string{"path=/x"}, want: "null"},
		{labels: []string{"path=/x", "hipchat_room=Ops"}, want: "null"},
	} {
		t.Run(strings.Join(tc.labels, ","), func(t *testing.T) {
			// Both alerts are routed alike.
			for _, name := range []string{AlertName, UnreadableAlertName} {
				if got := receivers(t, append([]string{"alertname=" + name}, tc.labels...)...); got != tc.want {
					t.Errorf("%s: receivers %q, want %q", name, got, tc.want)
				}
			}
		})
	}
}

func TestDeployTemplates(t *testing.T) {
	const msg = "Found children (0) less than minimum (1)"
	type alertData struct {
		Status      string            `json:"status"`
		Labels      map[string]string `json:"labels"`
		Annotations map[string]string `json:"annotations"`
	}
	data := func(status, channel string) []byte {
		labels := map[string]string{"alertname": AlertName, "path": "/x", "slack_channel": channel}
		b, err := json.Marshal(map[string]any{
			"receiver":          "zk_monitor_slack",
			"status":            status,
			"alerts":            []alertData{{Status: status, Labels: labels, Annotations: map[string]string{"summary": msg}}},
			"groupLabels":       map[string]string{"path": "/x"},
			"commonLabels":      labels,
			"commonAnnotations": map[string]string{"summary": msg},
			"externalURL":       "http://am:9093",
		})
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	for _, tc := range []struct {
		name, status, channel, template, want string
	}{
		{name: "slack firing", status: "firing", template: "zk_monitor.slack.text", want: "(:exclamation:) /x is in Error - " + msg},
		{name: "slack resolved", status: "resolved", template: "zk_monitor.slack.text", want: "(:+1:) /x is in OK - All checks pass."},
		{name: "channel without #", status: "firing", channel: "ops", template: "zk_monitor.slack.channel", want: "#ops"},
		{name: "channel with #", status: "firing", channel: "#ops", template: "zk_monitor.slack.channel", want: "#ops"},
		{name: "user channel", status: "firing", channel: "@bob", template: "zk_monitor.slack.channel", want: "@bob"},
		{name: "email subject", status: "firing", template: "zk_monitor.email.subject", want: "Warning! /x has an alert!"},
		{name: "email firing", status: "firing", template: "zk_monitor.email.text", want: msg + "\n/x is in the Error state.\n"},
		{name: "email resolved", status: "resolved", template: "zk_monitor.email.text", want: "All checks pass.\n/x is in the OK state.\n"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := filepath.Join(t.TempDir(), "data.json")
			if err := os.WriteFile(f, data(tc.status, tc.channel), 0o644); err != nil {
				t.Fatal(err)
			}
			// A marker after the output shows trailing newlines.
			out := amtool(t, "template", "render", "--template.glob="+deployTemplates, "--template.data="+f,
				`--template.text={{ template "`+tc.template+`" . }}<END>`)
			got, _, _ := strings.Cut(out, "<END>")
			if got != tc.want {
				t.Fatalf("rendered %q, want %q", got, tc.want)
			}
		})
	}
}

func TestDeployEndToEnd(t *testing.T) {
	smtp := testenv.StartSMTPSink(t)
	slack := testenv.StartHTTPRecorder(t)
	am := testenv.StartAlertmanager(t, testenv.ShippedAlertmanagerConfig(t, "..", smtp.Addr(), slack.URL()+"/slack"))
	a, _ := newTestAlerter(t, Options{
		AlertmanagerURLs: []*url.URL{amURL(t, am)},
		ClusterName:      "prod",
		AgentName:        "agent-1",
	})
	run(t, a)
	lead(t, a)

	const msg = "Found children (0) less than minimum (1)"
	s := config.PathSpec{
		Path:    "/x",
		Alerter: config.Alerter{Email: []string{"oncall@example.com"}, SlackChannel: "ops"},
	}
	// A path without an alerter: its alert goes to the null receiver.
	quiet := config.PathSpec{Path: "/quiet"}
	a.Update(s, errorResult(msg))
	a.Update(quiet, errorResult(msg))

	for _, step := range []struct {
		name      string
		wantMail  testenv.DecodedMail
		wantSlack string
	}{
		{
			name:      "firing",
			wantMail:  testenv.DecodedMail{To: []string{"oncall@example.com"}, Subject: "Warning! /x has an alert!", Text: msg + "\n/x is in the Error state.\n"},
			wantSlack: "(:exclamation:) /x is in Error - " + msg,
		},
		{
			name:      "resolved",
			wantMail:  testenv.DecodedMail{To: []string{"oncall@example.com"}, Subject: "Warning! /x has an alert!", Text: "All checks pass.\n/x is in the OK state.\n"},
			wantSlack: "(:+1:) /x is in OK - All checks pass.",
		},
	} {
		if step.name == "resolved" {
			a.Update(s, okResult)
			a.Update(quiet, okResult)
		}
		testenv.Eventually(t, 20*time.Second, 5*time.Millisecond, func() bool {
			for _, m := range smtp.Messages() {
				if got := testenv.DecodeMail(t, m); got.Text == step.wantMail.Text {
					if !slices.Equal(got.To, step.wantMail.To) || got.Subject != step.wantMail.Subject {
						t.Fatalf("%s mail: to %q subject %q, want %q and %q", step.name, got.To, got.Subject, step.wantMail.To, step.wantMail.Subject)
					}
					return true
				}
			}
			return false
		}, "%s mail", step.name)
		testenv.Eventually(t, 20*time.Second, 5*time.Millisecond, func() bool {
			for _, m := range testenv.SlackMessages(t, slack.Requests()) {
				if m.Text == step.wantSlack {
					if m.Channel != "#ops" || m.Path != "/slack" {
						t.Fatalf("%s slack message to channel %q at %s", step.name, m.Channel, m.Path)
					}
					return true
				}
			}
			return false
		}, "%s Slack message", step.name)
	}

	// Nothing about the path without an alerter, and no more than one
	// message of each kind.
	if n := len(smtp.Messages()); n != 2 {
		t.Errorf("%d mails, want 2", n)
	}
	for _, r := range slack.Requests() {
		if bytes.Contains(r.Body, []byte("/quiet")) {
			t.Errorf("Slack message about /quiet: %s", r.Body)
		}
	}
	for _, m := range smtp.Messages() {
		if strings.Contains(m.Data, "/quiet") {
			t.Errorf("mail about /quiet:\n%s", m.Data)
		}
	}
}
