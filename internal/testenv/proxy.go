package testenv

import (
	"net"
	"sync"
	"testing"
	"time"
)

type proxyMode int

const (
	proxyForward   proxyMode = iota
	proxyCut                 // connections closed, new ones closed on accept
	proxyBlackhole           // nothing forwarded, nothing closed
)

// Proxy is a loopback TCP proxy between clients and one server, used to
// simulate disconnects (Cut) and network partitions (Blackhole).
type Proxy struct {
	ln net.Listener
	wg sync.WaitGroup

	mu     sync.Mutex
	cond   *sync.Cond // signalled on every mode change and link close
	mode   proxyMode
	target string
	closed bool
	links  map[*proxyLink]struct{}
	// accepted counts the connections accepted, closed ones included.
	accepted int
}

// proxyLink is one client connection and, once dialled, its server side.
type proxyLink struct {
	client, server net.Conn
	closed         bool
}

// NewProxy listens on 127.0.0.1 on a free port and forwards every connection
// to target.
func NewProxy(t testing.TB, target string) *Proxy {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("testenv: proxy listen: %v", err)
	}
	p := &Proxy{ln: ln, target: target, links: map[*proxyLink]struct{}{}}
	p.cond = sync.NewCond(&p.mu)
	p.wg.Add(1)
	go p.acceptLoop()
	t.Cleanup(p.close)
	return p
}

// Addr returns the address clients connect to, "127.0.0.1:PORT".
func (p *Proxy) Addr() string { return p.ln.Addr().String() }

// Cut closes every open connection and, until Restore, closes new ones as
// soon as they are accepted: the client sees its connection drop.
func (p *Proxy) Cut() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.mode = proxyCut
	for l := range p.links {
		p.closeLinkLocked(l)
	}
	p.cond.Broadcast()
}

// Blackhole stops forwarding bytes in both directions while keeping every
// connection open, and holds new connections silently: like a network
// partition, the client only notices through its own timeouts. Bytes read
// meanwhile are delivered after Restore.
func (p *Proxy) Blackhole() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.mode = proxyBlackhole
	p.cond.Broadcast()
}

// Restore forwards again; connections held by Blackhole are resumed.
func (p *Proxy) Restore() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.mode = proxyForward
	p.cond.Broadcast()
}

// SetTarget changes the server that new connections are forwarded to.
func (p *Proxy) SetTarget(addr string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.target = addr
}

// Accepted returns the number of client connections the proxy accepted
// so far: how often a client tried this server.
func (p *Proxy) Accepted() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.accepted
}

// Conns returns the number of client connections currently open through the proxy.
func (p *Proxy) Conns() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return len(p.links)
}

func (p *Proxy) close() {
	p.mu.Lock()
	p.closed = true
	for l := range p.links {
		p.closeLinkLocked(l)
	}
	p.cond.Broadcast()
	p.mu.Unlock()
	_ = p.ln.Close()
	p.wg.Wait()
}

func (p *Proxy) acceptLoop() {
	defer p.wg.Done()
	for {
		c, err := p.ln.Accept()
		if err != nil {
			return // listener closed
		}
		p.mu.Lock()
		p.accepted++
		if p.closed || p.mode == proxyCut {
			p.mu.Unlock()
			_ = c.Close()
			continue
		}
		l := &proxyLink{client: c}
		p.links[l] = struct{}{}
		p.wg.Add(1)
		p.mu.Unlock()
		go p.serve(l)
	}
}

// serve dials the target for one client once forwarding is allowed and
// copies bytes both ways until either side closes or the proxy cuts.
func (p *Proxy) serve(l *proxyLink) {
	defer p.wg.Done()
	defer func() {
		p.mu.Lock()
		p.closeLinkLocked(l)
		delete(p.links, l)
		p.mu.Unlock()
	}()
	if !p.await(l) {
		return
	}
	p.mu.Lock()
	target := p.target
	p.mu.Unlock()
	s, err := net.DialTimeout("tcp", target, Scaled(5*time.Second))
	if err != nil {
		return // the client sees its connection closed, as with a dead server
	}
	p.mu.Lock()
	if l.closed {
		p.mu.Unlock()
		_ = s.Close()
		return
	}
	l.server = s
	p.mu.Unlock()

	var wg sync.WaitGroup
	wg.Add(2)
	go func() { defer wg.Done(); p.pipe(l, s, l.client) }()
	go func() { defer wg.Done(); p.pipe(l, l.client, s) }()
	wg.Wait()
}

// pipe copies src to dst. What it reads while blackholed is held until
// Restore (or dropped on Cut), and so is the end of the stream.
func (p *Proxy) pipe(l *proxyLink, dst, src net.Conn) {
	buf := make([]byte, 32*1024)
	for {
		n, rerr := src.Read(buf)
		if !p.await(l) {
			return
		}
		if n > 0 {
			if _, err := dst.Write(buf[:n]); err != nil {
				p.closeLink(l)
				return
			}
		}
		if rerr != nil {
			p.closeLink(l)
			return
		}
	}
}

// await blocks while the proxy is blackholed and reports whether the link
// may go on (false once it is closed, cut, or the proxy shuts down).
func (p *Proxy) await(l *proxyLink) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	for p.mode == proxyBlackhole && !p.closed && !l.closed {
		p.cond.Wait()
	}
	return !p.closed && !l.closed && p.mode == proxyForward
}

func (p *Proxy) closeLink(l *proxyLink) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.closeLinkLocked(l)
}

func (p *Proxy) closeLinkLocked(l *proxyLink) {
	if l.closed {
		return
	}
	l.closed = true
	_ = l.client.Close()
	if l.server != nil {
		_ = l.server.Close()
	}
	p.cond.Broadcast()
}
