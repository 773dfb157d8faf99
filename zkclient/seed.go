package zkclient

import (
	"context"
	"fmt"
	"time"

	"github.com/zk-monitor/zk_monitor/config"
)

// Seed connects with opts, creates each path with its missing parents or,
// with remove, deletes each path and everything below it, and closes the
// connection: the demo and the README's examples need no other client.
func Seed(opts Options, paths []string, remove bool) error {
	client, err := New(opts)
	if err != nil {
		return err
	}
	defer client.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	if err := client.WaitConnected(ctx); err != nil {
		return err
	}
	acl := DigestACL(opts.Username, opts.Password)
	for _, p := range paths {
		if err := config.ValidateZnodePath(p); err != nil {
			return fmt.Errorf("%s: %w", p, err)
		}
		if remove {
			err = client.DeleteRecursive(p)
		} else {
			err = client.EnsurePath(p, acl)
		}
		if err != nil {
			return fmt.Errorf("%s: %w", p, err)
		}
	}
	return nil
}
