package testenv

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"os/signal"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// process is one external server run by the harness. It can be started again
// after it stopped; every run appends to the same log file.
type process struct {
	name    string
	path    string
	args    []string
	dir     string
	logPath string

	mu     sync.Mutex
	cmd    *exec.Cmd
	done   chan struct{} // closed when the current run has exited and was reaped
	err    error         // what Wait returned for the last finished run
	starts int
}

// newProcess prepares (without starting) a process and registers a cleanup
// that kills it and, if the test failed, prints the end of its log. Call it
// after the t.TempDir holding logPath was created, so that the kill runs
// before the directory is removed.
func newProcess(t testing.TB, name, logPath, path string, args ...string) *process {
	p := &process{name: name, path: path, args: args, logPath: logPath}
	t.Cleanup(func() {
		if err := p.kill(); err != nil {
			t.Errorf("testenv: %v", err)
		}
		if t.Failed() {
			p.logTail(t)
		}
	})
	return p
}

// start runs the process once more. It is an error if it is running.
func (p *process) start() error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.cmd != nil && !Closed(p.done) {
		return fmt.Errorf("starting %s: already running as pid %d", p.name, p.cmd.Process.Pid)
	}
	f, err := os.OpenFile(p.logPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return fmt.Errorf("starting %s: opening log: %w", p.name, err)
	}
	defer f.Close() // the child has its own copy
	p.starts++
	fmt.Fprintf(f, "=== testenv: %s run #%d at %s: %s %s\n", p.name, p.starts,
		time.Now().Format(time.RFC3339Nano), p.path, strings.Join(p.args, " "))

	cmd := exec.Command(p.path, p.args...)
	cmd.Dir = p.dir
	cmd.Stdout = f
	cmd.Stderr = f
	// Own process group so the whole group can be killed; SIGKILL if the test
	// binary dies without running its cleanups.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("starting %s: %w", p.name, err)
	}
	pid := cmd.Process.Pid
	trackGroup(pid)
	done := make(chan struct{})
	p.cmd, p.done = cmd, done
	go func() {
		err := cmd.Wait()
		untrackGroup(pid)
		p.mu.Lock()
		p.err = err
		p.mu.Unlock()
		close(done)
	}()
	return nil
}

// exited returns a channel closed when the current run ends (nil if the
// process was never started).
func (p *process) exited() <-chan struct{} {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.done
}

// running reports whether the process was started and has not exited.
func (p *process) running() bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.cmd != nil && !Closed(p.done)
}

// pid returns the pid of the current or last run, 0 if never started.
func (p *process) pid() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.cmd == nil {
		return 0
	}
	return p.cmd.Process.Pid
}

// exitErr returns what Wait returned for the last finished run.
func (p *process) exitErr() error {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.err
}

// signalGroup sends sig to the process group of the current run, if any.
// It reports whether the process was running.
func (p *process) signalGroup(sig syscall.Signal) (<-chan struct{}, bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.cmd == nil || Closed(p.done) {
		return p.done, false
	}
	_ = syscall.Kill(-p.cmd.Process.Pid, sig)
	return p.done, true
}

// stop sends SIGTERM and waits up to grace for the exit, then SIGKILLs.
// Stopping a stopped process does nothing.
func (p *process) stop(grace time.Duration) error {
	done, ok := p.signalGroup(syscall.SIGTERM)
	if !ok {
		return nil
	}
	select {
	case <-done:
		return nil
	case <-time.After(grace):
	}
	return p.kill()
}

// kill sends SIGKILL to the group and waits for the exit.
func (p *process) kill() error {
	done, ok := p.signalGroup(syscall.SIGKILL)
	if !ok {
		return nil
	}
	select {
	case <-done:
		return nil
	case <-time.After(30 * time.Second):
		return fmt.Errorf("%s (pid %d) did not exit 30s after SIGKILL", p.name, p.pid())
	}
}

// logTail prints the last lines of the log with t.Logf.
func (p *process) logTail(t testing.TB) {
	tail, err := tailFile(p.logPath, logTailLines)
	if err != nil {
		t.Logf("testenv: %s log: %v", p.name, err)
		return
	}
	t.Logf("testenv: last %d lines of %s log %s:\n%s", logTailLines, p.name, p.logPath, tail)
}

// diedError describes an unexpected exit during startup. The end of the log
// is printed by the cleanup once the test has failed.
func (p *process) diedError() error {
	err := p.exitErr()
	if err == nil {
		err = errors.New("exit status 0")
	}
	return fmt.Errorf("%s exited during startup: %w (log: %s)", p.name, err, p.logPath)
}

// Closed reports whether ch is closed, without waiting.
func Closed(ch <-chan struct{}) bool {
	select {
	case <-ch:
		return true
	default:
		return false
	}
}

// groups tracks the process groups started by the harness that are still
// alive, so that an interrupt (SIGINT/SIGTERM) of the test binary kills them
// before the binary dies. The signal watcher goroutine only runs while at
// least one group is alive, so it never shows up as a leaked goroutine.
var groups = struct {
	mu   sync.Mutex
	pids map[int]bool
	stop chan struct{}
	done chan struct{}
}{pids: map[int]bool{}}

func trackGroup(pid int) {
	groups.mu.Lock()
	defer groups.mu.Unlock()
	groups.pids[pid] = true
	if groups.stop == nil {
		groups.stop, groups.done = make(chan struct{}), make(chan struct{})
		go watchSignals(groups.stop, groups.done)
	}
}

func untrackGroup(pid int) {
	groups.mu.Lock()
	delete(groups.pids, pid)
	var stop, done chan struct{}
	if len(groups.pids) == 0 && groups.stop != nil {
		stop, done = groups.stop, groups.done
		groups.stop, groups.done = nil, nil
	}
	groups.mu.Unlock()
	if stop != nil {
		close(stop)
		<-done
	}
}

func watchSignals(stop, done chan struct{}) {
	defer close(done)
	ch := make(chan os.Signal, 1)
	signal.Notify(ch, os.Interrupt, syscall.SIGTERM)
	defer signal.Stop(ch)
	select {
	case <-stop:
	case sig := <-ch:
		groups.mu.Lock()
		for pid := range groups.pids {
			_ = syscall.Kill(-pid, syscall.SIGKILL)
		}
		groups.mu.Unlock()
		// Let the signal do what it would have done without us.
		signal.Stop(ch)
		if s, ok := sig.(syscall.Signal); ok {
			_ = syscall.Kill(os.Getpid(), s)
		}
	}
}
