package testenv

import (
	"errors"
	"fmt"
	"net"
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
	// links[from][to] carries server from's connections to server to's
	// peer ports, when the ensemble was started with PeerProxies.
	links [][]*peerLink
}

// peerLink is one server's way to another's quorum and election ports.
type peerLink struct {
	quorum, election *Proxy
}

// EnsembleOptions shape an ensemble; zero fields take the defaults.
type EnsembleOptions struct {
	// TickTime is ZooKeeper's time unit (default 200ms). Sessions may be as
	// short as two ticks.
	TickTime time.Duration
	// SyncLimit is how many ticks of silence a follower allows its leader,
	// and the leader a follower, before giving up on it (default 5). A
	// follower that gives up on its leader drops its clients.
	SyncLimit int
	// PeerProxies sends every server's connections to every other server
	// (quorum and leader-election ports) through a Proxy of their own, so
	// that Partition can cut one server off from the others while its
	// clients stay connected to it.
	PeerProxies bool
}

// StartEnsemble starts n ZooKeeper servers forming one ensemble and waits
// until a quorum serves requests with an elected leader.
func StartEnsemble(t testing.TB, n int) *Ensemble {
	t.Helper()
	return StartEnsembleWith(t, n, EnsembleOptions{})
}

// StartEnsembleWith is StartEnsemble with options.
func StartEnsembleWith(t testing.TB, n int, opts EnsembleOptions) *Ensemble {
	t.Helper()
	SkipIfShort(t, "needs a real ZooKeeper ensemble")
	if n < 1 {
		t.Fatalf("testenv: ensemble of %d servers", n)
	}
	if opts.TickTime <= 0 {
		opts.TickTime = zkTickTime
	}
	if opts.SyncLimit <= 0 {
		opts.SyncLimit = zkSyncLimit
	}
	e := &Ensemble{}
	if opts.PeerProxies {
		// The proxies listen before the servers' ports are picked, so
		// that none of those can be a proxy's; made first, they are also
		// closed after the servers stopped.
		e.links = make([][]*peerLink, n)
		for from := range n {
			e.links[from] = make([]*peerLink, n)
			for to := range n {
				if from != to {
					e.links[from][to] = &peerLink{quorum: NewProxy(t, ""), election: NewProxy(t, "")}
				}
			}
		}
	}
	type ports struct{ client, peer, election int }
	ps := make([]ports, n)
	for i := range ps {
		ps[i] = ports{FreePort(t), FreePort(t), FreePort(t)}
	}
	for from := range n {
		for to := range n {
			if l := e.link(from, to); l != nil {
				l.quorum.SetTarget(fmt.Sprintf("127.0.0.1:%d", ps[to].peer))
				l.election.SetTarget(fmt.Sprintf("127.0.0.1:%d", ps[to].election))
			}
		}
	}
	root := t.TempDir()
	for i := range ps {
		// Each server names itself by its own ports and, with PeerProxies,
		// every other server by the proxies of that pair.
		lines := make([]string, n)
		for j := range ps {
			peer, election := ps[j].peer, ps[j].election
			if l := e.link(i, j); l != nil {
				peer, election = proxyPort(l.quorum), proxyPort(l.election)
			}
			lines[j] = fmt.Sprintf("server.%d=127.0.0.1:%d:%d", j+1, peer, election)
		}
		dir := filepath.Join(root, "zk"+strconv.Itoa(i+1))
		e.servers = append(e.servers, newZooKeeper(t, i+1, dir, ps[i].client, zkConfig(dir, ps[i].client, lines, opts.TickTime, opts.SyncLimit)))
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

func (e *Ensemble) link(from, to int) *peerLink {
	if e.links == nil {
		return nil
	}
	return e.links[from][to]
}

func proxyPort(p *Proxy) int {
	_, port, _ := net.SplitHostPort(p.Addr())
	n, _ := strconv.Atoi(port)
	return n
}

// Partition black-holes the peer links of server i (an index into Servers)
// in both directions, as a network partition would: it hears nothing from
// the other servers and they nothing from it, while its clients stay
// connected. The follower notices after SyncLimit ticks and drops its
// clients; until then it answers reads from what it had. The ensemble must
// have been started with PeerProxies.
//
// One gap: ZooKeeper answers an election connection from a server with a
// lower id by calling back on the address that server announces for itself
// (QuorumCnxManager.handleConnection), which is its own port, not a proxy.
// Such election links bypass the partition. They carry only votes: a cut-off
// server still cannot reach the leader's quorum port, so it cannot serve.
func (e *Ensemble) Partition(i int) { e.eachLink(i, (*Proxy).Blackhole) }

// Heal forwards the peer links of server i again, after Partition.
func (e *Ensemble) Heal(i int) { e.eachLink(i, (*Proxy).Restore) }

func (e *Ensemble) eachLink(i int, fn func(*Proxy)) {
	if e.links == nil {
		panic("testenv: Partition and Heal need an ensemble started with PeerProxies")
	}
	for j := range e.servers {
		for _, l := range []*peerLink{e.links[i][j], e.links[j][i]} {
			if l != nil {
				fn(l.quorum)
				fn(l.election)
			}
		}
	}
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

// EpochWithout returns the highest ZooKeeper epoch among the members other
// than member without (the one a test cuts off), waiting until they all
// serve. A rise between two calls means those members elected a new
// leader meanwhile, and served no client while they did.
func (e *Ensemble) EpochWithout(tb testing.TB, without int) int64 {
	tb.Helper()
	var epoch int64
	Eventually(tb, 30*time.Second, 50*time.Millisecond, func() bool {
		epoch = 0
		for i, z := range e.servers {
			if i == without {
				continue
			}
			ep, err := z.Epoch()
			if err != nil {
				return false
			}
			epoch = max(epoch, ep)
		}
		return true
	}, "the members beside member %d do not all serve; modes %q", without+1, e.Modes())
	return epoch
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
// The timeout is stretched by the scale knob.
func (e *Ensemble) WaitServing(timeout time.Duration) error {
	timeout = Scaled(timeout)
	if modes, ok := e.waitMembers(timeout, len(e.servers)/2+1); !ok {
		return fmt.Errorf("%w after %v: modes %q", ErrNoQuorum, timeout, modes)
	}
	return nil
}

// WaitAllServing waits until every member serves requests: one leader, the
// others following (a restarted member has rejoined). The timeout is
// stretched by the scale knob.
func (e *Ensemble) WaitAllServing(timeout time.Duration) error {
	timeout = Scaled(timeout)
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
