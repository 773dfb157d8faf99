package zkclient

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"sync"
	"time"

	"github.com/go-kit/log"
	"github.com/go-kit/log/level"
	commoncfg "github.com/prometheus/common/config"
)

// TLSOptions configure TLS to ZooKeeper's secureClientPort. TLS is on when
// Enabled or any other field is set.
type TLSOptions struct {
	Enabled bool
	// CAFile verifies the servers' certificates; the system's roots do
	// when it is empty.
	CAFile string
	// CertFile and KeyFile are the client certificate, for servers that
	// require one (ssl.clientAuth=need).
	CertFile string
	KeyFile  string
	// ServerName is the name the servers' certificates must carry; by
	// default the host of each server in the connect string.
	ServerName         string
	InsecureSkipVerify bool
}

// on reports whether TLS is configured.
func (o TLSOptions) on() bool {
	return o.Enabled || o.CAFile != "" || o.CertFile != "" || o.KeyFile != "" || o.ServerName != "" || o.InsecureSkipVerify
}

func (o TLSOptions) validate() error {
	if !o.on() {
		return nil
	}
	if (o.CertFile == "") != (o.KeyFile == "") {
		return errors.New("ZooKeeper TLS: a client certificate needs both a certificate file and a key file")
	}
	_, err := o.config()
	return err
}

// config reads the files and returns the TLS configuration of one
// connection. It runs on every dial, so that certificates rotated on disk
// are used without a restart.
func (o TLSOptions) config() (*tls.Config, error) {
	cfg, err := commoncfg.NewTLSConfig(&commoncfg.TLSConfig{
		CAFile:             o.CAFile,
		CertFile:           o.CertFile,
		KeyFile:            o.KeyFile,
		ServerName:         o.ServerName,
		InsecureSkipVerify: o.InsecureSkipVerify,
	})
	if err != nil {
		return nil, fmt.Errorf("ZooKeeper TLS: %w", err)
	}
	return cfg, nil
}

// checkValidity fails when the client certificate has expired or is not
// valid yet: the server would refuse it with nothing better than "unknown
// certificate".
func (o TLSOptions) checkValidity(now time.Time) error {
	if o.CertFile == "" {
		return nil
	}
	pair, err := tls.LoadX509KeyPair(o.CertFile, o.KeyFile)
	if err != nil {
		return fmt.Errorf("ZooKeeper TLS: %w", err)
	}
	leaf := pair.Leaf
	if leaf == nil { // GODEBUG=x509keypairleaf=0
		if leaf, err = x509.ParseCertificate(pair.Certificate[0]); err != nil {
			return fmt.Errorf("ZooKeeper TLS client certificate %s: %w", o.CertFile, err)
		}
	}
	if now.Before(leaf.NotBefore) || now.After(leaf.NotAfter) {
		return fmt.Errorf("ZooKeeper TLS client certificate %s: %w", o.CertFile, x509.CertificateInvalidError{
			Cert:   leaf,
			Reason: x509.Expired,
			// No current time: the message must be the same on every retry.
			Detail: fmt.Sprintf("valid from %s to %s", leaf.NotBefore.UTC().Format(time.RFC3339), leaf.NotAfter.UTC().Format(time.RFC3339)),
		})
	}
	return nil
}

// dial is go-zookeeper's Dialer. It connects to one server (with TLS when
// configured) and wraps the connection in a wireConn: the TCP connect, the
// TLS handshake and ZooKeeper's handshake together get handshakeTimeout.
func (c *Client) dial(network, addr string, timeout time.Duration) (net.Conn, error) {
	start := time.Now()
	budget := handshakeTimeout(c.sessionTimeout(), c.servers)
	conn, err := c.connect(network, addr, min(timeout, budget), start.Add(budget))
	if err != nil {
		c.connectFailed(addr, err)
		return nil, err
	}
	w, err := newWireConn(conn, start, budget, c.sessionTimeout, wireEvents{
		session: func(timeout time.Duration) { c.negotiated.Store(int64(timeout)) },
		watchesLost: func(code int32) {
			c.queue.push(notice{watchesLost: code})
		},
		handshakeFailed: func(err error) { c.connectFailed(addr, err) },
	})
	if err != nil {
		conn.Close()
		c.connectFailed(addr, err)
		return nil, err
	}
	return w, nil
}

// connectFailed reports a failed connection attempt, unless it failed
// because the client is closing.
func (c *Client) connectFailed(server string, err error) {
	if !c.closing.Load() {
		c.connectErrors.report(server, err)
	}
}

func (c *Client) connect(network, addr string, dialTimeout time.Duration, deadline time.Time) (net.Conn, error) {
	conn, err := net.DialTimeout(network, addr, dialTimeout)
	if err != nil || !c.opts.TLS.on() {
		return conn, err
	}
	cfg, err := c.opts.TLS.config()
	if err == nil {
		err = c.opts.TLS.checkValidity(time.Now())
	}
	if err != nil {
		conn.Close()
		return nil, err
	}
	if cfg.ServerName == "" {
		cfg.ServerName, _, _ = net.SplitHostPort(addr)
	}
	tc := tls.Client(conn, cfg)
	ctx, cancel := context.WithDeadline(context.Background(), deadline)
	defer cancel()
	if err := tc.HandshakeContext(ctx); err != nil {
		conn.Close()
		return nil, err
	}
	return tc, nil
}

// connectErrors logs why connecting failed, once per cause until a session
// is established again: a wrong certificate or a hung server fails every
// retry the same way, and the log should say so once, not every second.
type connectErrors struct {
	logger log.Logger

	mu   sync.Mutex
	seen map[string]bool
	last error
}

func (e *connectErrors) report(server string, err error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.last = err
	c := cause(err)
	if e.seen[c] {
		return
	}
	if e.seen == nil {
		e.seen = map[string]bool{}
	}
	e.seen[c] = true
	level.Warn(e.logger).Log("msg", "connecting to ZooKeeper failed; trying the next server", "server", server, "err", err)
}

// reset forgets the causes seen: a session is up.
func (e *connectErrors) reset() {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.seen, e.last = nil, nil
}

// lastError returns the error of the last failed attempt since the last
// session, if any.
func (e *connectErrors) lastError() error {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.last
}

// cause is what makes two connection errors the same: the failed operation
// and its error without the addresses (a local port differs every time).
func cause(err error) string {
	var op *net.OpError
	if errors.As(err, &op) && op.Err != nil {
		return op.Op + ": " + op.Err.Error()
	}
	return err.Error()
}
