package compliance

import (
	"reflect"
	"regexp"
	"testing"

	"github.com/zk-monitor/zk_monitor/config"
)

func intp(i int) *int    { return &i }
func boolp(b bool) *bool { return &b }

// seen is an observation of a path that exists, read and fresh.
func seen(children int) Observation {
	return Observation{Known: true, Exists: true, Children: children}
}

// missing is a fresh observation of a path that does not exist.
var missing = Observation{Known: true}

func withData(data string) Observation {
	o := seen(0)
	o.Data = []byte(data)
	return o
}

func regexCheck(re string) *config.DataCheck {
	return &config.DataCheck{Regex: regexp.MustCompile(re)}
}

func jsonCheck(field, equals string) *config.DataCheck {
	return &config.DataCheck{JSONField: field, Equals: equals}
}

func TestEvaluate(t *testing.T) {
	for _, tc := range []struct {
		name string
		spec config.PathSpec
		obs  Observation
		want Result
	}{
		// The original README's example: /status showed exactly these.
		{"readme min_0 with 0 children", config.PathSpec{Path: "/services/foo/min_0", MinChildren: intp(0)}, seen(0),
			Result{OK, "All checks pass.", OK}},
		{"readme min_1 with 0 children", config.PathSpec{Path: "/services/foo/min_1", MinChildren: intp(1)}, seen(0),
			Result{Error, "Found children (0) less than minimum (1)", OK}},
		{"readme min_3 with 2 children", config.PathSpec{Path: "/services/foo/min_3", MinChildren: intp(3)}, seen(2),
			Result{Error, "Found children (2) less than minimum (3)", OK}},

		{"min met exactly", config.PathSpec{MinChildren: intp(3)}, seen(3), Result{OK, "All checks pass.", OK}},
		{"missing path counts as no children", config.PathSpec{MinChildren: intp(1)}, missing,
			Result{Error, "Found children (0) less than minimum (1)", OK}},
		{"missing path ignores stray child count", config.PathSpec{MinChildren: intp(1)}, Observation{Known: true, Children: 5},
			Result{Error, "Found children (0) less than minimum (1)", OK}},
		{"missing path meets min 0", config.PathSpec{MinChildren: intp(0)}, missing, Result{OK, "All checks pass.", OK}},
		{"max exceeded", config.PathSpec{MaxChildren: intp(2)}, seen(3),
			Result{Error, "Found children (3) more than maximum (2)", OK}},
		{"max met exactly", config.PathSpec{MaxChildren: intp(2)}, seen(2), Result{OK, "All checks pass.", OK}},
		{"max on missing path", config.PathSpec{MaxChildren: intp(0)}, missing, Result{OK, "All checks pass.", OK}},
		{"min and max both pass", config.PathSpec{MinChildren: intp(1), MaxChildren: intp(3)}, seen(2),
			Result{OK, "All checks pass.", OK}},

		{"exists true, present", config.PathSpec{Exists: boolp(true)}, seen(0), Result{OK, "All checks pass.", OK}},
		{"exists true, missing", config.PathSpec{Exists: boolp(true)}, missing, Result{Error, "Path does not exist", OK}},
		{"exists false, missing", config.PathSpec{Exists: boolp(false)}, missing, Result{OK, "All checks pass.", OK}},
		{"exists false, present", config.PathSpec{Exists: boolp(false)}, seen(0),
			Result{Error, "Path exists but should not", OK}},

		{"regex matches", config.PathSpec{Data: regexCheck(`^leader=\d+$`)}, withData("leader=3"),
			Result{OK, "All checks pass.", OK}},
		{"regex is unanchored", config.PathSpec{Data: regexCheck(`ok`)}, withData("status: ok\n"),
			Result{OK, "All checks pass.", OK}},
		{"regex mismatch", config.PathSpec{Data: regexCheck(`^leader=\d+$`)}, withData("leader=none"),
			Result{Error, `Data does not match regex /^leader=\d+$/`, OK}},
		{"regex on empty data", config.PathSpec{Data: regexCheck(`.`)}, withData(""),
			Result{Error, "Data does not match regex /./", OK}},

		{"json string equal", config.PathSpec{Data: jsonCheck("state", "up")}, withData(`{"state":"up"}`),
			Result{OK, "All checks pass.", OK}},
		{"json nested field", config.PathSpec{Data: jsonCheck("a.b", "x")}, withData(`{"a":{"b":"x"}}`),
			Result{OK, "All checks pass.", OK}},
		{"json array index", config.PathSpec{Data: jsonCheck("hosts.1.port", "2181")}, withData(`{"hosts":[{"port":1},{"port":2181}]}`),
			Result{OK, "All checks pass.", OK}},
		{"json number as written", config.PathSpec{Data: jsonCheck("v", "1.50")}, withData(`{"v": 1.50}`),
			Result{OK, "All checks pass.", OK}},
		{"json bool", config.PathSpec{Data: jsonCheck("on", "true")}, withData(`{"on": true}`),
			Result{OK, "All checks pass.", OK}},
		{"json null", config.PathSpec{Data: jsonCheck("x", "null")}, withData(`{"x": null}`),
			Result{OK, "All checks pass.", OK}},
		{"json object compact", config.PathSpec{Data: jsonCheck("o", `{"a":1,"b":"<&>"}`)}, withData(`{"o": {"b": "<&>", "a": 1}}`),
			Result{OK, "All checks pass.", OK}},
		{"json string mismatch", config.PathSpec{Data: jsonCheck("state", "up")}, withData(`{"state":"down"}`),
			Result{Error, `Data field state is "down", expected "up"`, OK}},
		{"json number mismatch", config.PathSpec{Data: jsonCheck("n", "3")}, withData(`{"n": 30}`),
			Result{Error, `Data field n is "30", expected "3"`, OK}},
		{"json string is not the number", config.PathSpec{Data: jsonCheck("n", "3")}, withData(`{"n": "3 "}`),
			Result{Error, `Data field n is "3 ", expected "3"`, OK}},
		{"json long value cut", config.PathSpec{Data: jsonCheck("s", "x")}, withData(`{"s":"0123456789012345678901234567890123456789012345678901234567890123456789"}`),
			Result{Error, `Data field s is "0123456789012345678901234567890123456789012345678901234567890123"..., expected "x"`, OK}},
		{"json field missing", config.PathSpec{Data: jsonCheck("a.c", "x")}, withData(`{"a":{"b":"x"}}`),
			Result{Error, "Data has no field a.c", OK}},
		{"json field through a scalar", config.PathSpec{Data: jsonCheck("a.b", "x")}, withData(`{"a":"x"}`),
			Result{Error, "Data has no field a.b", OK}},
		{"json index out of range", config.PathSpec{Data: jsonCheck("a.5", "x")}, withData(`{"a":[1]}`),
			Result{Error, "Data has no field a.5", OK}},
		{"not json", config.PathSpec{Data: jsonCheck("a", "x")}, withData(`leader=3`),
			Result{Error, "Data is not JSON: invalid character 'l' looking for beginning of value", OK}},
		{"empty data is not json", config.PathSpec{Data: jsonCheck("a", "x")}, withData(``),
			Result{Error, "Data is not JSON: no data", OK}},
		{"trailing data is not json", config.PathSpec{Data: jsonCheck("a", "x")}, withData(`{"a":"x"} {}`),
			Result{Error, "Data is not JSON: unexpected data after the top-level value", OK}},
		{"truncated json", config.PathSpec{Data: jsonCheck("a", "x")}, withData(`{"a":`),
			Result{Error, "Data is not JSON: unexpected EOF", OK}},
		{"data check on missing path", config.PathSpec{Data: regexCheck(`x`)}, missing,
			Result{Error, "Path does not exist", OK}},
		{"data and exists on missing path say it once", config.PathSpec{Exists: boolp(true), Data: regexCheck(`x`)}, missing,
			Result{Error, "Path does not exist", OK}},

		{"several failures in order", config.PathSpec{MinChildren: intp(1), Exists: boolp(true), Data: jsonCheck("a", "x")}, missing,
			Result{Error, "Found children (0) less than minimum (1); Path does not exist", OK}},
		{"max, exists and data in order", config.PathSpec{MaxChildren: intp(1), Exists: boolp(false), Data: regexCheck(`^y$`)},
			Observation{Known: true, Exists: true, Children: 4, Data: []byte("x")},
			Result{Error, "Found children (4) more than maximum (1); Path exists but should not; Data does not match regex /^y$/", OK}},
		{"contradictory min and max", config.PathSpec{MinChildren: intp(5), MaxChildren: intp(1)}, seen(3),
			Result{Error, "Found children (3) less than minimum (5); Found children (3) more than maximum (1)", OK}},

		{"no checks", config.PathSpec{Path: "/x"}, seen(3),
			Result{Unknown, "No information is available about this path.", Unknown}},
		{"no checks wins over read error", config.PathSpec{Alerter: config.Alerter{Email: []string{"a@b"}}}, Observation{ReadError: "not authenticated"},
			Result{Unknown, "No information is available about this path.", Unknown}},
		{"read error", config.PathSpec{MinChildren: intp(1)}, Observation{Known: true, Exists: true, Children: 4, ReadError: "not authenticated"},
			Result{Unknown, "Cannot read path: not authenticated", Error}},
		{"read error wins over never read", config.PathSpec{MinChildren: intp(1)}, Observation{ReadError: "no auth"},
			Result{Unknown, "Cannot read path: no auth", Error}},
		// A lost connection is not a failed read: nothing is decided on the
		// read error seen before it.
		{"stale read error", config.PathSpec{MinChildren: intp(1)}, Observation{Stale: true, ReadError: "no auth"},
			Result{Unknown, "Cannot read path: no auth", Unknown}},
		{"never read", config.PathSpec{MinChildren: intp(1)}, Observation{},
			Result{Unknown, "No data has been read from ZooKeeper for this path yet.", Unknown}},
		{"never read wins over stale", config.PathSpec{MinChildren: intp(1)}, Observation{Stale: true},
			Result{Unknown, "No data has been read from ZooKeeper for this path yet.", Unknown}},
		{"stale failing", config.PathSpec{MinChildren: intp(3)}, Observation{Known: true, Stale: true, Exists: true, Children: 2},
			Result{Unknown, "ZooKeeper connection lost; last known: Found children (2) less than minimum (3)", Unknown}},
		{"stale passing", config.PathSpec{MinChildren: intp(0)}, Observation{Known: true, Stale: true, Exists: true},
			Result{Unknown, "ZooKeeper connection lost; last known: All checks pass.", Unknown}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := Evaluate(tc.spec, tc.obs, testNow)
			if got != tc.want {
				t.Errorf("Evaluate() = {%v, %q, read %v}, want {%v, %q, read %v}", got.State, got.Message, got.Read, tc.want.State, tc.want.Message, tc.want.Read)
			}
		})
	}
}

