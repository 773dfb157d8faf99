package zkclient

import (
	"encoding/binary"
	"fmt"
	"net"
	"sync"
	"sync/atomic"
	"time"
)

// What the client needs to know about a connection, it reads from the
// ZooKeeper wire protocol, which ZooKeeper defines, rather than from
// go-zookeeper's log lines, which a library upgrade may reword. Every
// frame in either direction is a big-endian int32 length and a payload:
//
//	client → server, first frame:  ConnectRequest
//	server → client, first frame:  ConnectResponse {int32 protocolVersion; int32 timeOut; int64 sessionId; buffer passwd; ...}
//	client → server, then:         RequestHeader {int32 xid; int32 type} and the request
//	server → client, then:         ReplyHeader {int32 xid; int64 zxid; int32 err} and the reply
//
// (ZooKeeper's zookeeper.jute). A setWatches request (type 101) is how a
// client restores its watches on a new connection; a reply to it with err
// ≠ 0 means the server holds none of them.

const (
	opSetWatches = 101
	// framePrefix is how many payload bytes of a frame the scanner keeps:
	// the longest fixed header read above (ConnectResponse and ReplyHeader).
	framePrefix = 16
)

// frameScanner follows the frames of one direction of a connection. It
// hands the first framePrefix bytes of each payload (all of it when
// shorter) to onFrame and skips the rest by counting: bodies, which may be
// megabytes of znode data, are never copied.
type frameScanner struct {
	onFrame func(prefix []byte)

	buf  [4 + framePrefix]byte
	have int // bytes of buf filled for the current frame
	need int // bytes of buf the current frame fills: 4 until its length is known
	rest int // payload bytes after the prefix, still to skip once buf is full
}

// scan consumes the next bytes of the stream.
func (s *frameScanner) scan(p []byte) {
	for len(p) > 0 {
		if s.need == 0 {
			if s.rest > 0 {
				n := min(s.rest, len(p))
				s.rest -= n
				p = p[n:]
				continue
			}
			s.need = 4
		}
		n := copy(s.buf[s.have:s.need], p)
		s.have += n
		p = p[n:]
		if s.have < s.need {
			return
		}
		if s.need == 4 {
			size := int(binary.BigEndian.Uint32(s.buf[:4]))
			kept := min(size, framePrefix)
			s.need, s.rest = 4+kept, size-kept
			if kept > 0 {
				continue
			}
		}
		s.onFrame(s.buf[4:s.need])
		s.have, s.need = 0, 0
	}
}

// wireEvents receives what a wireConn learns. The callbacks run on the
// library's goroutines, inside its Read and Write calls: they must not block.
type wireEvents struct {
	// session: the server's ConnectResponse granted a session (id ≠ 0)
	// with this timeout.
	session func(timeout time.Duration)
	// watchesLost: the server answered a setWatches request with an error.
	watchesLost func(code int32)
	// handshakeFailed: the connection broke before a ConnectResponse came.
	handshakeFailed func(err error)
}

// wireConn is one connection to one server as go-zookeeper uses it. It
// reads along the protocol (see above) and bounds how long the library
// may wait on the server: until the ConnectResponse is in, every deadline
// is at most handshakeDeadline (go-zookeeper allows 10 × its receive
// timeout, 6.7 session timeouts, before it tries the next server); after
// it, no deadline lies further ahead than one session timeout.
type wireConn struct {
	net.Conn
	events            wireEvents
	handshakeTimeout  time.Duration
	handshakeDeadline time.Time
	// sessionTimeout is the current session timeout.
	sessionTimeout func() time.Duration

	handshakeDone atomic.Bool

	// The library reads and writes from one goroutine each at a time; the
	// locks keep the scanners whole even if a later version does not.
	in, out  direction
	inCount  int
	outCount int

	// setWatches holds the xids of setWatches requests written and not yet
	// answered; pending counts them so that most replies need no lock.
	mu         sync.Mutex
	setWatches map[int32]struct{}
	pending    atomic.Int32
}

// newWireConn wraps c, dialled at start, whose handshake must be complete
// within timeout of start.
func newWireConn(c net.Conn, start time.Time, timeout time.Duration, sessionTimeout func() time.Duration, events wireEvents) (*wireConn, error) {
	w := &wireConn{
		Conn:              c,
		events:            events,
		handshakeTimeout:  timeout,
		handshakeDeadline: start.Add(timeout),
		sessionTimeout:    sessionTimeout,
		setWatches:        map[int32]struct{}{},
	}
	w.in.frames.onFrame = w.readFrame
	w.out.frames.onFrame = w.writtenFrame
	// Bound the handshake even if the library sets no deadline of its own.
	if err := c.SetDeadline(w.handshakeDeadline); err != nil {
		return nil, err
	}
	return w, nil
}

