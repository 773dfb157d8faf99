package zkclient

import (
	"bytes"
	"encoding/binary"
	"errors"
	"io"
	"net"
	"os"
	"reflect"
	"testing"
	"time"
)

// Byte fixtures of the ZooKeeper protocol, laid out as in zookeeper.jute.

func frame(payload ...[]byte) []byte {
	body := bytes.Join(payload, nil)
	return append(binary.BigEndian.AppendUint32(nil, uint32(len(body))), body...)
}

func i32(v int32) []byte { return binary.BigEndian.AppendUint32(nil, uint32(v)) }
func i64(v int64) []byte { return binary.BigEndian.AppendUint64(nil, uint64(v)) }

// connectResponse: protocolVersion, timeOut, sessionId, passwd (a buffer:
// length and bytes), readOnly.
func connectResponse(timeoutMs int32, session int64) []byte {
	return frame(i32(0), i32(timeoutMs), i64(session), i32(16), make([]byte, 16), []byte{0})
}

// reply: ReplyHeader {xid, zxid, err} and a body.
func reply(xid int32, err int32, body int) []byte {
	return frame(i32(xid), i64(0x100000007), i32(err), make([]byte, body))
}

// request: RequestHeader {xid, type} and a body.
func request(xid, opcode int32, body int) []byte {
	return frame(i32(xid), i32(opcode), make([]byte, body))
}

func connectRequest() []byte {
	return frame(i32(0), i64(0), i32(4000), i64(0), i32(16), make([]byte, 16))
}

func TestFrameScanner(t *testing.T) {
	stream := bytes.Join([][]byte{
		frame([]byte("abc")), // shorter than the prefix
		frame(),              // empty
		frame(bytes.Repeat([]byte{7}, framePrefix)),                                 // exactly the prefix
		frame(append(bytes.Repeat([]byte{1}, framePrefix), make([]byte, 1<<20)...)), // a megabyte skipped
		frame([]byte("z")),
	}, nil)
	want := [][]byte{
		[]byte("abc"),
		{},
		bytes.Repeat([]byte{7}, framePrefix),
		bytes.Repeat([]byte{1}, framePrefix),
		[]byte("z"),
	}
	for _, chunk := range []int{1, 2, 3, 5, 17, 4096, len(stream)} {
		var got [][]byte
		s := frameScanner{onFrame: func(p []byte) { got = append(got, bytes.Clone(p)) }}
		for rest := stream; len(rest) > 0; {
			n := min(chunk, len(rest))
			s.scan(rest[:n])
			rest = rest[n:]
		}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("chunks of %d: frames %q, want %q", chunk, got, want)
		}
	}
}

// chunkConn is a net.Conn that returns its input in reads of at most chunk
// bytes, keeps what is written and records the deadlines set on it.
type chunkConn struct {
	net.Conn
	in                          *bytes.Reader
	chunk                       int
	out                         bytes.Buffer
	readDeadline, writeDeadline time.Time
}

func (c *chunkConn) Read(p []byte) (int, error) {
	if c.in.Len() == 0 {
		return 0, io.EOF
	}
	return c.in.Read(p[:min(len(p), c.chunk)])
}
func (c *chunkConn) Write(p []byte) (int, error) { return c.out.Write(p) }
func (c *chunkConn) SetDeadline(t time.Time) error {
	c.readDeadline, c.writeDeadline = t, t
	return nil
}
func (c *chunkConn) SetReadDeadline(t time.Time) error  { c.readDeadline = t; return nil }
func (c *chunkConn) SetWriteDeadline(t time.Time) error { c.writeDeadline = t; return nil }

// wireLog records what a wireConn reports.
type wireLog struct {
	sessions []time.Duration
	lost     []int32
	failed   []error
}

func (l *wireLog) events() wireEvents {
	return wireEvents{
		session:         func(d time.Duration) { l.sessions = append(l.sessions, d) },
		watchesLost:     func(code int32) { l.lost = append(l.lost, code) },
		handshakeFailed: func(err error) { l.failed = append(l.failed, err) },
	}
}

