// Package config reads zk_monitor's path-spec file: the YAML file of znode
// paths to watch and what each must satisfy. The format is the one the
// original Python zkmonitor read (a mapping of absolute znode paths to specs
// with `children`, `alerter` and `cancel_timeout`), extended with more
// checks and alert settings. Loading is strict: unknown keys, wrong types and
// malformed paths are errors that name the file, line, path and key, so a
// bad file is refused as a whole and never half-applied.
package config

import (
	"fmt"
	"os"
	"slices"
	"sort"
)

// Config is a validated path-spec file. It is a value: nothing changes it
// after Parse returned it.
type Config struct {
	// Paths holds one spec per top-level key, sorted by Path.
	Paths []PathSpec
}

// lookup returns the spec whose Path is exactly path (a glob spec is found
// by its pattern, not by the paths it matches).
func (c *Config) lookup(path string) (PathSpec, bool) {
	if c == nil {
		return PathSpec{}, false
	}
	i, found := slices.BinarySearchFunc(c.Paths, path, func(s PathSpec, p string) int {
		switch {
		case s.Path < p:
			return -1
		case s.Path > p:
			return 1
		}
		return 0
	})
	if !found {
		return PathSpec{}, false
	}
	return c.Paths[i], true
}

// Load reads and parses the path-spec file filename. See Parse.
func Load(filename string) (*Config, []Warning, error) {
	data, err := os.ReadFile(filename)
	if err != nil {
		return nil, nil, fmt.Errorf("reading path-spec file: %w", err)
	}
	return Parse(data, filename)
}

// Parse parses and validates a path-spec file's content; filename is only
// used in messages. When the file is invalid the error is an *Error for a
// single problem or Errors listing every problem found, and the Config is
// nil. Warnings are returned either way, sorted by line.
func Parse(data []byte, filename string) (*Config, []Warning, error) {
	p := &parser{file: filename, errs: errorList{file: filename}, mergeBudget: maxMergedPairs}
	specs := p.parseFile(data)
	sort.SliceStable(p.warnings, func(i, j int) bool { return p.warnings[i].Line < p.warnings[j].Line })
	if err := p.errs.err(); err != nil {
		sort.SliceStable(p.errs.errs, func(i, j int) bool { return p.errs.errs[i].Line < p.errs.errs[j].Line })
		return nil, p.warnings, p.errs.err()
	}
	sort.Slice(specs, func(i, j int) bool { return specs[i].Path < specs[j].Path })
	return &Config{Paths: specs}, p.warnings, nil
}
