package zkclient_test

import (
	"testing"
	"time"

	"github.com/zk-monitor/zk_monitor/internal/testenv"
	"github.com/zk-monitor/zk_monitor/zkclient"
)

// TestNegotiatedSessionTimeout: the server clamps the timeout asked for
// (testenv's ZooKeeper allows 400 ms to 60 s); the client reports what was
// granted, which bounds the cluster's leadership lease.
func TestNegotiatedSessionTimeout(t *testing.T) {
	zkServer := testenv.StartZooKeeper(t)
	for asked, granted := range map[time.Duration]time.Duration{
		2 * time.Second: 2 * time.Second,
		2 * time.Minute: time.Minute,
	} {
		c := testenv.ZKClient(t, zkclient.Options{ConnectString: zkServer.Addr(), SessionTimeout: asked})
		if got := c.NegotiatedSessionTimeout(); got != granted {
			t.Errorf("asked %s: granted %s, want %s", asked, got, granted)
		}
	}
}

func TestNewRejectsBadOptions(t *testing.T) {
	cases := map[string]zkclient.Options{
		"empty ZooKeeper connect string":                         {SessionTimeout: time.Second},
		"session timeout must be positive, got 0s":               {ConnectString: "localhost:2181"},
		"ZooKeeper digest auth needs both a user and a password": {ConnectString: "localhost:2181", SessionTimeout: time.Second, Username: "u"},
		"ZooKeeper user must not contain ':'":                    {ConnectString: "localhost:2181", SessionTimeout: time.Second, Username: "a:b", Password: "p"},
	}
	for want, opts := range cases {
		if _, err := zkclient.New(opts); err == nil || err.Error() != want {
			t.Errorf("New(%+v) = %v, want %q", opts, err, want)
		}
	}
}
