package config

import "testing"

// TestZnodeValidators: ValidateZnodePath follows ZooKeeper's PathUtils,
// ValidateNodeName checks one segment with the same rules, and
// validatePattern adds glob syntax for path specs.
func TestZnodeValidators(t *testing.T) {
	const (
		path    = "ValidateZnodePath"
		name    = "ValidateNodeName"
		pattern = "validatePattern"
	)
	validators := map[string]func(string) error{path: ValidateZnodePath, name: ValidateNodeName, pattern: validatePattern}
	cases := []struct {
		validator, in string
		wantErr       string // "" = valid
	}{
		{path, "/", ""},
		{path, "/a", ""},
		{path, "/zk_monitor/prod-1/agents/host.example.com-42", ""},
		{path, "/a b/[x]/c*d?", ""}, // glob characters are plain characters in a concrete path
		{path, "/a/[*", ""},
		{path, "/zookeeper", ""},
		{path, "/\u00e9t\u00e9", ""},
		{path, "/a/.hidden", ""},
		{path, "", "path must not be empty"},
		{path, "a/b", `path must start with "/"`},
		{path, "/a/", `path must not end with "/"`},
		{path, "//a", "path must not contain empty segments"},
		{path, "/a//b", "path must not contain empty segments"},
		{path, "/a/.", `path must not contain "." or ".." segments`},
		{path, "/../a", `path must not contain "." or ".." segments`},
		{path, "/a\x00b", "path must not contain the null character"},
		{path, "/a\tb", "path must not contain control or reserved characters"},
		{path, "/a\x7f", "path must not contain control or reserved characters"},
		{path, "/a\u0085", "path must not contain control or reserved characters"},
		{path, "/a\ue000", "path must not contain control or reserved characters"},
		{path, "/a\ufff0", "path must not contain control or reserved characters"},
		{path, "/a\xff", "path must not contain control or reserved characters"}, // invalid UTF-8

		{name, "zkmonitor", ""},
		{name, "host-1.example.com-4242", ""},
		{name, "*", ""},
		{name, "", "name must not be empty"},
		{name, "a/b", `name must not contain "/"`},
		{name, "/a", `name must not contain "/"`},
		{name, ".", `path must not contain "." or ".." segments`},
		{name, "..", `path must not contain "." or ".." segments`},
		{name, "a\x00", "path must not contain the null character"},
		{name, "a\nb", "path must not contain control or reserved characters"},

		{pattern, "/services/*/instances", ""},
		{pattern, "/services/web-[0-9]*", ""},
		{pattern, "/services/[x]", ""}, // no "*": compared literally, never parsed as a pattern
		{pattern, "/services/[*", `malformed glob pattern in segment "[*"`},
		{pattern, "/services/*/", `path must not end with "/"`},
		{pattern, "services/*", `path must start with "/"`},
	}
	for _, tc := range cases {
		t.Run(tc.validator+"/"+tc.in, func(t *testing.T) {
			err := validators[tc.validator](tc.in)
			switch {
			case tc.wantErr == "" && err != nil:
				t.Errorf("unexpected error %v", err)
			case tc.wantErr != "" && (err == nil || err.Error() != tc.wantErr):
				t.Errorf("error %v, want %q", err, tc.wantErr)
			}
		})
	}
}
