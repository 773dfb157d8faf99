package testenv

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/smtp"
	"os"
	"os/exec"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/go-zookeeper/zk"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

// zkLogger sends go-zookeeper's log lines to t.Logf until the test's cleanup.
type zkLogger struct {
	mu   sync.Mutex
	t    testing.TB
	done bool
}

func newZKLogger(t testing.TB) *zkLogger {
	l := &zkLogger{t: t}
	t.Cleanup(func() {
		l.mu.Lock()
		l.done = true
		l.mu.Unlock()
	})
	return l
}

func (l *zkLogger) Printf(format string, args ...any) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if !l.done {
		l.t.Logf("zk: "+format, args...)
	}
}

// zkEvents records the session events seen by a go-zookeeper connection.
type zkEvents struct {
	mu     sync.Mutex
	states []zk.State
}

func (e *zkEvents) callback(ev zk.Event) {
	if ev.Type != zk.EventSession {
		return
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	e.states = append(e.states, ev.State)
}

// mark returns the number of events so far, to wait for later ones.
func (e *zkEvents) mark() int {
	e.mu.Lock()
	defer e.mu.Unlock()
	return len(e.states)
}

// waitFor waits until state is seen at index >= from; it returns the index after it.
func (e *zkEvents) waitFor(t *testing.T, from int, state zk.State, timeout time.Duration) int {
	t.Helper()
	next := -1
	Eventually(t, timeout, 20*time.Millisecond, func() bool {
		e.mu.Lock()
		defer e.mu.Unlock()
		for i := from; i < len(e.states); i++ {
			if e.states[i] == state {
				next = i + 1
				return true
			}
		}
		return false
	}, "session state %v after event #%d; events: %v", state, from, e.snapshot())
	return next
}

func (e *zkEvents) snapshot() []zk.State {
	e.mu.Lock()
	defer e.mu.Unlock()
	return append([]zk.State(nil), e.states...)
}

// connectZK opens a go-zookeeper client and waits for its session.
func connectZK(t *testing.T, servers []string, sessionTimeout time.Duration) (*zk.Conn, *zkEvents) {
	t.Helper()
	ev := &zkEvents{}
	conn, _, err := zk.Connect(servers, sessionTimeout,
		zk.WithLogger(newZKLogger(t)), zk.WithEventCallback(ev.callback))
	if err != nil {
		t.Fatalf("zk.Connect(%v): %v", servers, err)
	}
	t.Cleanup(conn.Close)
	ev.waitFor(t, 0, zk.StateHasSession, 30*time.Second)
	return conn, ev
}

func TestParseMode(t *testing.T) {
	tests := []struct {
		name, srvr, want string
		wantErr          bool
	}{
		{name: "standalone", srvr: "Zookeeper version: 3.8.0\nLatency min/avg/max: 0/0.0/0\nMode: standalone\nNode count: 5\n", want: "standalone"},
		{name: "leader", srvr: "Zxid: 0x100000000\nMode: leader\n", want: "leader"},
		{name: "not serving", srvr: ZKNotServing + "\n", want: ""},
		{name: "garbage", srvr: "hello", wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := parseMode(tt.srvr)
			if (err != nil) != tt.wantErr || got != tt.want {
				t.Fatalf("parseMode = %q, %v; want %q, error %v", got, err, tt.want, tt.wantErr)
			}
		})
	}
}

func TestParseEpoch(t *testing.T) {
	tests := []struct {
		name, srvr string
		want       int64
		wantErr    bool
	}{
		{name: "second epoch", srvr: "Latency min/avg/max: 0/0.0/0\nZxid: 0x20000001e\nMode: follower\n", want: 2},
		{name: "first transaction", srvr: "Zxid: 0x100000000\nMode: leader\n", want: 1},
		{name: "not serving", srvr: ZKNotServing + "\n", wantErr: true},
		{name: "bad zxid", srvr: "Zxid: 0xzz\n", wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := parseEpoch(tt.srvr)
			if (err != nil) != tt.wantErr || got != tt.want {
				t.Fatalf("parseEpoch = %d, %v; want %d, error %v", got, err, tt.want, tt.wantErr)
			}
		})
	}
}

