// Package compliance decides whether a watched znode meets its path spec.
// It is pure: Evaluate looks only at the spec and at what was last observed
// of the path, so the collector, the alerting layer and the status page all
// agree on a path's state and message.
//
// The states and messages are the original zkmonitor's: "All checks pass."
// when compliant, "Found children (0) less than minimum (1)" and its kin when
// not, and "No information is available about this path." for a path
// without checks.
package compliance

import (
	"slices"
	"strconv"
	"strings"

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
	// Children is the number of direct children (ignored when !Exists).
	Children int
	// Data is the node's content, only fetched when the spec has a data
	// check.
	Data []byte
	// ReadError is non-empty when the last read failed ("not
	// authenticated").
	ReadError string
}

// Result is a path's compliance and the message explaining it.
type Result struct {
	State   State
	Message string
}

// Messages of the Unknown and OK results.
const (
	MsgOK         = "All checks pass."
	MsgNoChecks   = "No information is available about this path."
	MsgNeverRead  = "No data has been read from ZooKeeper for this path yet."
	msgCannotRead = "Cannot read path: "
	msgStale      = "ZooKeeper connection lost; last known: "
)

// Evaluate checks obs against spec. Without checks, or when obs cannot be
// trusted, the result is Unknown; these cases are tried in this order: no
// checks, a read error, never read, stale (whose message carries what the
// last observation would give). Otherwise the result is OK, or Error with
// the failing checks' messages joined by "; " in the order children,
// max_children, exists, data. A missing path counts as having no children.
func Evaluate(spec config.PathSpec, obs Observation) Result {
	switch {
	case !spec.HasChecks():
		return Result{State: Unknown, Message: MsgNoChecks}
	case obs.ReadError != "":
		return Result{State: Unknown, Message: msgCannotRead + obs.ReadError}
	case !obs.Known:
		return Result{State: Unknown, Message: MsgNeverRead}
	}
	r := check(spec, obs)
	if obs.Stale {
		return Result{State: Unknown, Message: msgStale + r.Message}
	}
	return r
}

// CheckResult is the verdict of one configured check.
type CheckResult struct {
	// Check is the spec key: children, max_children, exists or data.
	Check   string
	Passed  bool
	Message string // why it failed; "" when it passed
}

// Checks runs each configured check of spec against obs, in the order
// children, max_children, exists, data, ignoring whether obs can be
// trusted (Evaluate decides that). A missing path counts as having no
// children; a data check on a missing path fails with "Path does not
// exist".
func Checks(spec config.PathSpec, obs Observation) []CheckResult {
	children := obs.Children
	if !obs.Exists {
		children = 0
	}
	var out []CheckResult
	add := func(check, failure string) {
		out = append(out, CheckResult{Check: check, Passed: failure == "", Message: failure})
	}
	if spec.MinChildren != nil {
		failure := ""
		if children < *spec.MinChildren {
			failure = "Found children (" + strconv.Itoa(children) + ") less than minimum (" + strconv.Itoa(*spec.MinChildren) + ")"
		}
		add("children", failure)
	}
	if spec.MaxChildren != nil {
		failure := ""
		if children > *spec.MaxChildren {
			failure = "Found children (" + strconv.Itoa(children) + ") more than maximum (" + strconv.Itoa(*spec.MaxChildren) + ")"
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
	return out
}

const msgMissing = "Path does not exist"

// check runs the spec's checks against a trusted observation: OK, or
// Error with the distinct failure messages joined by "; ".
func check(spec config.PathSpec, obs Observation) Result {
	var failures []string
	for _, c := range Checks(spec, obs) {
		if !c.Passed && !slices.Contains(failures, c.Message) {
			failures = append(failures, c.Message)
		}
	}
	if len(failures) == 0 {
		return Result{State: OK, Message: MsgOK}
	}
	return Result{State: Error, Message: strings.Join(failures, "; ")}
}
