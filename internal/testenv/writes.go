package testenv

import (
	"slices"
	"testing"
	"time"

	"github.com/go-zookeeper/zk"
)

// SetDataAll writes data into every one of paths, 500 to a multi
// transaction, and returns the mtime ZooKeeper stamped on each: tests of
// max_age need the instants the data was written, by ZooKeeper's clock.
func SetDataAll(tb testing.TB, conn *zk.Conn, paths []string, data []byte) map[string]time.Time {
	tb.Helper()
	mtimes := make(map[string]time.Time, len(paths))
	for chunk := range slices.Chunk(paths, 500) {
		ops := make([]any, 0, len(chunk))
		for _, p := range chunk {
			ops = append(ops, &zk.SetDataRequest{Path: p, Data: data, Version: -1})
		}
		res, err := conn.Multi(ops...)
		if err != nil {
			tb.Fatalf("writing %s..: %v", chunk[0], err)
		}
		for i, r := range res {
			mtimes[chunk[i]] = time.UnixMilli(r.Stat.Mtime)
		}
	}
	return mtimes
}
