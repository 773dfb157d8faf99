package testenv

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"net"
	"testing"
	"time"
)

func TestCAIssue(t *testing.T) {
	ca := NewCA(t, "test CA")
	roots := x509.NewCertPool()
	if !roots.AppendCertsFromPEM(ca.PEM) {
		t.Fatal("the CA's PEM holds no certificate")
	}
	verify := func(c *Cert, at time.Time) error {
		pair, err := tls.X509KeyPair(c.CertPEM, []byte(c.KeyPEM))
		if err != nil {
			return err
		}
		_, err = pair.Leaf.Verify(x509.VerifyOptions{Roots: roots, DNSName: "127.0.0.1", CurrentTime: at,
			KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth, x509.ExtKeyUsageClientAuth}})
		return err
	}
	if err := verify(ca.Issue(t, "server"), time.Now()); err != nil {
		t.Errorf("valid certificate: %v", err)
	}
	expired := ca.IssueWindow(t, "old", time.Now().Add(-2*time.Hour), time.Now().Add(-time.Hour))
	var invalid x509.CertificateInvalidError
	if err := verify(expired, time.Now()); !errors.As(err, &invalid) || invalid.Reason != x509.Expired {
		t.Errorf("expired certificate: %v", err)
	}
	var unknown x509.UnknownAuthorityError
	if err := verify(NewCA(t, "other CA").Issue(t, "stranger"), time.Now()); !errors.As(err, &unknown) {
		t.Errorf("certificate of another CA: %v", err)
	}
}

func TestProxyAccepted(t *testing.T) {
	p := NewProxy(t, startEcho(t))
	p.Blackhole()
	for i := range 3 {
		c, err := net.Dial("tcp", p.Addr())
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		var got int
		Eventually(t, 5*time.Second, time.Millisecond, func() bool { got = p.Accepted(); return got == i+1 },
			"after %d connections Accepted() = %d", i+1, got)
	}
	if p.Conns() != 3 {
		t.Errorf("Conns() = %d, want the 3 held connections", p.Conns())
	}
}
