package deploy

import (
	"context"
	"fmt"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/zk-monitor/zk_monitor/internal/testenv"
)

// TestRulesWithTwoClusters has a real Prometheus evaluate the shipped rule
// file, as it is, against two real zk_monitor clusters in one scrape job:
// team-a and team-b, each with its own ZooKeeper and two agents (the binary
// built from this tree). Two healthy clusters raise neither
// ZkMonitorSplitBrain nor ZkMonitorNoLeader, not even pending; when
// team-a's ZooKeeper stops, ZkMonitorNoLeader fires for team-a alone.
func TestRulesWithTwoClusters(t *testing.T) {
	testenv.SkipIfShort(t, "starts ZooKeeper, zk_monitor agents and Prometheus")
	bin := zkMonitor.Path(t)
	rules, err := filepath.Abs(rulesFile)
	if err != nil {
		t.Fatal(err)
	}
	config := testenv.WriteFile(t, "paths.yml", "/fleet: {children: 0}\n")

	type cluster struct {
		name   string
		zk     *testenv.ZooKeeper
		agents []*agent
	}
	clusters := []*cluster{{name: "team-a"}, {name: "team-b"}}
	var targets []string
	for _, c := range clusters {
		c.zk = testenv.StartZooKeeper(t)
		for i := range 2 {
			a := startAgent(t, bin, []string{
				"--zookeeper=" + c.zk.Addr(),
				// The test is not about failover: a session long enough
				// that a starved agent keeps its lease (a lost ensemble
				// fences its leader at once, whatever the timeout).
				"--zookeeper.session-timeout=10s",
				"--cluster_name=" + c.name,
				fmt.Sprintf("--agent.name=%s-%d", c.name, i),
				"--config.file=" + config,
			})
			c.agents = append(c.agents, a)
			targets = append(targets, strings.TrimPrefix(a.URL, "http://"))
		}
	}
	// Prometheus starts once each cluster has elected its leader, so that
	// the quiet phase below is not about the agents' own start-up.
	for _, c := range clusters {
		testenv.Eventually(t, 30*time.Second, 100*time.Millisecond, func() bool {
			return leaders(t, c.agents, c.name) == 1
		}, "cluster %s has no single leader", c.name)
	}

	// A scrape that times out makes its agent's leader series stale, which
	// the rules rightly count as a cluster without a leader: the timeout
	// leaves the agents, on a loaded machine, a whole interval to answer.
	prom := testenv.StartPrometheus(t, fmt.Sprintf(`
global:
  scrape_interval: 1s
  scrape_timeout: 1s
  evaluation_interval: 1s
rule_files: [%q]
scrape_configs:
  - job_name: zk_monitor
    static_configs:
      - targets: [%s]
`, rules, strings.Join(quoteAll(targets), ", ")))
	ctx, cancel := context.WithTimeout(context.Background(), testenv.Scaled(3*time.Minute))
	defer cancel()

	// Prometheus has scraped both clusters, each with its one leader.
	perCluster := func(expr string, want float64) func() bool {
		return func() bool {
			samples, err := prom.Query(ctx, expr)
			if err != nil || len(samples) != len(clusters) {
				return false
			}
			for _, s := range samples {
				if s.Value != want {
					return false
				}
			}
			return true
		}
	}
	testenv.Eventually(t, 30*time.Second, 100*time.Millisecond,
		perCluster(`job_cluster:zk_monitor_cluster_leader:sum{job="zk_monitor"}`, 1),
		"job_cluster:zk_monitor_cluster_leader:sum is not 1 for both clusters")
	testenv.Eventually(t, 30*time.Second, 100*time.Millisecond,
		perCluster(`job_cluster_path:zk_monitor_znode_compliant:min{job="zk_monitor",path="/fleet"}`, 1),
		"job_cluster_path:zk_monitor_znode_compliant:min is not 1 for /fleet in both clusters")
	healthy := time.Now()

	// From the first evaluation of the alerting rules after that, and for
	// ten evaluations in a row, no NoLeader or SplitBrain is active.
	evaluated := func() time.Time {
		groups, err := prom.RuleGroups(ctx)
		if err != nil {
			t.Fatalf("GET /api/v1/rules: %v", err)
		}
		for _, g := range groups {
			if g.Name == "zk_monitor.alerts" {
				return g.LastEvaluation
			}
		}
		t.Fatalf("rule group zk_monitor.alerts is not loaded: %+v", groups)
		return time.Time{}
	}
	clusterAlerts := func() []string {
		alerts, err := prom.Alerts(ctx)
		if err != nil {
			t.Fatalf("GET /api/v1/alerts: %v", err)
		}
		var out []string
		for _, a := range alerts {
			if n := a.Labels["alertname"]; n == "ZkMonitorNoLeader" || n == "ZkMonitorSplitBrain" {
				out = append(out, fmt.Sprintf("%s{cluster=%q} %s", n, a.Labels["cluster"], a.State))
			}
		}
		sort.Strings(out)
		return out
	}
	testenv.Eventually(t, 10*time.Second, 50*time.Millisecond, func() bool { return evaluated().After(healthy) },
		"the alerting rules were not evaluated after both clusters were scraped")
	seen := map[time.Time]bool{}
	for len(seen) < 10 {
		before := evaluated()
		active := clusterAlerts()
		if evaluated() != before {
			continue // the alerts may be of either evaluation
		}
		if len(active) > 0 {
			t.Fatalf("two healthy clusters: active alerts %q, want none", active)
		}
		seen[before] = true
		if ctx.Err() != nil {
			t.Fatalf("only %d evaluations seen", len(seen))
		}
		time.Sleep(100 * time.Millisecond)
	}

	// The dashboard's queries run on this Prometheus, and its cluster
	// views show both clusters.
	checkDashboardQueries(t, ctx, prom, map[string]int{
		"Leaders per cluster": 2, "Clusters and agents": 4, "Clusters without one leader": 1, "Non-compliant paths": 1,
	})

	// team-a's ensemble is gone: its agents lose the lead.
	clusters[0].zk.Stop()
	want := []string{`ZkMonitorNoLeader{cluster="team-a"} firing`}
	var last []string
	// for: 1m in the shipped rules, so firing takes a minute.
	testenv.Eventually(t, 2*time.Minute, 250*time.Millisecond, func() bool {
		last = clusterAlerts()
		for _, a := range last {
			if a != want[0] && a != `ZkMonitorNoLeader{cluster="team-a"} pending` {
				t.Fatalf("after team-a's ZooKeeper stopped: active alerts %q; only NoLeader for team-a may be", last)
			}
		}
		return len(last) == 1 && last[0] == want[0]
	}, "active alerts %v, want %q", testenv.Last(&last), want)
	if n := leaders(t, clusters[1].agents, "team-b"); n != 1 {
		t.Errorf("team-b has %d leaders after team-a's ZooKeeper stopped, want 1", n)
	}
}

