// Package compliance decides whether a watched znode meets its path spec.
// It is pure: Evaluate looks only at the spec and at what was last observed
// of the path, so the collector, the alerting layer and the status page all
// agree on a path's state and message.
//
// The states and messages are the original zkmonitor's: "All checks pass."
// when compliant, "Found children (0) less than minimum (1)" and its kin when
// not, and "No information is available about this path." for a path
// without checks.
//
// max_age depends on the time as well: Evaluate takes the instant to judge
// at rather than reading the clock, and AgeDeadline says when a passing
// max_age check will fail, so that the caller can evaluate again then
// without asking ZooKeeper anything.
package compliance

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/zk-monitor/zk_monitor/config"
)

// State is a path's compliance.
type State int

const (
	// Unknown means the path has no checks, or what was observed of it
	// cannot be trusted (never read, unreadable, or connection lost).
	Unknown State = iota
	// OK means every check passes.
	OK
	// Error means at least one check fails.
	Error
)

// String returns "unknown", "ok" or "error".
func (s State) String() string {
	switch s {
	case Unknown:
		return "unknown"
	case OK:
		return "ok"
	case Error:
		return "error"
	}
	return "State(" + strconv.Itoa(int(s)) + ")"
}

// Observation is what is known of one znode path.
type Observation struct {
	// Known is set after at least one successful read of the path since
	// watching started.
	Known bool
	// Stale is set when the connection to ZooKeeper was lost, or the path
	// was not re-read since the last reconnect.
	Stale bool
	// Exists reports whether the node exists.
	Exists bool
	// Children is the number of direct children (ignored when !Exists);
	// when the spec sets children_matching, only those whose names match.
	Children int
	// Data is the node's content, only fetched when the spec has a data
	// check.
	Data []byte
	// Modified (Stat mtime, by ZooKeeper's clock), DataLength (Stat
	// dataLength) and EphemeralOwner (Stat ephemeralOwner: the owning
	// session, 0 for a persistent node) are kept only when the spec checks
	// the Stat (config.PathSpec.ChecksStat) and the node exists.
	Modified       time.Time
	DataLength     int
	EphemeralOwner int64
	// ReadError is non-empty when the last read failed ("not
	// authenticated").
	ReadError string
}

// Result is a path's compliance and the message explaining it.
type Result struct {
	State   State
	Message string
	// Read says whether the path can be read, for a path with checks: OK
	// after a successful read, Error when the last read failed (the
	// Message says why and State is Unknown), and Unknown when there is
	// nothing to go by: no checks, never read, or the connection was lost
	// since (a lost connection is not a failed read).
	Read State
}

// Messages of the Unknown and OK results.
const (
	MsgOK         = "All checks pass."
	MsgNoChecks   = "No information is available about this path."
	MsgNeverRead  = "No data has been read from ZooKeeper for this path yet."
	msgCannotRead = "Cannot read path: "
	msgStale      = "ZooKeeper connection lost; last known: "
)

// Evaluate checks obs against spec at the instant now (which only max_age
// looks at). Without checks, or when obs cannot be trusted, the result is
// Unknown; these cases are tried in this order: no checks, a read error,
// never read, stale (whose message carries what the last observation would
// give). Otherwise the result is OK, or Error with the failing checks'
// messages joined by "; " in the order of Checks. A missing path counts as
// having no children and no data.
func Evaluate(spec config.PathSpec, obs Observation, now time.Time) Result {
	switch {
	case !spec.HasChecks():
		return Result{State: Unknown, Message: MsgNoChecks}
	case obs.ReadError != "":
		read := Error
		if obs.Stale {
			read = Unknown
		}
		return Result{State: Unknown, Message: msgCannotRead + obs.ReadError, Read: read}
	case !obs.Known:
		return Result{State: Unknown, Message: MsgNeverRead}
	}
	r := check(spec, obs, now)
	if obs.Stale {
		return Result{State: Unknown, Message: msgStale + r.Message}
	}
	r.Read = OK
	return r
}

// CheckResult is the verdict of one configured check.
type CheckResult struct {
	// Check is the spec key: children, max_children, exists, data,
	// ephemeral, min_data_bytes, max_data_bytes or max_age.
	Check   string
	Passed  bool
	Message string // why it failed; "" when it passed
}

