package config

import (
	"maps"
	"path"
	"regexp"
	"slices"
	"strconv"
	"time"
)

// PathSpec is what one top-level key of the file asks of one znode path (or,
// for a glob, of every path matching it).
type PathSpec struct {
	// Path is the absolute znode path. A segment containing "*" is a glob
	// pattern matching one whole node name ("*", "svc-*"); see IsGlob.
	Path string
	// MinChildren is `children`: the least number of direct children. A
	// missing path counts as having none.
	MinChildren *int
	// MaxChildren is `max_children`: the most direct children allowed.
	MaxChildren *int
	// Exists is `exists`: whether the path must (true) or must not (false)
	// exist.
	Exists *bool
	// Data is `data`: a check of the node's content.
	Data *DataCheck
	// ChildrenMatching is `children_matching`: when set, only the children
	// whose names it matches (unanchored, RE2 syntax) count toward
	// MinChildren and MaxChildren.
	ChildrenMatching *regexp.Regexp
	// MaxAge is `max_age`: the node's data must have been written (Stat
	// mtime, by ZooKeeper's clock) at most this long ago; 0 means no check.
	MaxAge time.Duration
	// Ephemeral is `ephemeral`: whether the node must (true) or must not
	// (false) be owned by a session (Stat ephemeralOwner).
	Ephemeral *bool
	// MinDataBytes and MaxDataBytes are `min_data_bytes` and
	// `max_data_bytes`: bounds on the size of the node's data (Stat
	// dataLength). A missing node counts as holding no data.
	MinDataBytes *int
	MaxDataBytes *int
	// CancelTimeout is `cancel_timeout` (or its alias `for`): how long the
	// path must stay out of spec before an alert fires.
	CancelTimeout time.Duration
	// Alerter says who is told about this path's alerts.
	Alerter Alerter
	// Labels are extra labels put on this path's alerts.
	Labels map[string]string
	// Severity is the alert's severity label; empty means the alerting
	// layer's default ("warning").
	Severity string
	// Summary, when set, replaces the alert's generated summary text.
	Summary string
	// RunbookURL is an absolute URL put on the path's alerts.
	RunbookURL string
	// Line is the line of the path's key in the file.
	Line int
}

// Alerter is the `alerter` section of a path spec. It names where alerts
// go; delivery and its credentials are Alertmanager's business.
type Alerter struct {
	// Email holds the addresses from `alerter.email`.
	Email []string
	// SlackChannel is `alerter.slack.channel`.
	SlackChannel string
	// HipChatRoom is `alerter.hipchat.room`. HipChat no longer exists; the
	// room only survives as an alert label.
	HipChatRoom string
}

// DataCheck is the `data` section of a path spec: exactly one of Regex, or
// JSONField with Equals, is set.
type DataCheck struct {
	// Regex must match somewhere in the node's data (unanchored, RE2
	// syntax).
	Regex *regexp.Regexp
	// JSONField is a dotted path into the node's data parsed as JSON
	// ("a.b"; a numeric element indexes an array).
	JSONField string
	// Equals is the value JSONField must have, compared with the field's
	// JSON value rendered as a string: strings as they are, numbers,
	// booleans and null in JSON form, objects and arrays as compact JSON.
	Equals string
}

// String describes the check for messages: "regex /RE/" or
// `json_field a.b equals "x"`.
func (d DataCheck) String() string {
	if d.Regex != nil {
		return "regex /" + d.Regex.String() + "/"
	}
	return "json_field " + d.JSONField + " equals " + strconv.Quote(d.Equals)
}

// IsGlob reports whether the path is a pattern that may match many znodes.
func (s PathSpec) IsGlob() bool {
	return slices.ContainsFunc(segments(s.Path), isGlobSegment)
}

// HasChecks reports whether the spec asks anything of the path. A spec
// without checks is still watched, but its compliance is always unknown.
func (s PathSpec) HasChecks() bool {
	return s.MinChildren != nil || s.MaxChildren != nil || s.Exists != nil || s.Data != nil ||
		s.MaxAge > 0 || s.Ephemeral != nil || s.MinDataBytes != nil || s.MaxDataBytes != nil
}

// ChecksStat reports whether the spec has a check on the node's Stat
// (max_age, ephemeral, min_data_bytes or max_data_bytes).
func (s PathSpec) ChecksStat() bool {
	return s.MaxAge > 0 || s.Ephemeral != nil || s.MinDataBytes != nil || s.MaxDataBytes != nil
}

// Match reports whether the concrete path p is one this spec is about. It
// must have as many segments as the spec's path; segments containing "*"
// match with path.Match semantics, the others must be equal. For a spec
// that is not a glob, Match is plain equality.
func (s PathSpec) Match(p string) bool {
	if !s.IsGlob() {
		return p == s.Path
	}
	if len(p) == 0 || p[0] != '/' {
		return false
	}
	want, got := segments(s.Path), segments(p)
	if len(want) != len(got) {
		return false
	}
	for i, w := range want {
		if !isGlobSegment(w) {
			if w != got[i] {
				return false
			}
			continue
		}
		if got[i] == "" {
			return false
		}
		if ok, err := path.Match(w, got[i]); err != nil || !ok {
			return false
		}
	}
	return true
}

// Equal reports whether two specs watch the same path the same way: every
// field but Line is compared, regexes by their source text. A reload keeps
// the watches of paths whose spec is Equal to the old one.
func (s PathSpec) Equal(o PathSpec) bool {
	return s.Path == o.Path &&
		equalPtr(s.MinChildren, o.MinChildren) &&
		equalPtr(s.MaxChildren, o.MaxChildren) &&
		equalPtr(s.Exists, o.Exists) &&
		equalData(s.Data, o.Data) &&
		equalRegexp(s.ChildrenMatching, o.ChildrenMatching) &&
		s.MaxAge == o.MaxAge &&
		equalPtr(s.Ephemeral, o.Ephemeral) &&
		equalPtr(s.MinDataBytes, o.MinDataBytes) &&
		equalPtr(s.MaxDataBytes, o.MaxDataBytes) &&
		s.CancelTimeout == o.CancelTimeout &&
		s.Alerter.Equal(o.Alerter) &&
		maps.Equal(s.Labels, o.Labels) &&
		s.Severity == o.Severity &&
		s.Summary == o.Summary &&
		s.RunbookURL == o.RunbookURL
}

// Equal reports whether two alerters name the same recipients in the same
// order.
func (a Alerter) Equal(o Alerter) bool {
	return slices.Equal(a.Email, o.Email) &&
		a.SlackChannel == o.SlackChannel &&
		a.HipChatRoom == o.HipChatRoom
}

func equalPtr[T comparable](a, b *T) bool {
	if a == nil || b == nil {
		return a == b
	}
	return *a == *b
}

func equalData(a, b *DataCheck) bool {
	if a == nil || b == nil {
		return a == b
	}
	return equalRegexp(a.Regex, b.Regex) && a.JSONField == b.JSONField && a.Equals == b.Equals
}

// equalRegexp compares regexes by their source text.
func equalRegexp(a, b *regexp.Regexp) bool {
	if a == nil || b == nil {
		return a == b
	}
	return a.String() == b.String()
}
