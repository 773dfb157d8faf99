package config

import (
	"fmt"
	"io"
	"strings"
)

// Check validates files the way promtool check config does: each file gets
// a "Checking FILE" line and then a SUCCESS summary on stdout, or FAILED
// and every error as file:line on stderr. It reports whether all were
// valid.
func Check(stdout, stderr io.Writer, files ...string) bool {
	ok := true
	for _, f := range files {
		fmt.Fprintf(stdout, "Checking %s\n", f)
		cfg, warnings, err := Load(f)
		for _, w := range warnings {
			fmt.Fprintf(stderr, "  WARNING: %s\n", w)
		}
		if err != nil {
			fmt.Fprintf(stderr, "  FAILED:\n")
			for _, line := range strings.Split(err.Error(), "\n") {
				fmt.Fprintf(stderr, "    %s\n", line)
			}
			ok = false
			continue
		}
		globs := 0
		for _, p := range cfg.Paths {
			if p.IsGlob() {
				globs++
			}
		}
		fmt.Fprintf(stdout, "  SUCCESS: %d paths (%d glob patterns) found\n", len(cfg.Paths), globs)
	}
	return ok
}
