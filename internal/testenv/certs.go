package testenv

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"
)

// certValidity is how long test certificates are valid either side of now.
const certValidity = 24 * time.Hour

// serials numbers the certificates of a test binary.
var serials atomic.Int64

// CA is a certificate authority made for one test. Its certificate and the
// certificates it issues are PEM files in a temporary directory.
type CA struct {
	// CertFile is the CA certificate (PEM), for ca_file settings.
	CertFile string
	// PEM is the content of CertFile: a trust store.
	PEM  []byte
	cert *x509.Certificate
	key  *ecdsa.PrivateKey
	dir  string
}

// Cert is a certificate issued by a CA, with its private key.
type Cert struct {
	CertFile, KeyFile string
	// CertPEM is the content of CertFile.
	CertPEM []byte
	// KeyPEM is the content of KeyFile: a secret to look for in output.
	KeyPEM string
	// TLS is the pair for a tls.Config.
	TLS tls.Certificate
}

// NewCA makes a self-signed CA named name.
func NewCA(t testing.TB, name string) *CA {
	t.Helper()
	key := newKey(t)
	tmpl := certTemplate(name)
	tmpl.KeyUsage = x509.KeyUsageCertSign | x509.KeyUsageCRLSign | x509.KeyUsageDigitalSignature
	tmpl.BasicConstraintsValid, tmpl.IsCA = true, true
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatalf("testenv: creating CA %s: %v", name, err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatalf("testenv: parsing CA %s: %v", name, err)
	}
	ca := &CA{cert: cert, key: key, dir: t.TempDir()}
	ca.CertFile = writePEM(t, ca.dir, name+"-ca.crt", "CERTIFICATE", der)
	ca.PEM = pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})
	return ca
}

// Pool returns a pool holding only the CA's certificate.
func (ca *CA) Pool() *x509.CertPool {
	p := x509.NewCertPool()
	p.AddCert(ca.cert)
	return p
}

// Issue makes a certificate for commonName, good for servers on 127.0.0.1
// or localhost and for clients.
func (ca *CA) Issue(t testing.TB, commonName string) *Cert {
	t.Helper()
	return ca.IssueWindow(t, commonName, time.Now().Add(-certValidity), time.Now().Add(certValidity))
}

// IssueWindow is Issue for a certificate valid from notBefore to notAfter
// (an expired one, say).
func (ca *CA) IssueWindow(t testing.TB, commonName string, notBefore, notAfter time.Time) *Cert {
	t.Helper()
	key := newKey(t)
	tmpl := certTemplate(commonName)
	tmpl.NotBefore, tmpl.NotAfter = notBefore, notAfter
	tmpl.KeyUsage = x509.KeyUsageDigitalSignature
	tmpl.ExtKeyUsage = []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth, x509.ExtKeyUsageClientAuth}
	tmpl.IPAddresses = []net.IP{net.IPv4(127, 0, 0, 1)}
	tmpl.DNSNames = []string{"localhost"}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca.cert, &key.PublicKey, ca.key)
	if err != nil {
		t.Fatalf("testenv: issuing %s: %v", commonName, err)
	}
	keyDER, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		t.Fatalf("testenv: encoding the key of %s: %v", commonName, err)
	}
	c := &Cert{
		CertFile: writePEM(t, ca.dir, commonName+".crt", "CERTIFICATE", der),
		KeyFile:  writePEM(t, ca.dir, commonName+".key", "PRIVATE KEY", keyDER),
	}
	keyPEM, err := os.ReadFile(c.KeyFile)
	if err != nil {
		t.Fatal(err)
	}
	c.KeyPEM = string(keyPEM)
	c.CertPEM = pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})
	if c.TLS, err = tls.LoadX509KeyPair(c.CertFile, c.KeyFile); err != nil {
		t.Fatalf("testenv: loading %s: %v", commonName, err)
	}
	return c
}

func newKey(t testing.TB) *ecdsa.PrivateKey {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatalf("testenv: generating a key: %v", err)
	}
	return key
}

func certTemplate(commonName string) *x509.Certificate {
	return &x509.Certificate{
		SerialNumber: big.NewInt(serials.Add(1)),
		Subject:      pkix.Name{CommonName: commonName, Organization: []string{"zk_monitor tests"}},
		NotBefore:    time.Now().Add(-certValidity),
		NotAfter:     time.Now().Add(certValidity),
	}
}

// writePEM writes one PEM block to dir/name, readable by its owner only,
// and returns the path.
func writePEM(t testing.TB, dir, name, blockType string, der []byte) string {
	t.Helper()
	path := filepath.Join(dir, name)
	if err := os.WriteFile(path, pem.EncodeToMemory(&pem.Block{Type: blockType, Bytes: der}), 0o600); err != nil {
		t.Fatalf("testenv: writing %s: %v", path, err)
	}
	return path
}
