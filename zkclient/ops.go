package zkclient

import (
	"errors"
	"path"
	"strings"

	"github.com/go-zookeeper/zk"
)

// The operations below take and return paths relative to the chroot and
// count every request, so benchmarks can show requests per scrape and per
// change. Watches are registered on the server; their notifications arrive
// as NodeChanged events, not on per-call channels.

// Children lists the children of p.
func (c *Client) Children(p string) ([]string, *zk.Stat, error) {
	c.count("children")
	children, stat, err := c.conn.Children(c.full(p))
	return children, stat, c.fail("children", err)
}

// ChildrenW lists the children of p and leaves a child watch on it. When
// the library already holds one for p, it only reads: every call would
// otherwise add a channel the library keeps until the watch fires.
func (c *Client) ChildrenW(p string) ([]string, *zk.Stat, error) {
	if c.watches.held(watchChild, p) {
		return c.Children(p)
	}
	c.count("children")
	tok := c.watches.token()
	children, stat, _, err := c.conn.ChildrenW(c.full(p))
	if err == nil {
		c.watches.add(watchChild, p, tok)
	}
	return children, stat, c.fail("children", err)
}

// Exists reports whether p exists.
func (c *Client) Exists(p string) (bool, *zk.Stat, error) {
	c.count("exists")
	ok, stat, err := c.conn.Exists(c.full(p))
	return ok, stat, c.fail("exists", err)
}

// ExistsW reports whether p exists and leaves a watch that fires when it is
// created, changed or deleted.
func (c *Client) ExistsW(p string) (bool, *zk.Stat, error) {
	if c.watches.held(watchExist, p) {
		return c.Exists(p)
	}
	c.count("exists")
	tok := c.watches.token()
	ok, stat, _, err := c.conn.ExistsW(c.full(p))
	if err == nil {
		// The library files an existing node's watch as a data watch.
		if ok {
			c.watches.add(watchData, p, tok)
		} else {
			c.watches.add(watchExist, p, tok)
		}
	}
	return ok, stat, c.fail("exists", err)
}

// Check confirms that p exists (with version, unless version is -1) through
// the ensemble's leader and a quorum. It is sent as a multi of one check
// operation, which ZooKeeper commits like a write: a server cut off from the
// quorum cannot answer it from stale data, as it answers reads, and the
// session was alive when it committed.
func (c *Client) Check(p string, version int32) error {
	c.count("check")
	_, err := c.conn.Multi(&zk.CheckVersionRequest{Path: c.full(p), Version: version})
	return c.fail("check", err)
}

// Get reads the data of p.
func (c *Client) Get(p string) ([]byte, *zk.Stat, error) {
	c.count("get")
	data, stat, err := c.conn.Get(c.full(p))
	return data, stat, c.fail("get", err)
}

// GetW reads the data of p and leaves a data watch on it.
func (c *Client) GetW(p string) ([]byte, *zk.Stat, error) {
	if c.watches.held(watchData, p) {
		return c.Get(p)
	}
	c.count("get")
	tok := c.watches.token()
	data, stat, _, err := c.conn.GetW(c.full(p))
	if err == nil {
		c.watches.add(watchData, p, tok)
	}
	return data, stat, c.fail("get", err)
}

// Set writes the data of p.
func (c *Client) Set(p string, data []byte, version int32) (*zk.Stat, error) {
	c.count("set")
	stat, err := c.conn.Set(c.full(p), data, version)
	return stat, c.fail("set", err)
}

// Create creates p and returns the created path (relative to the chroot).
func (c *Client) Create(p string, data []byte, flags int32, acl []zk.ACL) (string, error) {
	c.count("create")
	created, err := c.conn.Create(c.full(p), data, flags, acl)
	return c.strip(created), c.fail("create", err)
}

// CreateProtectedEphemeralSequential creates an ephemeral sequential node
// whose name carries a GUID, so that a create retried after a lost
// connection finds its own earlier node instead of leaving an orphan.
func (c *Client) CreateProtectedEphemeralSequential(p string, data []byte, acl []zk.ACL) (string, error) {
	c.count("create")
	created, err := c.conn.CreateProtectedEphemeralSequential(c.full(p), data, acl)
	return c.strip(created), c.fail("create", err)
}

// EnsurePath creates p and its missing parents as persistent nodes.
func (c *Client) EnsurePath(p string, acl []zk.ACL) error {
	if p == "/" || p == "" {
		return nil
	}
	if err := c.EnsurePath(path.Dir(p), acl); err != nil {
		return err
	}
	_, err := c.Create(p, nil, 0, acl)
	if errors.Is(err, zk.ErrNodeExists) {
		return nil
	}
	return err
}

// Delete removes p if its version matches (-1 matches any).
func (c *Client) Delete(p string, version int32) error {
	c.count("delete")
	return c.fail("delete", c.conn.Delete(c.full(p), version))
}

// DeleteRecursive removes p and everything below it; a missing p is fine.
func (c *Client) DeleteRecursive(p string) error {
	children, _, err := c.Children(p)
	if errors.Is(err, zk.ErrNoNode) {
		return nil
	}
	if err != nil {
		return err
	}
	for _, child := range children {
		if err := c.DeleteRecursive(path.Join(p, child)); err != nil {
			return err
		}
	}
	err = c.Delete(p, -1)
	if errors.Is(err, zk.ErrNoNode) {
		return nil
	}
	return err
}

func (c *Client) count(op string) { c.requests.WithLabelValues(op).Inc() }

// fail counts an error that is not an expected answer and returns it.
func (c *Client) fail(op string, err error) error {
	if err != nil && !errors.Is(err, zk.ErrNoNode) && !errors.Is(err, zk.ErrNodeExists) {
		c.failures.WithLabelValues(op).Inc()
	}
	return err
}

func (c *Client) full(p string) string {
	if c.chroot == "" {
		return p
	}
	if p == "/" {
		return c.chroot
	}
	return c.chroot + p
}

func (c *Client) strip(p string) string {
	if c.chroot == "" {
		return p
	}
	if p == c.chroot {
		return "/"
	}
	return strings.TrimPrefix(p, c.chroot)
}

// DigestACL returns an ACL that gives the user every permission and
// everyone else read access, or the open ACL when no user is set.
func DigestACL(user, password string) []zk.ACL {
	if user == "" {
		return zk.WorldACL(zk.PermAll)
	}
	return append(zk.DigestACL(zk.PermAll, user, password), zk.WorldACL(zk.PermRead)...)
}
