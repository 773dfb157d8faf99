package zkclient

import "github.com/go-zookeeper/zk"

// Op is one operation of a Multi. Its path is relative to the chroot, like
// every path this package takes.
type Op struct {
	kind    opKind
	path    string
	data    []byte
	version int32
	acl     []zk.ACL
}

type opKind int

const (
	opCheck opKind = iota
	opCreate
	opSet
	opDelete
)

// CheckOp fails the transaction unless p exists (with version, unless
// version is -1).
func CheckOp(p string, version int32) Op { return Op{kind: opCheck, path: p, version: version} }

// CreateOp creates the persistent node p holding data.
func CreateOp(p string, data []byte, acl []zk.ACL) Op {
	return Op{kind: opCreate, path: p, data: data, acl: acl}
}

// SetOp writes the data of p (if its version matches; -1 matches any).
func SetOp(p string, data []byte, version int32) Op {
	return Op{kind: opSet, path: p, data: data, version: version}
}

// DeleteOp deletes p (if its version matches; -1 matches any).
func DeleteOp(p string, version int32) Op { return Op{kind: opDelete, path: p, version: version} }

// Multi runs ops as one transaction: all of them or none. It returns the
// error of the first operation that failed (zk.ErrNoNode, zk.ErrNodeExists,
// zk.ErrBadVersion, ...), or of the request.
func (c *Client) Multi(ops ...Op) error {
	reqs := make([]any, len(ops))
	for i, op := range ops {
		p := c.full(op.path)
		switch op.kind {
		case opCheck:
			reqs[i] = &zk.CheckVersionRequest{Path: p, Version: op.version}
		case opCreate:
			reqs[i] = &zk.CreateRequest{Path: p, Data: op.data, Acl: op.acl}
		case opSet:
			reqs[i] = &zk.SetDataRequest{Path: p, Data: op.data, Version: op.version}
		case opDelete:
			reqs[i] = &zk.DeleteRequest{Path: p, Version: op.version}
		}
	}
	c.count("multi")
	_, err := c.conn.Multi(reqs...)
	return c.fail("multi", err)
}
