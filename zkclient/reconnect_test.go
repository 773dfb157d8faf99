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
	if testing.Short() {
		t.Skip("needs a real ZooKeeper")
	}
	const (
		nodes   = 20
		rounds  = 4
		readers = 40
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
	load := make([]byte, 256<<10)
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
		proxy.Cut()
		testenv.Eventually(t, 10*time.Second, time.Millisecond, func() bool { return !c.Connected() }, "round %d: the cut was not noticed", round)
		// Readers without watches keep the library's send queue full while
		// it reconnects: their answers arrive before the watches are set.
		sent := testenv.CounterSum(t, reg, "zk_monitor_zookeeper_requests_total")
		stop := make(chan struct{})
		var wg sync.WaitGroup
		for range readers {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for {
					select {
					case <-stop:
						return
					default:
					}
					_, _ = c.Set("/race/load", load, -1)
				}
			}()
		}
		testenv.Eventually(t, 10*time.Second, time.Millisecond, func() bool {
			return testenv.CounterSum(t, reg, "zk_monitor_zookeeper_requests_total") >= sent+readers
		}, "round %d: the readers did not start", round)
		proxy.Restore()
		testenv.Eventually(t, 10*time.Second, time.Millisecond, c.Connected, "round %d: no reconnect", round)
		close(stop)
		wg.Wait()

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
}
