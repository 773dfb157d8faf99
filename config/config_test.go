package config

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"
)

func intp(i int) *int    { return &i }
func boolp(b bool) *bool { return &b }

// specString renders a spec with its pointers followed, for failure output.
func specString(s PathSpec) string {
	deref := func(p any) string {
		v := reflect.ValueOf(p)
		if v.IsNil() {
			return "nil"
		}
		return fmt.Sprint(v.Elem().Interface())
	}
	data := "nil"
	if s.Data != nil {
		data = s.Data.String()
	}
	matching := "nil"
	if s.ChildrenMatching != nil {
		matching = s.ChildrenMatching.String()
	}
	return fmt.Sprintf("{Path:%s Min:%s Max:%s Matching:%s Exists:%s Ephemeral:%s Data:%s MinBytes:%s MaxBytes:%s MaxAge:%s CancelTimeout:%s Alerter:%+v Labels:%v Severity:%q Summary:%q RunbookURL:%q Line:%d}",
		s.Path, deref(s.MinChildren), deref(s.MaxChildren), matching, deref(s.Exists), deref(s.Ephemeral), data, deref(s.MinDataBytes), deref(s.MaxDataBytes), s.MaxAge,
		s.CancelTimeout, s.Alerter, s.Labels, s.Severity, s.Summary, s.RunbookURL, s.Line)
}

// checkPaths compares parsed specs with the expected ones, Line included.
func checkPaths(t *testing.T, got, want []PathSpec) {
	t.Helper()
	if len(got) != len(want) {
		t.Errorf("got %d paths, want %d", len(got), len(want))
	}
	for i := range min(len(got), len(want)) {
		if !got[i].Equal(want[i]) || got[i].Line != want[i].Line {
			t.Errorf("path %d:\n got  %s\n want %s", i, specString(got[i]), specString(want[i]))
		}
	}
}

func TestLoadValid(t *testing.T) {
	anchored := func(path string, children, line int) PathSpec {
		return PathSpec{Path: path, MinChildren: intp(children), Alerter: Alerter{Email: []string{"ops@example.com"}}, Line: line}
	}
	for _, tc := range []struct {
		file string
		want []PathSpec
	}{
		{
			// The example of the original zkmonitor's README, unchanged.
			file: "legacy.yaml",
			want: []PathSpec{
				{Path: "/services/foo/min_0", MinChildren: intp(0), Alerter: Alerter{Email: []string{"your_buddy@home.com"}}, Line: 5},
				{Path: "/services/foo/min_1", MinChildren: intp(1), Alerter: Alerter{Email: []string{"you@home.com"}}, Line: 1},
				{Path: "/services/foo/min_3", MinChildren: intp(3), Line: 9},
			},
		},
		{
			file: "full.yaml",
			want: []PathSpec{
				{Path: "/", MaxChildren: intp(100), Line: 37},
				{Path: "/brokers/ids", MinChildren: intp(3), MaxChildren: intp(5), ChildrenMatching: mustRegexp(`^[0-9]+$`), Line: 45},
				{Path: "/brokers/ids/broker-*", Data: &DataCheck{Regex: mustRegexp(`PLAINTEXT`)}, Line: 33},
				{Path: "/config/blob", MinDataBytes: intp(1), MaxDataBytes: intp(1048576), Ephemeral: boolp(false), MaxAge: 90 * time.Second, Line: 49},
				{Path: "/controller", Ephemeral: boolp(true), Line: 43},
				{Path: "/locks/migration", Exists: boolp(false), Line: 35},
				{
					Path: "/services/*/config", Exists: boolp(true), Line: 31,
				},
				{
					Path: "/services/db/leader", Exists: boolp(true), CancelTimeout: 90 * time.Second,
					Data:    &DataCheck{JSONField: "leader.port", Equals: "5432"},
					Alerter: Alerter{Email: []string{"dba@example.com", "ops@example.com"}},
					Line:    16,
				},
				{
					Path: "/services/db/version", CancelTimeout: 45 * time.Second,
					Data: &DataCheck{Regex: mustRegexp(`^v[0-9]+\.`)},
					Line: 27,
				},
				{
					Path: "/services/web", MinChildren: intp(2), MaxChildren: intp(10), CancelTimeout: 1500 * time.Millisecond,
					Alerter:    Alerter{Email: []string{"ops@example.com", "web@example.com", "oncall@example.com"}, SlackChannel: "#web"},
					Labels:     map[string]string{"team": "web", "tier": "1"},
					Severity:   "critical",
					Summary:    "Too few web servers registered",
					RunbookURL: "https://wiki.example.com/runbooks/web",
					Line:       2,
				},
				{Path: "/unchecked", Line: 39},
				{Path: "/workers/*/heartbeat", MaxAge: 5 * time.Minute, MaxDataBytes: intp(256), Line: 40},
			},
		},
		{
			// YAML anchors, aliases and merge keys work as in any YAML file.
			file: "anchors.yaml",
			want: []PathSpec{
				anchored("/services/a", 1, 1),
				anchored("/services/b", 2, 5),
				anchored("/services/c", 1, 8),
			},
		},
	} {
		t.Run(tc.file, func(t *testing.T) {
			cfg, warnings, err := Load(filepath.Join("testdata", tc.file))
			if err != nil {
				t.Fatalf("Load: %v", err)
			}
			if len(warnings) != 0 {
				t.Errorf("unexpected warnings: %v", warnings)
			}
			checkPaths(t, cfg.Paths, tc.want)
		})
	}
}

