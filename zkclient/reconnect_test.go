package zkclient_test

import (
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/zk-monitor/zk_monitor/internal/testenv"
	"github.com/zk-monitor/zk_monitor/zkclient"
)

// TestReconnectWithWatchesAndRequestsInFlight reconnects a client that
// holds watches while requests queue up behind the lost connection: the
// path of go-zookeeper v1.0.4's data race on lastZxid (upstream PR
// go-zookeeper/zk#35). On reconnect the library reads lastZxid to restore
// the watches while its receive loop, already running, writes it for the
// answers to the queued requests. Under -race (make test) this test fails
// against the unpatched library and passes with third_party/go-zookeeper;
// without -race it still checks that the watches survive every reconnect.
func TestReconnectWithWatchesAndRequestsInFlight(t *testing.T) {
	testenv.SkipIfShort(t, "needs a real ZooKeeper")
	const (
		nodes  = 20
		rounds = 4
	)
	zkServer := testenv.StartZooKeeper(t)
	admin := testenv.ZKClient(t, zkclient.Options{ConnectString: zkServer.Addr()})
	acl := zkclient.DigestACL("", "")
	node := func(i int) string { return fmt.Sprintf("/race/n%02d", i) }
	for i := range nodes {
		if err := admin.EnsurePath(node(i), acl); err != nil {
			t.Fatal(err)
		}
	}
	if err := admin.EnsurePath("/race/load", acl); err != nil {
		t.Fatal(err)
	}
	proxy := testenv.NewProxy(t, zkServer.Addr())
	reg := prometheus.NewRegistry()
	c := testenv.ZKClient(t, zkclient.Options{ConnectString: proxy.Addr(), SessionTimeout: 20 * time.Second, Registerer: reg})
	changed := make(chan string, 4*nodes)
	c.Subscribe(func(ev zkclient.Event) {
		if ev.Kind == zkclient.NodeChanged {
			changed <- ev.Path
		}
	})
	for i := range nodes {
		if _, _, err := c.GetW(node(i)); err != nil {
			t.Fatal(err)
		}
	}
	session := c.SessionID()
	for round := range rounds {
		stop := reconnectWithWritesQueued(t, c, proxy, reg, "/race/load", 256<<10)
		stop()

		// The library restored the watches on the server: a change fires.
		want := node(round + 1)
		if _, err := admin.Set(want, []byte{byte(round)}, -1); err != nil {
			t.Fatal(err)
		}
		deadline := time.After(testenv.Scaled(10 * time.Second))
		for got := ""; got != want; {
			select {
			case got = <-changed:
			case <-deadline:
				t.Fatalf("round %d: no watch event for %s after the reconnect", round, want)
			}
		}
	}
	if c.SessionID() != session {
		t.Fatalf("session changed from 0x%x to 0x%x: the reconnects must stay within the session", session, c.SessionID())
	}
	if n := testenv.CounterSum(t, reg, "zk_monitor_zookeeper_watch_restore_failures_total"); n != 0 {
		t.Fatalf("%v restore failures counted; the server restored every watch", n)
	}
}