// TestEvaluateLegacyConfig runs the original README's example file through
// the config loader and Evaluate, with the child counts its /status shows.
func TestEvaluateLegacyConfig(t *testing.T) {
	cfg, _, err := config.Parse([]byte(`/services/foo/min_1:
  alerter:
    email: you@home.com
  children: 1
/services/foo/min_0:
  alerter:
    email: your_buddy@home.com
  children: 0
/services/foo/min_3:
  children: 3
`), "legacy.yaml")
	if err != nil {
		t.Fatal(err)
	}
	children := map[string]int{"/services/foo/min_0": 0, "/services/foo/min_1": 0, "/services/foo/min_3": 2}
	want := map[string]string{
		"/services/foo/min_0": "All checks pass.",
		"/services/foo/min_1": "Found children (0) less than minimum (1)",
		"/services/foo/min_3": "Found children (2) less than minimum (3)",
	}
	if len(cfg.Paths) != len(want) {
		t.Fatalf("got %d paths, want %d", len(cfg.Paths), len(want))
	}
	for _, spec := range cfg.Paths {
		t.Run(spec.Path, func(t *testing.T) {
			got := Evaluate(spec, seen(children[spec.Path]), testNow)
			if got.Message != want[spec.Path] {
				t.Errorf("message %q, want %q", got.Message, want[spec.Path])
			}
		})
	}
}

