package testenv

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/go-zookeeper/zk"

	"github.com/zk-monitor/zk_monitor/zkclient"
)

// clientWait bounds how long a test client waits for its first session;
// it is stretched by the scale knob.
const clientWait = 15 * time.Second

// ZKClient connects a zkclient with opts (SessionTimeout defaults to 10 s)
// and waits for its session; it is closed when the test ends.
func ZKClient(tb testing.TB, opts zkclient.Options) *zkclient.Client {
	tb.Helper()
	c := ZKClientNoCleanup(tb, opts)
	tb.Cleanup(c.Close)
	return c
}

// ZKClientNoCleanup is ZKClient for callers that close the client
// themselves, before the test ends.
func ZKClientNoCleanup(tb testing.TB, opts zkclient.Options) *zkclient.Client {
	tb.Helper()
	if opts.SessionTimeout == 0 {
		opts.SessionTimeout = 10 * time.Second
	}
	c, err := zkclient.New(opts)
	if err != nil {
		tb.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), Scaled(clientWait))
	defer cancel()
	if err := c.WaitConnected(ctx); err != nil {
		c.Close()
		tb.Fatal(err)
	}
	return c
}

// QuietZKLogger drops go-zookeeper's log lines.
type QuietZKLogger struct{}

// Printf does nothing.
func (QuietZKLogger) Printf(string, ...any) {}

// RawZK connects a plain go-zookeeper client, for baselines that must not
// go through zk_monitor's code and for writing to ZooKeeper the way other
// clients do, and waits for its session. It is closed when the test ends.
func RawZK(tb testing.TB, addr string, sessionTimeout time.Duration) *zk.Conn {
	tb.Helper()
	conn, events, err := zk.Connect([]string{addr}, sessionTimeout, zk.WithLogger(QuietZKLogger{}))
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(conn.Close)
	deadline := time.After(Scaled(clientWait))
	for {
		select {
		case ev := <-events:
			if ev.State == zk.StateHasSession {
				go func() {
					for range events {
					}
				}()
				return conn
			}
		case <-deadline:
			tb.Fatalf("no ZooKeeper session with %s", addr)
		}
	}
}

// SyncBuffer is a goroutine-safe log sink for in-process daemons.
type SyncBuffer struct {
	mu  sync.Mutex
	buf strings.Builder
}

func (b *SyncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *SyncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// WriteFile writes content to a file called name in a new temporary
// directory of the test and returns its path.
func WriteFile(tb testing.TB, name, content string) string {
	tb.Helper()
	p := filepath.Join(tb.TempDir(), name)
	if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
		tb.Fatal(err)
	}
	return p
}

// CreateNodes creates paths (whose parents must exist or come earlier in
// the list) on conn in multi transactions of 500 nodes sent by 4
// goroutines: 100,000 nodes take seconds, not minutes.
func CreateNodes(tb testing.TB, conn *zk.Conn, paths []string) {
	tb.Helper()
	const batch = 500
	starts := make(chan int)
	errc := make(chan error, 4)
	var wg sync.WaitGroup
	for range 4 {
		wg.Go(func() {
			for start := range starts {
				ops := make([]any, 0, batch)
				for _, p := range paths[start:min(start+batch, len(paths))] {
					ops = append(ops, &zk.CreateRequest{Path: p, Acl: zk.WorldACL(zk.PermAll)})
				}
				if _, err := conn.Multi(ops...); err != nil {
					errc <- fmt.Errorf("creating %s..: %w", paths[start], err)
					return
				}
			}
		})
	}
	var err error
feed:
	for start := 0; start < len(paths); start += batch {
		select {
		case starts <- start:
		case err = <-errc:
			break feed
		}
	}
	close(starts)
	wg.Wait()
	if err == nil {
		select {
		case err = <-errc:
		default:
		}
	}
	if err != nil {
		tb.Fatal(err)
	}
}