func TestFreePortDistinct(t *testing.T) {
	seen := map[int]bool{}
	for range 50 {
		p := FreePort(t)
		if seen[p] {
			t.Fatalf("FreePort returned %d twice", p)
		}
		seen[p] = true
		l, err := net.Listen("tcp", fmt.Sprintf("127.0.0.1:%d", p))
		if err != nil {
			t.Fatalf("port %d from FreePort not bindable: %v", p, err)
		}
		l.Close()
	}
}

func TestZooKeeperStandalone(t *testing.T) {
	z := StartZooKeeper(t)

	for _, tt := range []struct{ cmd, want string }{{"ruok", "imok"}, {"srvr", "Mode: standalone"}} {
		out, err := FourLetterWord(z.Addr(), tt.cmd, 2*time.Second)
		if err != nil || !strings.Contains(out, tt.want) {
			t.Fatalf("%s = %q, %v; want %q", tt.cmd, out, err, tt.want)
		}
	}

	conn, _ := connectZK(t, []string{z.Addr()}, 2*time.Second)
	if _, err := conn.Create("/testenv", []byte("kept"), 0, zk.WorldACL(zk.PermAll)); err != nil {
		t.Fatalf("create: %v", err)
	}

	restarts := []struct {
		name string
		down func()
	}{
		{"stop", z.Stop},
		{"kill", z.Kill},
	}
	for _, r := range restarts {
		t.Run(r.name, func(t *testing.T) {
			addr, pid := z.Addr(), z.Pid()
			r.down()
			if z.Running() {
				t.Fatal("server still running")
			}
			if _, err := FourLetterWord(addr, "ruok", time.Second); err == nil {
				t.Fatal("ruok answered by a stopped server")
			}
			z.Stop() // idempotent
			z.Start()
			if z.Addr() != addr || z.Pid() == pid {
				t.Fatalf("after restart addr %s pid %d; before %s pid %d", z.Addr(), z.Pid(), addr, pid)
			}
			c, _ := connectZK(t, []string{z.Addr()}, 2*time.Second)
			data, _, err := c.Get("/testenv")
			if err != nil || string(data) != "kept" {
				t.Fatalf("get /testenv after restart = %q, %v; want kept", data, err)
			}
		})
	}
}

func TestEnsemble(t *testing.T) {
	e := StartEnsemble(t, 3)
	if n := len(e.Servers()); n != 3 {
		t.Fatalf("%d servers", n)
	}
	if got := strings.Count(e.ConnectString(), ","); got != 2 {
		t.Fatalf("ConnectString %q", e.ConnectString())
	}
	leader := e.Leader()
	if leader < 0 {
		t.Fatalf("no leader; modes %q", e.Modes())
	}
	conn, _ := connectZK(t, e.Addrs(), 4*time.Second)
	if _, err := conn.Create("/ensemble", []byte("x"), 0, zk.WorldACL(zk.PermAll)); err != nil {
		t.Fatalf("create: %v", err)
	}

	var followers []int
	for i := range e.Servers() {
		if i != leader {
			followers = append(followers, i)
		}
	}
	first, second := e.Servers()[followers[0]], e.Servers()[followers[1]]

	t.Run("survives a stopped follower", func(t *testing.T) {
		first.Stop()
		if err := e.WaitServing(30 * time.Second); err != nil {
			t.Fatal(err)
		}
		if err := e.WaitAllServing(500 * time.Millisecond); err == nil {
			t.Fatalf("WaitAllServing with a member down succeeded; modes %q", e.Modes())
		}
		if _, _, err := conn.Get("/ensemble"); err != nil {
			t.Fatalf("get with one follower down: %v", err)
		}
	})
	t.Run("stops serving without quorum", func(t *testing.T) {
		second.Stop()
		last := e.Servers()[leader]
		Eventually(t, 30*time.Second, 100*time.Millisecond, func() bool {
			out, err := FourLetterWord(last.Addr(), "srvr", time.Second)
			return err == nil && strings.Contains(out, ZKNotServing)
		}, "lone server still serving")
		if out, err := FourLetterWord(last.Addr(), "ruok", time.Second); err != nil || out != "imok" {
			t.Fatalf("ruok without quorum = %q, %v", out, err)
		}
		if err := e.WaitServing(500 * time.Millisecond); !errors.Is(err, ErrNoQuorum) {
			t.Fatalf("WaitServing without quorum = %v, want ErrNoQuorum", err)
		}
		if l := e.Leader(); l != -1 {
			t.Fatalf("Leader() = %d without quorum", l)
		}
	})
	t.Run("serves again after restart", func(t *testing.T) {
		second.Start()
		if err := e.WaitServing(30 * time.Second); err != nil {
			t.Fatal(err)
		}
		if e.Leader() < 0 {
			t.Fatalf("no leader; modes %q", e.Modes())
		}
		c, _ := connectZK(t, e.Addrs(), 4*time.Second)
		if _, _, err := c.Get("/ensemble"); err != nil {
			t.Fatalf("get after quorum is back: %v", err)
		}
	})
	t.Run("all serve after the last restart", func(t *testing.T) {
		first.Start()
		if err := e.WaitAllServing(Scaled(30 * time.Second)); err != nil {
			t.Fatal(err)
		}
		if modes := e.Modes(); slices.Contains(modes, "") || slices.Contains(modes, "down") {
			t.Fatalf("modes %q after WaitAllServing", modes)
		}
	})
}

