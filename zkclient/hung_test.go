package zkclient_test

import (
	"slices"
	"testing"
	"time"

	"github.com/zk-monitor/zk_monitor/internal/testenv"
	"github.com/zk-monitor/zk_monitor/zkclient"
)

// hungSession is the session timeout of the hung-server tests, the one of
// the README's example; a hung server costs a third of it (4 s over the 3
// servers) or half of it (2 servers), where go-zookeeper alone waits 10 ×
// 2/3 of it, 26.7 s, on each.
const hungSession = 4 * time.Second

// TestHungFirstServer: a server that accepts connections but never answers
// the handshake, first in the connect string (zkclient.InOrder keeps that
// order on every start), delays the first session by at most its share of
// the session timeout; the goal is a session within 6 s.
func TestHungFirstServer(t *testing.T) {
	testenv.SkipIfShort(t, "needs a real ZooKeeper")
	zkServer := testenv.StartZooKeeper(t)
	hung := testenv.NewProxy(t, zkServer.Addr())
	hung.Blackhole()
	for start := range 3 {
		tried := hung.Accepted()
		began := time.Now()
		c, err := zkclient.New(zkclient.InOrder(zkclient.Options{ConnectString: hung.Addr() + "," + zkServer.Addr(), SessionTimeout: hungSession}))
		if err != nil {
			t.Fatal(err)
		}
		testenv.Eventually(t, 6*time.Second, 5*time.Millisecond, c.Connected, "start %d: no session within 6 s with a hung first server", start)
		t.Logf("start %d: session after %v", start, time.Since(began).Round(time.Millisecond))
		if hung.Accepted() == tried {
			t.Errorf("start %d: the hung server was not tried first", start)
		}
		if c.Server() != zkServer.Addr() {
			t.Errorf("start %d: connected to %s, want %s", start, c.Server(), zkServer.Addr())
		}
		c.Close()
	}
}

// BenchmarkHungFirstServer reports how long a new client with a 4 s
// session takes to its first session when the first server of two hangs
// (connect-p50-ms, connect-max-ms; goal: under 6 s). One iteration is one
// start.
func BenchmarkHungFirstServer(b *testing.B) {
	zkServer := testenv.StartZooKeeper(b)
	hung := testenv.NewProxy(b, zkServer.Addr())
	hung.Blackhole()
	var took []time.Duration
	for range b.N {
		began := time.Now()
		c, err := zkclient.New(zkclient.InOrder(zkclient.Options{ConnectString: hung.Addr() + "," + zkServer.Addr(), SessionTimeout: hungSession}))
		if err != nil {
			b.Fatal(err)
		}
		testenv.Eventually(b, time.Minute, time.Millisecond, c.Connected, "no session")
		took = append(took, time.Since(began))
		c.Close()
	}
	slices.Sort(took)
	b.ReportMetric(float64(took[len(took)/2])/float64(time.Millisecond), "connect-p50-ms")
	b.ReportMetric(float64(took[len(took)-1])/float64(time.Millisecond), "connect-max-ms")
}

// TestHungServerOnReconnect: when the connection drops and the next server
// hangs, the client goes on to the third within the session, so the
// session (its ephemeral nodes, a leader's lease) survives.
func TestHungServerOnReconnect(t *testing.T) {
	testenv.SkipIfShort(t, "needs a real ZooKeeper")
	zkServer := testenv.StartZooKeeper(t)
	first, hung, third := testenv.NewProxy(t, zkServer.Addr()), testenv.NewProxy(t, zkServer.Addr()), testenv.NewProxy(t, zkServer.Addr())
	hung.Blackhole()
	c := testenv.ZKClient(t, zkclient.InOrder(zkclient.Options{
		ConnectString:  first.Addr() + "," + hung.Addr() + "," + third.Addr(),
		SessionTimeout: hungSession,
	}))
	if c.Server() != first.Addr() {
		t.Fatalf("connected to %s, want the first server %s", c.Server(), first.Addr())
	}
	session := c.SessionID()
	first.Cut()
	testenv.Eventually(t, 5*time.Second, time.Millisecond, func() bool { return !c.Connected() }, "the drop was not noticed")
	began := time.Now()
	testenv.Eventually(t, hungSession+2*time.Second, 5*time.Millisecond, c.Connected, "no session within the session timeout + 2 s after the drop")
	t.Logf("reconnected after %v", time.Since(began).Round(time.Millisecond))
	if hung.Accepted() == 0 {
		t.Error("the hung server was not tried")
	}
	if c.SessionID() != session || c.Server() != third.Addr() {
		t.Errorf("session 0x%x on %s, want the old session 0x%x on %s", c.SessionID(), c.Server(), session, third.Addr())
	}
}
