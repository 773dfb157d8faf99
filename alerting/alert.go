package alerting

import (
	"maps"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/go-openapi/strfmt"
	"github.com/prometheus/alertmanager/api/v2/models"
	"github.com/prometheus/common/model"

	"github.com/zk-monitor/zk_monitor/config"
)

// AlertName is the alertname label of every alert zk_monitor sends.
const AlertName = "ZnodeNotCompliant"

// DefaultSeverity is the severity label of paths that set none.
const DefaultSeverity = "warning"

// Label and annotation names.
const (
	labelAlertName    = "alertname"
	labelPath         = "path"
	labelCluster      = "cluster"
	labelSeverity     = "severity"
	labelEmail        = "email"
	labelSlackChannel = "slack_channel"
	labelHipChatRoom  = "hipchat_room"

	annotationSummary     = "summary"
	annotationDescription = "description"
	annotationAgent       = "agent"
	annotationRunbookURL  = "runbook_url"
)

// alert is one alert as queued for delivery. It is immutable once built:
// queues and snapshots share it.
type alert struct {
	labels      map[string]string
	annotations map[string]string
	startsAt    time.Time
	// endsAt is zero while the alert fires; the sender then sets it to
	// now + 4 × resend interval at request time.
	endsAt      time.Time
	fingerprint uint64
}

// resolvedAt returns a copy of the alert that ended at t.
func (a *alert) resolvedAt(t time.Time) *alert {
	r := *a
	r.endsAt = t
	return &r
}

// firing reports whether the alert is not resolved.
func (a *alert) firing() bool { return a.endsAt.IsZero() }

// sameContent reports whether two alerts would look the same to
// Alertmanager, apart from endsAt.
func (a *alert) sameContent(b *alert) bool {
	return a.fingerprint == b.fingerprint &&
		maps.Equal(a.labels, b.labels) &&
		maps.Equal(a.annotations, b.annotations) &&
		a.startsAt.Equal(b.startsAt)
}

// invalidLabel is a label left out of an alert because Alertmanager would
// reject it.
type invalidLabel struct {
	name, value string
}

// alertBuilder makes alerts out of path specs.
type alertBuilder struct {
	cluster string
	agent   string
}

// build returns the alert for spec in Error with the compliance message
// msg, starting at startsAt, and the labels it had to leave out.
func (b alertBuilder) build(spec config.PathSpec, msg string, startsAt time.Time) (*alert, []invalidLabel) {
	raw := make(map[string]string, len(spec.Labels)+7)
	maps.Copy(raw, spec.Labels)
	severity := spec.Severity
	if severity == "" {
		severity = raw[labelSeverity]
	}
	if severity == "" {
		severity = DefaultSeverity
	}
	raw[labelSeverity] = severity
	if len(spec.Alerter.Email) > 0 {
		raw[labelEmail] = strings.Join(spec.Alerter.Email, ",")
	}
	if spec.Alerter.SlackChannel != "" {
		raw[labelSlackChannel] = spec.Alerter.SlackChannel
	}
	if spec.Alerter.HipChatRoom != "" {
		raw[labelHipChatRoom] = spec.Alerter.HipChatRoom
	}
	// The identity of the alert: extra labels cannot replace it.
	raw[labelAlertName] = AlertName
	raw[labelPath] = spec.Path
	raw[labelCluster] = b.cluster

	labels := make(map[string]string, len(raw))
	var invalid []invalidLabel
	for name, value := range raw {
		switch {
		case value == "":
			// An empty value is an absent label.
		// Legacy names: Alertmanager 0.25 refuses UTF-8 ones.
		case !model.LegacyValidation.IsValidLabelName(name) || !utf8.ValidString(value):
			invalid = append(invalid, invalidLabel{name: name, value: value})
		default:
			labels[name] = value
		}
	}

	summary := spec.Summary
	if summary == "" {
		summary = msg
	}
	annotations := map[string]string{
		annotationSummary:     summary,
		annotationDescription: spec.Path + " is in the Error state.",
	}
	if b.agent != "" {
		annotations[annotationAgent] = b.agent
	}
	if spec.RunbookURL != "" {
		annotations[annotationRunbookURL] = spec.RunbookURL
	}
	for name, value := range annotations {
		// Annotations are text for people: mend rather than drop.
		annotations[name] = strings.ToValidUTF8(value, "\uFFFD")
	}

	return &alert{
		labels:      labels,
		annotations: annotations,
		startsAt:    startsAt,
		fingerprint: model.LabelsToSignature(labels),
	}, invalid
}

// postable converts alerts to Alertmanager's wire type. Firing alerts end
// at firingEndsAt.
func postable(alerts []*alert, firingEndsAt time.Time, generatorURL string) models.PostableAlerts {
	out := make(models.PostableAlerts, 0, len(alerts))
	for _, a := range alerts {
		endsAt := a.endsAt
		if a.firing() {
			endsAt = firingEndsAt
		}
		out = append(out, &models.PostableAlert{
			Alert: models.Alert{
				Labels:       models.LabelSet(a.labels),
				GeneratorURL: strfmt.URI(generatorURL),
			},
			Annotations: models.LabelSet(a.annotations),
			StartsAt:    strfmt.DateTime(a.startsAt),
			EndsAt:      strfmt.DateTime(endsAt),
		})
	}
	return out
}
