package testenv

import (
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"sync"
	"testing"
	"time"
)

// Binary is the zk_monitor binary of a module, built on first use by a
// test (a run whose tests all skip builds nothing).
type Binary struct {
	moduleDir string
	flags     []string

	once sync.Once
	dir  string
	path string
	err  error
}

// NewBinary returns the zk_monitor binary of the module at moduleDir, to
// be built with the extra go build flags. The package's TestMain removes
// it after the tests (Remove).
func NewBinary(moduleDir string, flags ...string) *Binary {
	return &Binary{moduleDir: moduleDir, flags: flags}
}

// Path builds the binary if that has not been tried yet and returns its
// path; a failed build fails the test.
func (b *Binary) Path(t testing.TB) string {
	t.Helper()
	b.once.Do(func() { b.dir, b.path, b.err = build(b.moduleDir, b.flags) })
	if b.err != nil {
		t.Fatalf("testenv: %v", b.err)
	}
	return b.path
}

// Remove deletes the binary, if it was built.
func (b *Binary) Remove() {
	// Calling once.Do here makes a later Path fail instead of racing
	// with the removal.
	b.once.Do(func() { b.err = fmt.Errorf("zk_monitor binary of %s used after Remove", b.moduleDir) })
	if b.dir != "" {
		_ = os.RemoveAll(b.dir)
	}
}

func build(moduleDir string, flags []string) (dir, binary string, err error) {
	dir, err = os.MkdirTemp("", "zk_monitor-test")
	if err != nil {
		return "", "", err
	}
	binary = filepath.Join(dir, "zk_monitor")
	args := append([]string{"build", "-o", binary}, flags...)
	cmd := exec.Command("go", append(args, ".")...)
	cmd.Dir = moduleDir
	if out, err := cmd.CombinedOutput(); err != nil {
		_ = os.RemoveAll(dir)
		return "", "", fmt.Errorf("building zk_monitor: %v\n%s", err, out)
	}
	return dir, binary, nil
}

// Waits of StartAgent and Agent.Get, stretched by the scale knob.
const (
	agentStartTimeout = 30 * time.Second
	agentHTTPTimeout  = 10 * time.Second
)

// agentHTTP is the client of Agent.Get. It keeps connections alive: tests
// poll agents many times a second, for minutes.
var agentHTTP = sync.OnceValue(func() *http.Client {
	return &http.Client{Timeout: Scaled(agentHTTPTimeout), Transport: http.DefaultTransport.(*http.Transport).Clone()}
})

// Agent is a zk_monitor process serving HTTP on a loopback port.
type Agent struct {
	*Process
	Name string
	URL  string // http://127.0.0.1:PORT
}

// StartAgent runs binary (a zk_monitor) as name with args plus
// --web.listen-address on a free port of 127.0.0.1 (args must not name a
// listen address of their own), and waits until it answers /-/healthy.
// An agent that exits before fails the test with its log.
func StartAgent(t testing.TB, binary, name string, args ...string) *Agent {
	t.Helper()
	port := FreePort(t)
	args = append(slices.Clip(args), "--web.listen-address=127.0.0.1:"+strconv.Itoa(port))
	a := &Agent{
		Process: StartProcess(t, Command{Name: name, Path: binary, Args: args}),
		Name:    name,
		URL:     "http://127.0.0.1:" + strconv.Itoa(port),
	}
	var last error
	ok := poll(Scaled(agentStartTimeout), 20*time.Millisecond, func() bool {
		if a.Exited() {
			return true
		}
		var code int
		code, _, last = a.Get("/-/healthy")
		if last == nil && code != http.StatusOK {
			last = fmt.Errorf("status %d", code)
		}
		return last == nil
	})
	switch {
	case a.Exited():
		t.Fatalf("testenv: %v", a.p.diedError())
	case !ok:
		t.Fatalf("testenv: agent %s does not answer GET /-/healthy after %v: %v", name, Scaled(agentStartTimeout), last)
	}
	return a
}

// Get requests path from the agent and returns the status code and body.
// It gives up after 10 s (stretched by the scale knob).
func (a *Agent) Get(path string) (int, []byte, error) {
	resp, err := agentHTTP().Get(a.URL + path)
	if err != nil {
		return 0, nil, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	return resp.StatusCode, body, err
}
