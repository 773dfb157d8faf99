package config

import (
	"regexp"
	"testing"
	"time"
)

func mustRegexp(s string) *regexp.Regexp { return regexp.MustCompile(s) }

func TestIsGlobAndMatch(t *testing.T) {
	for _, tc := range []struct {
		pattern string
		glob    bool
		match   []string
		noMatch []string
	}{
		{"/services/foo", false, []string{"/services/foo"}, []string{"/services/foo/x", "/services", "/services/fo"}},
		{"/", false, []string{"/"}, []string{"/a", ""}},
		{"/*", true, []string{"/a", "/zookeeper"}, []string{"/", "/a/b", "a"}},
		{"/services/*/config", true, []string{"/services/web/config", "/services/*/config"}, []string{"/services/config", "/services/a/b/config", "/services/web/config/x", "/services//config"}},
		{"/brokers/ids/broker-*", true, []string{"/brokers/ids/broker-1", "/brokers/ids/broker-"}, []string{"/brokers/ids/1", "/brokers/ids/broker-1/x"}},
		{"/a/*-[0-9]", true, []string{"/a/x-1"}, []string{"/a/x-a", "/a/x-10"}},
		// Without a "*", a segment is literal: "?" and "[" are plain
		// characters of ZooKeeper node names.
		{"/a/b?c", false, []string{"/a/b?c"}, []string{"/a/bxc"}},
		{"/hosts/[::1]:2181", false, []string{"/hosts/[::1]:2181"}, []string{"/hosts/:"}},
	} {
		t.Run(tc.pattern, func(t *testing.T) {
			s := PathSpec{Path: tc.pattern}
			if s.IsGlob() != tc.glob {
				t.Errorf("IsGlob() = %v, want %v", s.IsGlob(), tc.glob)
			}
			for _, p := range tc.match {
				if !s.Match(p) {
					t.Errorf("Match(%q) = false, want true", p)
				}
			}
			for _, p := range tc.noMatch {
				if s.Match(p) {
					t.Errorf("Match(%q) = true, want false", p)
				}
			}
		})
	}
}

func TestHasChecks(t *testing.T) {
	for _, tc := range []struct {
		name string
		spec PathSpec
		want bool
	}{
		{"nothing", PathSpec{Path: "/a"}, false},
		{"alerter only", PathSpec{Path: "/a", Alerter: Alerter{Email: []string{"a@b"}}, CancelTimeout: time.Second}, false},
		{"children 0", PathSpec{MinChildren: intp(0)}, true},
		{"max_children", PathSpec{MaxChildren: intp(3)}, true},
		{"exists false", PathSpec{Exists: boolp(false)}, true},
		{"data", PathSpec{Data: &DataCheck{JSONField: "a", Equals: "b"}}, true},
		{"max_age", PathSpec{MaxAge: time.Minute}, true},
		{"ephemeral false", PathSpec{Ephemeral: boolp(false)}, true},
		{"min_data_bytes 0", PathSpec{MinDataBytes: intp(0)}, true},
		{"max_data_bytes", PathSpec{MaxDataBytes: intp(10)}, true},
		// It only narrows children and max_children, which it needs.
		{"children_matching alone", PathSpec{ChildrenMatching: mustRegexp(`^b`)}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := tc.spec.HasChecks(); got != tc.want {
				t.Errorf("HasChecks() = %v, want %v", got, tc.want)
			}
		})
	}
}

