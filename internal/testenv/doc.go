// Package testenv is the integration-test harness of zk_monitor: it starts the
// real servers the daemon talks to (a standalone ZooKeeper or a loopback
// ensemble, Alertmanager, Prometheus) from the Debian packages installed on
// the machine, runs zk_monitor agents and other programs as child processes,
// and provides small in-process fakes for the far side of notifications (an
// SMTP sink, an HTTP recorder) and a TCP proxy that simulates disconnects and
// network
// partitions between a client and a server.
//
// Every helper takes a testing.TB, binds 127.0.0.1 on ports it picks, and
// registers t.Cleanup to stop what it started and remove its temporary files.
// Child processes run in their own process group, are killed with the group,
// and also receive SIGKILL if the test binary dies (Pdeathsig) or is
// interrupted. Their output goes to a log file in the test's temporary
// directory; when a test fails the last lines of each log are printed with
// t.Logf.
//
// A missing binary or jar is a test failure, never a skip: the message says to
// run `make deps`. The one exception is go test -short: every helper that
// starts a real server or runs an outside program skips the test then
// (SkipIfShort), so a unit test run needs nothing but Go.
//
// Every wait of the helpers, and every timeout a test passes them, is
// stretched by the scale knob (ZK_MONITOR_TEST_SCALE, see Scaled); tests
// wrap their own timeouts in Scaled.
//
// Helpers that can fail the test (constructors, ZooKeeper.Start,
// Alertmanager.Start, ...) must be called from the test's own goroutine.
package testenv
