package config

import (
	"errors"
	"os"
	"path/filepath"
	"slices"
	"testing"
)

// FuzzParse checks that Parse never panics, that a failure is always an
// *Error or Errors with the file name in it, and that a success is a
// well-formed Config that parses the same way again.
func FuzzParse(f *testing.F) {
	for _, pattern := range []string{"testdata/*.yaml", "testdata/invalid/*.yaml", "testdata/warnings/*.yaml"} {
		files, err := filepath.Glob(pattern)
		if err != nil {
			f.Fatal(err)
		}
		for _, file := range files {
			data, err := os.ReadFile(file)
			if err != nil {
				f.Fatal(err)
			}
			f.Add(data)
		}
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		cfg, warnings, err := Parse(data, "fuzz.yaml")
		for _, w := range warnings {
			if w.File != "fuzz.yaml" || w.Line < 0 {
				t.Errorf("warning without its place: %+v", w)
			}
		}
		if err != nil {
			if cfg != nil {
				t.Fatal("config returned with an error")
			}
			var e *Error
			if !errors.As(err, &e) {
				t.Fatalf("error %T is neither *Error nor Errors: %v", err, err)
			}
			var list Errors
			if errors.As(err, &list) {
				if len(list) < 2 {
					t.Fatalf("Errors with %d entries", len(list))
				}
				if !slices.IsSortedFunc(list, func(a, b *Error) int { return a.Line - b.Line }) {
					t.Errorf("errors not in line order: %v", err)
				}
			}
			for _, e := range append(list, e) {
				if e.File != "fuzz.yaml" || e.Line < 0 || e.Msg == "" {
					t.Errorf("error without its place or message: %+v", e)
				}
			}
			return
		}
		if cfg == nil {
			t.Fatal("nil config without an error")
		}
		for i, s := range cfg.Paths {
			if err := validatePattern(s.Path); err != nil {
				t.Errorf("accepted invalid path %q: %v", s.Path, err)
			}
			if i > 0 && cfg.Paths[i-1].Path >= s.Path {
				t.Errorf("paths not sorted and unique: %q then %q", cfg.Paths[i-1].Path, s.Path)
			}
			if got, ok := cfg.lookup(s.Path); !ok || !got.Equal(s) {
				t.Errorf("lookup(%q) does not find its spec", s.Path)
			}
			if !s.Match(s.Path) && !s.IsGlob() {
				t.Errorf("spec %q does not match its own path", s.Path)
			}
			if s.MinChildren != nil && *s.MinChildren < 0 || s.MaxChildren != nil && *s.MaxChildren < 0 || s.CancelTimeout < 0 ||
				s.MaxAge < 0 || s.MinDataBytes != nil && *s.MinDataBytes < 0 || s.MaxDataBytes != nil && *s.MaxDataBytes < 0 {
				t.Errorf("negative value accepted: %s", specString(s))
			}
			if s.ChildrenMatching != nil && s.MinChildren == nil && s.MaxChildren == nil {
				t.Errorf("children_matching accepted without children or max_children: %s", specString(s))
			}
			if d := s.Data; d != nil && (d.Regex == nil) == (d.JSONField == "") {
				t.Errorf("data check with not exactly one kind: %+v", d)
			}
		}
		again, _, err := Parse(data, "fuzz.yaml")
		if err != nil {
			t.Fatalf("second parse failed: %v", err)
		}
		if len(again.Paths) != len(cfg.Paths) {
			t.Fatalf("second parse gave %d paths, first %d", len(again.Paths), len(cfg.Paths))
		}
		for i := range cfg.Paths {
			if !cfg.Paths[i].Equal(again.Paths[i]) {
				t.Errorf("second parse differs at %q", cfg.Paths[i].Path)
			}
		}
	})
}
