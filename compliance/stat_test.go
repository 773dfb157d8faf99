package compliance

import (
	"reflect"
	"regexp"
	"testing"
	"time"

	"github.com/zk-monitor/zk_monitor/config"
)

// testNow is the instant the tests evaluate at.
var testNow = time.Date(2026, 3, 4, 12, 0, 0, 0, time.UTC)

// written is an existing node whose data was last written age before
// testNow, holding size bytes, owned by session owner (0: persistent).
func written(age time.Duration, size int, owner int64) Observation {
	return Observation{Known: true, Exists: true, Modified: testNow.Add(-age), DataLength: size, EphemeralOwner: owner}
}

// TestEvaluateStat covers the checks on the node's Stat and on matching
// children, with the messages /status and the alerts show.
func TestEvaluateStat(t *testing.T) {
	const owner = 0x100000a1b2c0005
	minute := 5 * time.Minute
	for _, tc := range []struct {
		name string
		spec config.PathSpec
		obs  Observation
		want Result
	}{
		{"max_age: young enough", config.PathSpec{MaxAge: minute}, written(4*time.Minute, 10, 0), Result{OK, MsgOK, OK}},
		{"max_age: just under the limit", config.PathSpec{MaxAge: minute}, written(minute-time.Nanosecond, 10, 0), Result{OK, MsgOK, OK}},
		{"max_age: at the limit", config.PathSpec{MaxAge: minute}, written(minute, 10, 0),
			Result{Error, "Data last written 5m0s ago (at 2026-03-04T11:55:00.000Z), not within max_age (5m0s)", OK}},
		{"max_age: whole seconds shown for a limit in seconds", config.PathSpec{MaxAge: minute}, written(7*time.Minute+3*time.Second+999*time.Millisecond, 10, 0),
			Result{Error, "Data last written 7m3s ago (at 2026-03-04T11:52:56.001Z), not within max_age (5m0s)", OK}},
		{"max_age: milliseconds shown for a limit below seconds", config.PathSpec{MaxAge: 1500 * time.Millisecond}, written(2345678*time.Microsecond, 10, 0),
			Result{Error, "Data last written 2.345s ago (at 2026-03-04T11:59:57.654Z), not within max_age (1.5s)", OK}},
		{"max_age: written in the future by a clock ahead", config.PathSpec{MaxAge: minute}, written(-time.Minute, 10, 0), Result{OK, MsgOK, OK}},
		{"max_age: missing node", config.PathSpec{MaxAge: minute}, missing, Result{Error, "Path does not exist", OK}},
		{"max_age: stale", config.PathSpec{MaxAge: minute}, Observation{Known: true, Stale: true, Exists: true, Modified: testNow.Add(-time.Hour)},
			Result{Unknown, msgStale + "Data last written 1h0m0s ago (at 2026-03-04T11:00:00.000Z), not within max_age (5m0s)", Unknown}},

		{"ephemeral: owned", config.PathSpec{Ephemeral: boolp(true)}, written(0, 0, owner), Result{OK, MsgOK, OK}},
		{"ephemeral: persistent", config.PathSpec{Ephemeral: boolp(true)}, written(0, 0, 0), Result{Error, "Path is persistent but should be ephemeral", OK}},
		{"ephemeral: missing", config.PathSpec{Ephemeral: boolp(true)}, missing, Result{Error, "Path does not exist", OK}},
		{"persistent: owned", config.PathSpec{Ephemeral: boolp(false)}, written(0, 0, owner),
			Result{Error, "Path is ephemeral, owned by session 0x100000a1b2c0005, but should be persistent", OK}},
		{"persistent: persistent", config.PathSpec{Ephemeral: boolp(false)}, written(0, 0, 0), Result{OK, MsgOK, OK}},
		{"persistent: missing", config.PathSpec{Ephemeral: boolp(false)}, missing, Result{OK, MsgOK, OK}},
		{"persistent: owner ignored on a missing node", config.PathSpec{Ephemeral: boolp(false)}, Observation{Known: true, EphemeralOwner: owner}, Result{OK, MsgOK, OK}},

		{"min_data_bytes met", config.PathSpec{MinDataBytes: intp(2)}, written(0, 2, 0), Result{OK, MsgOK, OK}},
		{"min_data_bytes missed", config.PathSpec{MinDataBytes: intp(1)}, written(0, 0, 0), Result{Error, "Data size (0 bytes) less than minimum (1)", OK}},
		{"min_data_bytes on a missing node", config.PathSpec{MinDataBytes: intp(1)}, missing, Result{Error, "Data size (0 bytes) less than minimum (1)", OK}},
		{"max_data_bytes met", config.PathSpec{MaxDataBytes: intp(1024)}, written(0, 1024, 0), Result{OK, MsgOK, OK}},
		{"max_data_bytes exceeded", config.PathSpec{MaxDataBytes: intp(1024)}, written(0, 1025, 0), Result{Error, "Data size (1025 bytes) more than maximum (1024)", OK}},
		{"max_data_bytes ignores a missing node's stray size", config.PathSpec{MaxDataBytes: intp(0)}, Observation{Known: true, DataLength: 9}, Result{OK, MsgOK, OK}},

		{"matching children below minimum", config.PathSpec{MinChildren: intp(3), ChildrenMatching: regexp.MustCompile(`^[0-9]+$`)}, seen(2),
			Result{Error, "Found matching children (2) less than minimum (3)", OK}},
		{"matching children above maximum", config.PathSpec{MaxChildren: intp(1), ChildrenMatching: regexp.MustCompile(`^[0-9]+$`)}, seen(2),
			Result{Error, "Found matching children (2) more than maximum (1)", OK}},
		{"matching children within bounds", config.PathSpec{MinChildren: intp(1), MaxChildren: intp(2), ChildrenMatching: regexp.MustCompile(`x`)}, seen(2), Result{OK, MsgOK, OK}},

		{"a missing node said once", config.PathSpec{Exists: boolp(true), Ephemeral: boolp(true), MaxAge: minute}, missing, Result{Error, "Path does not exist", OK}},
		{"stat failures in order", config.PathSpec{MaxAge: minute, MaxDataBytes: intp(1), MinDataBytes: intp(0), Ephemeral: boolp(true), Data: regexCheck(`^$`)},
			Observation{Known: true, Exists: true, Modified: testNow.Add(-10 * time.Minute), DataLength: 2, Data: []byte("up")},
			Result{Error, "Data does not match regex /^$/; Path is persistent but should be ephemeral; Data size (2 bytes) more than maximum (1); " +
				"Data last written 10m0s ago (at 2026-03-04T11:50:00.000Z), not within max_age (5m0s)", OK}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := Evaluate(tc.spec, tc.obs, testNow); got != tc.want {
				t.Errorf("Evaluate() = {%v, %q, read %v}, want {%v, %q, read %v}", got.State, got.Message, got.Read, tc.want.State, tc.want.Message, tc.want.Read)
			}
		})
	}
}

