package zkclient_test

import (
	"errors"
	"testing"

	"github.com/go-zookeeper/zk"

	"github.com/zk-monitor/zk_monitor/internal/testenv"
	"github.com/zk-monitor/zk_monitor/zkclient"
)

// TestMulti runs transactions on a real ZooKeeper through a chroot: all
// operations or none, and the first failure is the error.
func TestMulti(t *testing.T) {
	testenv.SkipIfShort(t, "needs a real ZooKeeper")
	zkServer := testenv.StartZooKeeper(t)
	root := testenv.ZKClient(t, zkclient.Options{ConnectString: zkServer.Addr()})
	open := zk.WorldACL(zk.PermAll)
	if err := root.EnsurePath("/chroot/fence", open); err != nil {
		t.Fatal(err)
	}
	c := testenv.ZKClient(t, zkclient.Options{ConnectString: zkServer.Addr() + "/chroot"})

	for _, tc := range []struct {
		name string
		ops  []zkclient.Op
		want error
		// exists is what must exist afterwards (under the chroot), missing
		// what must not.
		exists, missing []string
	}{
		{
			name:   "all applied",
			ops:    []zkclient.Op{zkclient.CheckOp("/fence", -1), zkclient.CreateOp("/a", []byte("1"), open), zkclient.CreateOp("/b", nil, open)},
			exists: []string{"/a", "/b"},
		},
		{
			name:    "a failed check applies nothing",
			ops:     []zkclient.Op{zkclient.CheckOp("/gone", -1), zkclient.CreateOp("/c", nil, open)},
			want:    zk.ErrNoNode,
			missing: []string{"/c"},
		},
		{
			name:    "a failed create undoes the others",
			ops:     []zkclient.Op{zkclient.CheckOp("/fence", -1), zkclient.DeleteOp("/b", -1), zkclient.CreateOp("/a", nil, open)},
			want:    zk.ErrNodeExists,
			exists:  []string{"/a", "/b"},
			missing: []string{},
		},
		{
			name:    "set and delete",
			ops:     []zkclient.Op{zkclient.CheckOp("/fence", -1), zkclient.SetOp("/a", []byte("2"), -1), zkclient.DeleteOp("/b", -1)},
			exists:  []string{"/a"},
			missing: []string{"/b"},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if err := c.Multi(tc.ops...); !errors.Is(err, tc.want) || (tc.want == nil) != (err == nil) {
				t.Fatalf("Multi = %v, want %v", err, tc.want)
			}
			for _, p := range tc.exists {
				if ok, _, err := root.Exists("/chroot" + p); err != nil || !ok {
					t.Errorf("%s: exists %v, %v; want it", p, ok, err)
				}
			}
			for _, p := range tc.missing {
				if ok, _, err := root.Exists("/chroot" + p); err != nil || ok {
					t.Errorf("%s: exists %v, %v; want it gone", p, ok, err)
				}
			}
		})
	}
	if data, _, err := root.Get("/chroot/a"); err != nil || string(data) != "2" {
		t.Errorf("/chroot/a holds %q, %v; want 2", data, err)
	}
}