func TestWireConnReadsTheProtocol(t *testing.T) {
	const noAuth, throttled = -102, -127
	cases := []struct {
		name     string
		written  [][]byte // by the library, before the server's frames are read
		read     [][]byte // from the server
		sessions []time.Duration
		lost     []int32
	}{
		{
			name:     "session granted",
			written:  [][]byte{connectRequest()},
			read:     [][]byte{connectResponse(4000, 0x1000)},
			sessions: []time.Duration{4 * time.Second},
		},
		{
			name:    "session expired: no timeout reported",
			written: [][]byte{connectRequest()},
			read:    [][]byte{connectResponse(0, 0)},
		},
		{
			name:     "setWatches refused",
			written:  [][]byte{connectRequest(), request(1, 4, 10), request(2, opSetWatches, 300), request(3, 4, 10)},
			read:     [][]byte{connectResponse(6000, 0x1000), reply(1, 0, 50), reply(2, throttled, 0), reply(3, 0, 50)},
			sessions: []time.Duration{6 * time.Second},
			lost:     []int32{throttled},
		},
		{
			name:     "setWatches accepted",
			written:  [][]byte{connectRequest(), request(7, opSetWatches, 300)},
			read:     [][]byte{connectResponse(6000, 0x1000), reply(7, 0, 0)},
			sessions: []time.Duration{6 * time.Second},
		},
		{
			name:     "another request fails: not a loss",
			written:  [][]byte{connectRequest(), request(7, 4, 30), request(8, opSetWatches, 30)},
			read:     [][]byte{connectResponse(6000, 0x1000), reply(7, noAuth, 0), reply(8, 0, 0)},
			sessions: []time.Duration{6 * time.Second},
		},
		{
			name:     "a watch event with a big body between",
			written:  [][]byte{connectRequest(), request(9, opSetWatches, 30)},
			read:     [][]byte{connectResponse(6000, 0x1000), reply(-1, 0, 200000), reply(9, noAuth, 0)},
			sessions: []time.Duration{6 * time.Second},
			lost:     []int32{noAuth},
		},
	}
	for _, tc := range cases {
		for _, chunk := range []int{1, 3, 16, 1 << 16} {
			var log wireLog
			conn := &chunkConn{in: bytes.NewReader(bytes.Join(tc.read, nil)), chunk: chunk}
			w, err := newWireConn(conn, time.Now(), time.Second, func() time.Duration { return 4 * time.Second }, log.events())
			if err != nil {
				t.Fatal(err)
			}
			for _, p := range tc.written {
				if _, err := w.Write(p); err != nil {
					t.Fatal(err)
				}
			}
			if _, err := io.Copy(io.Discard, w); err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(log.sessions, tc.sessions) || !reflect.DeepEqual(log.lost, tc.lost) || log.failed != nil {
				t.Errorf("%s, reads of %d: sessions %v, lost %v, failed %v; want %v, %v, none",
					tc.name, chunk, log.sessions, log.lost, log.failed, tc.sessions, tc.lost)
			}
			if !bytes.Equal(conn.out.Bytes(), bytes.Join(tc.written, nil)) {
				t.Errorf("%s: the bytes written were changed", tc.name)
			}
		}
	}
}

func TestWireConnBoundsDeadlines(t *testing.T) {
	var log wireLog
	start := time.Now()
	conn := &chunkConn{in: bytes.NewReader(connectResponse(9000, 0x1000)), chunk: 1 << 10}
	w, err := newWireConn(conn, start, 2*time.Second, func() time.Duration { return 9 * time.Second }, log.events())
	if err != nil {
		t.Fatal(err)
	}
	handshakeDeadline := start.Add(2 * time.Second)
	if !conn.readDeadline.Equal(handshakeDeadline) || !conn.writeDeadline.Equal(handshakeDeadline) {
		t.Fatalf("deadlines after dial %v, %v; want the handshake's %v", conn.readDeadline, conn.writeDeadline, handshakeDeadline)
	}
	// go-zookeeper waits 10 × its receive timeout, then clears the deadline
	// to read the rest of the ConnectResponse.
	w.SetReadDeadline(start.Add(60 * time.Second))
	if !conn.readDeadline.Equal(handshakeDeadline) {
		t.Errorf("handshake read deadline %v, want %v", conn.readDeadline, handshakeDeadline)
	}
	w.SetReadDeadline(time.Time{})
	if !conn.readDeadline.Equal(handshakeDeadline) {
		t.Errorf("a cleared handshake read deadline became %v, want %v", conn.readDeadline, handshakeDeadline)
	}
	early := start.Add(time.Second)
	w.SetWriteDeadline(early)
	if !conn.writeDeadline.Equal(early) {
		t.Errorf("an earlier deadline %v became %v", early, conn.writeDeadline)
	}
	if _, err := io.Copy(io.Discard, w); err != nil {
		t.Fatal(err)
	}
	// After the handshake: at most one (granted) session timeout ahead,
	// none stays none.
	w.SetReadDeadline(time.Now().Add(time.Hour))
	if d := time.Until(conn.readDeadline); d > 9*time.Second || d < 8*time.Second {
		t.Errorf("read deadline %v ahead, want the session timeout, 9s", d)
	}
	w.SetReadDeadline(time.Time{})
	if !conn.readDeadline.IsZero() {
		t.Errorf("a cleared deadline became %v", conn.readDeadline)
	}
	near := time.Now().Add(time.Second)
	w.SetWriteDeadline(near)
	if !conn.writeDeadline.Equal(near) {
		t.Errorf("write deadline %v became %v", near, conn.writeDeadline)
	}
}

