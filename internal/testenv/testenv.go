package testenv

import (
	"bufio"
	"fmt"
	"net"
	"os"
	"os/exec"
	"strings"
	"sync"
	"testing"
	"time"
)

// DepsHint is appended to every failure caused by a missing binary or jar.
const DepsHint = "run `make deps` (apt-get install zookeeper prometheus-alertmanager prometheus)"

// logTailLines is how many lines of a process log are printed when a test fails.
const logTailLines = 40

// handedOut remembers the ports FreePort returned in this test binary so that
// two calls never return the same port, even if the kernel would.
var handedOut = struct {
	mu    sync.Mutex
	ports map[int]bool
}{ports: map[int]bool{}}

// FreePort returns a TCP port on 127.0.0.1 that was free a moment ago and was
// not returned before by FreePort in this test binary.
func FreePort(t testing.TB) int {
	t.Helper()
	for range 100 {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatalf("testenv: finding a free port: %v", err)
		}
		port := l.Addr().(*net.TCPAddr).Port
		_ = l.Close()
		handedOut.mu.Lock()
		seen := handedOut.ports[port]
		handedOut.ports[port] = true
		handedOut.mu.Unlock()
		if !seen {
			return port
		}
	}
	t.Fatalf("testenv: no fresh free port after 100 tries")
	return 0
}

// SkipIfShort skips the test under go test -short, giving reason (what it
// needs that a unit test run does not have, e.g. "needs a real ZooKeeper")
// as the one-line message. Every helper that starts a real server or runs
// an outside program calls it, so a test using them cannot forget to.
func SkipIfShort(t testing.TB, reason string) {
	t.Helper()
	if testing.Short() {
		t.Skip(reason + " (skipped under -short)")
	}
}

// RequireBinary returns the path of the executable name (looked up in PATH)
// or fails the test with a hint on how to install it. Under -short the test
// is skipped instead: unit test runs use no outside program.
func RequireBinary(t testing.TB, name string) string {
	t.Helper()
	SkipIfShort(t, "needs "+name)
	path, err := exec.LookPath(name)
	if err != nil {
		t.Fatalf("testenv: %s not found: %v; %s", name, err, DepsHint)
	}
	return path
}

// requireFile fails the test with the install hint if path does not exist.
func requireFile(t testing.TB, path string) {
	t.Helper()
	if _, err := os.Stat(path); err != nil {
		t.Fatalf("testenv: %s missing: %v; %s", path, err, DepsHint)
	}
}

// Eventually polls cond every interval until it returns true, and fails the
// test with the formatted message if that does not happen within timeout
// (stretched by the scale knob, see Scaled).
func Eventually(t testing.TB, timeout, interval time.Duration, cond func() bool, format string, args ...any) {
	t.Helper()
	timeout = Scaled(timeout)
	if !poll(timeout, interval, cond) {
		t.Fatalf("testenv: condition not met after %v: %s", timeout, fmt.Sprintf(format, args...))
	}
}

// Last formats *p (with %v or %s) as it is when the failure message is
// printed, not when Eventually is called: for a message showing what cond
// saw last, e.g.
// Eventually(t, d, i, func() bool { n = count(); return n == 3 }, "count %v", Last(&n)).
func Last[T any](p *T) fmt.Stringer { return last[T]{p} }

type last[T any] struct{ p *T }

func (l last[T]) String() string { return fmt.Sprintf("%+v", *l.p) }

// poll calls cond every interval until it returns true (true) or timeout
// passes (false). cond is always called at least once.
func poll(timeout, interval time.Duration, cond func() bool) bool {
	deadline := time.Now().Add(timeout)
	for {
		if cond() {
			return true
		}
		if time.Now().After(deadline) {
			return false
		}
		time.Sleep(interval)
	}
}

// tailFile returns the last n lines of the file at path.
func tailFile(path string, n int) (string, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", fmt.Errorf("opening %s: %w", path, err)
	}
	defer f.Close()
	var lines []string
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 64*1024), 1024*1024)
	for sc.Scan() {
		lines = append(lines, sc.Text())
		if len(lines) > n {
			lines = lines[1:]
		}
	}
	if err := sc.Err(); err != nil {
		return "", fmt.Errorf("reading %s: %w", path, err)
	}
	return strings.Join(lines, "\n"), nil
}
