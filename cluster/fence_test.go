package cluster

import (
	"testing"
	"time"

	"github.com/zk-monitor/zk_monitor/internal/testenv"
)

// TestFencePath: the leader's fence is its own ephemeral election node in
// the workspace; a follower has none, and neither has the old leader once
// its term ended.
func TestFencePath(t *testing.T) {
	testenv.SkipIfShort(t, "needs a real ZooKeeper")
	server := testenv.StartZooKeeper(t)
	cfg := func(name string) agentConfig {
		return agentConfig{connect: server.Addr(), name: name, cluster: clusterName(t), sessionTimeout: sessionTimeout}
	}
	agents := []*agent{startAgent(t, cfg("agent-0")), startAgent(t, cfg("agent-1"))}
	var leader *agent
	testenv.Eventually(t, 20*time.Second, 2*time.Millisecond, func() bool { leader = agreedLeader(agents, 2); return leader != nil },
		"one leader named by both agents")
	follower := agents[0]
	if follower == leader {
		follower = agents[1]
	}

	fence := leader.cluster.FencePath()
	if got, want := leader.cluster.Workspace(), "/zk_monitor/"+clusterName(t); got != want {
		t.Errorf("Workspace() = %q, want %q", got, want)
	}
	conn := testenv.RawZK(t, server.Addr(), 5*time.Second)
	children, _, err := conn.Children(leader.cluster.Workspace() + "/election")
	if err != nil {
		t.Fatal(err)
	}
	_, stat, err := conn.Get(fence)
	if err != nil || stat.EphemeralOwner != leader.client.SessionID() || len(children) != 2 {
		t.Fatalf("fence %q: owner %v (leader's session 0x%x), %v; election %v", fence, stat, leader.client.SessionID(), err, children)
	}
	if f := follower.cluster.FencePath(); f != "" {
		t.Errorf("the follower has fence %q", f)
	}

	leader.stop()
	testenv.Eventually(t, 20*time.Second, 2*time.Millisecond, func() bool { return follower.cluster.FencePath() != "" },
		"the follower did not take over")
	if f := leader.cluster.FencePath(); f != "" {
		t.Errorf("the stopped leader still has fence %q", f)
	}
	if f := follower.cluster.FencePath(); f == fence {
		t.Errorf("the new leader's fence is the old one's: %q", f)
	}
}
