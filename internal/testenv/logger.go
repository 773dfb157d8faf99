package testenv

import (
	"strings"
	"sync"
	"testing"

	"github.com/go-kit/log"
)

// Logger returns a logfmt logger whose lines go to t.Logf until the test's
// cleanup starts, so that goroutines ending late cannot log into a
// finished test.
func Logger(t testing.TB) log.Logger {
	w := &testWriter{t: t}
	t.Cleanup(func() {
		w.mu.Lock()
		w.done = true
		w.mu.Unlock()
	})
	return log.With(log.NewLogfmtLogger(w), "ts", log.DefaultTimestampUTC)
}

type testWriter struct {
	mu   sync.Mutex
	t    testing.TB
	done bool
}

func (w *testWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if !w.done {
		w.t.Logf("%s", strings.TrimRight(string(p), "\n"))
	}
	return len(p), nil
}
