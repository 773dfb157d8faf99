package cluster

import (
	"strings"
	"testing"
)

func TestParseCandidate(t *testing.T) {
	guid := strings.Repeat("0123456789abcdef", 2)
	tests := []struct {
		name     string
		node     string
		ok       bool
		wantSeq  int64
		wantGUID string
	}{
		{"protected", "_c_" + guid + "-lock-0000000042", true, 42, guid},
		{"plain lock", "lock-0000000007", true, 7, ""},
		{"kazoo style", "e2f9b1__lock__0000000003", true, 3, ""},
		{"no dash before sequence", "n_0000000011", true, 11, ""},
		{"short guid", "_c_abc-lock-0000000001", true, 1, ""},
		{"guid not hex", "_c_" + strings.Repeat("z", 32) + "-lock-0000000001", true, 1, ""},
		{"no sequence", "lock-", false, 0, ""},
		{"sequence too short", "lock-123", false, 0, ""},
		{"letters in sequence", "lock-00000000x1", false, 0, ""},
		{"empty", "", false, 0, ""},
		{"bare _c_", "_c_", false, 0, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cd, ok := parseCandidate(tt.node)
			if ok != tt.ok {
				t.Fatalf("parseCandidate(%q) ok = %v, want %v", tt.node, ok, tt.ok)
			}
			if !ok {
				return
			}
			if cd.seq != tt.wantSeq || cd.guid != tt.wantGUID || cd.name != tt.node {
				t.Errorf("parseCandidate(%q) = %+v, want seq %d guid %q", tt.node, cd, tt.wantSeq, tt.wantGUID)
			}
		})
	}
}

func TestSortCandidates(t *testing.T) {
	g := func(c string) string { return "_c_" + strings.Repeat(c, 32) + "-lock-" }
	tests := []struct {
		name  string
		nodes []string
		want  []string
	}{
		{
			// Sorting whole names would put the "0..." GUID first.
			name:  "by sequence, not by guid",
			nodes: []string{g("0") + "0000000009", g("f") + "0000000002", g("8") + "0000000005"},
			want:  []string{g("f") + "0000000002", g("8") + "0000000005", g("0") + "0000000009"},
		},
		{
			name:  "foreign and malformed names",
			nodes: []string{"junk", g("a") + "0000000003", "lock-0000000001", "lock-"},
			want:  []string{"lock-0000000001", g("a") + "0000000003"},
		},
		{
			name:  "sequence past nine digits",
			nodes: []string{g("1") + "1000000000", g("2") + "0999999999"},
			want:  []string{g("2") + "0999999999", g("1") + "1000000000"},
		},
		{name: "empty", nodes: nil, want: nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := sortCandidates(tt.nodes)
			if len(got) != len(tt.want) {
				t.Fatalf("sortCandidates = %v, want %v", got, tt.want)
			}
			for i := range got {
				if got[i].name != tt.want[i] {
					t.Errorf("position %d: %s, want %s", i, got[i].name, tt.want[i])
				}
				if indexOf(got, tt.want[i]) != i {
					t.Errorf("indexOf(%s) = %d, want %d", tt.want[i], indexOf(got, tt.want[i]), i)
				}
			}
			if indexOf(got, "absent") != -1 {
				t.Errorf("indexOf(absent) != -1")
			}
		})
	}
}

func TestProtectedName(t *testing.T) {
	guid, err := newGUID()
	if err != nil {
		t.Fatal(err)
	}
	if len(guid) != guidLen || !isHex(guid) {
		t.Fatalf("newGUID() = %q, want %d hex digits", guid, guidLen)
	}
	// What ZooKeeper makes of it must parse back to the same GUID.
	cd, ok := parseCandidate(protectedName(guid) + "0000000123")
	if !ok || cd.guid != guid || cd.seq != 123 {
		t.Errorf("parseCandidate(protectedName) = %+v, %v", cd, ok)
	}
}
