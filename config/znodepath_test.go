package config

import "testing"

func TestValidateZnodePath(t *testing.T) {
	cases := []struct {
		path    string
		wantErr string // "" = valid
	}{
		{"/", ""},
		{"/a", ""},
		{"/zk_monitor/prod-1/agents/host.example.com-42", ""},
		{"/a b/[x]/c*d?", ""}, // glob characters are plain characters in a concrete path
		{"/zookeeper", ""},
		{"/\u00e9t\u00e9", ""},
		{"", "path must not be empty"},
		{"a/b", `path must start with "/"`},
		{"/a/", `path must not end with "/"`},
		{"//a", "path must not contain empty segments"},
		{"/a//b", "path must not contain empty segments"},
		{"/a/.", `path must not contain "." or ".." segments`},
		{"/../a", `path must not contain "." or ".." segments`},
		{"/a/.hidden", ""},
		{"/a\x00b", "path must not contain the null character"},
		{"/a\tb", "path must not contain control or reserved characters"},
		{"/a\x7f", "path must not contain control or reserved characters"},
		{"/a\u0085", "path must not contain control or reserved characters"},
		{"/a\ue000", "path must not contain control or reserved characters"},
		{"/a\ufff0", "path must not contain control or reserved characters"},
		{"/a\xff", "path must not contain control or reserved characters"}, // invalid UTF-8
	}
	for _, tc := range cases {
		t.Run(tc.path, func(t *testing.T) {
			checkErr(t, ValidateZnodePath(tc.path), tc.wantErr)
		})
	}
}

func TestValidateNodeName(t *testing.T) {
	cases := []struct {
		name    string
		wantErr string
	}{
		{"zkmonitor", ""},
		{"host-1.example.com-4242", ""},
		{"*", ""},
		{"", "name must not be empty"},
		{"a/b", `name must not contain "/"`},
		{"/a", `name must not contain "/"`},
		{".", `path must not contain "." or ".." segments`},
		{"..", `path must not contain "." or ".." segments`},
		{"a\x00", "path must not contain the null character"},
		{"a\nb", "path must not contain control or reserved characters"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			checkErr(t, ValidateNodeName(tc.name), tc.wantErr)
		})
	}
}

// TestValidatePattern adds glob syntax to the znode rules for path specs.
func TestValidatePattern(t *testing.T) {
	cases := []struct {
		path    string
		wantErr string
	}{
		{"/services/*/instances", ""},
		{"/services/web-[0-9]*", ""},
		{"/services/[x]", ""}, // no "*": compared literally, never parsed as a pattern
		{"/services/[*", `malformed glob pattern in segment "[*"`},
		{"/services/*/", `path must not end with "/"`},
		{"services/*", `path must start with "/"`},
	}
	for _, tc := range cases {
		t.Run(tc.path, func(t *testing.T) {
			checkErr(t, validatePattern(tc.path), tc.wantErr)
		})
	}
}

func checkErr(t *testing.T, err error, want string) {
	t.Helper()
	switch {
	case want == "" && err != nil:
		t.Errorf("unexpected error %v", err)
	case want != "" && (err == nil || err.Error() != want):
		t.Errorf("error %v, want %q", err, want)
	}
}
