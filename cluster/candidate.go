package cluster

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"sort"
	"strconv"
	"strings"
)

// Election nodes are named like the ones go-zookeeper and Curator create for
// "protected" ephemeral sequential nodes: "_c_<32 hex guid>-lock-<10 digit
// sequence>". The GUID lets an agent find a node it created when the reply to
// the create was lost with the connection; the sequence, appended by
// ZooKeeper, orders the candidates.
const (
	protectedPrefix = "_c_"
	guidLen         = 32
	lockName        = "lock-"
	seqLen          = 10
)

// candidate is one node under <workspace>/election.
type candidate struct {
	name string // node name, no directory
	guid string // the protected GUID, "" when the name carries none
	seq  int64  // the sequence number ZooKeeper appended
}

// parseCandidate reads the sequence number (the last ten characters, all
// digits) and the protected GUID, if any, from an election node name. Names
// without a sequence number are not candidates.
func parseCandidate(name string) (candidate, bool) {
	if len(name) < seqLen {
		return candidate{}, false
	}
	suffix := name[len(name)-seqLen:]
	for _, r := range suffix {
		if r < '0' || r > '9' {
			return candidate{}, false
		}
	}
	seq, err := strconv.ParseInt(suffix, 10, 64)
	if err != nil {
		return candidate{}, false
	}
	cd := candidate{name: name, seq: seq}
	if rest, ok := strings.CutPrefix(name, protectedPrefix); ok && len(rest) > guidLen && rest[guidLen] == '-' && isHex(rest[:guidLen]) {
		cd.guid = rest[:guidLen]
	}
	return cd, true
}

// sortCandidates parses names and returns the candidates ordered by
// sequence number, lowest (the leader) first. The names themselves are not
// comparable: protected names start with a random GUID.
func sortCandidates(names []string) []candidate {
	cands := make([]candidate, 0, len(names))
	for _, n := range names {
		if cd, ok := parseCandidate(n); ok {
			cands = append(cands, cd)
		}
	}
	sort.Slice(cands, func(i, j int) bool {
		if cands[i].seq != cands[j].seq {
			return cands[i].seq < cands[j].seq
		}
		return cands[i].name < cands[j].name
	})
	return cands
}

// indexOf returns the position of the node called name, -1 if absent.
func indexOf(cands []candidate, name string) int {
	for i, cd := range cands {
		if cd.name == name {
			return i
		}
	}
	return -1
}

// newGUID returns 32 random hex digits.
func newGUID() (string, error) {
	var b [guidLen / 2]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", fmt.Errorf("generating election node id: %w", err)
	}
	return hex.EncodeToString(b[:]), nil
}

// protectedName is the name passed to a sequential create; ZooKeeper appends
// the sequence number.
func protectedName(guid string) string {
	return protectedPrefix + guid + "-" + lockName
}

func isHex(s string) bool {
	for _, r := range s {
		if !(r >= '0' && r <= '9' || r >= 'a' && r <= 'f' || r >= 'A' && r <= 'F') {
			return false
		}
	}
	return true
}
