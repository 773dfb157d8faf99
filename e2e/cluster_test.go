package e2e

import (
	"fmt"
	"sort"
	"syscall"
	"testing"
	"time"

	"github.com/zk-monitor/zk_monitor/internal/testenv"
)

const sessionTimeout = 2 * time.Second

func startCluster(t *testing.T, zkAddr string, n int, extra ...string) []*process {
	t.Helper()
	cfg := testenv.WriteFile(t, "paths.yaml", "/services/foo/min_1: {children: 1}\n")
	var agents []*process
	for i := 1; i <= n; i++ {
		args := append([]string{"-z", zkAddr, "-f", cfg, "-c", "e2e", "--zookeeper.session-timeout", sessionTimeout.String()}, extra...)
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
	var next string
	testenv.Eventually(t, 15*time.Second, 10*time.Millisecond, func() bool {
		l := leaders(agents)
		if len(l) == 1 && l[0] != leader {
			next = l[0]
			return true
		}
		return false
	}, "no new leader after killing %s", leader)
	took := time.Since(killed)
	t.Logf("failover after kill -9 of %s: %s took over in %s (session timeout %s)", leader, next, took, sessionTimeout)
	if took > sessionTimeout+time.Second {
		t.Errorf("failover took %s, want within session timeout + 1s (%s)", took, sessionTimeout+time.Second)
	}
	time.Sleep(500 * time.Millisecond)
	watch.Check(t)
	testenv.Eventually(t, 10*time.Second, 50*time.Millisecond, func() bool {
		st, err := byName(agents, next).Status()
		return err == nil && len(st.Cluster.Agents) == 2
	}, "the dead agent's registration did not go away")
}

// TestGracefulStopHandover: SIGTERM deletes the leader's nodes, so a
// follower takes over at once rather than after the session timeout.
func TestGracefulStopHandover(t *testing.T) {
	zk := testenv.StartZooKeeper(t)
	agents := startCluster(t, zk.Addr(), 3)
	leader := waitOneLeader(t, agents, 15*time.Second)
	watch := watchSplitBrain(agents)
	stopped := time.Now()
	byName(agents, leader).Signal(syscall.SIGTERM)
	var next string
	testenv.Eventually(t, 10*time.Second, 10*time.Millisecond, func() bool {
		l := leaders(agents)
		if len(l) == 1 && l[0] != leader {
			next = l[0]
			return true
		}
		return false
	}, "no new leader after stopping %s", leader)
	took := time.Since(stopped)
	t.Logf("graceful handover from %s to %s in %s", leader, next, took)
	if took >= sessionTimeout {
		t.Errorf("graceful handover took %s: the old leader's nodes were not deleted on shutdown", took)
	}
	time.Sleep(500 * time.Millisecond)
	watch.Check(t)
	select {
	case <-byName(agents, leader).done:
	case <-time.After(10 * time.Second):
		t.Fatal("stopped leader did not exit")
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
	var next string
	testenv.Eventually(t, 15*time.Second, 20*time.Millisecond, func() bool {
		l := leaders(agents)
		if len(l) == 1 && l[0] != leader {
			next = l[0]
			return true
		}
		return false
	}, "no follower took over from the paused leader")
	time.Sleep(sessionTimeout / 2)
	old.Signal(syscall.SIGCONT)

	// The old leader comes back as a follower with a new session.
	testenv.Eventually(t, 15*time.Second, 20*time.Millisecond, func() bool {
		st, err := old.Status()
		return err == nil && st.ZooKeeper.Connected && !st.Cluster.IsLeader && st.Cluster.Leader == next
	}, "resumed old leader did not settle as a follower of %s", next)
	time.Sleep(time.Second)
	watch.Check(t)
	if l := leaders(agents); len(l) != 1 || l[0] != next {
		t.Fatalf("leaders after resume: %v, want [%s]", l, next)
	}
	var names []string
	st, _ := byName(agents, next).Status()
	names = append(names, st.Cluster.Agents...)
	sort.Strings(names)
	if len(names) != 3 {
		t.Fatalf("agents after resume: %v, want all three re-registered", names)
	}
}
