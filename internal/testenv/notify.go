package testenv

import (
	"encoding/json"
	"io"
	"mime"
	"mime/multipart"
	"mime/quotedprintable"
	"net/mail"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"
)

// ShippedAlertmanagerConfig returns deploy/alertmanager/alertmanager.yml
// (found under repoRoot) pointed at test sinks — the SMTP smarthost, the
// Slack webhook URL and the absolute template path — with short grouping
// intervals. The routing is kept as shipped.
func ShippedAlertmanagerConfig(tb testing.TB, repoRoot, smarthost, slackURL string) string {
	tb.Helper()
	dir := filepath.Join(repoRoot, "deploy", "alertmanager")
	raw, err := os.ReadFile(filepath.Join(dir, "alertmanager.yml"))
	if err != nil {
		tb.Fatal(err)
	}
	var cfg map[string]any
	if err := yaml.Unmarshal(raw, &cfg); err != nil {
		tb.Fatal(err)
	}
	global := cfg["global"].(map[string]any)
	global["smtp_smarthost"] = smarthost
	global["smtp_require_tls"] = false
	global["slack_api_url"] = slackURL
	tmpl, err := filepath.Abs(filepath.Join(dir, "zk_monitor.tmpl"))
	if err != nil {
		tb.Fatal(err)
	}
	cfg["templates"] = []string{tmpl}
	var shorten func(route map[string]any)
	shorten = func(route map[string]any) {
		route["group_wait"] = "50ms"
		route["group_interval"] = "200ms"
		routes, _ := route["routes"].([]any)
		for _, r := range routes {
			shorten(r.(map[string]any))
		}
	}
	shorten(cfg["route"].(map[string]any))
	out, err := yaml.Marshal(cfg)
	if err != nil {
		tb.Fatal(err)
	}
	return string(out)
}

// DecodedMail is a received mail's recipients, subject and plain text.
type DecodedMail struct {
	To      []string
	Subject string
	Text    string
}

// DecodeMail parses a mail the SMTP sink received.
func DecodeMail(tb testing.TB, m Mail) DecodedMail {
	tb.Helper()
	msg, err := mail.ReadMessage(strings.NewReader(m.Data))
	if err != nil {
		tb.Fatalf("parsing mail: %v\n%s", err, m.Data)
	}
	dec := new(mime.WordDecoder)
	subject, err := dec.DecodeHeader(msg.Header.Get("Subject"))
	if err != nil {
		tb.Fatalf("subject: %v", err)
	}
	out := DecodedMail{To: m.To, Subject: subject}
	mediaType, params, err := mime.ParseMediaType(msg.Header.Get("Content-Type"))
	if err != nil {
		tb.Fatalf("content type: %v", err)
	}
	readPart := func(h func(string) string, r io.Reader) string {
		if strings.EqualFold(h("Content-Transfer-Encoding"), "quoted-printable") {
			r = quotedprintable.NewReader(r)
		}
		b, err := io.ReadAll(r)
		if err != nil {
			tb.Fatalf("reading mail body: %v", err)
		}
		return strings.ReplaceAll(string(b), "\r\n", "\n")
	}
	if !strings.HasPrefix(mediaType, "multipart/") {
		out.Text = readPart(msg.Header.Get, msg.Body)
		return out
	}
	mr := multipart.NewReader(msg.Body, params["boundary"])
	for {
		p, err := mr.NextRawPart()
		if err == io.EOF {
			break
		}
		if err != nil {
			tb.Fatalf("mail part: %v", err)
		}
		if strings.HasPrefix(p.Header.Get("Content-Type"), "text/plain") {
			out.Text = readPart(p.Header.Get, p)
		}
	}
	return out
}

// SlackMessage is one message Alertmanager's Slack notifier posted.
type SlackMessage struct {
	Path    string // the webhook path it was posted to
	Channel string
	Text    string // the first attachment's text
}

// SlackMessages decodes the Slack webhook posts an HTTPRecorder received.
func SlackMessages(tb testing.TB, requests []RecordedRequest) []SlackMessage {
	tb.Helper()
	var out []SlackMessage
	for _, r := range requests {
		var body struct {
			Channel     string `json:"channel"`
			Attachments []struct {
				Text string `json:"text"`
			} `json:"attachments"`
		}
		if err := json.Unmarshal(r.Body, &body); err != nil {
			tb.Fatalf("slack body %q: %v", r.Body, err)
		}
		m := SlackMessage{Path: r.Path, Channel: body.Channel}
		if len(body.Attachments) > 0 {
			m.Text = body.Attachments[0].Text
		}
		out = append(out, m)
	}
	return out
}
