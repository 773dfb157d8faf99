// Package e2e runs the real zk_monitor binary as separate processes against
// real ZooKeeper and Alertmanager servers: the failures a process can
// suffer (kill -9, SIGSTOP) cannot be simulated in-process.
package e2e

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/zk-monitor/zk_monitor/internal/testenv"
)

var binary string

func TestMain(m *testing.M) {
	var (
		remove func()
		err    error
	)
	binary, remove, err = testenv.BuildZKMonitor("..", "-race")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	code := m.Run()
	remove()
	os.Exit(code)
}

// process is one zk_monitor agent.
type process struct {
	t    *testing.T
	Name string
	URL  string
	cmd  *exec.Cmd
	log  string
	done chan struct{}
}

// startAgent runs the binary with args plus a free port and a name.
func startAgent(t *testing.T, name string, args ...string) *process {
	t.Helper()
	port := testenv.FreePort(t)
	logPath := filepath.Join(t.TempDir(), name+".log")
	logFile, err := os.Create(logPath)
	if err != nil {
		t.Fatal(err)
	}
	args = append([]string{"--web.listen-address", "127.0.0.1:" + strconv.Itoa(port), "--agent.name", name, "--log.level", "debug"}, args...)
	cmd := exec.Command(binary, args...)
	cmd.Stdout, cmd.Stderr = logFile, logFile
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	p := &process{t: t, Name: name, URL: fmt.Sprintf("http://127.0.0.1:%d", port), cmd: cmd, log: logPath, done: make(chan struct{})}
	go func() { cmd.Wait(); logFile.Close(); close(p.done) }()
	t.Cleanup(func() {
		p.Signal(syscall.SIGCONT)
		p.Signal(syscall.SIGKILL)
		<-p.done
		if t.Failed() {
			b, _ := os.ReadFile(logPath)
			lines := strings.Split(string(b), "\n")
			if len(lines) > 60 {
				lines = lines[len(lines)-60:]
			}
			t.Logf("%s log tail:\n%s", name, strings.Join(lines, "\n"))
		}
	})
	testenv.Eventually(t, 20*time.Second, 50*time.Millisecond, func() bool {
		_, err := p.Status()
		return err == nil
	}, "agent %s never answered", name)
	return p
}

func (p *process) Signal(sig syscall.Signal) {
	if p.cmd.Process != nil {
		syscall.Kill(p.cmd.Process.Pid, sig)
	}
}

func (p *process) Exited() bool {
	select {
	case <-p.done:
		return true
	default:
		return false
	}
}

func (p *process) Logs() string {
	b, _ := os.ReadFile(p.log)
	return string(b)
}

// Status is the part of /status the tests read.
type Status struct {
	Monitor struct {
		Alerter struct {
			Alerting bool `json:"alerting"`
		} `json:"alerter"`
		Compliance map[string]any `json:"compliance"`
	} `json:"monitor"`
	Cluster struct {
		Agent    string   `json:"agent"`
		Leader   string   `json:"leader"`
		Agents   []string `json:"agents"`
		IsLeader bool     `json:"is_leader"`
	} `json:"cluster"`
	ZooKeeper struct {
		Connected bool `json:"connected"`
	} `json:"zookeeper"`
}

var client = &http.Client{Timeout: 500 * time.Millisecond}

func (p *process) Status() (*Status, error) {
	resp, err := client.Get(p.URL + "/status")
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return nil, err
	}
	var st Status
	if err := json.Unmarshal(body, &st); err != nil {
		return nil, fmt.Errorf("decoding /status: %w: %s", err, body)
	}
	return &st, nil
}

// leaders returns the agents that currently report alerting. All agents
// are asked at once, so that the answers describe (nearly) one moment.
func leaders(agents []*process) []string {
	alerting := make([]bool, len(agents))
	var wg sync.WaitGroup
	for i, a := range agents {
		if a.Exited() {
			continue
		}
		wg.Go(func() {
			st, err := a.Status()
			alerting[i] = err == nil && st.Monitor.Alerter.Alerting
		})
	}
	wg.Wait()
	var out []string
	for i, a := range agents {
		if alerting[i] {
			out = append(out, a.Name)
		}
	}
	return out
}

// splitBrainWatch samples every agent's /status until stopped and records
// any moment where two agents claimed leadership at once.
type splitBrainWatch struct {
	stop    chan struct{}
	done    chan struct{}
	mu      sync.Mutex
	samples int
	doubles []string
}

func watchSplitBrain(agents []*process) *splitBrainWatch {
	w := &splitBrainWatch{stop: make(chan struct{}), done: make(chan struct{})}
	go func() {
		defer close(w.done)
		for {
			select {
			case <-w.stop:
				return
			case <-time.After(20 * time.Millisecond):
			}
			l := leaders(agents)
			w.mu.Lock()
			w.samples++
			if len(l) > 1 {
				w.doubles = append(w.doubles, strings.Join(l, ","))
			}
			w.mu.Unlock()
		}
	}()
	return w
}

func (w *splitBrainWatch) Check(t *testing.T) {
	t.Helper()
	close(w.stop)
	<-w.done
	w.mu.Lock()
	defer w.mu.Unlock()
	if len(w.doubles) > 0 {
		t.Fatalf("two agents reported leadership at once in %d of %d samples: %v", len(w.doubles), w.samples, w.doubles)
	}
	if w.samples < 10 {
		t.Fatalf("only %d samples taken", w.samples)
	}
	t.Logf("no split brain in %d samples", w.samples)
}

func waitOneLeader(t *testing.T, agents []*process, timeout time.Duration) string {
	t.Helper()
	var l []string
	testenv.Eventually(t, timeout, 20*time.Millisecond, func() bool {
		l = leaders(agents)
		return len(l) == 1
	}, "want exactly one leader, have %v", l)
	return l[0]
}

func byName(agents []*process, name string) *process {
	for _, a := range agents {
		if a.Name == name {
			return a
		}
	}
	return nil
}