func TestLoadInvalid(t *testing.T) {
	tests := []struct {
		file string
		err  string
	}{
		{"alerter-list.yaml", "testdata/invalid/alerter-list.yaml:2: path /services/foo: key alerter: must be a mapping (email, slack, hipchat), got a list"},
		{"bad-email.yaml", "testdata/invalid/bad-email.yaml:3: path /services/foo: key alerter.email: invalid email address \"not-an-address\""},
		{"bad-glob.yaml", "testdata/invalid/bad-glob.yaml:1: invalid znode path \"/services/[*\": malformed glob pattern in segment \"[*\""},
		{"bad-indent.yaml", "testdata/invalid/bad-indent.yaml:3: invalid YAML: mapping values are not allowed in this context"},
		{"bad-regex.yaml", "testdata/invalid/bad-regex.yaml:3: path /services/foo: key data.regex: invalid regex \"(unclosed\": missing closing )"},
		{"children-bool.yaml", "testdata/invalid/children-bool.yaml:2: path /services/foo: key children: must be a non-negative integer, got true"},
		{"children-float-whole.yaml", "testdata/invalid/children-float-whole.yaml:2: path /services/foo: key children: must be a non-negative integer, got 1.0"},
		{"children-float.yaml", "testdata/invalid/children-float.yaml:2: path /services/foo: key children: must be a non-negative integer, got 1.5"},
		{"children-list.yaml", "testdata/invalid/children-list.yaml:2: path /services/foo: key children: must be a non-negative integer, got a list"},
		{"children-negative.yaml", "testdata/invalid/children-negative.yaml:2: path /services/foo: key children: must be a non-negative integer, got -1"},
		{"children-null.yaml", "testdata/invalid/children-null.yaml:2: path /services/foo: key children: must be a non-negative integer, got null"},
		{"children-quoted.yaml", "testdata/invalid/children-quoted.yaml:2: path /services/foo: key children: must be a non-negative integer, got \"1\""},
		{"children-string.yaml", "testdata/invalid/children-string.yaml:2: path /services/foo: key children: must be a non-negative integer, got \"abc\""},
		{"children-matching-alone.yaml", "testdata/invalid/children-matching-alone.yaml:2: path /brokers/ids: key children_matching: needs children or max_children: it only says which children they count"},
		{"children-matching-bad-regex.yaml", "testdata/invalid/children-matching-bad-regex.yaml:3: path /brokers/ids: key children_matching: invalid regex \"[0-9\": missing closing ]"},
		{"children-matching-list.yaml", "testdata/invalid/children-matching-list.yaml:3: path /brokers/ids: key children_matching: must be a string, got a list"},
		{"complex-key.yaml", "testdata/invalid/complex-key.yaml:1: top-level keys must be znode paths, got a list"},
		{"control-char.yaml", "testdata/invalid/control-char.yaml:1: invalid znode path \"/services/\\tfoo\": path must not contain control or reserved characters"},
		{"data-bad-field.yaml", "testdata/invalid/data-bad-field.yaml:3: path /services/foo: key data.json_field: must be field names separated by dots, got \"a..b\""},
		{"data-both.yaml", "testdata/invalid/data-both.yaml:2: path /services/foo: key data: set either regex, or json_field and equals, not both"},
		{"data-empty.yaml", "testdata/invalid/data-empty.yaml:2: path /services/foo: key data: must set regex, or json_field and equals"},
		{"data-no-equals.yaml", "testdata/invalid/data-no-equals.yaml:2: path /services/foo: key data: json_field needs equals"},
		{"data-no-field.yaml", "testdata/invalid/data-no-field.yaml:2: path /services/foo: key data: equals needs json_field"},
		{"data-string.yaml", "testdata/invalid/data-string.yaml:2: path /services/foo: key data: must be a mapping with regex, or json_field and equals, got \"^x$\""},
		{"data-unknown-key.yaml", "testdata/invalid/data-unknown-key.yaml:3: path /services/foo: key data.regexp: unknown key (did you mean regex?)"},
		{"dot-segment.yaml", "testdata/invalid/dot-segment.yaml:1: invalid znode path \"/services/../foo\": path must not contain \".\" or \"..\" segments"},
		{"duplicate-key.yaml", "testdata/invalid/duplicate-key.yaml:3: path /services/foo: key children: duplicate key (first defined on line 2)"},
		{"duplicate-path.yaml", "testdata/invalid/duplicate-path.yaml:5: path /services/foo: duplicate path (first defined on line 1)"},
		{"email-empty.yaml", "testdata/invalid/email-empty.yaml:3: path /services/foo: key alerter.email: must list at least one address"},
		{"email-mapping.yaml", "testdata/invalid/email-mapping.yaml:3: path /services/foo: key alerter.email: must be a string or a list of strings, got a mapping"},
		{"empty-segment.yaml", "testdata/invalid/empty-segment.yaml:1: invalid znode path \"/services//foo\": path must not contain empty segments"},
		{"ephemeral-string.yaml", "testdata/invalid/ephemeral-string.yaml:2: path /services/foo: key ephemeral: must be true or false, got \"owned\""},
		{"exists-yes.yaml", "testdata/invalid/exists-yes.yaml:2: path /services/foo: key exists: must be true or false, got \"yes\""},
		{"for-negative.yaml", "testdata/invalid/for-negative.yaml:2: path /services/foo: key for: must not be negative, got \"-1m\""},
		{"hipchat-no-room.yaml", "testdata/invalid/hipchat-no-room.yaml:3: path /services/foo: key alerter.hipchat: room is required"},
		{"huge-value.yaml", "testdata/invalid/huge-value.yaml:2: path /services/foo: key children: must be a non-negative integer, got \"xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx\"..."},
		{"label-bad-name.yaml", "testdata/invalid/label-bad-name.yaml:3: path /services/foo: key labels: invalid label name \"team-name\": must match ^[a-zA-Z_][a-zA-Z0-9_]*$"},
		{"label-empty-value.yaml", "testdata/invalid/label-empty-value.yaml:3: path /services/foo: key labels.team: must not be empty"},
		{"label-internal.yaml", "testdata/invalid/label-internal.yaml:3: path /services/foo: key labels: label name \"__name__\" is reserved: names starting with __ are internal to Prometheus"},
		{"label-reserved.yaml", "testdata/invalid/label-reserved.yaml:3: path /services/foo: key labels: label name \"severity\" is reserved: zk_monitor sets it"},
		{"labels-list.yaml", "testdata/invalid/labels-list.yaml:2: path /services/foo: key labels: must be a mapping of label names to values, got a list"},
		{"max-less-than-min.yaml", "testdata/invalid/max-less-than-min.yaml:3: path /services/foo: key max_children: max_children (2) is less than children (3)"},
		{"max-age-misspelt.yaml", "testdata/invalid/max-age-misspelt.yaml:2: path /services/foo: key max_ages: unknown key (did you mean max_age?)"},
		{"max-age-negative.yaml", "testdata/invalid/max-age-negative.yaml:2: path /services/foo: key max_age: must not be negative, got -30"},
		{"max-age-string.yaml", "testdata/invalid/max-age-string.yaml:2: path /services/foo: key max_age: must be a number of seconds or a duration such as \"30s\", got \"5 minutes\""},
		{"max-age-zero.yaml", "testdata/invalid/max-age-zero.yaml:2: path /services/foo: key max_age: must be positive, got 0"},
		{"max-data-bytes-less-than-min.yaml", "testdata/invalid/max-data-bytes-less-than-min.yaml:3: path /services/foo: key max_data_bytes: max_data_bytes (10) is less than min_data_bytes (100)"},
		{"max-data-bytes-unit.yaml", "testdata/invalid/max-data-bytes-unit.yaml:2: path /services/foo: key max_data_bytes: must be a non-negative integer, got \"1KiB\""},
		{"merge-not-mapping.yaml", "testdata/invalid/merge-not-mapping.yaml:4: path /services/b: a merge key (<<) needs a mapping or a list of mappings, got 3"},
		{"min-data-bytes-negative.yaml", "testdata/invalid/min-data-bytes-negative.yaml:2: path /services/foo: key min_data_bytes: must be a non-negative integer, got -1"},
		{"misspelt-key.yaml", "testdata/invalid/misspelt-key.yaml:2: path /services/foo: key chidren: unknown key (did you mean children?)"},
		{"not-a-mapping.yaml", "testdata/invalid/not-a-mapping.yaml:1: the top level must be a mapping of znode paths to path specs, got a list"},
		{"relative-path.yaml", "testdata/invalid/relative-path.yaml:1: top-level key \"services/foo\" is not an absolute znode path"},
		{"runbook-relative.yaml", "testdata/invalid/runbook-relative.yaml:2: path /services/foo: key runbook_url: must be an absolute URL such as https://wiki.example.com/runbook, got \"wiki/runbook\""},
		{"scalar-top-level.yaml", "testdata/invalid/scalar-top-level.yaml:1: the top level must be a mapping of znode paths to path specs, got \"just a string\""},
		{"several.yaml", "testdata/invalid/several.yaml:5: path /services/foo: key children: must be a non-negative integer, got \"many\"\ntestdata/invalid/several.yaml:7: path /services/foo: key alerter.email: invalid email address \"nobody\"\ntestdata/invalid/several.yaml:8: path /services/foo: key alerter.sms: unknown key; valid keys are email, slack, hipchat\ntestdata/invalid/several.yaml:9: top-level key \"relative/path\" is not an absolute znode path\ntestdata/invalid/several.yaml:12: path /services/bar: key max_children: must be a non-negative integer, got -2\ntestdata/invalid/several.yaml:13: path /services/bar: key severity: must be a string, got a list"},
		{"severity-empty.yaml", "testdata/invalid/severity-empty.yaml:2: path /services/foo: key severity: must not be empty"},
		{"slack-channel-comment.yaml", "testdata/invalid/slack-channel-comment.yaml:4: path /services/foo: key alerter.slack.channel: must be a string, got null (a value starting with \"#\" must be quoted)"},
		{"slack-no-channel.yaml", "testdata/invalid/slack-no-channel.yaml:3: path /services/foo: key alerter.slack: channel is required"},
		{"slack-token-list.yaml", "testdata/invalid/slack-token-list.yaml:5: path /services/foo: key alerter.slack.token: must be a string, got a list"},
		{"slack-unknown-key.yaml", "testdata/invalid/slack-unknown-key.yaml:5: path /services/foo: key alerter.slack.webhook: unknown key; valid keys are channel, token, from"},
		{"spec-not-a-mapping.yaml", "testdata/invalid/spec-not-a-mapping.yaml:1: path /services/foo: a path spec must be a mapping of keys (children, alerter, ...), got 3"},
		{"summary-mapping.yaml", "testdata/invalid/summary-mapping.yaml:2: path /services/foo: key summary: must be a string, got a mapping"},
		{"timeout-and-for.yaml", "testdata/invalid/timeout-and-for.yaml:3: path /services/foo: key for: cancel_timeout and for are the same setting; set only one"},
		{"timeout-negative.yaml", "testdata/invalid/timeout-negative.yaml:2: path /services/foo: key cancel_timeout: must not be negative, got -5"},
		{"timeout-string.yaml", "testdata/invalid/timeout-string.yaml:2: path /services/foo: key cancel_timeout: must be a number of seconds or a duration such as \"30s\", got \"soon\""},
		{"trailing-slash.yaml", "testdata/invalid/trailing-slash.yaml:1: invalid znode path \"/services/foo/\": path must not end with \"/\""},
		{"two-documents.yaml", "testdata/invalid/two-documents.yaml:3: the file must hold a single YAML document"},
		{"unknown-alerter.yaml", "testdata/invalid/unknown-alerter.yaml:3: path /services/foo: key alerter.pagerduty: unknown key; valid keys are email, slack, hipchat"},
		{"unknown-key.yaml", "testdata/invalid/unknown-key.yaml:2: path /services/foo: key alert_email: unknown key; valid keys are children, max_children, children_matching, exists, ephemeral, data, min_data_bytes, max_data_bytes, max_age, cancel_timeout, for, alerter, labels, severity, summary, runbook_url"},
	}
	covered := map[string]bool{}
	for _, tc := range tests {
		covered[tc.file] = true
		t.Run(tc.file, func(t *testing.T) {
			cfg, _, err := Load(filepath.Join("testdata", "invalid", tc.file))
			if err == nil {
				t.Fatalf("Load succeeded, want error %q", tc.err)
			}
			if err.Error() != tc.err {
				t.Errorf("error:\n got  %q\n want %q", err.Error(), tc.err)
			}
			if cfg != nil {
				t.Errorf("Load returned a config with its error")
			}
			var e *Error
			if !errors.As(err, &e) {
				t.Errorf("error %T does not unwrap to *Error", err)
			} else if e.File != filepath.Join("testdata", "invalid", tc.file) {
				t.Errorf("Error.File = %q", e.File)
			}
		})
	}
	// Every fixture is paired with its error.
	files, err := filepath.Glob(filepath.Join("testdata", "invalid", "*.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range files {
		if !covered[filepath.Base(f)] {
			t.Errorf("fixture %s has no expected error in this test", f)
		}
	}
}

// TestParseInvalid covers inputs that are awkward to keep as files.
func TestParseInvalid(t *testing.T) {
	for _, tc := range []struct {
		name, in, err string
	}{
		{"null character in path", "\"/a/\\0b\": {}\n", `f.yaml:1: invalid znode path "/a/\x00b": path must not contain the null character`},
		{"reserved unicode in path", "\"/a/\\ufff5\": {}\n", `f.yaml:1: invalid znode path "/a/\ufff5": path must not contain control or reserved characters`},
		{"UTF-8 label name", "/a:\n  labels: {\u00e9quipe: x}\n", `f.yaml:2: path /a: key labels: invalid label name "équipe": must match ^[a-zA-Z_][a-zA-Z0-9_]*$`},
		{"label name starting with a digit", "/a:\n  labels: {1team: x}\n", `f.yaml:2: path /a: key labels: invalid label name "1team": must match ^[a-zA-Z_][a-zA-Z0-9_]*$`},
		{"empty path key", "\"\": {}\n", `f.yaml:1: top-level key "" is not an absolute znode path`},
		{"integer path key", "123: {}\n", `f.yaml:1: top-level key "123" is not an absolute znode path`},
		{"null path key", "~: {}\n", `f.yaml:1: top-level key "~" is not an absolute znode path`},
		{"hex children", "/a:\n  children: 0x10\n", `f.yaml:2: path /a: key children: must be a non-negative integer, got 0x10`},
		{"octal-looking children", "/a:\n  children: 010\n", `f.yaml:2: path /a: key children: must be a non-negative integer, got 010`},
		{"children overflow", "/a:\n  children: 99999999999999999999\n", `f.yaml:2: path /a: key children: must be a non-negative integer, got 99999999999999999999`},
		{"max_children string", "/a:\n  max_children: lots\n", `f.yaml:2: path /a: key max_children: must be a non-negative integer, got "lots"`},
		{"for not a number", "/a:\n  for: .nan\n", `f.yaml:2: path /a: key for: must be a number of seconds or a duration such as "30s", got .nan`},
		{"cancel_timeout too long", "/a:\n  cancel_timeout: 1e300\n", `f.yaml:2: path /a: key cancel_timeout: is too long, got 1e300`},
		{"cancel_timeout then for", "/a:\n  for: 1s\n  cancel_timeout: 1\n", `f.yaml:3: path /a: key cancel_timeout: cancel_timeout and for are the same setting; set only one`},
		{"email list item not a string", "/a:\n  alerter:\n    email:\n      - a@example.com\n      - [b@example.com]\n", `f.yaml:5: path /a: key alerter.email: must be a string, got a list`},
		{"email empty list", "/a:\n  alerter:\n    email: []\n", `f.yaml:3: path /a: key alerter.email: must list at least one address`},
		{"email two at signs", "/a:\n  alerter:\n    email: a@b@c\n", `f.yaml:3: path /a: key alerter.email: invalid email address "a@b@c"`},
		{"email list item with a space", "/a:\n  alerter:\n    email: ['a b@c']\n", `f.yaml:3: path /a: key alerter.email: invalid email address "a b@c"`},
		{"slack not a mapping", "/a:\n  alerter:\n    slack: '#ops'\n", `f.yaml:3: path /a: key alerter.slack: must be a mapping with channel, got "#ops"`},
		{"data regex empty", "/a:\n  data: {regex: ''}\n", `f.yaml:2: path /a: key data.regex: must not be empty`},
		{"data null", "/a:\n  data:\n", `f.yaml:2: path /a: key data: must be a mapping with regex, or json_field and equals, got null`},
		{"max_age zero duration", "/a:\n  max_age: 0s\n", `f.yaml:2: path /a: key max_age: must be positive, got "0s"`},
		{"max_age null", "/a:\n  max_age:\n", `f.yaml:2: path /a: key max_age: must be a number of seconds or a duration such as "30s", got null`},
		{"max_age mapping", "/a:\n  max_age: {minutes: 5}\n", `f.yaml:2: path /a: key max_age: must be a number of seconds or a duration such as "30s", got a mapping`},
		{"ephemeral null", "/a:\n  ephemeral:\n", `f.yaml:2: path /a: key ephemeral: must be true or false, got null`},
		{"max_data_bytes float", "/a:\n  max_data_bytes: 1.5e6\n", `f.yaml:2: path /a: key max_data_bytes: must be a non-negative integer, got 1.5e6`},
		{"children_matching empty", "/a:\n  max_children: 1\n  children_matching: ''\n", `f.yaml:3: path /a: key children_matching: must not be empty`},
		{"children_matching with a bad max_children", "/a:\n  max_children: x\n  children_matching: a\n", `f.yaml:2: path /a: key max_children: must be a non-negative integer, got "x"`},
		{"runbook without host", "/a:\n  runbook_url: 'https:///x'\n", `f.yaml:2: path /a: key runbook_url: must be an absolute URL such as https://wiki.example.com/runbook, got "https:///x"`},
		{"duplicate label", "/a:\n  labels:\n    team: a\n    team: b\n", `f.yaml:4: path /a: key labels.team: duplicate key (first defined on line 3)`},
		{"mapping as a key", "/a:\n  ? {x: 1}\n  : 2\n", `f.yaml:2: path /a: keys must be strings, got a mapping`},
		{"control characters in an unknown key", "/a:\n  \"bad\\tkey\": 1\n", `f.yaml:2: path /a: key "bad\tkey": unknown key; valid keys are children, max_children, children_matching, exists, ephemeral, data, min_data_bytes, max_data_bytes, max_age, cancel_timeout, for, alerter, labels, severity, summary, runbook_url`},
		{"long unknown key cut", "/a:\n  " + strings.Repeat("k", 300) + ": 1\n", `f.yaml:2: path /a: key "` + strings.Repeat("k", 40) + `"...: unknown key; valid keys are children, max_children, children_matching, exists, ephemeral, data, min_data_bytes, max_data_bytes, max_age, cancel_timeout, for, alerter, labels, severity, summary, runbook_url`},
		{"tab indentation", "/a:\n\tchildren: 1\n", `f.yaml:2: invalid YAML: found character that cannot start any token`},
		{"invalid UTF-8", "/a: \xff\n", `f.yaml: invalid YAML: invalid leading UTF-8 octet`},
		{"merge of a scalar", "/a:\n  <<: 3\n", `f.yaml:2: path /a: a merge key (<<) needs a mapping or a list of mappings, got 3`},
		{"errors sorted by line", "/b:\n  children: x\n/a:\n  children: y\n", "f.yaml:2: path /b: key children: must be a non-negative integer, got \"x\"\nf.yaml:4: path /a: key children: must be a non-negative integer, got \"y\""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg, _, err := Parse([]byte(tc.in), "f.yaml")
			if err == nil {
				t.Fatalf("Parse succeeded, want error %q", tc.err)
			}
			if err.Error() != tc.err {
				t.Errorf("error:\n got  %q\n want %q", err.Error(), tc.err)
			}
			if cfg != nil {
				t.Errorf("Parse returned a config with its error")
			}
		})
	}
}

