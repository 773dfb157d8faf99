package compliance

import (
	"bytes"
	"encoding/json"
	"regexp"
	"slices"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/zk-monitor/zk_monitor/config"
)

// maxMessage bounds a data check's message beyond the spec's own text (the
// field, the regex): the JSON error and the two quoted values. A message
// ends up in /status and in an alert's summary, so it must never carry a
// node's data (up to 1 MB) along.
const maxMessage = 2048

// FuzzEvaluateData feeds arbitrary znode data, with arbitrary regex and
// json_field/equals checks, through Evaluate. It must never panic, and:
//   - a fresh observation of an existing node is OK or Error, never Unknown,
//     and OK exactly when the message is MsgOK;
//   - a regex check passes exactly when the regex matches the data;
//   - a json_field check fails with "Data is not JSON" exactly when the data
//     is not one JSON value, and a one-segment field of a top-level object
//     holding a string passes exactly when the string equals the expectation;
//   - messages are valid UTF-8 and short, whatever the data;
//   - the same observation marked stale is Unknown with the fresh message
//     behind the stale prefix; a missing node fails with "Path does not
//     exist"; evaluating twice gives the same result.
//
// The seed corpus is in testdata/fuzz/FuzzEvaluateData; run longer with
// go test -run='^$' -fuzz='^FuzzEvaluateData$' -fuzztime=1m ./compliance
func FuzzEvaluateData(f *testing.F) {
	f.Add([]byte(`{"status":"ALIVE"}`), "status", "ALIVE", `ALIVE`)
	f.Fuzz(func(t *testing.T, data []byte, field, equals, re string) {
		if rx, err := regexp.Compile(re); err == nil {
			spec := config.PathSpec{Path: "/fuzz", Data: &config.DataCheck{Regex: rx}}
			res := evaluateData(t, spec, data, re)
			wantOK := rx.Match(data)
			if (res.State == OK) != wantOK {
				t.Fatalf("regex /%s/ on %q: state %s, Match says %v", re, data, res.State, wantOK)
			}
			if !wantOK && res.Message != "Data does not match regex /"+rx.String()+"/" {
				t.Fatalf("regex /%s/ on %q: message %q", re, data, res.Message)
			}
		}

		// The configuration only accepts UTF-8 text, and field names
		// separated by single dots.
		if field == "" || slices.Contains(strings.Split(field, "."), "") || !utf8.ValidString(field) || !utf8.ValidString(equals) {
			return
		}
		spec := config.PathSpec{Path: "/fuzz", Data: &config.DataCheck{JSONField: field, Equals: equals}}
		res := evaluateData(t, spec, data, field+equals)
		notJSON := strings.HasPrefix(res.Message, "Data is not JSON: ")
		if notJSON != !json.Valid(data) {
			t.Fatalf("json_field %s on %q: message %q, but json.Valid says %v", field, data, res.Message, json.Valid(data))
		}
		if res.State == Error && !notJSON &&
			res.Message != "Data has no field "+field &&
			!strings.HasPrefix(res.Message, "Data field "+field+" is ") {
			t.Fatalf("json_field %s on %q: unexpected message %q", field, data, res.Message)
		}
		// An independent oracle for the common shape {"field": "string"}.
		if !strings.Contains(field, ".") && json.Valid(data) {
			var top map[string]json.RawMessage
			if json.Unmarshal(data, &top) == nil {
				if raw, ok := top[field]; ok {
					var s string
					isString := bytes.HasPrefix(bytes.TrimSpace(raw), []byte(`"`)) && json.Unmarshal(raw, &s) == nil
					if isString && (res.State == OK) != (s == equals) {
						t.Fatalf("json_field %s equals %q on %q: state %s, but the field is %q", field, equals, data, res.State, s)
					}
				} else if res.Message != "Data has no field "+field {
					t.Fatalf("json_field %s on %q: field absent, message %q", field, data, res.Message)
				}
			}
		}
	})
}

// evaluateData evaluates spec on data and checks the properties every data
// check shares; spent is the spec's own text, which a message may repeat.
func evaluateData(t *testing.T, spec config.PathSpec, data []byte, spent string) Result {
	t.Helper()
	fresh := Observation{Known: true, Exists: true, Data: data}
	res := Evaluate(spec, fresh, testNow)
	switch res.State {
	case OK:
		if res.Message != MsgOK {
			t.Fatalf("%s: OK with message %q", spec.Data, res.Message)
		}
	case Error:
		if res.Message == MsgOK || res.Message == "" {
			t.Fatalf("%s: Error with message %q", spec.Data, res.Message)
		}
	default:
		t.Fatalf("%s on %q: state %s for a fresh observation", spec.Data, data, res.State)
	}
	if !utf8.ValidString(res.Message) {
		t.Fatalf("%s on %q: message is not UTF-8: %q", spec.Data, data, res.Message)
	}
	if len(res.Message) > maxMessage+2*len(spent) {
		t.Fatalf("%s: message of %d bytes for %d bytes of data: %.200q...", spec.Data, len(res.Message), len(data), res.Message)
	}
	if len(data) > 256 && bytes.Contains([]byte(res.Message), data) {
		t.Fatalf("%s: message repeats the node's %d bytes of data", spec.Data, len(data))
	}
	if again := Evaluate(spec, fresh, testNow); again != res {
		t.Fatalf("%s on %q: %+v, then %+v", spec.Data, data, res, again)
	}

	stale := fresh
	stale.Stale = true
	if got := Evaluate(spec, stale, testNow); got.State != Unknown || got.Message != msgStale+res.Message {
		t.Fatalf("%s on %q, stale: %+v, want Unknown with %q", spec.Data, data, got, msgStale+res.Message)
	}
	missing := Observation{Known: true, Data: data}
	if got := Evaluate(spec, missing, testNow); got != (Result{Error, "Path does not exist", OK}) {
		t.Fatalf("%s, missing node: %+v", spec.Data, got)
	}
	return res
}
