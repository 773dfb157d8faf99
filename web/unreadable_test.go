package web_test

import (
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/zk-monitor/zk_monitor/collector"
	"github.com/zk-monitor/zk_monitor/compliance"
	"github.com/zk-monitor/zk_monitor/config"
	"github.com/zk-monitor/zk_monitor/web"
)

// unreadableState is a path the agent may not read, as the watcher
// reports it.
func unreadableState(path string, spec config.PathSpec) *collector.PathState {
	spec.Path = path
	obs := compliance.Observation{ReadError: "not authorized (check --zookeeper_user and the znode's ACL)"}
	return &collector.PathState{Spec: spec, Observation: obs, Result: compliance.Evaluate(spec, obs, time.Time{})}
}

// TestUnreadablePaths: /status lists the paths with checks that cannot be
// read with the reason, and the landing page shows them; a path without
// checks stays Unknown there too.
func TestUnreadablePaths(t *testing.T) {
	one := 1
	src := fakeSource{connected: true, states: []*collector.PathState{
		pathState("/a", compliance.OK, compliance.MsgOK, 1, true),
		unreadableState("/locked", config.PathSpec{MinChildren: &one}),
		unreadableState("/locked-nochecks", config.PathSpec{}),
	}}
	h := web.NewHandler(web.Options{Source: src, Version: "1.2.3", Gatherer: prometheus.NewRegistry()})

	_, body := serve(t, h, "GET", "/status", "")
	for _, want := range []string{
		`"/locked": "Cannot read path: not authorized (check --zookeeper_user and the znode's ACL)"`,
		`"/locked-nochecks": "No information is available about this path."`,
		`"unreadable": {
            "/locked": "not authorized (check --zookeeper_user and the znode's ACL)"
        }`,
	} {
		if !strings.Contains(body, want) {
			t.Errorf("/status lacks %s:\n%s", want, body)
		}
	}
	if strings.Count(body, "/locked-nochecks") != 1 {
		t.Errorf("/status lists /locked-nochecks as unreadable:\n%s", body)
	}

	_, body = serve(t, h, "GET", "/", "text/html")
	for _, want := range []string{
		`<p class="unreadable">1 path cannot be read (ZnodeUnreadable):</p>`,
		`<li>/locked: not authorized (check --zookeeper_user and the znode&#39;s ACL)</li>`,
		`<tr><td>/locked</td><td class="unreadable">unreadable</td><td>-</td><td>Cannot read path: not authorized (check --zookeeper_user and the znode&#39;s ACL)</td></tr>`,
		`<tr><td>/locked-nochecks</td><td class="unknown">unknown</td><td>-</td><td>No information is available about this path.</td></tr>`,
	} {
		if !strings.Contains(body, want) {
			t.Errorf("landing page lacks %s:\n%s", want, body)
		}
	}
}
