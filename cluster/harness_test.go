package cluster

import (
	"context"
	"fmt"
	"regexp"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/go-kit/log"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/zk-monitor/zk_monitor/internal/testenv"
	"github.com/zk-monitor/zk_monitor/zkclient"
)

// termRecord is one call of onLead as the test saw it.
type termRecord struct {
	session    int64 // the client's session when onLead was called
	start, end time.Time
	cause      error // why its context ended
}

// agent is one in-process zk_monitor agent: a client, a Cluster and its Run.
type agent struct {
	t       testing.TB
	name    string
	client  *zkclient.Client
	cluster *Cluster
	reg     *prometheus.Registry
	cancel  context.CancelFunc
	done    chan struct{} // Run returned
	stopped sync.Once

	mu    sync.Mutex
	terms []termRecord
}

type agentConfig struct {
	connect        string
	name           string
	prefix         string
	cluster        string
	sessionTimeout time.Duration
	user, password string
}

// startAgent connects a client and runs a Cluster until the test ends or
// stop is called.
func startAgent(t testing.TB, cfg agentConfig) *agent {
	t.Helper()
	logger := log.With(testenv.Logger(t), "test_agent", cfg.name)
	reg := prometheus.NewRegistry()
	client, err := zkclient.New(zkclient.Options{
		ConnectString:  cfg.connect,
		SessionTimeout: cfg.sessionTimeout,
		Username:       cfg.user,
		Password:       cfg.password,
		Logger:         logger,
		Registerer:     reg,
	})
	if err != nil {
		t.Fatalf("zkclient.New: %v", err)
	}
	c, err := New(client, Options{
		Prefix:         cfg.prefix,
		Name:           cfg.cluster,
		AgentName:      cfg.name,
		WebURL:         "http://127.0.0.1:0/" + cfg.name,
		Version:        "test",
		Username:       cfg.user,
		Password:       cfg.password,
		SessionTimeout: cfg.sessionTimeout,
		Logger:         logger,
		Registerer:     reg,
	})
	if err != nil {
		client.Close()
		t.Fatalf("cluster.New: %v", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	a := &agent{t: t, name: cfg.name, client: client, cluster: c, reg: reg, cancel: cancel, done: make(chan struct{})}
	go func() {
		defer close(a.done)
		if err := c.Run(ctx, a.onLead); err != nil {
			t.Errorf("agent %s: Run: %v", cfg.name, err)
		}
	}()
	t.Cleanup(a.stop)
	return a
}

func (a *agent) onLead(ctx context.Context) {
	a.mu.Lock()
	a.terms = append(a.terms, termRecord{session: a.client.SessionID(), start: time.Now()})
	i := len(a.terms) - 1
	a.mu.Unlock()
	<-ctx.Done()
	a.mu.Lock()
	a.terms[i].end = time.Now()
	a.terms[i].cause = context.Cause(ctx)
	a.mu.Unlock()
}

// stop shuts the agent down gracefully, then closes its client.
func (a *agent) stop() {
	a.stopped.Do(func() {
		a.cancel()
		<-a.done
		a.mu.Lock()
		for i, tr := range a.terms {
			if tr.end.IsZero() {
				a.t.Errorf("agent %s: Run returned while term %d's onLead was still running", a.name, i)
			}
		}
		a.mu.Unlock()
		a.client.Close()
	})
}

func (a *agent) termsCopy() []termRecord {
	a.mu.Lock()
	defer a.mu.Unlock()
	return append([]termRecord(nil), a.terms...)
}

// leaders returns the agents that currently claim leadership.
func leaders(agents []*agent) []*agent {
	var out []*agent
	for _, a := range agents {
		if a.cluster.IsLeader() {
			out = append(out, a)
		}
	}
	return out
}

// agreedLeader returns the single leader if exactly one agent leads, its
// onLead is running, and every agent's Status names it and lists want
// registered agents.
func agreedLeader(agents []*agent, want int) *agent {
	ls := leaders(agents)
	if len(ls) != 1 {
		return nil
	}
	terms := ls[0].termsCopy()
	if len(terms) == 0 || !terms[len(terms)-1].end.IsZero() {
		return nil
	}
	for _, a := range agents {
		st := a.cluster.Status()
		if st.Leader != ls[0].name || len(st.Agents) != want {
			return nil
		}
	}
	return ls[0]
}

// leaderChecker samples every agent's IsLeader every few milliseconds and
// fails the test if two ever claim leadership at the same time.
type leaderChecker struct {
	t       testing.TB
	sample  func() (int, string)
	stopCh  chan struct{}
	done    chan struct{}
	samples atomic.Int64
	mu      sync.Mutex
	bad     []string
	once    sync.Once
}

// checkNeverTwoLeaders starts a checker over the agents; it stops and
// reports at the latest when the test ends.
func checkNeverTwoLeaders(t testing.TB, agents func() []*agent) *leaderChecker {
	return startChecker(t, func() (int, string) {
		ls := leaders(agents())
		names := make([]string, len(ls))
		for i, a := range ls {
			names[i] = a.name
		}
		return len(ls), strings.Join(names, ",")
	})
}

func startChecker(t testing.TB, sample func() (int, string)) *leaderChecker {
	c := &leaderChecker{t: t, sample: sample, stopCh: make(chan struct{}), done: make(chan struct{})}
	go c.run()
	t.Cleanup(c.stop)
	return c
}

func (c *leaderChecker) run() {
	defer close(c.done)
	tick := time.NewTicker(2 * time.Millisecond)
	defer tick.Stop()
	for {
		select {
		case <-c.stopCh:
			return
		case <-tick.C:
		}
		n, who := c.sample()
		c.samples.Add(1)
		if n > 1 {
			c.mu.Lock()
			if len(c.bad) < 10 {
				c.bad = append(c.bad, fmt.Sprintf("%s: %d leaders (%s)", time.Now().Format("15:04:05.000"), n, who))
			}
			c.mu.Unlock()
		}
	}
}

// stop ends sampling and fails the test if two leaders were ever seen.
func (c *leaderChecker) stop() {
	c.once.Do(func() {
		close(c.stopCh)
		<-c.done
		c.mu.Lock()
		defer c.mu.Unlock()
		if len(c.bad) > 0 {
			c.t.Errorf("two agents claimed leadership at once: %s", strings.Join(c.bad, "; "))
		}
		c.t.Logf("leader checker: %d samples", c.samples.Load())
	})
}

var unsafeChars = regexp.MustCompile(`[^A-Za-z0-9_-]+`)

// clusterName derives a workspace name from the test's name so that
// subtests sharing a server do not see each other.
func clusterName(t testing.TB) string {
	return unsafeChars.ReplaceAllString(t.Name(), "_")
}
