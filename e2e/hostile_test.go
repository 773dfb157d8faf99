package e2e

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/go-zookeeper/zk"

	"github.com/zk-monitor/zk_monitor/internal/testenv"
)

// rawExchange writes head and then body (if any) on a fresh connection to
// addr and returns the status code of the answer. The body is written
// concurrently: a server may answer (413) and close before reading it.
func rawExchange(addr string, head []byte, body io.Reader) (int, string, error) {
	conn, err := net.DialTimeout("tcp", addr, testenv.Scaled(5*time.Second))
	if err != nil {
		return 0, "", err
	}
	defer conn.Close()
	conn.SetDeadline(time.Now().Add(testenv.Scaled(15 * time.Second)))
	go func() {
		if _, err := conn.Write(head); err != nil || body == nil {
			return
		}
		io.Copy(conn, body)
	}()
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		return 0, "", fmt.Errorf("reading the answer: %w", err)
	}
	defer resp.Body.Close()
	text, _ := io.ReadAll(io.LimitReader(resp.Body, 200))
	return resp.StatusCode, strings.TrimSpace(string(text)), nil
}

// chunked streams n bytes as HTTP/1.1 chunks of 32 KiB.
func chunked(n int) io.Reader {
	pr, pw := io.Pipe()
	go func() {
		chunk := bytes.Repeat([]byte{'x'}, 32<<10)
		for n > 0 {
			c := chunk[:min(len(chunk), n)]
			if _, err := fmt.Fprintf(pw, "%x\r\n%s\r\n", len(c), c); err != nil {
				return
			}
			n -= len(c)
		}
		io.WriteString(pw, "0\r\n\r\n")
		pw.Close()
	}()
	return pr
}