// direction is one way of the connection.
type direction struct {
	mu     sync.Mutex
	frames frameScanner
}

func (w *wireConn) Read(p []byte) (int, error) { return w.transfer(&w.in, w.Conn.Read, p) }

func (w *wireConn) Write(p []byte) (int, error) { return w.transfer(&w.out, w.Conn.Write, p) }

// transfer reads or writes p with op and scans the bytes that went through.
func (w *wireConn) transfer(d *direction, op func([]byte) (int, error), p []byte) (int, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	n, err := op(p)
	d.frames.scan(p[:n])
	if err != nil && !w.handshakeDone.Load() {
		w.handshakeFailed(err)
	}
	return n, err
}

func (w *wireConn) handshakeFailed(err error) {
	if ne, ok := err.(net.Error); ok && ne.Timeout() && !time.Now().Before(w.handshakeDeadline) {
		err = fmt.Errorf("no answer to the handshake within %s: %w", w.handshakeTimeout, err)
	}
	w.events.handshakeFailed(err)
}

// readFrame looks at a frame the server sent.
func (w *wireConn) readFrame(prefix []byte) {
	w.inCount++
	if w.inCount == 1 {
		w.handshakeDone.Store(true)
		if len(prefix) >= 16 {
			timeout := time.Duration(int32(binary.BigEndian.Uint32(prefix[4:8]))) * time.Millisecond
			if session := int64(binary.BigEndian.Uint64(prefix[8:16])); session != 0 && timeout > 0 {
				w.events.session(timeout)
			}
		}
		return
	}
	if w.pending.Load() == 0 || len(prefix) < 16 {
		return
	}
	xid := int32(binary.BigEndian.Uint32(prefix[0:4]))
	w.mu.Lock()
	_, ok := w.setWatches[xid]
	if ok {
		delete(w.setWatches, xid)
		w.pending.Add(-1)
	}
	w.mu.Unlock()
	if code := int32(binary.BigEndian.Uint32(prefix[12:16])); ok && code != 0 {
		w.events.watchesLost(code)
	}
}

// writtenFrame looks at a frame the library sent.
func (w *wireConn) writtenFrame(prefix []byte) {
	w.outCount++
	if w.outCount == 1 || len(prefix) < 8 {
		return // the ConnectRequest
	}
	if int32(binary.BigEndian.Uint32(prefix[4:8])) != opSetWatches {
		return
	}
	xid := int32(binary.BigEndian.Uint32(prefix[0:4]))
	w.mu.Lock()
	w.setWatches[xid] = struct{}{}
	w.pending.Add(1)
	w.mu.Unlock()
}

func (w *wireConn) SetDeadline(t time.Time) error {
	return w.Conn.SetDeadline(w.bound(t))
}

func (w *wireConn) SetReadDeadline(t time.Time) error {
	return w.Conn.SetReadDeadline(w.bound(t))
}

func (w *wireConn) SetWriteDeadline(t time.Time) error {
	return w.Conn.SetWriteDeadline(w.bound(t))
}

// bound returns deadline t moved no further than the connection allows. No
// deadline (zero) stays none after the handshake: the library clears its
// deadlines between frames and sets them again before it waits.
func (w *wireConn) bound(t time.Time) time.Time {
	if !w.handshakeDone.Load() {
		if t.IsZero() || t.After(w.handshakeDeadline) {
			return w.handshakeDeadline
		}
		return t
	}
	if limit := time.Now().Add(w.sessionTimeout()); !t.IsZero() && t.After(limit) {
		return limit
	}
	return t
}

// handshakeTimeout is how long one server may take to complete a
// connection (TCP, TLS and ZooKeeper's handshake): the session timeout
// divided among the servers, as in ZooKeeper's Java client, so that a round
// over all of them, hung ones included, fits in one session timeout; and no
// more than the 2/3 of it that go-zookeeper waits for a frame once
// connected, so that a lone server that accepted the connection while
// starting up and never answers is tried again while the session lives.
func handshakeTimeout(sessionTimeout time.Duration, servers int) time.Duration {
	return min(sessionTimeout/time.Duration(max(servers, 1)), sessionTimeout*2/3)
}