// TestRefusedSetWatches: when the server refuses to restore the watches
// after a reconnect (here ZooKeeper's request throttle answers the
// setWatches request queued behind a write with ZTHROTTLEDOP), the library
// believes it still holds them and only logs the failure. The client reads
// the refusal off the wire, counts it, tells its subscribers to re-read and
// forgets its held watches, so that the re-read sets them again.
func TestRefusedSetWatches(t *testing.T) {
	testenv.SkipIfShort(t, "needs a real ZooKeeper")
	zkServer := testenv.StartZooKeeper(t, testenv.ZKConfig(
		"flushDelay=300",                  // a write completes after about 100 ms (the log is
		"maxWriteQueuePollTime=100",       // flushed when no other write came for 100 ms) ...
		"request_throttle_max_requests=1", // ... no other request runs meanwhile ...
		"request_throttle_stall_time=5",   // (checked every 5 ms, so a ping delays a read by less)
		"throttled_op_wait_time=50",       // ... and one that waited 50 ms is refused
	))
	// Every request of this test may be refused when it comes while a write
	// is being flushed (a new session's, for one): try until one is not.
	answered := func(what string, request func() error) {
		t.Helper()
		var err error
		testenv.Eventually(t, 10*time.Second, 10*time.Millisecond, func() bool { err = request(); return err == nil }, "%s: %v", what, err)
	}
	admin := testenv.ZKClient(t, zkclient.Options{ConnectString: zkServer.Addr()})
	for _, p := range []string{"/watched", "/load"} {
		answered("creating "+p, func() error { return admin.EnsurePath(p, zkclient.DigestACL("", "")) })
	}
	proxy := testenv.NewProxy(t, zkServer.Addr())
	reg := prometheus.NewRegistry()
	c := testenv.ZKClient(t, zkclient.Options{ConnectString: proxy.Addr(), SessionTimeout: 20 * time.Second, Registerer: reg})
	var mu sync.Mutex
	var ups, changes int
	c.Subscribe(func(ev zkclient.Event) {
		mu.Lock()
		defer mu.Unlock()
		switch ev.Kind {
		case zkclient.SessionUp:
			ups++
		case zkclient.NodeChanged:
			changes++
		}
	})
	count := func() (int, int) {
		mu.Lock()
		defer mu.Unlock()
		return ups, changes
	}
	getW := func() error { _, _, err := c.GetW("/watched"); return err }
	answered("watching /watched", getW)
	upsBefore, _ := count()
	stop := reconnectWithWritesQueued(t, c, proxy, reg, "/load", 1)
	stop()
	// ZooKeeper answers a session's requests in order: once this one is
	// answered, so is the setWatches request sent before it.
	_, _, _ = c.Get("/watched")
	testenv.Eventually(t, 5*time.Second, time.Millisecond, func() bool {
		return testenv.CounterSum(t, reg, "zk_monitor_zookeeper_watch_restore_failures_total") == 1
	}, "the refused setWatches was not counted")
	testenv.Eventually(t, 5*time.Second, time.Millisecond, func() bool {
		u, _ := count()
		return u == upsBefore+2
	}, "the subscribers were not told to re-read after the refusal")
	// The re-read a subscriber does sets the watch again on the server.
	answered("watching /watched again", getW)
	_, before := count()
	answered("changing /watched", func() error { _, err := admin.Set("/watched", []byte("changed"), -1); return err })
	testenv.Eventually(t, 10*time.Second, time.Millisecond, func() bool {
		_, n := count()
		return n > before
	}, "no watch event: the watch was not set again after the refusal")
}

// reconnectWithWritesQueued cuts the client's connection through proxy and,
// while it is down, starts writers that keep setting size bytes on p, so
// that requests queue up inside go-zookeeper; once each writer has sent one,
// it restores the connection and waits for the new session. Big writes keep
// the library busy sending for milliseconds after it reconnected, while
// answers to the first ones arrive. The returned func stops the writers.
func reconnectWithWritesQueued(t *testing.T, c *zkclient.Client, proxy *testenv.Proxy, reg prometheus.Gatherer, p string, size int) (stop func()) {
	t.Helper()
	const writers = 40
	proxy.Cut()
	testenv.Eventually(t, 10*time.Second, time.Millisecond, func() bool { return !c.Connected() }, "the cut was not noticed")
	sent := testenv.CounterSum(t, reg, "zk_monitor_zookeeper_requests_total")
	done := make(chan struct{})
	var wg sync.WaitGroup
	data := make([]byte, size)
	for range writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				select {
				case <-done:
					return
				default:
				}
				_, _ = c.Set(p, data, -1)
			}
		}()
	}
	testenv.Eventually(t, 10*time.Second, time.Millisecond, func() bool {
		return testenv.CounterSum(t, reg, "zk_monitor_zookeeper_requests_total") >= sent+writers
	}, "the writers did not start")
	proxy.Restore()
	testenv.Eventually(t, 10*time.Second, time.Millisecond, c.Connected, "no reconnect")
	return func() {
		close(done)
		wg.Wait()
	}
}
