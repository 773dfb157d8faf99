package alerting

// Tests of the shipped Alertmanager templates for ZnodeUnreadable: its
// own wording (TestDeployConfigRoutes checks it is routed like
// ZnodeNotCompliant).

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestDeployTemplatesUnreadable(t *testing.T) {
	const summary = "Cannot read path: not authorized (check --zookeeper_user and the znode's ACL)"
	render := func(t *testing.T, alertName, status, template string) string {
		t.Helper()
		labels := map[string]string{"alertname": alertName, "path": "/x", "slack_channel": "ops"}
		annotations := map[string]string{"summary": summary}
		data, err := json.Marshal(map[string]any{
			"receiver":          "zk_monitor_slack",
			"status":            status,
			"alerts":            []map[string]any{{"status": status, "labels": labels, "annotations": annotations}},
			"groupLabels":       map[string]string{"alertname": alertName, "path": "/x"},
			"commonLabels":      labels,
			"commonAnnotations": annotations,
			"externalURL":       "http://am:9093",
		})
		if err != nil {
			t.Fatal(err)
		}
		f := filepath.Join(t.TempDir(), "data.json")
		if err := os.WriteFile(f, data, 0o644); err != nil {
			t.Fatal(err)
		}
		// A marker after the output shows trailing newlines.
		out := amtool(t, "template", "render", "--template.glob="+deployTemplates, "--template.data="+f,
			`--template.text={{ template "`+template+`" . }}<END>`)
		got, _, _ := strings.Cut(out, "<END>")
		return got
	}
	for _, tc := range []struct {
		name, alertName, status, template, want string
	}{
		{name: "email subject", alertName: UnreadableAlertName, status: "firing", template: "zk_monitor.email.subject",
			want: "Warning! /x cannot be read!"},
		{name: "email firing", alertName: UnreadableAlertName, status: "firing", template: "zk_monitor.email.text",
			want: summary + "\n/x cannot be read.\n"},
		{name: "email resolved", alertName: UnreadableAlertName, status: "resolved", template: "zk_monitor.email.text",
			want: "Reads succeed again.\n/x can be read again.\n"},
		{name: "slack firing", alertName: UnreadableAlertName, status: "firing", template: "zk_monitor.slack.text",
			want: "(:exclamation:) /x cannot be read - not authorized (check --zookeeper_user and the znode's ACL)"},
		{name: "slack resolved", alertName: UnreadableAlertName, status: "resolved", template: "zk_monitor.slack.text",
			want: "(:+1:) /x can be read again."},
		// The other alert's wording is the original's, whatever the summary.
		{name: "not compliant email subject", alertName: AlertName, status: "firing", template: "zk_monitor.email.subject",
			want: "Warning! /x has an alert!"},
		{name: "not compliant email resolved", alertName: AlertName, status: "resolved", template: "zk_monitor.email.text",
			want: "All checks pass.\n/x is in the OK state.\n"},
		{name: "not compliant slack firing", alertName: AlertName, status: "firing", template: "zk_monitor.slack.text",
			want: "(:exclamation:) /x is in Error - " + summary},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := render(t, tc.alertName, tc.status, tc.template); got != tc.want {
				t.Errorf("rendered %q, want %q", got, tc.want)
			}
		})
	}
}
