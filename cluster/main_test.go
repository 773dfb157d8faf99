package cluster

import (
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/signal"
	"path/filepath"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/go-kit/log"
	"go.uber.org/goleak"

	"github.com/zk-monitor/zk_monitor/internal/testenv"
	"github.com/zk-monitor/zk_monitor/zkclient"
)

// helperEnv makes the test binary run one agent as a separate process
// instead of the tests (see runHelperAgent).
const helperEnv = "ZK_MONITOR_CLUSTER_TEST_AGENT"

func TestMain(m *testing.M) {
	if os.Getenv(helperEnv) != "" {
		os.Exit(runHelperAgent())
	}
	goleak.VerifyTestMain(m)
}

// helperConfig is passed to the helper process as JSON in helperEnv.
type helperConfig struct {
	Connect        string        `json:"connect"`
	Agent          string        `json:"agent"`
	Cluster        string        `json:"cluster"`
	SessionTimeout time.Duration `json:"session_timeout"`
	AddrFile       string        `json:"addr_file"`
}

// helperStatus is what the helper process serves on /status.
type helperStatus struct {
	Status
	Session   int64   `json:"session"`
	Connected bool    `json:"connected"`
	Terms     []int64 `json:"terms"` // the session of every onLead call
}

// runHelperAgent is a minimal zk_monitor agent: a client, a Cluster, and
// an HTTP /status, until SIGTERM or SIGINT. It writes its HTTP address to
// AddrFile once it serves.
func runHelperAgent() int {
	var cfg helperConfig
	if err := json.Unmarshal([]byte(os.Getenv(helperEnv)), &cfg); err != nil {
		fmt.Fprintln(os.Stderr, "helper config:", err)
		return 2
	}
	logger := log.With(log.NewLogfmtLogger(log.NewSyncWriter(os.Stderr)), "ts", log.DefaultTimestampUTC)
	client, err := zkclient.New(zkclient.Options{ConnectString: cfg.Connect, SessionTimeout: cfg.SessionTimeout, Logger: logger})
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer client.Close()
	c, err := New(client, Options{Name: cfg.Cluster, AgentName: cfg.Agent, SessionTimeout: cfg.SessionTimeout, Logger: logger})
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	var mu sync.Mutex
	var terms []int64
	onLead := func(ctx context.Context) {
		mu.Lock()
		terms = append(terms, client.SessionID())
		mu.Unlock()
		<-ctx.Done()
	}
	mux := http.NewServeMux()
	mux.HandleFunc("/status", func(w http.ResponseWriter, _ *http.Request) {
		mu.Lock()
		st := helperStatus{Status: c.Status(), Session: client.SessionID(), Connected: client.Connected(), Terms: append([]int64{}, terms...)}
		mu.Unlock()
		_ = json.NewEncoder(w).Encode(st)
	})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second}
	go func() { _ = srv.Serve(ln) }()
	defer srv.Close()
	tmp := cfg.AddrFile + ".tmp"
	if err := os.WriteFile(tmp, []byte(ln.Addr().String()), 0o644); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	if err := os.Rename(tmp, cfg.AddrFile); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, syscall.SIGINT)
	defer stop()
	if err := c.Run(ctx, onLead); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	return 0
}

// agentProcess is a helper agent running as a child process (the test
// binary, told so by helperEnv).
type agentProcess struct {
	*testenv.Process
	name string
	addr string
	// http samples /status: a short timeout, so that a stopped process
	// reads as not answering at once. It asserts nothing itself; the
	// waits around it are testenv.Eventually's.
	http *http.Client
}

// startAgentProcess runs the test binary as a helper agent and waits until
// it serves /status.
func startAgentProcess(t *testing.T, cfg helperConfig) *agentProcess {
	t.Helper()
	cfg.AddrFile = filepath.Join(t.TempDir(), "addr")
	raw, err := json.Marshal(cfg)
	if err != nil {
		t.Fatal(err)
	}
	p := &agentProcess{
		Process: testenv.StartProcess(t, testenv.Command{
			Name: cfg.Agent,
			Path: os.Args[0],
			Args: []string{"-test.run=^$"},
			Env:  []string{helperEnv + "=" + string(raw)},
		}),
		name: cfg.Agent,
		http: &http.Client{Timeout: 100 * time.Millisecond, Transport: &http.Transport{DisableKeepAlives: true}},
	}
	testenv.Eventually(t, 30*time.Second, 2*time.Millisecond, func() bool {
		b, err := os.ReadFile(cfg.AddrFile)
		if err != nil {
			return false
		}
		p.addr = string(b)
		return true
	}, "helper agent %s serving", cfg.Agent)
	return p
}

// status fetches /status; ok is false when the process did not answer in
// time (stopped, dead).
func (p *agentProcess) status() (helperStatus, bool) {
	var st helperStatus
	resp, err := p.http.Get("http://" + p.addr + "/status")
	if err != nil {
		return st, false
	}
	defer resp.Body.Close()
	if err := json.NewDecoder(resp.Body).Decode(&st); err != nil {
		return st, false
	}
	return st, true
}
