package collector_test

import (
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/zk-monitor/zk_monitor/collector"
	"github.com/zk-monitor/zk_monitor/compliance"
	"github.com/zk-monitor/zk_monitor/internal/testenv"
)

// TestUnreadablePath reads znodes whose ACL shuts this agent out: for a
// path with checks the result says the read failed and the unreadable
// gauge counts it, until the ACL is opened; a path without checks stays
// Unknown and is not counted.
func TestUnreadablePath(t *testing.T) {
	testenv.SkipIfShort(t, "needs a real ZooKeeper")
	zkServer := testenv.StartZooKeeper(t)
	checked := testenv.CreateProtectedZnode(t, zkServer.Addr(), "/locked", "owner", "s3cret")
	unchecked := testenv.CreateProtectedZnode(t, zkServer.Addr(), "/locked-nochecks", "owner", "s3cret")
	cfg := mustParse(t, "/locked: {children: 1}\n/locked-nochecks:\n")
	h := startWatcher(t, newClient(t, zkServer.Addr(), 5*time.Second, "", ""), cfg)
	gatherer := collector.NewGatherer(h.watcher, prometheus.NewRegistry(), collector.GathererOptions{})
	unreadable := func(n int) string {
		return "# HELP zk_monitor_unreadable_paths Number of monitored znode paths with checks whose last read failed (no permission, or any error other than a missing znode).\n" +
			"# TYPE zk_monitor_unreadable_paths gauge\n" +
			"zk_monitor_unreadable_paths " + strconv.Itoa(n) + "\n"
	}

	h.waitResult("/locked", compliance.Result{
		State:   compliance.Unknown,
		Message: "Cannot read path: not authorized (check --zookeeper_user and the znode's ACL)",
		Read:    compliance.Error,
	})
	// Without checks a path stays Unknown and raises nothing.
	h.waitResult("/locked-nochecks", compliance.Result{State: compliance.Unknown, Message: compliance.MsgNoChecks})
	if st := h.state("/locked-nochecks"); st.Observation.ReadError == "" {
		t.Errorf("/locked-nochecks: no read error recorded: %+v", st.Observation)
	}
	if st := h.state("/locked"); !st.Unreadable() || h.state("/locked-nochecks").Unreadable() {
		t.Errorf("Unreadable() = %v for /locked, %v for /locked-nochecks; want true, false", st.Unreadable(), h.state("/locked-nochecks").Unreadable())
	}
	if err := testutil.GatherAndCompare(gatherer, strings.NewReader(unreadable(1)), "zk_monitor_unreadable_paths"); err != nil {
		t.Fatal(err)
	}

	checked.Open()
	unchecked.Open()
	h.waitResult("/locked", tooFew(0, 1))
	testenv.Eventually(t, waitFor, 10*time.Millisecond, func() bool {
		return testutil.GatherAndCompare(gatherer, strings.NewReader(unreadable(0)), "zk_monitor_unreadable_paths") == nil
	}, "zk_monitor_unreadable_paths did not drop to 0")
}