func TestErrorsType(t *testing.T) {
	_, _, err := Load(filepath.Join("testdata", "invalid", "several.yaml"))
	var errs Errors
	if !errors.As(err, &errs) {
		t.Fatalf("error %T is not Errors", err)
	}
	want := []Error{
		{Line: 5, Path: "/services/foo", Key: "children"},
		{Line: 7, Path: "/services/foo", Key: "alerter.email"},
		{Line: 8, Path: "/services/foo", Key: "alerter.sms"},
		{Line: 9},
		{Line: 12, Path: "/services/bar", Key: "max_children"},
		{Line: 13, Path: "/services/bar", Key: "severity"},
	}
	if len(errs) != len(want) {
		t.Fatalf("got %d errors, want %d: %v", len(errs), len(want), err)
	}
	for i, w := range want {
		if errs[i].Line != w.Line || errs[i].Path != w.Path || errs[i].Key != w.Key {
			t.Errorf("error %d: got line %d path %q key %q, want line %d path %q key %q",
				i, errs[i].Line, errs[i].Path, errs[i].Key, w.Line, w.Path, w.Key)
		}
	}
	// A single problem is returned as the *Error itself.
	_, _, err = Load(filepath.Join("testdata", "invalid", "children-string.yaml"))
	if _, ok := err.(*Error); !ok {
		t.Errorf("single problem: error is %T, want *Error", err)
	}
}

