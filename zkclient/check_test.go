package zkclient_test

import (
	"errors"
	"testing"
	"time"

	"github.com/go-zookeeper/zk"

	"github.com/zk-monitor/zk_monitor/internal/testenv"
	"github.com/zk-monitor/zk_monitor/zkclient"
)

func TestCheck(t *testing.T) {
	testenv.SkipIfShort(t, "needs a real ZooKeeper")
	zkServer := testenv.StartZooKeeper(t)
	root := testenv.ZKClient(t, zkclient.Options{ConnectString: zkServer.Addr()})
	if err := root.EnsurePath("/tenant", zk.WorldACL(zk.PermAll)); err != nil {
		t.Fatal(err)
	}
	// Paths are relative to the chroot, as for every other operation.
	c := testenv.ZKClient(t, zkclient.Options{ConnectString: zkServer.Addr() + "/tenant"})
	if err := c.EnsurePath("/node", zk.WorldACL(zk.PermAll)); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Set("/node", []byte("x"), 0); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		path    string
		version int32
		want    error
	}{
		{"/node", -1, nil},
		{"/node", 1, nil},
		{"/node", 0, zk.ErrBadVersion},
		{"/missing", -1, zk.ErrNoNode},
	}
	for _, tt := range tests {
		if err := c.Check(tt.path, tt.version); !errors.Is(err, tt.want) {
			t.Errorf("Check(%s, %d) = %v, want %v", tt.path, tt.version, err, tt.want)
		}
	}
}

// TestCheckNeedsTheQuorum: a follower cut off from its peers still
// answers reads from what it had, until it gives up on its leader; a Check
// through it gets no answer but the end of the connection.
func TestCheckNeedsTheQuorum(t *testing.T) {
	testenv.SkipIfShort(t, "needs a real ZooKeeper ensemble")
	ens := testenv.StartEnsembleWith(t, 3, testenv.EnsembleOptions{PeerProxies: true})
	follower := (ens.Leader() + 1) % 3
	c := testenv.ZKClient(t, zkclient.Options{ConnectString: ens.Servers()[follower].Addr(), SessionTimeout: 10 * time.Second})
	if err := c.EnsurePath("/quorum", zk.WorldACL(zk.PermAll)); err != nil {
		t.Fatal(err)
	}
	if err := c.Check("/quorum", -1); err != nil {
		t.Fatalf("Check before the partition: %v", err)
	}
	ens.Partition(follower)
	defer ens.Heal(follower)
	if ok, _, err := c.Exists("/quorum"); err != nil || !ok {
		t.Fatalf("Exists on the cut-off follower = %v, %v; want the stale answer true", ok, err)
	}
	if err := c.Check("/quorum", -1); err == nil {
		t.Error("Check through the cut-off follower succeeded")
	}
}