// TestFaultHostileHTTP sends the agent's web server bad methods, huge
// bodies and malformed requests. Each gets a clear 4xx (505 for an HTTP
// version that does not exist), never a 5xx from a handler and never a
// panic, and the agent keeps serving.
func TestFaultHostileHTTP(t *testing.T) {
	zkServer := testenv.StartZooKeeper(t)
	cfg := testenv.WriteFile(t, "paths.yaml", "/hostile/http: {children: 1}\n")
	a := startAgent(t, "hostile-http", "-z", zkServer.Addr(), "-f", cfg, "-c", "hostile", "--web.enable-lifecycle")
	addr := strings.TrimPrefix(a.URL, "http://")
	const tenMB = 10 << 20

	req := func(method, target string, headers ...string) []byte {
		h := method + " " + target + " HTTP/1.1\r\nHost: " + addr + "\r\n"
		for _, line := range headers {
			h += line + "\r\n"
		}
		return []byte(h + "\r\n")
	}
	manyHeaders := make([]string, 5000)
	for i := range manyHeaders {
		manyHeaders[i] = fmt.Sprintf("X-Junk-%d: %s", i, strings.Repeat("j", 16))
	}
	garbage := make([]byte, 64<<10)
	rng := rand.New(rand.NewPCG(1, 2))
	for i := range garbage {
		garbage[i] = byte(rng.IntN(256))
	}

	cases := []struct {
		name string
		head []byte
		body func() io.Reader
		want []int
	}{
		{"POST /status", req("POST", "/status", "Content-Length: 0"), nil, []int{405}},
		{"DELETE /", req("DELETE", "/"), nil, []int{405}},
		{"PATCH /-/healthy", req("PATCH", "/-/healthy", "Content-Length: 0"), nil, []int{405}},
		{"OPTIONS /-/ready", req("OPTIONS", "/-/ready"), nil, []int{405}},
		{"TRACE /state", req("TRACE", "/state"), nil, []int{405}},
		{"unknown method BREW /status", req("BREW", "/status"), nil, []int{405}},
		{"GET /-/reload", req("GET", "/-/reload"), nil, []int{405}},
		{"DELETE /metrics", req("DELETE", "/metrics"), nil, []int{405}},
		{"PUT /metrics", req("PUT", "/metrics", "Content-Length: 0"), nil, []int{405}},
		{"TRACE /metrics", req("TRACE", "/metrics"), nil, []int{405}},
		{"OPTIONS /metrics", req("OPTIONS", "/metrics"), nil, []int{405}},

		{"10 MB POST /-/reload", req("POST", "/-/reload", fmt.Sprintf("Content-Length: %d", tenMB)),
			func() io.Reader { return io.LimitReader(zeros{}, tenMB) }, []int{413}},
		{"10 MB POST /status", req("POST", "/status", fmt.Sprintf("Content-Length: %d", tenMB)),
			func() io.Reader { return io.LimitReader(zeros{}, tenMB) }, []int{413}},
		{"10 MB body on GET /status", req("GET", "/status", fmt.Sprintf("Content-Length: %d", tenMB)),
			func() io.Reader { return io.LimitReader(zeros{}, tenMB) }, []int{413}},
		{"10 MB chunked POST /-/reload", req("POST", "/-/reload", "Transfer-Encoding: chunked"),
			func() io.Reader { return chunked(tenMB) }, []int{413}},
		{"10 MB chunked PUT /status", req("PUT", "/status", "Transfer-Encoding: chunked"),
			func() io.Reader { return chunked(tenMB) }, []int{405, 413}},

		{"100 KB URL", req("GET", "/"+strings.Repeat("a", 100<<10)), nil, []int{431}},
		{"100 KB header", req("GET", "/status", "X-Big: "+strings.Repeat("b", 100<<10)), nil, []int{431}},
		{"5000 headers", req("GET", "/status", manyHeaders...), nil, []int{431}},
		// Ended by a blank line: without one the server waits for the end
		// of the line, up to its 10s header timeout.
		{"TLS ClientHello", []byte("\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03" + strings.Repeat("\x00", 64) + "\r\n\r\n"), nil, []int{400}},
		{"random bytes", garbage, nil, []int{400, 431}},
		{"HTTP/1.1 without Host", []byte("GET /status HTTP/1.1\r\n\r\n"), nil, []int{400}},
		{"HTTP/9.9", []byte("GET /status HTTP/9.9\r\nHost: x\r\n\r\n"), nil, []int{505}},
		{"bad escape in path", req("GET", "/%zz"), nil, []int{400}},
		{"NUL in path", req("GET", "/sta\x00tus"), nil, []int{400}},
		{"header line without colon", req("GET", "/status", "Not a header"), nil, []int{400}},
		{"space in header name", req("GET", "/status", "Bad Name: x"), nil, []int{400}},
		{"negative Content-Length", req("POST", "/-/reload", "Content-Length: -5"), nil, []int{400}},
		{"conflicting Content-Length", req("POST", "/-/reload", "Content-Length: 1", "Content-Length: 2"), nil, []int{400}},
		{"malformed chunk on POST /-/reload", req("POST", "/-/reload", "Transfer-Encoding: chunked"),
			func() io.Reader { return strings.NewReader("zz\r\nnot a chunk\r\n") }, []int{400}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var body io.Reader
			if tc.body != nil {
				body = tc.body()
			}
			code, text, err := rawExchange(addr, tc.head, body)
			if err != nil {
				t.Fatalf("no answer: %v", err)
			}
			ok := false
			for _, w := range tc.want {
				ok = ok || code == w
			}
			if !ok {
				t.Errorf("status %d (%q), want one of %v", code, text, tc.want)
			}
			if a.Exited() {
				t.Fatal("the agent exited")
			}
		})
	}

	// Many hostile connections at once, some never finishing their
	// request, while the agent keeps answering. They hold on for a while
	// (stretched with the test's waits, so that they outlast them).
	var wg sync.WaitGroup
	var unanswered atomic.Int32
	hold := testenv.Scaled(2 * time.Second)
	for i := range 100 {
		wg.Go(func() {
			conn, err := net.DialTimeout("tcp", addr, hold)
			if err != nil {
				return
			}
			defer conn.Close()
			conn.SetDeadline(time.Now().Add(hold))
			switch i % 3 {
			case 0:
				conn.Write(garbage[i*100 : i*100+500])
			case 1:
				conn.Write([]byte("GET /status HTTP/1.1\r\nHost: x\r\nX-Half: "))
			case 2:
				conn.Write(req("GET", "/status"))
			}
			io.Copy(io.Discard, conn)
		})
	}
	for range 20 {
		if code, _, err := a.Get("/-/healthy"); err != nil || code != http.StatusOK {
			unanswered.Add(1)
		}
		time.Sleep(25 * time.Millisecond)
	}
	wg.Wait()
	if n := unanswered.Load(); n > 0 {
		t.Errorf("/-/healthy failed %d of 20 times under 100 hostile connections", n)
	}

	if _, err := a.Status(); err != nil {
		t.Fatalf("/status after the hostile requests: %v", err)
	}
	if a.Exited() {
		t.Fatal("the agent exited")
	}
	if logs := a.Logs(); strings.Contains(logs, "panic") {
		t.Errorf("the agent logged a panic:\n%s", logs)
	}
}

// zeros reads as an endless run of zero bytes.
type zeros struct{}

