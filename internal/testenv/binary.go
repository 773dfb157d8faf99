package testenv

import (
	"path/filepath"
	"testing"
	"time"
)

// Binary is a program a test runs as its own process, such as the
// zk_monitor binary from BuildZKMonitor, with its output in a log file
// whose end is printed when the test fails. It is killed when the test
// ends.
type Binary struct {
	proc *process
}

// StartBinary starts path with args.
func StartBinary(tb testing.TB, name, path string, args ...string) *Binary {
	tb.Helper()
	p := newProcess(tb, name, filepath.Join(tb.TempDir(), name+".log"), path, args...)
	if err := p.start(); err != nil {
		tb.Fatalf("testenv: %v", err)
	}
	return &Binary{proc: p}
}

// Pid is the process id.
func (b *Binary) Pid() int { return b.proc.pid() }

// Running reports whether the process has not exited.
func (b *Binary) Running() bool { return b.proc.running() }

// LogPath is the file holding the process's output.
func (b *Binary) LogPath() string { return b.proc.logPath }

// Stop sends SIGTERM and waits up to grace for the exit, then SIGKILLs.
func (b *Binary) Stop(grace time.Duration) error { return b.proc.stop(grace) }