func TestLoadMissingFile(t *testing.T) {
	_, _, err := Load(filepath.Join(t.TempDir(), "nope.yaml"))
	if !errors.Is(err, os.ErrNotExist) {
		t.Errorf("Load of a missing file: %v, want an error wrapping os.ErrNotExist", err)
	}
}

func TestWarnings(t *testing.T) {
	const noPaths = "file has no paths; nothing to watch"
	for _, tc := range []struct {
		file  string
		paths int
		want  []string
	}{
		{"empty.yaml", 0, []string{"testdata/warnings/empty.yaml: " + noPaths}},
		{"comments.yaml", 0, []string{"testdata/warnings/comments.yaml: " + noPaths}},
		{"empty-mapping.yaml", 0, []string{"testdata/warnings/empty-mapping.yaml:1: " + noPaths}},
		{"null.yaml", 0, []string{"testdata/warnings/null.yaml:1: " + noPaths}},
		{"credentials.yaml", 1, []string{
			"testdata/warnings/credentials.yaml:6: /services/foo: alerter.slack.token: token is ignored; configure credentials in Alertmanager",
			"testdata/warnings/credentials.yaml:7: /services/foo: alerter.slack.from: from is ignored; the sender is configured in Alertmanager",
			"testdata/warnings/credentials.yaml:8: /services/foo: alerter.hipchat: HipChat was shut down in 2019; the room is kept as the hipchat_room alert label only",
			"testdata/warnings/credentials.yaml:10: /services/foo: alerter.hipchat.token: token is ignored; configure credentials in Alertmanager",
			"testdata/warnings/credentials.yaml:11: /services/foo: alerter.hipchat.from: from is ignored; the sender is configured in Alertmanager",
		}},
	} {
		t.Run(tc.file, func(t *testing.T) {
			cfg, warnings, err := Load(filepath.Join("testdata", "warnings", tc.file))
			if err != nil {
				t.Fatalf("Load: %v", err)
			}
			if len(cfg.Paths) != tc.paths {
				t.Errorf("got %d paths, want %d", len(cfg.Paths), tc.paths)
			}
			var got []string
			for _, w := range warnings {
				got = append(got, w.String())
			}
			if !slices.Equal(got, tc.want) {
				t.Errorf("warnings:\n got  %q\n want %q", got, tc.want)
			}
		})
	}
}