func (zeros) Read(p []byte) (int, error) {
	clear(p)
	return len(p), nil
}

// TestFaultHostileZnodes watches a node holding almost 1 MB (ZooKeeper's
// limit) with a regex check and another with a json_field check, and a
// node with 100,000 children written in parallel. The checks work on the
// huge data without echoing it into /status, the agent reports exactly
// 100000 children, and it keeps answering throughout.
func TestFaultHostileZnodes(t *testing.T) {
	zkServer := testenv.StartZooKeeper(t)
	admin := adminClient(t, zkServer.Addr())
	// ZooKeeper refuses requests over jute.maxbuffer (1 MiB - 1 byte); the
	// path and the request header take the rest.
	const size = 1<<20 - 1024
	bigRegex := append(bytes.Repeat([]byte{'A'}, size-1), 'Z')
	bigJSON := []byte(`{"pad": "` + strings.Repeat("p", size-40) + `", "status": "DEAD"}`)
	open := zk.WorldACL(zk.PermAll)
	for _, n := range []struct {
		path string
		data []byte
	}{{"/hostile", nil}, {"/hostile/big", bigRegex}, {"/hostile/bigjson", bigJSON}, {"/hostile/many", nil}} {
		if _, err := admin.Create(n.path, n.data, 0, open); err != nil {
			t.Fatalf("creating %s with %d bytes: %v", n.path, len(n.data), err)
		}
	}
	cfg := testenv.WriteFile(t, "paths.yaml", `/hostile/big: {data: {regex: '^A+Z$'}}
/hostile/bigjson: {data: {json_field: status, equals: ALIVE}}
/hostile/many: {children: 100000}
`)
	a := startAgent(t, "hostile-zk", "-z", zkServer.Addr(), "-f", cfg, "-c", "hostile")
	waitCompliance(t, []*process{a}, map[string]any{
		"/hostile/big":     true,
		"/hostile/bigjson": `Data field status is "DEAD", expected "ALIVE"`,
		"/hostile/many":    "Found children (0) less than minimum (100000)",
	})
	if _, err := admin.Set("/hostile/big", bytes.Repeat([]byte{'A'}, size), -1); err != nil {
		t.Fatal(err)
	}
	waitCompliance(t, []*process{a}, map[string]any{"/hostile/big": "Data does not match regex /^A+Z$/"})
	code, body, err := a.Get("/status")
	if err != nil || code != http.StatusOK {
		t.Fatalf("/status: %d %v", code, err)
	}
	if len(body) > 16<<10 {
		t.Errorf("/status is %d bytes: the nodes' data leaks into it", len(body))
	}

	// 100,000 children: 100 multi-requests of 1,000 creates, from four
	// writers on two connections.
	conns := []*zk.Conn{testenv.RawZK(t, zkServer.Addr(), 10*time.Second), testenv.RawZK(t, zkServer.Addr(), 10*time.Second)}
	// Poll the agent while it is flooded.
	stop := make(chan struct{})
	var (
		polls, failures atomic.Int32
		slowest         atomic.Int64
		pollers         sync.WaitGroup
	)
	pollers.Go(func() {
		for {
			select {
			case <-stop:
				return
			case <-time.After(100 * time.Millisecond):
			}
			for _, p := range []string{"/-/healthy", "/status", "/metrics"} {
				start := time.Now()
				code, _, err := a.Get(p)
				polls.Add(1)
				if err != nil || code != http.StatusOK {
					failures.Add(1)
				}
				if d := int64(time.Since(start)); d > slowest.Load() {
					slowest.Store(d)
				}
			}
		}
	})
	start := time.Now()
	createChildren(t, conns, "/hostile/many", 100000)
	t.Logf("created 100000 children in %s", time.Since(start).Round(time.Millisecond))
	const series = `zk_monitor_znode_children{path="/hostile/many"}`
	testenv.Eventually(t, 60*time.Second, 100*time.Millisecond, func() bool {
		v, ok := metricValue(a, series)
		return ok && v == 100000 && complianceOf(a, "/hostile/many") == true
	}, "the agent did not report 100000 children")
	t.Logf("the agent reported 100000 children %s after the writes began", time.Since(start).Round(time.Millisecond))
	close(stop)
	pollers.Wait()
	t.Logf("%d requests to the agent while flooded, slowest %s", polls.Load(), time.Duration(slowest.Load()).Round(time.Millisecond))
	if n := failures.Load(); n > 0 {
		t.Errorf("%d of %d requests to the agent failed while it read 100000 children", n, polls.Load())
	}
	if a.Exited() {
		t.Fatal("the agent exited")
	}
}
