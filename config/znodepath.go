package config

import (
	"errors"
	"path"
	"strings"
)

// ValidateZnodePath checks a concrete znode path (a chroot, the cluster
// prefix, a path to create) against ZooKeeper's own rules
// (org.apache.zookeeper.common.PathUtils.validatePath), so that a bad path
// is refused with a clear message before ZooKeeper sees it. "*" is an
// ordinary character here; only the path specs of a configuration file
// give it a meaning. The returned error completes the sentence
// `invalid znode path "...": `.
func ValidateZnodePath(p string) error {
	switch {
	case p == "":
		return errors.New("path must not be empty")
	case p[0] != '/':
		return errors.New(`path must start with "/"`)
	case p == "/":
		return nil
	case strings.HasSuffix(p, "/"):
		return errors.New(`path must not end with "/"`)
	}
	for _, seg := range strings.Split(p[1:], "/") {
		switch seg {
		case "":
			return errors.New("path must not contain empty segments")
		case ".", "..":
			return errors.New(`path must not contain "." or ".." segments`)
		}
		for _, r := range seg {
			if r == 0 {
				return errors.New("path must not contain the null character")
			}
			if invalidPathRune(r) {
				return errors.New("path must not contain control or reserved characters")
			}
		}
	}
	return nil
}

// ValidateNodeName checks one node name, such as a cluster or agent name
// that becomes a single segment of a znode path.
func ValidateNodeName(name string) error {
	switch {
	case name == "":
		return errors.New("name must not be empty")
	case strings.Contains(name, "/"):
		return errors.New(`name must not contain "/"`)
	}
	return ValidateZnodePath("/" + name)
}

// validatePattern checks a path spec's path: a znode path whose segments
// holding a "*" must also be valid path.Match patterns.
func validatePattern(p string) error {
	if err := ValidateZnodePath(p); err != nil {
		return err
	}
	for _, seg := range segments(p) {
		if isGlobSegment(seg) {
			if _, err := path.Match(seg, ""); err != nil {
				return errors.New("malformed glob pattern in segment " + quoteValue(seg))
			}
		}
	}
	return nil
}

// invalidPathRune reports the characters ZooKeeper refuses in node names.
// Go decodes invalid UTF-8 and surrogate halves to U+FFFD, which falls in
// the refused range too.
func invalidPathRune(r rune) bool {
	return (r > 0x00 && r <= 0x1f) ||
		(r >= 0x7f && r <= 0x9f) ||
		(r >= 0xd800 && r <= 0xf8ff) ||
		(r >= 0xfff0 && r <= 0xffff)
}

// isGlobSegment reports whether a path segment is a pattern: it is when it
// contains "*". Such a segment is matched with path.Match, so "?", "[...]"
// and "\" escapes work inside it too; a segment without "*" is always
// compared literally.
func isGlobSegment(seg string) bool {
	return strings.Contains(seg, "*")
}

// segments splits an absolute path into its node names; "/" has none.
func segments(p string) []string {
	if p == "/" {
		return nil
	}
	return strings.Split(strings.TrimPrefix(p, "/"), "/")
}
