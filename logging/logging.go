// Package logging builds zk_monitor's one go-kit logger from the command
// line (level, format, optional syslog) and adapts it for libraries that
// want a *slog.Logger or a standard library *log.Logger, so the daemon
// never runs two logging setups. Lines that come through an adapter name
// their real caller, not the adapter.
package logging

import (
	"context"
	"fmt"
	"io"
	stdlog "log"
	"log/slog"
	gosyslog "log/syslog"
	"path/filepath"
	"reflect"
	"runtime"
	"slices"
	"strconv"
	"strings"

	"github.com/go-kit/log"
	"github.com/go-kit/log/level"
	kitsyslog "github.com/go-kit/log/syslog"
)

// Config selects how to log.
type Config struct {
	Level  string // debug, info, warn (warning), error; any case
	Format string // logfmt or json
	// SyslogFacility, when set (e.g. "local0"), sends logs to the syslog
	// daemon on 127.0.0.1:514 over UDP as the original did.
	SyslogFacility string
	// SyslogAddress overrides the syslog destination (tests).
	SyslogAddress string
}

// ParseLevel maps a level name to a go-kit filter option.
func ParseLevel(s string) (level.Option, error) {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "debug":
		return level.AllowDebug(), nil
	case "info":
		return level.AllowInfo(), nil
	case "warn", "warning":
		return level.AllowWarn(), nil
	case "error":
		return level.AllowError(), nil
	}
	return nil, fmt.Errorf("unknown log level %q (use debug, info, warn or error)", s)
}

var facilities = map[string]gosyslog.Priority{
	"kern": gosyslog.LOG_KERN, "user": gosyslog.LOG_USER, "mail": gosyslog.LOG_MAIL,
	"daemon": gosyslog.LOG_DAEMON, "auth": gosyslog.LOG_AUTH, "syslog": gosyslog.LOG_SYSLOG,
	"lpr": gosyslog.LOG_LPR, "news": gosyslog.LOG_NEWS, "uucp": gosyslog.LOG_UUCP,
	"cron": gosyslog.LOG_CRON, "authpriv": gosyslog.LOG_AUTHPRIV, "ftp": gosyslog.LOG_FTP,
	"local0": gosyslog.LOG_LOCAL0, "local1": gosyslog.LOG_LOCAL1, "local2": gosyslog.LOG_LOCAL2,
	"local3": gosyslog.LOG_LOCAL3, "local4": gosyslog.LOG_LOCAL4, "local5": gosyslog.LOG_LOCAL5,
	"local6": gosyslog.LOG_LOCAL6, "local7": gosyslog.LOG_LOCAL7,
}

// New returns the logger described by cfg, writing to w unless syslog is
// chosen.
func New(cfg Config, w io.Writer) (log.Logger, error) {
	allow, err := ParseLevel(cfg.Level)
	if err != nil {
		return nil, err
	}
	var newLogger func(io.Writer) log.Logger
	switch strings.ToLower(cfg.Format) {
	case "", "logfmt":
		newLogger = log.NewLogfmtLogger
	case "json":
		newLogger = log.NewJSONLogger
	default:
		return nil, fmt.Errorf("unknown log format %q (use logfmt or json)", cfg.Format)
	}
	var logger log.Logger
	if cfg.SyslogFacility != "" {
		facility, ok := facilities[strings.ToLower(cfg.SyslogFacility)]
		if !ok {
			return nil, fmt.Errorf("unknown syslog facility %q (use e.g. local0 or daemon)", cfg.SyslogFacility)
		}
		addr := cfg.SyslogAddress
		if addr == "" {
			addr = "127.0.0.1:514"
		}
		writer, err := gosyslog.Dial("udp", addr, facility|gosyslog.LOG_INFO, "zk_monitor")
		if err != nil {
			return nil, fmt.Errorf("connecting to syslog at %s: %w", addr, err)
		}
		logger = kitsyslog.NewSyslogLogger(writer, newLogger)
	} else {
		logger = newLogger(log.NewSyncWriter(w))
		logger = log.With(logger, "ts", log.DefaultTimestampUTC)
	}
	logger = level.NewFilter(logger, allow)
	return log.With(logger, "caller", log.Valuer(caller)), nil
}

// Slog returns a *slog.Logger that writes through logger, for libraries
// such as exporter-toolkit. Attribute values keep their type (a bool stays
// a bool in JSON) and groups become dotted keys.
func Slog(logger log.Logger) *slog.Logger {
	return slog.New(slogHandler{logger: logger})
}

