package e2e

import (
	"fmt"
	"syscall"
	"testing"
	"time"

	"github.com/zk-monitor/zk_monitor/internal/testenv"
)

// sessionTimeout is the agents' ZooKeeper session: short, so that the
// failover tests are quick.
const sessionTimeout = 2 * time.Second

func startCluster(t *testing.T, zkAddr string, n int, extra ...string) []*process {
	t.Helper()
	return startClusterSession(t, zkAddr, n, sessionTimeout, extra...)
}

// startClusterSession starts n agents of cluster e2e with the given
// session timeout.
func startClusterSession(t *testing.T, zkAddr string, n int, session time.Duration, extra ...string) []*process {
	t.Helper()
	cfg := testenv.WriteFile(t, "paths.yaml", "/services/foo/min_1: {children: 1}\n")
	var agents []*process
	for i := 1; i <= n; i++ {
		args := append([]string{"-z", zkAddr, "-f", cfg, "-c", "e2e", "--zookeeper.session-timeout", session.String()}, extra...)
		agents = append(agents, startAgent(t, fmt.Sprintf("agent%d", i), args...))
	}
	return agents
}

// TestKillLeaderFailover: kill -9 the leader; exactly one new leader within
// the session timeout plus one second, and never two at once.
func TestKillLeaderFailover(t *testing.T) {
	zk := testenv.StartZooKeeper(t)
	agents := startCluster(t, zk.Addr(), 3)
	leader := waitOneLeader(t, agents, 15*time.Second)

	// Every agent sees all three registrations and agrees on the leader.
	testenv.Eventually(t, 10*time.Second, 50*time.Millisecond, func() bool {
		for _, a := range agents {
			st, err := a.Status()
			if err != nil || st.Cluster.Leader != leader || len(st.Cluster.Agents) != 3 {
				return false
			}
		}
		return true
	}, "agents do not agree on leader %s and 3 agents", leader)

	watch := watchSplitBrain(agents)
	killed := time.Now()
	byName(agents, leader).Signal(syscall.SIGKILL)
	next := waitNewLeader(t, agents, leader, 15*time.Second)
	took := time.Since(killed)
	t.Logf("failover after kill -9 of %s: %s took over in %s (session timeout %s)", leader, next, took, sessionTimeout)
	// The session timeout is the system's; the second on top is the
	// test's allowance for noticing, and stretches with the scale knob.
	if limit := sessionTimeout + testenv.Scaled(time.Second); took > limit {
		t.Errorf("failover took %s, want within the session timeout + 1s (%s)", took, limit)
	}
	time.Sleep(500 * time.Millisecond)
	watch.Check(t)
	testenv.Eventually(t, 10*time.Second, 50*time.Millisecond, func() bool {
		st, err := byName(agents, next).Status()
		return err == nil && len(st.Cluster.Agents) == 2
	}, "the dead agent's registration did not go away")
}

// TestGracefulStopHandover: SIGTERM deletes the leader's nodes, so a
// follower takes over at once rather than after the session timeout. The
// session is long, so that a handover in time can only come from the
// deleted nodes, however slow the machine.
func TestGracefulStopHandover(t *testing.T) {
	const session = 30 * time.Second
	zk := testenv.StartZooKeeper(t)
	agents := startClusterSession(t, zk.Addr(), 3, session)
	leader := waitOneLeader(t, agents, 15*time.Second)
	watch := watchSplitBrain(agents)
	stopped := time.Now()
	byName(agents, leader).Signal(syscall.SIGTERM)
	next := waitNewLeader(t, agents, leader, 10*time.Second)
	took := time.Since(stopped)
	t.Logf("graceful handover from %s to %s in %s", leader, next, took)
	if took >= session {
		t.Errorf("graceful handover took %s: the old leader's nodes were not deleted on shutdown", took)
	}
	time.Sleep(500 * time.Millisecond)
	watch.Check(t)
	if err := byName(agents, leader).Wait(10 * time.Second); err != nil {
		t.Fatalf("stopped leader: %v", err)
	}
}

// TestPausedLeaderIsFenced pauses the leader (SIGSTOP) past its session
// timeout: a follower takes over, and the resumed old leader never acts as
// leader again on its old session.
func TestPausedLeaderIsFenced(t *testing.T) {
	zk := testenv.StartZooKeeper(t)
	agents := startCluster(t, zk.Addr(), 3)
	leader := waitOneLeader(t, agents, 15*time.Second)
	old := byName(agents, leader)
	watch := watchSplitBrain(agents)

	old.Signal(syscall.SIGSTOP)
	next := waitNewLeader(t, agents, leader, 15*time.Second)
	time.Sleep(sessionTimeout / 2)
	old.Signal(syscall.SIGCONT)

	// The old leader comes back as a follower with a new session.
	testenv.Eventually(t, 15*time.Second, 20*time.Millisecond, func() bool {
		st, err := old.Status()
		return err == nil && st.ZooKeeper.Connected && !st.Cluster.IsLeader && st.Cluster.Leader == next
	}, "resumed old leader did not settle as a follower of %s", next)
	time.Sleep(time.Second)
	watch.Check(t)
	for _, a := range agents {
		st, err := a.Status()
		if err != nil {
			t.Fatalf("%s after resume: %v", a.Name, err)
		}
		if lead := st.Monitor.Alerter.Alerting; lead != (a.Name == next) {
			t.Errorf("%s alerting=%v after resume, want only %s to alert", a.Name, lead, next)
		}
	}
	testenv.Eventually(t, 15*time.Second, 20*time.Millisecond, func() bool {
		st, err := byName(agents, next).Status()
		return err == nil && len(st.Cluster.Agents) == 3
	}, "the leader %s does not list all three agents re-registered after the resume", next)
}
