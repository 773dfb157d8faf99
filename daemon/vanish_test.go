package daemon_test

import (
	"context"
	"fmt"
	"net/url"
	"testing"
	"time"

	"github.com/go-zookeeper/zk"

	"github.com/zk-monitor/zk_monitor/internal/testenv"
)

// TestGlobMatchDeletedNeverAlerts is issue 13's false alert end to end: an
// agent leading with a real Alertmanager watches /gx/*/inst (children: 1,
// no hold-down); compliant matches are deleted together with their parents
// in one transaction, again and again. Alertmanager must never receive an
// alert about them. On the code before the fix some of the deletions fired
// inside the agent and reached Alertmanager (the issue saw 3 in 17 tries);
// 150 deletions make a pass by luck impossible in practice.
//
// The resend interval is an hour so that Alertmanager's count of received
// alerts is exact: the only alert it may have received when the test ends
// is the control, a match that really is out of spec, created after the
// deletions and delivered through the same queue behind anything the
// deletions might have sent.
func TestGlobMatchDeletedNeverAlerts(t *testing.T) {
	testenv.SkipIfShort(t, "needs a real ZooKeeper and Alertmanager")
	const (
		rounds  = 3
		matches = 50
	)
	zkServer := testenv.StartZooKeeper(t)
	am := testenv.StartAlertmanager(t, "route: {receiver: 'null'}\nreceivers: [{name: 'null'}]\n")
	ensure(t, admin(t, zkServer.Addr()), "/gx")
	opts := baseOptions(zkServer.Addr(), testenv.WriteFile(t, "paths.yaml", "/gx/*/inst: {children: 1}\n"))
	opts.ClusterName = "vanish"
	opts.ResendInterval = time.Hour
	opts.AlertmanagerURLs = []*url.URL{mustURL(t, am.URL())}
	a := startAgent(t, opts)
	testenv.Eventually(t, waitFor, pollEvery, func() bool {
		alerter, _ := a.status()["monitor"].(map[string]any)["alerter"].(map[string]any)
		return alerter["alerting"] == true
	}, "the agent does not lead")

	conn := testenv.RawZK(t, zkServer.Addr(), 10*time.Second)
	open := zk.WorldACL(zk.PermAll)
	match := func(i int) string { return fmt.Sprintf("/gx/s%d/inst", i) }
	multi := func(ops ...any) {
		t.Helper()
		if _, err := conn.Multi(ops...); err != nil {
			t.Fatalf("multi: %v", err)
		}
	}
	for round := range rounds {
		for i := range matches {
			multi(&zk.CreateRequest{Path: fmt.Sprintf("/gx/s%d", i), Acl: open},
				&zk.CreateRequest{Path: match(i), Acl: open},
				&zk.CreateRequest{Path: match(i) + "/h1", Acl: open})
		}
		testenv.Eventually(t, waitFor, pollEvery, func() bool {
			c := a.compliance()
			for i := range matches {
				if c[match(i)] != true {
					return false
				}
			}
			return len(c) == matches
		}, "round %d: compliance %v, want %d compliant matches", round, a.compliance(), matches)
		for i := range matches {
			multi(&zk.DeleteRequest{Path: match(i) + "/h1", Version: -1},
				&zk.DeleteRequest{Path: match(i), Version: -1},
				&zk.DeleteRequest{Path: fmt.Sprintf("/gx/s%d", i), Version: -1})
		}
		testenv.Eventually(t, waitFor, pollEvery, func() bool { return len(a.compliance()) == 0 }, "round %d: deleted matches still monitored: %v", round, a.compliance())
	}

	// The control: out of spec for real, so it must arrive, after whatever
	// the deletions queued.
	const control = "/gx/bad/inst"
	multi(&zk.CreateRequest{Path: "/gx/bad", Acl: open}, &zk.CreateRequest{Path: control, Acl: open})
	waitAlert(t, am, opts.ClusterName, control)
	ctx, cancel := context.WithTimeout(context.Background(), testenv.Scaled(5*time.Second))
	defer cancel()
	received, err := am.AlertsReceived(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if received != 1 {
		t.Fatalf("Alertmanager received %v alerts, want only the one about %s: %d were about deleted matches, firing or resolved", received, control, int(received)-1)
	}
}
