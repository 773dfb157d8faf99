package daemon_test

import (
	"fmt"
	"os/exec"
	"regexp"
	"strings"
	"testing"

	"github.com/zk-monitor/zk_monitor/internal/testenv"
)

// seriesPerPathBudget is how many series a path with a children check may
// cost by default (issue 11): every agent of a cluster exports every path.
const seriesPerPathBudget = 6

var pathLabelRE = regexp.MustCompile(`[{,]path="([^"]*)"`)

// TestSeriesPerPath counts, on a real agent's /metrics, the series of 1,000
// paths with a children-only spec, by default and with
// --collector.compliance-state, and has promtool check both expositions.
func TestSeriesPerPath(t *testing.T) {
	testenv.SkipIfShort(t, "needs a real ZooKeeper")
	const paths = 1000
	zkServer := testenv.StartZooKeeper(t)
	c := admin(t, zkServer.Addr())
	var spec strings.Builder
	for i := range paths {
		p := fmt.Sprintf("/budget/p%04d", i)
		// Half the paths are compliant, half are not.
		if i%2 == 0 {
			ensure(t, c, p+"/child")
		}
		fmt.Fprintf(&spec, "%s: {children: 1}\n", p)
	}
	cfg := testenv.WriteFile(t, "budget.yaml", spec.String())
	promtool := testenv.RequireBinary(t, "promtool")

	for _, tt := range []struct {
		name            string
		complianceState bool
		want            int // series a path
	}{
		// children, compliant, exists, last change, stale, spec_info
		{"default", false, 6},
		// ... and compliance_state for ok, error and unknown
		{"--collector.compliance-state", true, 9},
	} {
		t.Run(tt.name, func(t *testing.T) {
			opts := baseOptions(zkServer.Addr(), cfg)
			opts.ClusterName = "budget"
			opts.ComplianceState = tt.complianceState
			a := startAgent(t, opts)
			var body string
			perPath := map[string]int{}
			testenv.Eventually(t, waitFor, pollEvery, func() bool {
				_, body = a.get("/metrics")
				return strings.Count(body, "\nzk_monitor_znode_compliant{") == paths
			}, "the agent never exported the compliance of all %d paths", paths)
			for _, line := range strings.Split(body, "\n") {
				if strings.HasPrefix(line, "#") {
					continue
				}
				if m := pathLabelRE.FindStringSubmatch(line); m != nil {
					perPath[m[1]]++
				}
			}
			if len(perPath) != paths {
				t.Fatalf("/metrics has series of %d paths, want %d", len(perPath), paths)
			}
			total := 0
			for p, n := range perPath {
				total += n
				if n != tt.want {
					t.Errorf("path %s has %d series, want %d", p, n, tt.want)
				}
			}
			t.Logf("%d paths: %d series, %.2f a path", paths, total, float64(total)/paths)
			if !tt.complianceState && total > seriesPerPathBudget*paths {
				t.Errorf("%d series for %d paths, budget %d a path", total, paths, seriesPerPathBudget)
			}
			cmd := exec.Command(promtool, "check", "metrics")
			cmd.Stdin = strings.NewReader(body)
			if out, err := cmd.CombinedOutput(); err != nil || len(strings.TrimSpace(string(out))) > 0 {
				t.Errorf("promtool check metrics: %v\n%s", err, out)
			}
		})
	}
}
