package web

import (
	"net"
	"net/http"
)

// sendBuffer bounds the kernel's send buffer of each connection: 256 KiB
// once the kernel doubles it, enough for 250 MB/s at 1 ms and 5 MB/s at
// 50 ms of round trip.
const sendBuffer = 128 << 10

// ConnState is an http.Server ConnState hook that bounds the kernel's
// send buffer of every new connection. Left alone, the kernel grows the
// buffer of a client that does not read to megabytes: 1,500 such clients
// parked most of a gigabyte of /status in the kernel, and writes that
// never block are never cut off by a write deadline.
func ConnState(c net.Conn, state http.ConnState) {
	if state != http.StateNew {
		return
	}
	if tc, ok := c.(interface{ NetConn() net.Conn }); ok {
		c = tc.NetConn() // TLS
	}
	if tc, ok := c.(*net.TCPConn); ok {
		// Best effort: a connection with the kernel's default still works.
		_ = tc.SetWriteBuffer(sendBuffer)
	}
}