func TestWireConnReportsHandshakeFailures(t *testing.T) {
	var log wireLog
	conn := &chunkConn{in: bytes.NewReader(nil), chunk: 1}
	w, err := newWireConn(conn, time.Now().Add(-2*time.Second), time.Second, func() time.Duration { return 3 * time.Second }, log.events())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := w.Read(make([]byte, 4)); !errors.Is(err, io.EOF) {
		t.Fatalf("read: %v", err)
	}
	timeout := &net.OpError{Op: "read", Net: "tcp", Err: os.ErrDeadlineExceeded}
	w.handshakeFailed(timeout)
	if len(log.failed) != 2 || !errors.Is(log.failed[0], io.EOF) || !errors.Is(log.failed[1], os.ErrDeadlineExceeded) ||
		log.failed[1].Error() != "no answer to the handshake within 1s: read tcp: i/o timeout" {
		t.Fatalf("failures reported: %v", log.failed)
	}
}

func TestCause(t *testing.T) {
	refused := func(port int) error {
		return &net.OpError{Op: "dial", Net: "tcp", Source: &net.TCPAddr{Port: port}, Addr: &net.TCPAddr{Port: 2181},
			Err: os.NewSyscallError("connect", errors.New("connection refused"))}
	}
	timeout := func(port int) error {
		return &net.OpError{Op: "read", Net: "tcp", Source: &net.TCPAddr{Port: port}, Err: os.ErrDeadlineExceeded}
	}
	if cause(refused(1)) != cause(refused(2)) || cause(timeout(1)) != cause(timeout(2)) {
		t.Error("the same failure from another local port is another cause")
	}
	if cause(refused(1)) == cause(timeout(1)) {
		t.Error("a refused connection and a timeout are the same cause")
	}
	if got := cause(timeout(1)); got != "read: i/o timeout" {
		t.Errorf("cause = %q", got)
	}
}

func TestHandshakeTimeout(t *testing.T) {
	for _, tc := range []struct {
		servers int
		want    time.Duration
	}{
		{0, 4 * time.Second * 2 / 3},
		{1, 4 * time.Second * 2 / 3},
		{2, 2 * time.Second},
		{3, 4 * time.Second / 3},
		{5, 800 * time.Millisecond},
	} {
		if got := handshakeTimeout(4*time.Second, tc.servers); got != tc.want {
			t.Errorf("%d servers: %v, want %v", tc.servers, got, tc.want)
		}
	}
}

// TestWireConnIsCheap: following the frames costs no allocation per read
// or write, whatever the size of the frames.
func TestWireConnIsCheap(t *testing.T) {
	big := reply(5, 0, 1<<20)
	conn := &chunkConn{in: bytes.NewReader(nil), chunk: len(big)}
	var log wireLog
	w, err := newWireConn(conn, time.Now(), time.Second, func() time.Duration { return time.Second }, log.events())
	if err != nil {
		t.Fatal(err)
	}
	conn.in.Reset(connectResponse(1000, 1))
	if _, err := io.Copy(io.Discard, w); err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, len(big))
	request := request(6, 4, 100)
	allocs := testing.AllocsPerRun(50, func() {
		conn.in.Reset(big)
		if _, err := io.ReadFull(w, buf); err != nil {
			t.Fatal(err)
		}
		if _, err := w.Write(request); err != nil {
			t.Fatal(err)
		}
		conn.out.Reset()
	})
	if allocs != 0 {
		t.Errorf("%v allocations per megabyte frame read and request written", allocs)
	}
}
