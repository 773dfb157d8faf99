package web

import (
	"bytes"
	"compress/gzip"
	"errors"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/go-kit/log"
	"github.com/go-kit/log/level"
	"github.com/prometheus/client_golang/prometheus"
)

// A body is one rendered response, shared by every request that serves
// it: a client that reads slowly or never holds a reference to it, not a
// copy. Immutable once made, except for its gzip form, made once when
// first needed.
type body struct {
	contentType string
	plain       []byte

	gzipOnce sync.Once
	gzipped  []byte
}

func newBody(contentType string, plain []byte) *body {
	return &body{contentType: contentType, plain: plain}
}

// gzip returns the body compressed, compressing it on the first call.
func (b *body) gzip() []byte {
	b.gzipOnce.Do(func() {
		var buf bytes.Buffer
		// BestSpeed: a third to a fifth of the default level's CPU for
		// nearly the same size (5.6 MB of metrics text: 254 KB, not 240).
		zw, _ := gzip.NewWriterLevel(&buf, gzip.BestSpeed)
		// Writing to a bytes.Buffer does not fail.
		zw.Write(b.plain)
		zw.Close()
		b.gzipped = buf.Bytes()
	})
	return b.gzipped
}

// writeLimits bound how long writing one response may take.
type writeLimits struct {
	// stall is how long a client may accept no data at all before it is
	// cut off: one that never reads holds its connection no longer.
	stall time.Duration
	// total bounds the whole response, against a client that reads a
	// trickle just fast enough never to stall.
	total time.Duration
	// yieldTo, if set, is waited for before every chunk.
	yieldTo *priority
}

// writeChunk is how much is written under one stall deadline.
const writeChunk = 64 << 10

// errNotWritten reports a response the client did not take in time.
var errNotWritten = errors.New("client did not take the response in time")

// serve answers r with b, gzipped if the client accepts it. A client that
// stops taking data for limits.stall, or takes longer than limits.total
// for all of it, is cut off (errNotWritten); honest clients of any size
// finish, as each chunk taken moves the deadline.
func serveBody(w http.ResponseWriter, r *http.Request, b *body, limits writeLimits) error {
	h := w.Header()
	h.Set("Content-Type", b.contentType)
	h.Add("Vary", "Accept-Encoding")
	data := b.plain
	if acceptsGzip(r.Header.Get("Accept-Encoding")) {
		data = b.gzip()
		h.Set("Content-Encoding", "gzip")
	}
	h.Set("Content-Length", strconv.Itoa(len(data)))
	if r.Method == http.MethodHead {
		return nil
	}
	rc := http.NewResponseController(w)
	end := time.Now().Add(limits.total)
	for len(data) > 0 {
		if limits.yieldTo != nil {
			limits.yieldTo.yield(r.Context())
		}
		deadline := time.Now().Add(limits.stall)
		if deadline.After(end) {
			deadline = end
		}
		// Servers that cannot set deadlines (tests' recorders) get the
		// data without one.
		if err := rc.SetWriteDeadline(deadline); err != nil && !errors.Is(err, http.ErrNotSupported) {
			return err
		}
		n := min(len(data), writeChunk)
		if _, err := w.Write(data[:n]); err != nil {
			return errors.Join(errNotWritten, err)
		}
		data = data[n:]
	}
	return nil
}

// respond serves b, and counts and logs a client cut off.
func respond(w http.ResponseWriter, r *http.Request, b *body, limits writeLimits, cut prometheus.Counter, logger log.Logger) {
	if err := serveBody(w, r, b, limits); err != nil {
		cut.Inc()
		level.Debug(logger).Log("msg", "response not written", "path", r.URL.Path, "client", r.RemoteAddr, "err", err)
	}
}

// acceptsGzip reports whether an Accept-Encoding header value accepts
// gzip: named, or matched by "*", with a quality above 0.
func acceptsGzip(header string) bool {
	accepted := false
	for _, part := range strings.Split(header, ",") {
		coding, params, _ := strings.Cut(part, ";")
		coding = strings.ToLower(strings.TrimSpace(coding))
		if coding != "gzip" && coding != "*" {
			continue
		}
		ok := true
		for _, p := range strings.Split(params, ";") {
			name, value, _ := strings.Cut(p, "=")
			if strings.TrimSpace(strings.ToLower(name)) == "q" {
				q, err := strconv.ParseFloat(strings.TrimSpace(value), 64)
				ok = err == nil && q > 0
			}
		}
		if coding == "gzip" {
			// An explicit gzip wins over "*", whatever their order.
			return ok
		}
		accepted = ok
	}
	return accepted
}
