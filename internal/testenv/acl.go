package testenv

import (
	"testing"
	"time"

	"github.com/go-zookeeper/zk"
)

// ProtectedZnode is a znode that only one digest identity may read, for
// tests of an agent that cannot read it.
type ProtectedZnode struct {
	tb   testing.TB
	conn *zk.Conn
	Path string
}

// CreateProtectedZnode creates path (its parent must exist) with a digest
// ACL giving user every right and nobody else any, through a session
// authenticated as user.
func CreateProtectedZnode(tb testing.TB, addr, path, user, password string) *ProtectedZnode {
	tb.Helper()
	conn := RawZK(tb, addr, 10*time.Second)
	if err := conn.AddAuth("digest", []byte(user+":"+password)); err != nil {
		tb.Fatalf("authenticating as %s: %v", user, err)
	}
	if _, err := conn.Create(path, nil, 0, zk.DigestACL(zk.PermAll, user, password)); err != nil {
		tb.Fatalf("creating %s: %v", path, err)
	}
	return &ProtectedZnode{tb: tb, conn: conn, Path: path}
}

// Open lets everyone do anything with the znode.
func (z *ProtectedZnode) Open() {
	z.tb.Helper()
	if _, err := z.conn.SetACL(z.Path, zk.WorldACL(zk.PermAll), -1); err != nil {
		z.tb.Fatalf("opening the ACL of %s: %v", z.Path, err)
	}
}