func TestCredentialsKept(t *testing.T) {
	cfg, warnings, err := Load(filepath.Join("testdata", "warnings", "credentials.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	want := []PathSpec{{
		Path: "/services/foo", MinChildren: intp(1), Line: 1,
		Alerter: Alerter{SlackChannel: "#ops", HipChatRoom: "4242"},
	}}
	checkPaths(t, cfg.Paths, want)
	if len(warnings) == 0 {
		t.Error("no warnings about the ignored credentials")
	}
}

// TestTokensNeverKept checks that credentials in the file reach no output:
// not the parsed config (exported or unexported fields), not a warning, not
// an error.
func TestTokensNeverKept(t *testing.T) {
	secrets := []string{"SECRET", "xoxb"}
	check := func(t *testing.T, what, s string) {
		t.Helper()
		for _, secret := range secrets {
			if strings.Contains(s, secret) {
				t.Errorf("%s contains %q: %s", what, secret, s)
			}
		}
	}
	for _, file := range []string{
		"warnings/credentials.yaml",
		"invalid/slack-no-channel.yaml",
		"invalid/slack-token-list.yaml",
	} {
		t.Run(file, func(t *testing.T) {
			raw, err := os.ReadFile(filepath.Join("testdata", file))
			if err != nil {
				t.Fatal(err)
			}
			if !strings.Contains(string(raw), "SECRET") {
				t.Fatal("fixture has no token to look for")
			}
			cfg, warnings, err := Load(filepath.Join("testdata", file))
			check(t, "config", fmt.Sprintf("%+v %#v", cfg, cfg))
			if cfg != nil {
				for _, p := range cfg.Paths {
					check(t, "path spec", fmt.Sprintf("%+v %#v", p, p))
					for _, s := range reachableStrings(reflect.ValueOf(p), map[uintptr]bool{}) {
						check(t, "a field of the path spec", s)
					}
				}
			}
			for _, w := range warnings {
				check(t, "warning", fmt.Sprintf("%+v %#v %s", w, w, w))
			}
			if err != nil {
				check(t, "error", fmt.Sprintf("%+v %#v %s", err, err, err))
			}
		})
	}
}

