package testenv

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
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
	env     []string   // added to the test binary's environment
	files   []*os.File // the child's file descriptors 3, 4, ...
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
	cmd.ExtraFiles = p.files
	if p.env != nil {
		cmd.Env = append(os.Environ(), p.env...)
	}
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

// stop sends SIGTERM and waits up to grace (stretched by the scale knob)
// for the exit, then SIGKILLs. Stopping a stopped process does nothing.
func (p *process) stop(grace time.Duration) error {
	done, ok := p.signalGroup(syscall.SIGTERM)
	if !ok {
		return nil
	}
	select {
	case <-done:
		return nil
	case <-time.After(Scaled(grace)):
	}
	return p.kill()
}

// killWait bounds the wait for the exit of a SIGKILLed process.
const killWait = 30 * time.Second

// kill sends SIGKILL to the group and waits for the exit.
func (p *process) kill() error {
	done, ok := p.signalGroup(syscall.SIGKILL)
	if !ok {
		return nil
	}
	select {
	case <-done:
		return nil
	case <-time.After(Scaled(killWait)):
		return fmt.Errorf("%s (pid %d) did not exit %v after SIGKILL", p.name, p.pid(), Scaled(killWait))
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

// Command describes a program a test runs as a child process.
type Command struct {
	Name string   // names the process in its log file and in failures
	Path string   // the executable
	Args []string // its arguments
	Env  []string // KEY=value pairs added to the test binary's environment
	// ExtraFiles become the child's file descriptors 3, 4, ... (e.g. a
	// listening socket passed the way systemd does).
	ExtraFiles []*os.File
}

// Process is a program started by StartProcess: a zk_monitor agent, a
// helper agent run from the test binary. It runs in its own process group,
// which every signal goes to; its output goes to a log file whose end is
// printed when the test fails; it is killed when the test ends.
type Process struct {
	t testing.TB
	p *process
}

// StartProcess starts c, logging to <Name>.log in a temporary directory of
// the test.
func StartProcess(t testing.TB, c Command) *Process {
	t.Helper()
	p := newProcess(t, c.Name, filepath.Join(t.TempDir(), c.Name+".log"), c.Path, c.Args...)
	p.env, p.files = c.Env, c.ExtraFiles
	if err := p.start(); err != nil {
		t.Fatalf("testenv: %v", err)
	}
	return &Process{t: t, p: p}
}

// Signal sends sig to the process group; a process that has exited is not
// signalled.
func (p *Process) Signal(sig syscall.Signal) { p.p.signalGroup(sig) }

// Done is closed once the process has exited.
func (p *Process) Done() <-chan struct{} { return p.p.exited() }

// Exited reports whether the process has exited.
func (p *Process) Exited() bool { return !p.p.running() }

// Wait waits up to timeout (stretched by the scale knob) for the process
// to exit and returns what it exited with; it is an error if the process
// is still running then.
func (p *Process) Wait(timeout time.Duration) error {
	select {
	case <-p.Done():
		return p.p.exitErr()
	case <-time.After(Scaled(timeout)):
		return fmt.Errorf("%s (pid %d) still running after %v", p.p.name, p.p.pid(), Scaled(timeout))
	}
}

// Stop sends SIGTERM to the process group and waits up to grace
// (stretched by the scale knob) for the exit, then SIGKILLs it. Stopping a
// process that has exited does nothing.
func (p *Process) Stop(grace time.Duration) error { return p.p.stop(grace) }

// Pid returns the process id.
func (p *Process) Pid() int { return p.p.pid() }

// LogPath returns the path of the file holding the process's output.
func (p *Process) LogPath() string { return p.p.logPath }

// Logs returns the process's output so far.
func (p *Process) Logs() string {
	b, err := os.ReadFile(p.p.logPath)
	if err != nil {
		p.t.Errorf("testenv: %v", err)
	}
	return string(b)
}
