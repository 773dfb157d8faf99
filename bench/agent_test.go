package bench

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/go-kit/log"
	toolkitweb "github.com/prometheus/exporter-toolkit/web"

	"github.com/zk-monitor/zk_monitor/daemon"
	"github.com/zk-monitor/zk_monitor/internal/testenv"
)

// sessionTimeout is the ZooKeeper session timeout of the in-process agents.
// It bounds how long a leader that vanished without a word keeps its
// leadership: the failover figures depend on it.
const sessionTimeout = 2 * time.Second

// httpClient keeps connections alive: polling must not measure TCP setup.
var httpClient = &http.Client{Timeout: testenv.Scaled(10 * time.Second)}

// agent is a zk_monitor daemon running in-process.
type agent struct {
	url    string
	logs   *testenv.SyncBuffer
	cancel context.CancelFunc
	done   chan error
	once   sync.Once
}

// agentOptions are the options of a benchmark agent: a 2 s session, no
// resend noise during a measurement.
func agentOptions(zkAddr, configFile, cluster, name string, alertmanagers ...string) (daemon.Options, error) {
	opts := daemon.Options{
		ConfigFile:          configFile,
		ZooKeeper:           zkAddr,
		SessionTimeout:      sessionTimeout,
		ClusterPrefix:       "/zk_monitor",
		ClusterName:         cluster,
		AgentName:           name,
		Web:                 &toolkitweb.FlagConfig{WebListenAddresses: &[]string{"127.0.0.1:0"}},
		TelemetryPath:       "/metrics",
		ResendInterval:      time.Minute,
		AlertmanagerTimeout: 5 * time.Second,
	}
	for _, raw := range alertmanagers {
		u, err := url.Parse(raw)
		if err != nil {
			return opts, err
		}
		opts.AlertmanagerURLs = append(opts.AlertmanagerURLs, u)
	}
	return opts, nil
}

// startAgent runs daemon.Run in a goroutine and waits until it serves HTTP.
// The benchmark's cleanup stops it if the caller did not.
func startAgent(b *testing.B, opts daemon.Options) *agent {
	b.Helper()
	a := &agent{logs: &testenv.SyncBuffer{}, done: make(chan error, 1)}
	addr := make(chan string, 1)
	opts.Ready = func(s string) { addr <- s }
	ctx, cancel := context.WithCancel(context.Background())
	a.cancel = cancel
	go func() { a.done <- daemon.Run(ctx, opts, log.NewLogfmtLogger(a.logs), nil) }()
	select {
	case s := <-addr:
		a.url = "http://" + s
	case err := <-a.done:
		b.Fatalf("agent %s exited: %v\n%s", opts.AgentName, err, a.logs.String())
	case <-time.After(testenv.Scaled(waitFor)):
		b.Fatalf("agent %s did not start listening", opts.AgentName)
	}
	b.Cleanup(func() {
		a.stop(b)
		if b.Failed() {
			b.Logf("agent %s logs:\n%s", opts.AgentName, a.logs.String())
		}
	})
	return a
}

// stop cancels the agent and waits until Run returned; idempotent.
func (a *agent) stop(b *testing.B) {
	a.once.Do(func() {
		a.cancel()
		select {
		case err := <-a.done:
			if err != nil {
				b.Errorf("agent exited with %v", err)
			}
		case <-time.After(testenv.Scaled(waitFor)):
			b.Error("agent did not stop")
		}
	})
}

// get returns the body of a GET, or "" when the agent does not answer.
func (a *agent) get(path string) string {
	resp, err := httpClient.Get(a.url + path)
	if err != nil {
		return ""
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil || resp.StatusCode != http.StatusOK {
		return ""
	}
	return string(body)
}

// clusterStatus is the "cluster" part of /status.
type clusterStatus struct {
	IsLeader bool     `json:"is_leader"`
	Agents   []string `json:"agents"`
}

func (a *agent) cluster() clusterStatus {
	var doc struct {
		Cluster clusterStatus `json:"cluster"`
	}
	_ = json.Unmarshal([]byte(a.get("/status")), &doc)
	return doc.Cluster
}

func (a *agent) ready() bool {
	return strings.HasPrefix(a.get("/-/ready"), "Ready")
}

// alertsSent is the agent's zk_monitor_alertmanager_alerts_sent_total over
// all Alertmanagers.
func (a *agent) alertsSent() float64 {
	return metricSum(a.get("/metrics"), "zk_monitor_alertmanager_alerts_sent_total")
}

// metricSum adds up the samples of one metric in a text exposition.
func metricSum(text, name string) float64 {
	total := 0.0
	sc := bufio.NewScanner(strings.NewReader(text))
	sc.Buffer(make([]byte, 64*1024), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		rest, ok := strings.CutPrefix(line, name)
		if !ok || (rest != "" && rest[0] != '{' && rest[0] != ' ') {
			continue
		}
		fields := strings.Fields(line)
		if v, err := strconv.ParseFloat(fields[len(fields)-1], 64); err == nil {
			total += v
		}
	}
	return total
}

// agentName is a node name unique in this process.
func agentName(role string, i int) string { return fmt.Sprintf("bench-%s-%d", role, i) }