// reachableStrings collects every string reachable from v, through
// pointers, slices, maps and struct fields, exported or not.
func reachableStrings(v reflect.Value, seen map[uintptr]bool) []string {
	switch v.Kind() {
	case reflect.String:
		return []string{v.String()}
	case reflect.Pointer:
		if v.IsNil() || seen[v.Pointer()] {
			return nil
		}
		seen[v.Pointer()] = true
		return reachableStrings(v.Elem(), seen)
	case reflect.Interface:
		if v.IsNil() {
			return nil
		}
		return reachableStrings(v.Elem(), seen)
	case reflect.Struct:
		var out []string
		for i := range v.NumField() {
			out = append(out, reachableStrings(v.Field(i), seen)...)
		}
		return out
	case reflect.Slice, reflect.Array:
		var out []string
		if v.Kind() == reflect.Slice && v.Type().Elem().Kind() == reflect.Uint8 {
			return []string{string(v.Bytes())}
		}
		for i := range v.Len() {
			out = append(out, reachableStrings(v.Index(i), seen)...)
		}
		return out
	case reflect.Map:
		var out []string
		iter := v.MapRange()
		for iter.Next() {
			out = append(out, reachableStrings(iter.Key(), seen)...)
			out = append(out, reachableStrings(iter.Value(), seen)...)
		}
		return out
	}
	return nil
}