// TestEnsemblePartition cuts a follower off from its peers: it stops
// serving once it gave up on its leader (SyncLimit ticks), the others serve
// on, and it rejoins when healed.
func TestEnsemblePartition(t *testing.T) {
	SkipIfShort(t, "needs a real ZooKeeper ensemble")
	const tick, syncLimit = 200 * time.Millisecond, 5
	e := StartEnsembleWith(t, 3, EnsembleOptions{TickTime: tick, SyncLimit: syncLimit, PeerProxies: true})
	cut := (e.Leader() + 1) % 3
	conn, _ := connectZK(t, e.Addrs(), 4*time.Second)
	if _, err := conn.Create("/partition", nil, 0, zk.WorldACL(zk.PermAll)); err != nil {
		t.Fatalf("create: %v", err)
	}
	notServing := func() bool {
		out, err := FourLetterWord(e.Servers()[cut].Addr(), "srvr", time.Second)
		return err == nil && strings.Contains(out, ZKNotServing)
	}
	if notServing() {
		t.Fatalf("server %d not serving before the partition", cut+1)
	}
	start := time.Now()
	e.Partition(cut)
	Eventually(t, 30*time.Second, 20*time.Millisecond, notServing, "server %d still serving after the partition", cut+1)
	if took := time.Since(start); took < syncLimit*tick/2 {
		t.Errorf("server %d stopped serving after %v: the partition cannot have been noticed yet", cut+1, took)
	}
	if err := e.WaitServing(10 * time.Second); err != nil {
		t.Fatalf("the other two: %v", err)
	}
	e.Heal(cut)
	Eventually(t, 60*time.Second, 100*time.Millisecond, func() bool {
		m, err := e.Servers()[cut].Mode()
		return err == nil && m == "follower"
	}, "server %d did not rejoin as a follower; modes %q", cut+1, e.Modes())
	c, _ := connectZK(t, []string{e.Servers()[cut].Addr()}, 4*time.Second)
	if _, _, err := c.Get("/partition"); err != nil {
		t.Fatalf("get from the healed server: %v", err)
	}
}

// startEcho runs a TCP echo server on loopback for the proxy tests.
func startEcho(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	var mu sync.Mutex
	conns := map[net.Conn]bool{}
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			mu.Lock()
			conns[c] = true
			mu.Unlock()
			wg.Add(1)
			go func() {
				defer wg.Done()
				_, _ = io.Copy(c, c)
				c.Close()
			}()
		}
	}()
	t.Cleanup(func() {
		ln.Close()
		mu.Lock()
		for c := range conns {
			c.Close()
		}
		mu.Unlock()
		wg.Wait()
	})
	return ln.Addr().String()
}

func echoOnce(c net.Conn, msg string, timeout time.Duration) (string, error) {
	_ = c.SetDeadline(time.Now().Add(Scaled(timeout)))
	if _, err := io.WriteString(c, msg); err != nil {
		return "", err
	}
	buf := make([]byte, len(msg))
	_, err := io.ReadFull(c, buf)
	return string(buf), err
}

