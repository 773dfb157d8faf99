package daemon_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/go-logfmt/logfmt"

	"github.com/zk-monitor/zk_monitor/daemon"
	"github.com/zk-monitor/zk_monitor/internal/testenv"
	"github.com/zk-monitor/zk_monitor/logging"
)

// knownDuplicates are keys that packages outside daemon still add a second
// time, as "key=value1 value2", with their owner. Each must keep occurring
// while listed: once its package is fixed, the test says to remove it.
var knownDuplicates = map[string]string{}

// TestLogLinesHaveUniqueKeys runs an agent with the logger main builds and
// checks that no line carries a key twice (component=cluster
// component=cluster was one) and that every line names a caller in our
// code or in the library that logged, never the logging adapters.
func TestLogLinesHaveUniqueKeys(t *testing.T) {
	testenv.SkipIfShort(t, "needs a real ZooKeeper")
	zkServer := testenv.StartZooKeeper(t)
	var out testenv.SyncBuffer
	logger, err := logging.New(logging.Config{Level: "debug"}, &out)
	if err != nil {
		t.Fatal(err)
	}
	opts := baseOptions(zkServer.Addr(), testenv.WriteFile(t, "zk.yaml", "/a: {children: 1}\n"))
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- daemon.Run(ctx, opts, logger, nil) }()
	stopped := false
	stop := func() {
		if stopped {
			return
		}
		stopped = true
		cancel()
		select {
		case err := <-done:
			if err != nil && !errors.Is(err, context.Canceled) {
				t.Errorf("Run: %v", err)
			}
		case <-time.After(testenv.Scaled(waitFor)):
			t.Error("daemon did not stop")
		}
	}
	t.Cleanup(stop)

	// A line from every component, and from the libraries behind adapters.
	for _, want := range []string{
		`component=web msg="Listening on"`, // exporter-toolkit through the slog adapter
		`msg="became the leader"`,          // cluster
		`msg="ZooKeeper session established"`,
		`library=go-zookeeper msg="connected to`, // go-zookeeper through zkclient's adapter
		`component=alerting msg="leading: delivering alerts"`,
	} {
		testenv.Eventually(t, waitFor, pollEvery, func() bool { return strings.Contains(out.String(), want) }, "no %s line in:\n%s", want, out.String())
	}
	stop()

	seen := map[string]bool{}
	d := logfmt.NewDecoder(strings.NewReader(out.String()))
	for d.ScanRecord() {
		values := map[string][]string{}
		var keys []string
		for d.ScanKeyval() {
			k := string(d.Key())
			if values[k] == nil {
				keys = append(keys, k)
			}
			values[k] = append(values[k], string(d.Value()))
		}
		for _, k := range keys {
			if len(values[k]) == 1 {
				continue
			}
			dup := k + "=" + strings.Join(values[k], " ")
			if _, known := knownDuplicates[dup]; known {
				seen[dup] = true
				continue
			}
			t.Errorf("key %s repeated: %v", k, values)
		}
		if c := values["caller"]; len(c) == 0 || strings.HasPrefix(c[0], "logging.go:") || strings.HasPrefix(c[0], "stdlib.go:") {
			t.Errorf("line names no caller or an adapter: %v", values)
		}
	}
	if err := d.Err(); err != nil {
		t.Fatalf("not logfmt: %v", err)
	}
	for dup, owner := range knownDuplicates {
		if !seen[dup] {
			t.Errorf("%s no longer occurs: remove it from knownDuplicates (%s)", dup, owner)
		}
	}
	if t.Failed() {
		t.Logf("logs:\n%s", out.String())
	}
}
