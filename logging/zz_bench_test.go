package logging

import (
	"io"
	"testing"

	"github.com/go-kit/log"
	"github.com/go-kit/log/level"
)

func BenchmarkNewCaller(b *testing.B) {
	l := log.With(level.NewFilter(log.NewLogfmtLogger(io.Discard), level.AllowWarn()), "caller", log.Valuer(caller))
	for b.Loop() {
		level.Debug(l).Log("msg", "x", "k", 1)
	}
}

func BenchmarkOldCaller(b *testing.B) {
	l := log.With(level.NewFilter(log.NewLogfmtLogger(io.Discard), level.AllowWarn()), "caller", log.DefaultCaller)
	for b.Loop() {
		level.Debug(l).Log("msg", "x", "k", 1)
	}
}
func BenchmarkNoCaller(b *testing.B) {
	l := level.NewFilter(log.NewLogfmtLogger(io.Discard), level.AllowWarn())
	for b.Loop() {
		level.Debug(l).Log("msg", "x", "k", 1)
	}
}