func TestProxyEcho(t *testing.T) {
	p := NewProxy(t, startEcho(t))
	c, err := net.Dial("tcp", p.Addr())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if got, err := echoOnce(c, "hello", 2*time.Second); err != nil || got != "hello" {
		t.Fatalf("echo through proxy = %q, %v", got, err)
	}

	t.Run("blackhole holds bytes", func(t *testing.T) {
		p.Blackhole()
		if _, err := echoOnce(c, "held", 300*time.Millisecond); !isTimeout(err) {
			t.Fatalf("echo while blackholed = %v, want a timeout", err)
		}
		p.Restore()
		buf := make([]byte, 4)
		_ = c.SetDeadline(time.Now().Add(Scaled(2 * time.Second)))
		if _, err := io.ReadFull(c, buf); err != nil || string(buf) != "held" {
			t.Fatalf("held bytes after restore = %q, %v", buf, err)
		}
	})
	t.Run("cut closes and refuses", func(t *testing.T) {
		p.Cut()
		_ = c.SetDeadline(time.Now().Add(Scaled(2 * time.Second)))
		if _, err := c.Read(make([]byte, 1)); err == nil {
			t.Fatal("read after Cut succeeded")
		}
		c2, err := net.Dial("tcp", p.Addr())
		if err != nil {
			t.Fatal(err)
		}
		defer c2.Close()
		if _, err := echoOnce(c2, "x", 2*time.Second); err == nil {
			t.Fatal("new connection forwarded while cut")
		}
		p.Restore()
		c3, err := net.Dial("tcp", p.Addr())
		if err != nil {
			t.Fatal(err)
		}
		defer c3.Close()
		if got, err := echoOnce(c3, "back", 2*time.Second); err != nil || got != "back" {
			t.Fatalf("echo after restore = %q, %v", got, err)
		}
	})
	t.Run("set target", func(t *testing.T) {
		other := startEcho(t)
		p.SetTarget(other)
		c4, err := net.Dial("tcp", p.Addr())
		if err != nil {
			t.Fatal(err)
		}
		defer c4.Close()
		if got, err := echoOnce(c4, "other", 2*time.Second); err != nil || got != "other" {
			t.Fatalf("echo via new target = %q, %v", got, err)
		}
	})
}

func isTimeout(err error) bool {
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}

func TestProxyZooKeeper(t *testing.T) {
	z := StartZooKeeper(t)

	t.Run("cut then restore keeps the session", func(t *testing.T) {
		p := NewProxy(t, z.Addr())
		conn, ev := connectZK(t, []string{p.Addr()}, 6*time.Second)
		sid := conn.SessionID()
		mark := ev.mark()
		p.Cut()
		mark = ev.waitFor(t, mark, zk.StateDisconnected, 20*time.Second)
		p.Restore()
		ev.waitFor(t, mark, zk.StateHasSession, 20*time.Second)
		if conn.SessionID() != sid {
			t.Fatalf("session %x replaced by %x", sid, conn.SessionID())
		}
		if _, _, err := conn.Exists("/"); err != nil {
			t.Fatalf("exists after restore: %v", err)
		}
	})
	t.Run("blackhole expires the session", func(t *testing.T) {
		p := NewProxy(t, z.Addr())
		conn, ev := connectZK(t, []string{p.Addr()}, time.Second)
		sid := fmt.Sprintf("sid=0x%x", conn.SessionID())
		if out, err := FourLetterWord(z.Addr(), "cons", time.Second); err != nil || !strings.Contains(out, sid) {
			t.Fatalf("cons = %q, %v; want %s", out, err, sid)
		}
		mark := ev.mark()
		p.Blackhole()
		mark = ev.waitFor(t, mark, zk.StateDisconnected, 20*time.Second)
		// The server drops the connection when it expires the session.
		Eventually(t, 30*time.Second, 50*time.Millisecond, func() bool {
			out, err := FourLetterWord(z.Addr(), "cons", time.Second)
			return err == nil && !strings.Contains(out, sid)
		}, "server still has %s", sid)
		if st := conn.State(); st == zk.StateHasSession {
			t.Fatalf("client has a session during the partition")
		}
		p.Restore()
		mark = ev.waitFor(t, mark, zk.StateExpired, 30*time.Second)
		ev.waitFor(t, mark, zk.StateHasSession, 30*time.Second)
	})
}

