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
			Data:          &DataCheck{Regex: mustRegexp(`^x`)},
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