type slogHandler struct {
	logger log.Logger
	attrs  []any  // from WithAttrs, as key/value pairs
	group  string // from WithGroup, the prefix of later keys
}

func (h slogHandler) Enabled(context.Context, slog.Level) bool { return true }

func (h slogHandler) Handle(_ context.Context, r slog.Record) error {
	kv := make([]any, 0, 2+len(h.attrs)+2*r.NumAttrs())
	kv = append(kv, "msg", r.Message)
	kv = append(kv, h.attrs...)
	r.Attrs(func(a slog.Attr) bool {
		kv = appendAttr(kv, h.group, a)
		return true
	})
	var l log.Logger
	switch {
	case r.Level >= slog.LevelError:
		l = level.Error(h.logger)
	case r.Level >= slog.LevelWarn:
		l = level.Warn(h.logger)
	case r.Level >= slog.LevelInfo:
		l = level.Info(h.logger)
	default:
		l = level.Debug(h.logger)
	}
	return l.Log(kv...)
}

func (h slogHandler) WithAttrs(attrs []slog.Attr) slog.Handler {
	next := h
	next.attrs = slices.Clone(h.attrs)
	for _, a := range attrs {
		next.attrs = appendAttr(next.attrs, h.group, a)
	}
	return next
}

func (h slogHandler) WithGroup(name string) slog.Handler {
	if name == "" {
		return h
	}
	next := h
	next.group = groupKey(h.group, name)
	return next
}

// appendAttr appends a as key/value pairs following slog's handler rules:
// values resolved and of their own type, empty attributes and groups left
// out, the attributes of a group with an empty key inlined.
func appendAttr(kv []any, group string, a slog.Attr) []any {
	if a.Equal(slog.Attr{}) {
		return kv
	}
	v := a.Value.Resolve()
	if v.Kind() == slog.KindGroup {
		if a.Key != "" {
			group = groupKey(group, a.Key)
		}
		for _, ga := range v.Group() {
			kv = appendAttr(kv, group, ga)
		}
		return kv
	}
	return append(kv, groupKey(group, a.Key), v.Any())
}

func groupKey(group, key string) string {
	if group == "" {
		return key
	}
	return group + "." + key
}

// ErrorLog returns a standard library logger for libraries that report
// errors through one (http.Server.ErrorLog, promhttp.HandlerOpts.ErrorLog):
// each line becomes an error record with the constant message msg and the
// line under "err".
func ErrorLog(logger log.Logger, msg string) *stdlog.Logger {
	return stdlog.New(errorWriter{logger: level.Error(logger), msg: msg}, "", 0)
}

type errorWriter struct {
	logger log.Logger
	msg    string
}

func (w errorWriter) Write(p []byte) (int, error) {
	w.logger.Log("msg", w.msg, "err", strings.TrimSuffix(string(p), "\n"))
	return len(p), nil
}

// packagePath is this package's import path: its adapters' frames are not
// callers.
var packagePath = reflect.TypeFor[slogHandler]().PkgPath()

// caller is the "caller" value of every record: file:line of the first
// frame outside the logging machinery. go-kit's log.DefaultCaller looks a
// fixed number of frames up, which for a line that came through an adapter
// (Slog, ErrorLog, the standard library's log and log/slog) names the
// adapter instead of the code that logged.
func caller() any {
	// Depth 0 is this function, 1 go-kit's bindValues, 2 context.Log: 3
	// is the caller of Log, the usual answer. Walking one frame per call
	// costs more only for the rare lines that came through an adapter.
	for depth := 3; depth < 32; depth++ {
		pc, file, line, ok := runtime.Caller(depth)
		if !ok {
			break
		}
		fn := ""
		if f := runtime.FuncForPC(pc); f != nil {
			fn = f.Name() // right for inlined frames too
		}
		if !isLoggingFrame(fn, file) {
			return filepath.Base(file) + ":" + strconv.Itoa(line)
		}
	}
	return "unknown"
}

func isLoggingFrame(fn, file string) bool {
	switch {
	case strings.HasPrefix(fn, "github.com/go-kit/log."), strings.HasPrefix(fn, "github.com/go-kit/log/"),
		strings.HasPrefix(fn, "log."), strings.HasPrefix(fn, "log/slog."):
		return true
	case strings.HasPrefix(fn, packagePath+"."):
		// This package's own tests log directly: they are callers.
		return !strings.HasSuffix(file, "_test.go")
	}
	return false
}