func TestSMTPSink(t *testing.T) {
	s := StartSMTPSink(t)
	c, err := smtp.Dial(s.Addr())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if err := c.Hello("tester"); err != nil {
		t.Fatal(err)
	}
	for _, ext := range []string{"STARTTLS", "AUTH"} {
		if ok, _ := c.Extension(ext); ok {
			t.Errorf("sink advertises %s", ext)
		}
	}
	steps := []struct {
		name string
		run  func() error
	}{
		{"noop", c.Noop},
		{"mail", func() error { return c.Mail("from@example.org") }},
		{"rset", c.Reset},
		{"mail again", func() error { return c.Mail("from@example.org") }},
		{"rcpt a", func() error { return c.Rcpt("a@example.org") }},
		{"rcpt b", func() error { return c.Rcpt("b@example.org") }},
		{"data", func() error {
			w, err := c.Data()
			if err != nil {
				return err
			}
			if _, err := io.WriteString(w, "Subject: hi\r\n\r\nline one\r\n.dotted\r\n"); err != nil {
				return err
			}
			return w.Close()
		}},
		{"quit", c.Quit},
	}
	for _, st := range steps {
		if err := st.run(); err != nil {
			t.Fatalf("%s: %v", st.name, err)
		}
	}
	msgs := s.Messages()
	if len(msgs) != 1 {
		t.Fatalf("%d messages, want 1", len(msgs))
	}
	m := msgs[0]
	want := Mail{From: "from@example.org", To: []string{"a@example.org", "b@example.org"}, Data: "Subject: hi\r\n\r\nline one\r\n.dotted\r\n"}
	if m.From != want.From || strings.Join(m.To, ",") != strings.Join(want.To, ",") || m.Data != want.Data {
		t.Fatalf("message = %+v, want %+v", m, want)
	}
}

func TestHTTPRecorder(t *testing.T) {
	r := StartHTTPRecorder(t)
	client := &http.Client{Transport: &http.Transport{DisableKeepAlives: true}}
	for _, tt := range []struct {
		status int
		body   string
	}{{0, "first"}, {http.StatusInternalServerError, "second"}} {
		if tt.status != 0 {
			r.SetStatus(tt.status)
		}
		resp, err := client.Post(r.URL()+"/hook?x=1", "application/json", strings.NewReader(tt.body))
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		want := tt.status
		if want == 0 {
			want = http.StatusOK
		}
		if resp.StatusCode != want {
			t.Fatalf("status %d, want %d", resp.StatusCode, want)
		}
	}
	reqs := r.Requests()
	if len(reqs) != 2 || reqs[1].Method != http.MethodPost || reqs[1].Path != "/hook" ||
		reqs[1].RawQuery != "x=1" || string(reqs[1].Body) != "second" ||
		reqs[1].Header.Get("Content-Type") != "application/json" {
		t.Fatalf("requests = %+v", reqs)
	}
}

const amNullConfig = `
route:
  receiver: "null"
  group_wait: 100ms
  group_interval: 200ms
  repeat_interval: 1h
receivers:
- name: "null"
`

