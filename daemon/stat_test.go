package daemon_test

import (
	"fmt"
	"net/url"
	"os/exec"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/go-zookeeper/zk"

	"github.com/zk-monitor/zk_monitor/internal/testenv"
	"github.com/zk-monitor/zk_monitor/zkclient"
)

// TestStatChecksAlert runs an agent (real ZooKeeper, real Alertmanager)
// on the checks of a znode's Stat. A heartbeat that stops raises
// ZnodeNotCompliant on time alone, after its hold-down, naming the age and
// the limit, and resolves when it beats again; a znode that must not be
// ephemeral alerts with its owner's session in hex, which /status shows
// for a znode that must be; the new families pass promtool's lint.
func TestStatChecksAlert(t *testing.T) {
	promtool := testenv.RequireBinary(t, "promtool")
	zkServer := testenv.StartZooKeeper(t)
	am := testenv.StartAlertmanager(t, "route: {receiver: 'null'}\nreceivers: [{name: 'null'}]\n")
	c := admin(t, zkServer.Addr())
	ensure(t, c, "/stat")
	owner := testenv.ZKClient(t, zkclient.Options{ConnectString: zkServer.Addr()})
	session := fmt.Sprintf("0x%x", owner.SessionID())
	for _, p := range []string{"/stat/leader", "/stat/controller"} {
		if _, err := owner.Create(p, nil, zk.FlagEphemeral, zk.WorldACL(zk.PermAll)); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := c.Create("/stat/hb", []byte("0"), 0, zk.WorldACL(zk.PermAll)); err != nil {
		t.Fatal(err)
	}

	const maxAge, holdDown = 2 * time.Second, time.Second
	cfg := testenv.WriteFile(t, "paths.yaml", `
/stat/hb: {max_age: 2s, for: 1s}
/stat/leader: {ephemeral: false}
/stat/controller: {ephemeral: true, max_data_bytes: 64}
`)
	opts := baseOptions(zkServer.Addr(), cfg)
	opts.ClusterName = "stat"
	opts.AlertmanagerURLs = []*url.URL{mustURL(t, am.URL())}
	a := startAgent(t, opts)

	leader := waitAlert(t, am, "stat", "/stat/leader")
	if want := "Path is ephemeral, owned by session " + session + ", but should be persistent"; leader.Annotations["summary"] != want {
		t.Errorf("alert summary %q, want %q", leader.Annotations["summary"], want)
	}
	testenv.Eventually(t, waitFor, pollEvery, func() bool {
		stat, _ := a.status()["monitor"].(map[string]any)["stat"].(map[string]any)
		controller, _ := stat["/stat/controller"].(map[string]any)
		return a.compliance()["/stat/controller"] == true && controller["ephemeral_owner"] == session
	}, "/status does not show /stat/controller compliant with its owner %s: %v", session, a.status())

	// The heartbeat: one more beat, then nothing.
	stat, err := c.Set("/stat/hb", []byte("1"), -1)
	if err != nil {
		t.Fatal(err)
	}
	mtime := time.UnixMilli(stat.Mtime)
	// An alert about an earlier beat (the agent may have started after the
	// first was too old) names another mtime: wait for this one's.
	summary := regexp.MustCompile(`^Data last written [0-9]+s ago \(at ` + regexp.QuoteMeta(mtime.UTC().Format("2006-01-02T15:04:05.000Z")) + `\), not within max_age \(2s\)$`)
	var hb testenv.AMAlert
	testenv.Eventually(t, waitFor, pollEvery, func() bool {
		hb = waitAlert(t, am, "stat", "/stat/hb")
		return summary.MatchString(hb.Annotations["summary"])
	}, "no alert for /stat/hb matching %s; last %q", summary, hb.Annotations["summary"])
	// Too old at mtime + max_age, then the hold-down: the alert starts
	// after both.
	if earliest := mtime.Add(maxAge + holdDown); hb.StartsAt.Before(earliest) {
		t.Errorf("the heartbeat alert starts at %v, before its data was too old and held down (%v)", hb.StartsAt, earliest)
	}
	_, body := a.get("/metrics")
	if age, ok := testenv.SampleValue(body, `zk_monitor_znode_data_age_seconds{path="/stat/hb"}`); !ok || age < maxAge.Seconds() {
		t.Errorf("zk_monitor_znode_data_age_seconds = %v (exported %v), want at least %v", age, ok, maxAge.Seconds())
	}
	cmd := exec.Command(promtool, "check", "metrics")
	cmd.Stdin = strings.NewReader(body)
	if out, err := cmd.CombinedOutput(); err != nil || len(strings.TrimSpace(string(out))) > 0 {
		t.Errorf("promtool check metrics: %v\n%s", err, out)
	}

	// It beats again: the alert resolves.
	if _, err := c.Set("/stat/hb", []byte("2"), -1); err != nil {
		t.Fatal(err)
	}
	testenv.Eventually(t, waitFor, pollEvery, func() bool {
		_, firing := firingAlert(t, am, "stat", "/stat/hb")
		return !firing
	}, "the heartbeat alert did not resolve after a new beat")
}