// leaders counts the agents whose /metrics say they lead the cluster.
func leaders(t *testing.T, agents []*agent, cluster string) int {
	t.Helper()
	n := 0
	series := fmt.Sprintf("zk_monitor_cluster_leader{cluster=%q} 1", cluster)
	for _, a := range agents {
		for _, line := range strings.Split(a.metrics(t), "\n") {
			if line == series {
				n++
			}
		}
	}
	return n
}

func quoteAll(s []string) []string {
	out := make([]string, len(s))
	for i, x := range s {
		out[i] = fmt.Sprintf("%q", x)
	}
	return out
}

// checkDashboardQueries runs every panel query of the dashboard, its
// variables standing for every value, on a real Prometheus: each must
// evaluate, and the panels named in results must get that many series.
func checkDashboardQueries(t *testing.T, ctx context.Context, prom *testenv.Prometheus, results map[string]int) {
	t.Helper()
	d := loadDashboard(t)
	vars := map[string]bool{}
	for _, v := range d.Templating.List {
		vars[v.Name] = true
	}
	seen := map[string]bool{}
	for _, p := range allPanels(d.Panels) {
		for _, tg := range p.Targets {
			expr, err := substituteGrafanaVariables(tg.Expr, vars)
			if err != nil {
				t.Fatalf("panel %q: %v", p.Title, err)
			}
			samples, err := prom.Query(ctx, expr)
			if err != nil {
				t.Errorf("panel %q target %s: %v", p.Title, tg.RefID, err)
				continue
			}
			if want, ok := results[p.Title]; ok && tg.RefID == "A" {
				seen[p.Title] = true
				if len(samples) != want {
					t.Errorf("panel %q: %d series %v, want %d", p.Title, len(samples), samples, want)
				}
			}
		}
	}
	for title := range results {
		if !seen[title] {
			t.Errorf("the dashboard has no panel %q", title)
		}
	}
}