func TestAlertmanagerAlerts(t *testing.T) {
	a := StartAlertmanager(t, amNullConfig)
	ctx, cancel := context.WithTimeout(context.Background(), Scaled(30*time.Second))
	defer cancel()

	post := func(t *testing.T, name string) {
		t.Helper()
		err := a.PostAlerts(ctx, AMPostableAlert{
			Labels:      map[string]string{"alertname": name, "severity": "page"},
			Annotations: map[string]string{"summary": "testenv"},
		})
		if err != nil {
			t.Fatalf("post: %v", err)
		}
	}
	find := func(t *testing.T, name string) {
		t.Helper()
		var got []AMAlert
		Eventually(t, 10*time.Second, 50*time.Millisecond, func() bool {
			var err error
			got, err = a.Alerts(ctx)
			if err != nil {
				return false
			}
			for _, al := range got {
				if al.Labels["alertname"] == name && al.Status.State == "active" &&
					al.Annotations["summary"] == "testenv" && al.Fingerprint != "" && !al.StartsAt.IsZero() {
					return true
				}
			}
			return false
		}, "alert %s not listed as active; got %+v", name, got)
	}

	t.Run("post and list", func(t *testing.T) {
		if n, err := a.AlertsReceived(ctx); err != nil || n != 0 {
			t.Fatalf("received %v alerts (%v) before any was posted", n, err)
		}
		post(t, "TestenvFirst")
		find(t, "TestenvFirst")
		// A resolved alert is not listed, but it is counted.
		if err := a.PostAlerts(ctx, AMPostableAlert{Labels: map[string]string{"alertname": "TestenvResolved"},
			StartsAt: time.Now().Add(-time.Minute), EndsAt: time.Now().Add(-time.Second)}); err != nil {
			t.Fatalf("post: %v", err)
		}
		if n, err := a.AlertsReceived(ctx); err != nil || n != 2 {
			t.Fatalf("received %v alerts (%v), want 2", n, err)
		}
	})
	t.Run("restart on the same port", func(t *testing.T) {
		url, pid := a.URL(), a.Pid()
		a.Stop()
		if _, err := a.Alerts(ctx); err == nil {
			t.Fatal("alerts answered by a stopped alertmanager")
		}
		a.Start()
		if a.URL() != url || a.Pid() == pid {
			t.Fatalf("after restart %s pid %d; before %s pid %d", a.URL(), a.Pid(), url, pid)
		}
		post(t, "TestenvSecond")
		find(t, "TestenvSecond")
	})
	t.Run("reload", func(t *testing.T) {
		if err := a.Reload(ctx, "route: [not yaml for a route"); err == nil {
			t.Fatal("invalid config reloaded")
		}
		if err := a.Reload(ctx, amNullConfig); err != nil {
			t.Fatalf("reload: %v", err)
		}
	})
}

func TestAlertmanagerNotifies(t *testing.T) {
	tests := []struct {
		name string
		// receiver returns the receiver YAML and a check that reports whether
		// the notification for alertname arrived.
		receiver func(t *testing.T) (string, func(alertname string) bool)
	}{
		{
			name: "email to the SMTP sink",
			receiver: func(t *testing.T) (string, func(string) bool) {
				s := StartSMTPSink(t)
				yaml := fmt.Sprintf(`  email_configs:
  - to: ops@example.org
    from: alertmanager@example.org
    smarthost: %s
    require_tls: false
`, s.Addr())
				return yaml, func(alertname string) bool {
					for _, m := range s.Messages() {
						if m.From == "alertmanager@example.org" && len(m.To) == 1 && m.To[0] == "ops@example.org" &&
							strings.Contains(m.Data, alertname) {
							return true
						}
					}
					return false
				}
			},
		},
		{
			name: "webhook to the HTTP recorder",
			receiver: func(t *testing.T) (string, func(string) bool) {
				r := StartHTTPRecorder(t)
				yaml := fmt.Sprintf(`  webhook_configs:
  - url: %s/hook
`, r.URL())
				return yaml, func(alertname string) bool {
					for _, req := range r.Requests() {
						var msg struct {
							Alerts []struct {
								Labels map[string]string `json:"labels"`
							} `json:"alerts"`
						}
						if req.Method != http.MethodPost || req.Path != "/hook" ||
							json.Unmarshal(req.Body, &msg) != nil {
							continue
						}
						for _, al := range msg.Alerts {
							if al.Labels["alertname"] == alertname {
								return true
							}
						}
					}
					return false
				}
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			recv, arrived := tt.receiver(t)
			cfg := `
route:
  receiver: test
  group_wait: 100ms
  group_interval: 200ms
  repeat_interval: 1h
receivers:
- name: test
` + recv
			a := StartAlertmanager(t, cfg)
			ctx, cancel := context.WithTimeout(context.Background(), Scaled(30*time.Second))
			defer cancel()
			const name = "TestenvNotify"
			if err := a.PostAlerts(ctx, AMPostableAlert{Labels: map[string]string{"alertname": name}}); err != nil {
				t.Fatalf("post: %v", err)
			}
			Eventually(t, 20*time.Second, 50*time.Millisecond, func() bool { return arrived(name) },
				"no notification for %s", name)
		})
	}
}

