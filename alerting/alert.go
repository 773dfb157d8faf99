package alerting

import (
	"maps"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/go-openapi/strfmt"
	"github.com/prometheus/alertmanager/api/v2/models"
	"github.com/prometheus/common/model"

	"github.com/zk-monitor/zk_monitor/compliance"
	"github.com/zk-monitor/zk_monitor/config"
)

// Alert names: a path whose checks fail, and a path with checks that
// cannot be read.
const (
	AlertName           = "ZnodeNotCompliant"
	UnreadableAlertName = "ZnodeUnreadable"
)

// kind is one of the alerts a path can raise. Each kind has its own life
// (hold-down, firing, resolved) for the same path.
type kind int

const (
	// notCompliant: the path's checks fail (compliance state Error).
	notCompliant kind = iota
	// unreadable: the path's reads fail (compliance.Result.Read Error).
	unreadable
	numKinds
)

func (k kind) alertName() string {
	if k == unreadable {
		return UnreadableAlertName
	}
	return AlertName
}

// kindOf returns the kind whose alert name is name.
func kindOf(name string) (kind, bool) {
	for k := range numKinds {
		if k.alertName() == name {
			return k, true
		}
	}
	return 0, false
}

// observed returns the state of res that decides alerts of kind k.
func (k kind) observed(res compliance.Result) compliance.State {
	if k == unreadable {
		return res.Read
	}
	return res.State
}

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
	// kind and path are what the alert is about (its alertname and path
	// labels).
	kind        kind
	path        string
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

// build returns the ZnodeNotCompliant alert for spec in Error with the
// compliance message msg, starting at startsAt, and the labels it had to
// leave out.
func (b alertBuilder) build(spec config.PathSpec, msg string, startsAt time.Time) (*alert, []invalidLabel) {
	return b.buildKind(notCompliant, spec, msg, startsAt)
}

// buildKind returns the alert of kind k for spec, with the compliance
// message msg, starting at startsAt, and the labels it had to leave out.
// Both kinds carry the same routing labels, so that Alertmanager routes
// them alike.
func (b alertBuilder) buildKind(k kind, spec config.PathSpec, msg string, startsAt time.Time) (*alert, []invalidLabel) {
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
	raw[labelAlertName] = k.alertName()
	raw[labelPath] = spec.Path
	raw[labelCluster] = b.cluster

	labels, invalid := validLabels(raw)

	var annotations map[string]string
	switch k {
	case unreadable:
		// The path's summary and runbook are about its checks failing.
		annotations = map[string]string{
			annotationSummary:     msg,
			annotationDescription: spec.Path + " cannot be read, so its checks are not evaluated.",
		}
	default:
		summary := spec.Summary
		if summary == "" {
			summary = msg
		}
		annotations = map[string]string{
			annotationSummary:     summary,
			annotationDescription: spec.Path + " is in the Error state.",
		}
		if spec.RunbookURL != "" {
			annotations[annotationRunbookURL] = spec.RunbookURL
		}
	}
	if b.agent != "" {
		annotations[annotationAgent] = b.agent
	}
	return newAlert(k, spec.Path, labels, annotations, startsAt), invalid
}

// newAlert returns a firing alert; it mends annotations that are not valid
// UTF-8.
func newAlert(k kind, path string, labels, annotations map[string]string, startsAt time.Time) *alert {
	for name, value := range annotations {
		// Annotations are text for people: mend rather than drop.
		annotations[name] = strings.ToValidUTF8(value, "\uFFFD")
	}
	return &alert{
		kind:        k,
		path:        path,
		labels:      labels,
		annotations: annotations,
		startsAt:    startsAt,
		fingerprint: model.LabelsToSignature(labels),
	}
}

// validLabels returns the labels of raw that Alertmanager accepts, and the
// others. An empty value is an absent label, as in Prometheus.
func validLabels(raw map[string]string) (map[string]string, []invalidLabel) {
	labels := make(map[string]string, len(raw))
	var invalid []invalidLabel
	for name, value := range raw {
		switch {
		case value == "":
		// Legacy names: Alertmanager 0.25 refuses UTF-8 ones.
		case !model.LegacyValidation.IsValidLabelName(name) || !utf8.ValidString(value):
			invalid = append(invalid, invalidLabel{name: name, value: value})
		default:
			labels[name] = value
		}
	}
	return labels, invalid
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