func TestStateString(t *testing.T) {
	for _, tc := range []struct {
		s    State
		want string
	}{
		{Unknown, "unknown"},
		{OK, "ok"},
		{Error, "error"},
		{State(7), "State(7)"},
	} {
		t.Run(tc.want, func(t *testing.T) {
			if got := tc.s.String(); got != tc.want {
				t.Errorf("String() = %q, want %q", got, tc.want)
			}
		})
	}
}

func BenchmarkEvaluate(b *testing.B) {
	for _, bc := range []struct {
		name string
		spec config.PathSpec
		obs  Observation
	}{
		{"children ok", config.PathSpec{MinChildren: intp(1), MaxChildren: intp(10)}, seen(3)},
		{"children failing", config.PathSpec{MinChildren: intp(5)}, seen(3)},
		{"regex", config.PathSpec{Data: regexCheck(`^leader=\d+$`)}, withData("leader=3")},
		{"json", config.PathSpec{Data: jsonCheck("a.b", "x")}, withData(`{"a":{"b":"x","c":[1,2,3]}}`)},
	} {
		b.Run(bc.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				Evaluate(bc.spec, bc.obs, testNow)
			}
		})
	}
}

func TestChecks(t *testing.T) {
	two, three := 2, 3
	yes := true
	spec := config.PathSpec{Path: "/p", MinChildren: &three, MaxChildren: &two, Exists: &yes, Data: &config.DataCheck{Regex: regexp.MustCompile("^up$")}}
	cases := []struct {
		name string
		obs  Observation
		want []CheckResult
	}{
		{"missing", Observation{Known: true}, []CheckResult{
			{"children", false, "Found children (0) less than minimum (3)"},
			{"max_children", true, ""},
			{"exists", false, "Path does not exist"},
			{"data", false, "Path does not exist"},
		}},
		{"present", Observation{Known: true, Exists: true, Children: 3, Data: []byte("up")}, []CheckResult{
			{"children", true, ""},
			{"max_children", false, "Found children (3) more than maximum (2)"},
			{"exists", true, ""},
			{"data", true, ""},
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if got := Checks(spec, tc.obs, testNow); !reflect.DeepEqual(got, tc.want) {
				t.Fatalf("Checks = %+v, want %+v", got, tc.want)
			}
		})
	}
	if got := Checks(config.PathSpec{Path: "/none"}, Observation{Known: true}, testNow); len(got) != 0 {
		t.Fatalf("a spec without checks has no check results, got %+v", got)
	}
}