func TestLookup(t *testing.T) {
	cfg, _, err := Load(filepath.Join("testdata", "full.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		path string
		ok   bool
	}{
		{"/services/web", true},
		{"/", true},
		{"/unchecked", true},
		{"/services/*/config", true},
		{"/services/api/config", false}, // matched by a glob, but lookup is exact
		{"/services", false},
		{"/zzz", false},
		{"", false},
	} {
		t.Run(tc.path, func(t *testing.T) {
			spec, ok := cfg.lookup(tc.path)
			if ok != tc.ok {
				t.Fatalf("lookup(%q) ok = %v, want %v", tc.path, ok, tc.ok)
			}
			if ok && spec.Path != tc.path {
				t.Errorf("lookup(%q) returned %q", tc.path, spec.Path)
			}
		})
	}
	var nilConfig *Config
	if _, ok := nilConfig.lookup("/"); ok {
		t.Error("lookup on a nil config found something")
	}
}

func TestMessagesFormat(t *testing.T) {
	for _, tc := range []struct {
		name string
		got  string
		want string
	}{
		{"error, all parts", (&Error{File: "f.yaml", Line: 3, Path: "/x", Key: "children", Msg: "bad"}).Error(), "f.yaml:3: path /x: key children: bad"},
		{"error, no line", (&Error{File: "f.yaml", Msg: "bad"}).Error(), "f.yaml: bad"},
		{"error, no file", (&Error{Line: 2, Msg: "bad"}).Error(), "line 2: bad"},
		{"error, odd path quoted", (&Error{File: "f", Line: 1, Path: "/a b", Msg: "bad"}).Error(), `f:1: path "/a b": bad`},
		{"errors", Errors{{File: "f", Line: 1, Msg: "a"}, {File: "f", Line: 2, Msg: "b"}}.Error(), "f:1: a\nf:2: b"},
		{"warning, all parts", Warning{File: "f.yaml", Line: 4, Path: "/x", Key: "alerter.slack.token", Message: "m"}.String(), "f.yaml:4: /x: alerter.slack.token: m"},
		{"warning, file only", Warning{File: "f.yaml", Message: "m"}.String(), "f.yaml: m"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if tc.got != tc.want {
				t.Errorf("got %q, want %q", tc.got, tc.want)
			}
		})
	}
}

// TestExamplesLoad keeps every path-spec file in examples/ valid and free
// of warnings, with at least one example of each key.
func TestExamplesLoad(t *testing.T) {
	files, err := filepath.Glob(filepath.Join("..", "examples", "*.yaml"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no examples: %v", err)
	}
	used := map[string]bool{}
	for _, f := range files {
		t.Run(filepath.Base(f), func(t *testing.T) {
			cfg, warnings, err := Load(f)
			if err != nil {
				t.Fatal(err)
			}
			for _, w := range warnings {
				t.Errorf("warning: %s", w)
			}
			raw, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			for _, key := range specKeys {
				if strings.Contains(string(raw), "\n  "+key+":") || strings.Contains(string(raw), "{"+key+":") || strings.Contains(string(raw), ", "+key+":") {
					used[key] = true
				}
			}
			if len(cfg.Paths) == 0 {
				t.Error("no paths")
			}
		})
	}
	for _, key := range []string{"max_age", "ephemeral", "min_data_bytes", "max_data_bytes", "children_matching"} {
		if !used[key] {
			t.Errorf("no example in examples/ uses %s", key)
		}
	}
}