func TestChecksStat(t *testing.T) {
	spec := config.PathSpec{MaxAge: time.Minute, Ephemeral: boolp(true), MinDataBytes: intp(1), MaxDataBytes: intp(8)}
	got := Checks(spec, written(2*time.Minute, 4, 7), testNow)
	want := []CheckResult{
		{"ephemeral", true, ""},
		{"min_data_bytes", true, ""},
		{"max_data_bytes", true, ""},
		{"max_age", false, "Data last written 2m0s ago (at 2026-03-04T11:58:00.000Z), not within max_age (1m0s)"},
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("Checks = %+v, want %+v", got, want)
	}
}

// TestAgeDeadline checks that the deadline is exactly where Evaluate's
// verdict turns, and that there is none without a node to age.
func TestAgeDeadline(t *testing.T) {
	spec := config.PathSpec{MaxAge: 90 * time.Second}
	obs := written(30*time.Second, 0, 0)
	deadline, ok := AgeDeadline(spec, obs)
	if want := testNow.Add(time.Minute); !ok || !deadline.Equal(want) {
		t.Fatalf("AgeDeadline = %v, %v; want %v, true", deadline, ok, want)
	}
	if r := Evaluate(spec, obs, deadline.Add(-time.Nanosecond)); r.State != OK {
		t.Errorf("just before the deadline: %+v", r)
	}
	if r := Evaluate(spec, obs, deadline); r.State != Error {
		t.Errorf("at the deadline: %+v", r)
	}
	for _, tc := range []struct {
		name string
		spec config.PathSpec
		obs  Observation
	}{
		{"no max_age", config.PathSpec{MinChildren: intp(1)}, obs},
		{"never read", spec, Observation{Exists: true, Modified: testNow}},
		{"missing node", spec, missing},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if d, ok := AgeDeadline(tc.spec, tc.obs); ok {
				t.Errorf("AgeDeadline = %v, true; want none", d)
			}
		})
	}
}

func TestSessionID(t *testing.T) {
	for _, tc := range []struct {
		id   int64
		want string
	}{
		{0, "0x0"},
		{0x100000a1b2c0005, "0x100000a1b2c0005"},
		// Server ids from 128 up make the id negative as a Go int64;
		// ZooKeeper shows it unsigned.
		{-0x7f00000000000000, "0x8100000000000000"},
	} {
		if got := SessionID(tc.id); got != tc.want {
			t.Errorf("SessionID(%d) = %q, want %q", tc.id, got, tc.want)
		}
	}
}