// TestProcessLogTail checks that a failed start reports the process output.
func TestProcessLogTail(t *testing.T) {
	const sh = "/bin/sh"
	dir := t.TempDir()
	p := newProcess(t, "failing", dir+"/failing.log", sh, "-c", "echo boom-marker >&2; exit 3")
	if err := p.start(); err != nil {
		t.Fatal(err)
	}
	<-p.exited()
	if err := p.diedError(); !strings.Contains(err.Error(), "exit status 3") {
		t.Fatalf("diedError = %v", err)
	}
	if tail, err := tailFile(p.logPath, logTailLines); err != nil || !strings.Contains(tail, "boom-marker") {
		t.Fatalf("log tail = %q, %v", tail, err)
	}
	if p.running() {
		t.Fatal("exited process reported running")
	}
	// The whole process group is stopped, not only its leader.
	q := newProcess(t, "sleeper", dir+"/sleeper.log", sh, "-c", "sleep 60 & sleep 60; wait")
	if err := q.start(); err != nil {
		t.Fatal(err)
	}
	pgid := q.pid()
	if err := q.stop(5 * time.Second); err != nil {
		t.Fatal(err)
	}
	if q.running() {
		t.Fatal("stopped process reported running")
	}
	Eventually(t, 5*time.Second, 20*time.Millisecond, func() bool {
		return syscall.Kill(-pgid, 0) == syscall.ESRCH
	}, "process group %d still has members", pgid)
}

func TestParseScale(t *testing.T) {
	for _, tt := range []struct {
		in      string
		want    float64
		wantErr bool
	}{
		{in: "", want: 1},
		{in: "3", want: 3},
		{in: "1.5", want: 1.5},
		{in: "0.5", want: 1}, // never shortens a wait
		{in: "0", want: 1, wantErr: true},
		{in: "-2", want: 1, wantErr: true},
		{in: "NaN", want: 1, wantErr: true},
		{in: "+Inf", want: 1, wantErr: true},
		{in: "slow", want: 1, wantErr: true},
	} {
		got, err := parseScale(tt.in)
		if got != tt.want || (err != nil) != tt.wantErr {
			t.Errorf("parseScale(%q) = %v, %v; want %v, error %v", tt.in, got, err, tt.want, tt.wantErr)
		}
	}
}

// TestShortSkipsServers runs the server starters with -short set: each
// skips its test instead of needing Java or Alertmanager.
func TestShortSkipsServers(t *testing.T) {
	old := flag.Lookup("test.short").Value.String()
	if err := flag.Set("test.short", "true"); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = flag.Set("test.short", old) })
	for name, start := range map[string]func(t *testing.T){
		"StartZooKeeper":    func(t *testing.T) { StartZooKeeper(t) },
		"StartEnsemble":     func(t *testing.T) { StartEnsemble(t, 3) },
		"StartAlertmanager": func(t *testing.T) { StartAlertmanager(t, amNullConfig) },
		"RequireBinary":     func(t *testing.T) { RequireBinary(t, "promtool") },
	} {
		var skipped bool
		t.Run(name, func(t *testing.T) {
			defer func() { skipped = t.Skipped() }()
			start(t)
		})
		if !skipped {
			t.Errorf("%s did not skip under -short", name)
		}
	}
}

func TestProcess(t *testing.T) {
	p := StartProcess(t, Command{
		Name: "greeter",
		Path: "/bin/sh",
		Args: []string{"-c", `echo "hello $GREETING"; trap 'echo bye; exit 7' TERM; while :; do sleep 0.05; done`},
		Env:  []string{"GREETING=testenv"},
	})
	Eventually(t, 10*time.Second, 20*time.Millisecond, func() bool { return strings.Contains(p.Logs(), "hello testenv\n") },
		"no greeting in %s", p.LogPath())
	if p.Exited() {
		t.Fatal("exited before it was told to")
	}
	if err := p.Wait(100 * time.Millisecond); err == nil {
		t.Fatal("Wait on a running process returned no error")
	}
	p.Signal(syscall.SIGTERM)
	var exit *exec.ExitError
	if err := p.Wait(10 * time.Second); !errors.As(err, &exit) || exit.ExitCode() != 7 {
		t.Fatalf("Wait after SIGTERM = %v, want exit status 7", err)
	}
	if !p.Exited() || !strings.Contains(p.Logs(), "bye\n") {
		t.Fatalf("exited %v, log %q", p.Exited(), p.Logs())
	}
	p.Signal(syscall.SIGKILL) // an exited process is not signalled
}

