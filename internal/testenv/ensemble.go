package testenv

import (
	"errors"
	"fmt"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// Ensemble is an n-server ZooKeeper ensemble on loopback:
// server.i=127.0.0.1:peerPort:electionPort, every port picked free.
type Ensemble struct {
	servers []*ZooKeeper
}

// StartEnsemble starts n ZooKeeper servers forming one ensemble and waits
// until a quorum serves requests with an elected leader.
func StartEnsemble(t testing.TB, n int) *Ensemble {
	t.Helper()
	if n < 1 {
		t.Fatalf("testenv: ensemble of %d servers", n)
	}
	type ports struct{ client, peer, election int }
	ps := make([]ports, n)
	lines := make([]string, n)
	for i := range ps {
		ps[i] = ports{FreePort(t), FreePort(t), FreePort(t)}
		lines[i] = fmt.Sprintf("server.%d=127.0.0.1:%d:%d", i+1, ps[i].peer, ps[i].election)
	}
	root := t.TempDir()
	e := &Ensemble{}
	for i := range ps {
		dir := filepath.Join(root, "zk"+strconv.Itoa(i+1))
		e.servers = append(e.servers, newZooKeeper(t, i+1, dir, ps[i].client, zkConfig(dir, ps[i].client, lines)))
	}
	for _, z := range e.servers {
		if err := z.start(); err != nil {
			t.Fatalf("testenv: %v", err)
		}
	}
	for _, z := range e.servers {
		if err := z.waitReady(zkStartTimeout, false); err != nil {
			t.Fatalf("testenv: %v", err)
		}
	}
	if err := e.WaitServing(zkStartTimeout); err != nil {
		t.Fatalf("testenv: %v", err)
	}
	return e
}

// Servers returns the members; index i has myid i+1.
func (e *Ensemble) Servers() []*ZooKeeper { return e.servers }

// ConnectString returns "127.0.0.1:p1,127.0.0.1:p2,...".
func (e *Ensemble) ConnectString() string {
	return strings.Join(e.Addrs(), ",")
}

// Addrs returns the client addresses of the members.
func (e *Ensemble) Addrs() []string {
	addrs := make([]string, len(e.servers))
	for i, z := range e.servers {
		addrs[i] = z.Addr()
	}
	return addrs
}

// Leader returns the index of the server whose srvr says "Mode: leader", -1
// if none does.
func (e *Ensemble) Leader() int {
	for i, z := range e.servers {
		if m, err := z.Mode(); err == nil && m == "leader" {
			return i
		}
	}
	return -1
}

// Modes returns each member's srvr Mode ("" when not serving, "down" when it
// does not answer).
func (e *Ensemble) Modes() []string {
	modes := make([]string, len(e.servers))
	for i, z := range e.servers {
		m, err := z.Mode()
		if err != nil {
			m = "down"
		}
		modes[i] = m
	}
	return modes
}

// ErrNoQuorum is returned (wrapped) by WaitServing when no quorum formed in time.
var ErrNoQuorum = errors.New("no serving quorum")

// WaitServing waits until a quorum of members serves requests: exactly one
// leader and, counting it, a majority answering srvr with leader or follower.
func (e *Ensemble) WaitServing(timeout time.Duration) error {
	if modes, ok := e.waitMembers(timeout, len(e.servers)/2+1); !ok {
		return fmt.Errorf("%w after %v: modes %q", ErrNoQuorum, timeout, modes)
	}
	return nil
}

// WaitAllServing waits until every member serves requests: one leader, the
// others following (a restarted member has rejoined).
func (e *Ensemble) WaitAllServing(timeout time.Duration) error {
	if modes, ok := e.waitMembers(timeout, len(e.servers)); !ok {
		return fmt.Errorf("not every member serves after %v: modes %q", timeout, modes)
	}
	return nil
}

// waitMembers waits until exactly one member leads and n, counting it,
// serve; it returns the last modes seen.
func (e *Ensemble) waitMembers(timeout time.Duration, n int) ([]string, bool) {
	var modes []string
	ok := poll(timeout, 100*time.Millisecond, func() bool {
		modes = e.Modes()
		leaders, serving := 0, 0
		for _, m := range modes {
			switch m {
			case "leader":
				leaders++
				serving++
			case "follower":
				serving++
			}
		}
		return leaders == 1 && serving >= n
	})
	return modes, ok
}
