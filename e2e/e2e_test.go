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
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/zk-monitor/zk_monitor/internal/testenv"
)

// zkMonitor is the binary under test, built with the race detector by the
// first test that starts an agent.
var zkMonitor = testenv.NewBinary("..", "-race")

func TestMain(m *testing.M) {
	code := m.Run()
	zkMonitor.Remove()
	os.Exit(code)
}

// process is one zk_monitor agent.
type process struct {
	*testenv.Agent
}

// startAgent runs the binary as agent name with args, logging at debug
// level, and waits until it serves HTTP.
func startAgent(t *testing.T, name string, args ...string) *process {
	t.Helper()
	args = append([]string{"--agent.name", name, "--log.level", "debug"}, args...)
	return &process{testenv.StartAgent(t, zkMonitor.Path(t), name, args...)}
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

// Status returns the agent's /status; an agent that does not answer (it
// may be stopped) is an error.
func (p *process) Status() (*Status, error) {
	code, body, err := p.Get("/status")
	if err != nil {
		return nil, err
	}
	return decodeStatus(code, body)
}

func decodeStatus(code int, body []byte) (*Status, error) {
	if code != http.StatusOK {
		return nil, fmt.Errorf("/status: %d %s", code, body)
	}
	var st Status
	if err := json.Unmarshal(body, &st); err != nil {
		return nil, fmt.Errorf("decoding /status: %w: %s", err, body)
	}
	return &st, nil
}

// sampleHTTP takes quick samples of the agents' leadership: an agent that
// does not answer within a second (stopped, or starved) counts as not
// alerting at that moment.
var sampleHTTP = &http.Client{Timeout: testenv.Scaled(time.Second)}

func (p *process) sampleStatus() (*Status, error) {
	resp, err := sampleHTTP.Get(p.URL + "/status")
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return nil, err
	}
	return decodeStatus(resp.StatusCode, body)
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
			st, err := a.sampleStatus()
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
	}, "want exactly one leader, have %v", testenv.Last(&l))
	return l[0]
}

// waitNewLeader waits until exactly one agent, not old, reports alerting,
// and returns its name.
func waitNewLeader(t *testing.T, agents []*process, old string, timeout time.Duration) string {
	t.Helper()
	var l []string
	testenv.Eventually(t, timeout, 10*time.Millisecond, func() bool {
		l = leaders(agents)
		return len(l) == 1 && l[0] != old
	}, "no agent took over from %s alone; alerting: %v", old, testenv.Last(&l))
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