func TestEqual(t *testing.T) {
	base := func() PathSpec {
		return PathSpec{
			Path: "/a", MinChildren: intp(1), MaxChildren: intp(5), Exists: boolp(true),
			Data:             &DataCheck{Regex: mustRegexp(`^x`)},
			ChildrenMatching: mustRegexp(`^id-`),
			MaxAge:           time.Minute, Ephemeral: boolp(true), MinDataBytes: intp(1), MaxDataBytes: intp(1024),
			CancelTimeout: time.Minute,
			Alerter:       Alerter{Email: []string{"a@b", "c@d"}, SlackChannel: "#ops", HipChatRoom: "1"},
			Labels:        map[string]string{"team": "x"},
			Severity:      "critical", Summary: "s", RunbookURL: "https://x/y", Line: 3,
		}
	}
	for _, tc := range []struct {
		name   string
		change func(*PathSpec)
		equal  bool
	}{
		{"identical", func(*PathSpec) {}, true},
		{"other line only", func(s *PathSpec) { s.Line = 40 }, true},
		{"same values, other pointers", func(s *PathSpec) { s.MinChildren = intp(1); s.Data = &DataCheck{Regex: mustRegexp(`^x`)} }, true},
		{"nil and empty labels", func(s *PathSpec) { s.Labels = map[string]string{"team": "x"} }, true},
		{"path", func(s *PathSpec) { s.Path = "/b" }, false},
		{"min", func(s *PathSpec) { s.MinChildren = intp(2) }, false},
		{"min unset", func(s *PathSpec) { s.MinChildren = nil }, false},
		{"max", func(s *PathSpec) { s.MaxChildren = nil }, false},
		{"exists", func(s *PathSpec) { s.Exists = boolp(false) }, false},
		{"regex", func(s *PathSpec) { s.Data = &DataCheck{Regex: mustRegexp(`^y`)} }, false},
		{"regex to json", func(s *PathSpec) { s.Data = &DataCheck{JSONField: "a", Equals: "^x"} }, false},
		{"data unset", func(s *PathSpec) { s.Data = nil }, false},
		{"same children_matching, other regexp", func(s *PathSpec) { s.ChildrenMatching = mustRegexp(`^id-`) }, true},
		{"children_matching", func(s *PathSpec) { s.ChildrenMatching = mustRegexp(`^id`) }, false},
		{"children_matching unset", func(s *PathSpec) { s.ChildrenMatching = nil }, false},
		{"max_age", func(s *PathSpec) { s.MaxAge = time.Hour }, false},
		{"max_age unset", func(s *PathSpec) { s.MaxAge = 0 }, false},
		{"ephemeral", func(s *PathSpec) { s.Ephemeral = boolp(false) }, false},
		{"ephemeral unset", func(s *PathSpec) { s.Ephemeral = nil }, false},
		{"min_data_bytes", func(s *PathSpec) { s.MinDataBytes = intp(0) }, false},
		{"max_data_bytes unset", func(s *PathSpec) { s.MaxDataBytes = nil }, false},
		{"timeout", func(s *PathSpec) { s.CancelTimeout = time.Second }, false},
		{"email order", func(s *PathSpec) { s.Alerter.Email = []string{"c@d", "a@b"} }, false},
		{"slack", func(s *PathSpec) { s.Alerter.SlackChannel = "#dev" }, false},
		{"hipchat", func(s *PathSpec) { s.Alerter.HipChatRoom = "" }, false},
		{"label value", func(s *PathSpec) { s.Labels = map[string]string{"team": "y"} }, false},
		{"labels unset", func(s *PathSpec) { s.Labels = nil }, false},
		{"severity", func(s *PathSpec) { s.Severity = "" }, false},
		{"summary", func(s *PathSpec) { s.Summary = "t" }, false},
		{"runbook", func(s *PathSpec) { s.RunbookURL = "https://x/z" }, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			a, b := base(), base()
			tc.change(&b)
			if got := a.Equal(b); got != tc.equal {
				t.Errorf("a.Equal(b) = %v, want %v", got, tc.equal)
			}
			if got := b.Equal(a); got != tc.equal {
				t.Errorf("b.Equal(a) = %v, want %v", got, tc.equal)
			}
		})
	}
}

func TestDataCheckString(t *testing.T) {
	for _, tc := range []struct {
		d    DataCheck
		want string
	}{
		{DataCheck{Regex: mustRegexp(`^v\d+`)}, `regex /^v\d+/`},
		{DataCheck{JSONField: "leader.port", Equals: "5432"}, `json_field leader.port equals "5432"`},
	} {
		t.Run(tc.want, func(t *testing.T) {
			if got := tc.d.String(); got != tc.want {
				t.Errorf("String() = %q, want %q", got, tc.want)
			}
		})
	}
}
