package e2e

import (
	"fmt"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/zk-monitor/zk_monitor/internal/testenv"
	"github.com/zk-monitor/zk_monitor/zkclient"
)

// TestRollingRestartKeepsFiringAlert restarts the follower, then stops the
// leader while a path with a long hold-down fires: the follower, whose own
// hold-down started again with its restart, takes over the firing alert.
// Sampled all along, Alertmanager holds one active alert for the path with
// its original start, never resolved, until well after the new leader's own
// hold-down would have ended.
func TestRollingRestartKeepsFiringAlert(t *testing.T) {
	testenv.SkipIfShort(t, "needs a real ZooKeeper and Alertmanager")
	const (
		cancelTimeout = 20 * time.Second
		resend        = 2 * time.Second
	)
	zk := testenv.StartZooKeeper(t)
	am := testenv.StartAlertmanager(t, nullAlertmanager)
	if err := adminClient(t, zk.Addr()).EnsurePath("/r/x", zkclient.DigestACL("", "")); err != nil {
		t.Fatal(err)
	}
	cfg := testenv.WriteFile(t, "paths.yaml", fmt.Sprintf("/r/x: {children: 1, cancel_timeout: %d}\n", int(cancelTimeout.Seconds())))
	args := []string{"-z", zk.Addr(), "-f", cfg, "-c", "rolling", "--zookeeper.session-timeout", sessionTimeout.String(),
		"--alertmanager.url", am.URL(), "--alertmanager.resend-interval", resend.String()}
	a := startAgent(t, "a", args...)
	waitOneLeader(t, []*process{a}, 15*time.Second)
	b := startAgent(t, "b", args...)

	alertsOfX := func() []testenv.AMAlert { return am.AlertsWith(t, map[string]string{"path": "/r/x"}) }
	var first testenv.AMAlert
	testenv.Eventually(t, cancelTimeout+15*time.Second, 100*time.Millisecond, func() bool {
		alerts := alertsOfX()
		if len(alerts) == 1 && alerts[0].Status.State == "active" {
			first = alerts[0]
			return true
		}
		return false
	}, "/r/x never fired")
	t.Logf("fired: startsAt %s, fingerprint %s", first.StartsAt, first.Fingerprint)

	// Sample Alertmanager from now on.
	stop := make(chan struct{})
	done := make(chan []string)
	go func() {
		var bad []string
		samples := 0
		for {
			select {
			case <-stop:
				if samples < 20 {
					bad = append(bad, fmt.Sprintf("only %d samples", samples))
				}
				done <- bad
				return
			case <-time.After(100 * time.Millisecond):
			}
			alerts := alertsOfX()
			samples++
			at := time.Now().Format("15:04:05.000")
			switch {
			case len(alerts) != 1:
				bad = append(bad, fmt.Sprintf("%s: %d alerts for /r/x", at, len(alerts)))
			case alerts[0].Status.State != "active":
				bad = append(bad, fmt.Sprintf("%s: state %s", at, alerts[0].Status.State))
			case alerts[0].Fingerprint != first.Fingerprint || !alerts[0].StartsAt.Equal(first.StartsAt):
				bad = append(bad, fmt.Sprintf("%s: fingerprint %s startsAt %s", at, alerts[0].Fingerprint, alerts[0].StartsAt))
			}
		}
	}()

	// Restart the follower: its hold-down starts from scratch.
	b.Signal(syscall.SIGTERM)
	testenv.Eventually(t, 15*time.Second, 20*time.Millisecond, b.Exited, "b did not stop")
	b = startAgent(t, "b", args...)
	testenv.Eventually(t, 15*time.Second, 20*time.Millisecond, func() bool {
		st, err := b.Status()
		return err == nil && st.Cluster.Leader == "a" && st.Monitor.Compliance["/r/x"] == "Found children (0) less than minimum (1)"
	}, "restarted b did not see /r/x and the leader")

	// Stop the leader: b takes over.
	a.Signal(syscall.SIGTERM)
	stopped := time.Now()
	waitOneLeader(t, []*process{b}, 15*time.Second)
	t.Logf("b leads %s after a was stopped", time.Since(stopped))
	// Past the alert's expiry in Alertmanager (4 × resend after a's last
	// resend) and the end of b's own hold-down.
	time.Sleep(cancelTimeout + 4*resend)
	close(stop)
	if bad := <-done; len(bad) > 0 {
		if len(bad) > 10 {
			bad = append(append(bad[:5:5], "..."), bad[len(bad)-5:]...)
		}
		t.Fatalf("the alert did not stay one active alert with its original start:\n%s", strings.Join(bad, "\n"))
	}
	if st, err := b.Status(); err != nil || !st.Monitor.Alerter.Alerting {
		t.Fatalf("b does not lead at the end: %+v %v", st, err)
	}
}