func TestSampleValue(t *testing.T) {
	const page = `# HELP a_total A.
# TYPE a_total counter
a_total 3
b{path="/x",state="ok"} 1.5 1700000000000
b{path="/y",state="ok"} NaN
c
`
	for _, tt := range []struct {
		series string
		want   float64
		ok     bool
	}{
		{`a_total`, 3, true},
		{`b{path="/x",state="ok"}`, 1.5, true},
		{`b{path="/x"}`, 0, false},
		{`a`, 0, false},
		{`c`, 0, false},
		{`missing`, 0, false},
	} {
		if got, ok := SampleValue(page, tt.series); got != tt.want || ok != tt.ok {
			t.Errorf("SampleValue(%s) = %v, %v; want %v, %v", tt.series, got, ok, tt.want, tt.ok)
		}
	}
}

func TestLast(t *testing.T) {
	n, err := 1, errors.New("first")
	msg := fmt.Sprintf("%v %v", Last(&n), Last(&err))
	n, err = 2, errors.New("second")
	if msg != "1 first" {
		t.Fatalf("Sprintf at the time = %q", msg)
	}
	if got := fmt.Sprintf("%v %s", Last(&n), Last(&err)); got != "2 second" {
		t.Fatalf("Sprintf later = %q, want the values as they are then", got)
	}
}

func TestParseVmRSS(t *testing.T) {
	cases := []struct {
		name, status string
		want         uint64
		wantErr      bool
	}{
		{"kB", "Name:\tbench.test\nVmPeak:\t  100 kB\nVmRSS:\t   2048 kB\nThreads:\t4\n", 2048 * 1024, false},
		{"missing", "Name:\tx\n", 0, true},
		{"bad unit", "VmRSS:\t12 MB\n", 0, true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got, err := parseVmRSS(strings.NewReader(tc.status))
			if (err != nil) != tc.wantErr || got != tc.want {
				t.Fatalf("parseVmRSS = %d, %v; want %d, error %v", got, err, tc.want, tc.wantErr)
			}
		})
	}
	if rss, err := ProcessRSS(os.Getpid()); err != nil || rss == 0 {
		t.Fatalf("ProcessRSS(self) = %d, %v", rss, err)
	}
}

// TestStallRequests: stalled clients are counted as answered once the
// server begins to answer them, not before, and the server's writes to
// them block (its handlers finish only when they are closed).
func TestStallRequests(t *testing.T) {
	release := make(chan struct{})
	var finished sync.WaitGroup
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		defer finished.Done()
		<-release
		w.Write(make([]byte, 4<<20))
	}))
	srv.Listener = SmallSendBuffers(srv.Listener)
	srv.Start()
	defer srv.Close()
	finished.Add(5)
	s := StallRequests(t, srv.Listener.Addr().String(), "GET / HTTP/1.1\r\nHost: x\r\n\r\n", 5)
	time.Sleep(100 * time.Millisecond)
	if n := s.Answered(); n != 0 {
		t.Fatalf("%d requests answered before the server wrote anything", n)
	}
	close(release)
	answered := 0
	Eventually(t, 10*time.Second, 10*time.Millisecond, func() bool { answered = s.Answered(); return answered == 5 }, "%d of 5 answered", Last(&answered))
	done := make(chan struct{})
	go func() { finished.Wait(); close(done) }()
	select {
	case <-done:
		t.Fatal("the server wrote 4 MB to clients that never read")
	case <-time.After(100 * time.Millisecond):
	}
	s.Close()
	<-done
}

func TestWatchRSS(t *testing.T) {
	over := make(chan struct{})
	w := WatchRSS(os.Getpid(), 1, func() { close(over) })
	select {
	case <-over:
	case <-time.After(Scaled(10 * time.Second)):
		t.Fatal("over was not called for a limit of 1 byte")
	}
	peak, exceeded := w.Stop()
	if !exceeded || peak < 1<<20 {
		t.Fatalf("peak %d, exceeded %v", peak, exceeded)
	}
	if _, exceeded := WatchRSS(os.Getpid(), 0, nil).Stop(); exceeded {
		t.Fatal("no limit was exceeded")
	}
}