// Checks runs each configured check of spec against obs at the instant
// now, in the order children, max_children, exists, data, ephemeral,
// min_data_bytes, max_data_bytes, max_age, ignoring whether obs can be
// trusted (Evaluate decides that). A missing path counts as having no
// children and no data; a data, ephemeral: true or max_age check on a
// missing path fails with "Path does not exist".
func Checks(spec config.PathSpec, obs Observation, now time.Time) []CheckResult {
	children, size := obs.Children, obs.DataLength
	if !obs.Exists {
		children, size = 0, 0
	}
	counted := "children"
	if spec.ChildrenMatching != nil {
		counted = "matching children"
	}
	var out []CheckResult
	add := func(check, failure string) {
		out = append(out, CheckResult{Check: check, Passed: failure == "", Message: failure})
	}
	if spec.MinChildren != nil {
		failure := ""
		if children < *spec.MinChildren {
			failure = "Found " + counted + " (" + strconv.Itoa(children) + ") less than minimum (" + strconv.Itoa(*spec.MinChildren) + ")"
		}
		add("children", failure)
	}
	if spec.MaxChildren != nil {
		failure := ""
		if children > *spec.MaxChildren {
			failure = "Found " + counted + " (" + strconv.Itoa(children) + ") more than maximum (" + strconv.Itoa(*spec.MaxChildren) + ")"
		}
		add("max_children", failure)
	}
	if spec.Exists != nil {
		failure := ""
		switch {
		case *spec.Exists && !obs.Exists:
			failure = msgMissing
		case !*spec.Exists && obs.Exists:
			failure = "Path exists but should not"
		}
		add("exists", failure)
	}
	if spec.Data != nil {
		failure := msgMissing
		if obs.Exists {
			failure = checkData(*spec.Data, obs.Data)
		}
		add("data", failure)
	}
	if spec.Ephemeral != nil {
		failure := ""
		switch {
		case *spec.Ephemeral && !obs.Exists:
			failure = msgMissing
		case *spec.Ephemeral && obs.EphemeralOwner == 0:
			failure = "Path is persistent but should be ephemeral"
		case !*spec.Ephemeral && obs.Exists && obs.EphemeralOwner != 0:
			failure = "Path is ephemeral, owned by session " + SessionID(obs.EphemeralOwner) + ", but should be persistent"
		}
		add("ephemeral", failure)
	}
	if spec.MinDataBytes != nil {
		failure := ""
		if size < *spec.MinDataBytes {
			failure = "Data size (" + strconv.Itoa(size) + " bytes) less than minimum (" + strconv.Itoa(*spec.MinDataBytes) + ")"
		}
		add("min_data_bytes", failure)
	}
	if spec.MaxDataBytes != nil {
		failure := ""
		if size > *spec.MaxDataBytes {
			failure = "Data size (" + strconv.Itoa(size) + " bytes) more than maximum (" + strconv.Itoa(*spec.MaxDataBytes) + ")"
		}
		add("max_data_bytes", failure)
	}
	if spec.MaxAge > 0 {
		failure := msgMissing
		if obs.Exists {
			failure = checkAge(spec.MaxAge, obs.Modified, now)
		}
		add("max_age", failure)
	}
	return out
}

const msgMissing = "Path does not exist"

// SessionID renders a ZooKeeper session id as ZooKeeper's own logs and
// four-letter words do: 0x and lower-case hex of the unsigned value.
func SessionID(id int64) string {
	return "0x" + strconv.FormatUint(uint64(id), 16)
}

// checkAge returns why data last written at modified fails max_age at now,
// or "" when it passes. The data must be younger than max_age: at exactly
// max_age it fails, which is also when AgeDeadline says it will.
func checkAge(maxAge time.Duration, modified, now time.Time) string {
	age := now.Sub(modified)
	if age < maxAge {
		return ""
	}
	// Whole seconds for a limit in whole seconds, so that the age shown is
	// never below the limit it broke.
	shown := age.Truncate(time.Millisecond)
	if maxAge%time.Second == 0 {
		shown = age.Truncate(time.Second)
	}
	return fmt.Sprintf("Data last written %s ago (at %s), not within max_age (%s)",
		shown, modified.UTC().Format("2006-01-02T15:04:05.000Z07:00"), maxAge)
}

// AgeDeadline returns the instant from which the max_age check of spec
// fails if the node is not written again: its last write plus max_age. It
// is false when the spec has no max_age or obs did not see the node.
func AgeDeadline(spec config.PathSpec, obs Observation) (time.Time, bool) {
	if spec.MaxAge <= 0 || !obs.Known || !obs.Exists {
		return time.Time{}, false
	}
	return obs.Modified.Add(spec.MaxAge), true
}

// check runs the spec's checks against a trusted observation: OK, or
// Error with the distinct failure messages joined by "; ".
func check(spec config.PathSpec, obs Observation, now time.Time) Result {
	var failures []string
	for _, c := range Checks(spec, obs, now) {
		if !c.Passed && !slices.Contains(failures, c.Message) {
			failures = append(failures, c.Message)
		}
	}
	if len(failures) == 0 {
		return Result{State: OK, Message: MsgOK}
	}
	return Result{State: Error, Message: strings.Join(failures, "; ")}
}
