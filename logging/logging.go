// Package logging builds zk_monitor's one go-kit logger from the command
// line (level, format, optional syslog) and adapts it for libraries that
// want a *slog.Logger, so the daemon never runs two logging setups.
package logging

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	gosyslog "log/syslog"
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
	return log.With(logger, "caller", log.DefaultCaller), nil
}

// Slog returns a *slog.Logger that writes through logger.
func Slog(logger log.Logger) *slog.Logger {
	return slog.New(slogHandler{logger: logger})
}

type slogHandler struct {
	logger log.Logger
	attrs  []any
	group  string
}

func (h slogHandler) Enabled(context.Context, slog.Level) bool { return true }

func (h slogHandler) Handle(_ context.Context, r slog.Record) error {
	kv := append([]any{"msg", r.Message}, h.attrs...)
	r.Attrs(func(a slog.Attr) bool {
		kv = append(kv, h.key(a.Key), a.Value.String())
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

func (h slogHandler) key(k string) string {
	if h.group == "" {
		return k
	}
	return h.group + "." + k
}

func (h slogHandler) WithAttrs(attrs []slog.Attr) slog.Handler {
	next := h
	next.attrs = append([]any(nil), h.attrs...)
	for _, a := range attrs {
		next.attrs = append(next.attrs, h.key(a.Key), a.Value.String())
	}
	return next
}

func (h slogHandler) WithGroup(name string) slog.Handler {
	next := h
	next.group = h.key(name)
	return next
}
