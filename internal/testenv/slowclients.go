package testenv

import (
	"bufio"
	"compress/gzip"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
	"unsafe"
)

// StalledClients are connections that sent a request and never read the
// answer, as a hung or hostile client does: once the socket buffers are
// full, every write of the server to them blocks.
type StalledClients struct {
	mu    sync.Mutex
	conns []net.Conn
}

// StallRequests opens n connections to addr (host:port), writes request (a
// whole HTTP/1.1 request) on each and never reads from them. Their
// receive buffers are as small as the kernel allows, so that the server's
// writes block soon (it still gets a few MB into its own send buffer).
// They stay open until Close or the end of the test. Mind the file
// descriptor limit (ulimit -n): every connection costs one here and one
// in the server.
func StallRequests(tb testing.TB, addr, request string, n int) *StalledClients {
	tb.Helper()
	s := &StalledClients{}
	tb.Cleanup(s.Close)
	dialer := net.Dialer{
		Timeout: Scaled(10 * time.Second),
		// Before connecting: the window is advertised from the start.
		Control: func(_, _ string, c syscall.RawConn) error {
			var err error
			c.Control(func(fd uintptr) {
				err = syscall.SetsockoptInt(int(fd), syscall.SOL_SOCKET, syscall.SO_RCVBUF, 1)
			})
			return err
		},
	}
	// Dialled a few dozen at a time: the server's accept queue is bounded.
	const dialers = 32
	next := make(chan int)
	errc := make(chan error, dialers)
	var wg sync.WaitGroup
	for range dialers {
		wg.Go(func() {
			for range next {
				conn, err := dialer.Dial("tcp", addr)
				if err == nil {
					_, err = io.WriteString(conn, request)
				}
				if err != nil {
					if conn != nil {
						conn.Close()
					}
					select {
					case errc <- err:
					default:
					}
					continue
				}
				s.mu.Lock()
				s.conns = append(s.conns, conn)
				s.mu.Unlock()
			}
		})
	}
	for i := range n {
		next <- i
	}
	close(next)
	wg.Wait()
	select {
	case err := <-errc:
		tb.Fatalf("testenv: opening %d stalled connections to %s: %v", n, addr, err)
	default:
	}
	return s
}

// Answered returns how many of the connections have received a part of
// their answer (which they do not read): the requests that the server
// answers or answered, as opposed to those it did not get to yet.
func (s *StalledClients) Answered() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := 0
	for _, c := range s.conns {
		raw, err := c.(*net.TCPConn).SyscallConn()
		if err != nil {
			continue
		}
		var queued int32
		raw.Control(func(fd uintptr) {
			syscall.Syscall(syscall.SYS_IOCTL, fd, syscall.TIOCINQ, uintptr(unsafe.Pointer(&queued)))
		})
		if queued > 0 {
			n++
		}
	}
	return n
}

// Close closes every connection; idempotent.
func (s *StalledClients) Close() {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, c := range s.conns {
		c.Close()
	}
	s.conns = nil
}

// Scrape GETs url the way Prometheus does (text format, gzip) and returns
// the decompressed body. Anything but a complete 200 answer is an error.
func Scrape(client *http.Client, url string) (string, error) {
	req, err := http.NewRequest(http.MethodGet, url, nil)
	if err != nil {
		return "", err
	}
	req.Header.Set("Accept", "text/plain;version=0.0.4;q=0.5,*/*;q=0.1")
	req.Header.Set("Accept-Encoding", "gzip")
	resp, err := client.Do(req)
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	var body io.Reader = resp.Body
	if resp.Header.Get("Content-Encoding") == "gzip" {
		zr, err := gzip.NewReader(resp.Body)
		if err != nil {
			return "", fmt.Errorf("scraping %s: %w", url, err)
		}
		body = zr
	}
	b, err := io.ReadAll(body)
	if err != nil {
		return "", fmt.Errorf("scraping %s: %w", url, err)
	}
	if resp.StatusCode != http.StatusOK {
		return "", fmt.Errorf("scraping %s: %s: %.200s", url, resp.Status, b)
	}
	return string(b), nil
}

// SmallSendBuffers wraps a listener so that every connection it accepts
// has the smallest send buffer the kernel allows: a client that stops
// reading then blocks the server's writes after a few KB instead of a
// few MB, and tests of slow clients need no big answers.
func SmallSendBuffers(l net.Listener) net.Listener { return smallSendBuffers{l} }

type smallSendBuffers struct{ net.Listener }

func (l smallSendBuffers) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if tc, ok := c.(*net.TCPConn); ok {
		// The kernel rounds it up to its minimum.
		_ = tc.SetWriteBuffer(1)
	}
	return c, err
}

// ProcessRSS returns the resident memory of process pid in bytes, from
// /proc/PID/status.
func ProcessRSS(pid int) (uint64, error) {
	f, err := os.Open("/proc/" + strconv.Itoa(pid) + "/status")
	if err != nil {
		return 0, err
	}
	defer f.Close()
	return parseVmRSS(f)
}

// parseVmRSS returns the VmRSS line of a /proc/PID/status file in bytes.
func parseVmRSS(r io.Reader) (uint64, error) {
	sc := bufio.NewScanner(r)
	for sc.Scan() {
		rest, ok := strings.CutPrefix(sc.Text(), "VmRSS:")
		if !ok {
			continue
		}
		fields := strings.Fields(rest)
		if len(fields) != 2 || fields[1] != "kB" {
			return 0, fmt.Errorf("unexpected VmRSS line %q", sc.Text())
		}
		kb, err := strconv.ParseUint(fields[0], 10, 64)
		if err != nil {
			return 0, fmt.Errorf("parsing VmRSS: %w", err)
		}
		return kb * 1024, nil
	}
	if err := sc.Err(); err != nil {
		return 0, err
	}
	return 0, errors.New("no VmRSS line")
}

// RSSWatch samples a process's resident memory every 20 ms until
// stopped, keeping the peak.
type RSSWatch struct {
	stopc    chan struct{}
	done     chan struct{}
	once     sync.Once
	mu       sync.Mutex
	peak     uint64
	exceeded bool
}

// WatchRSS starts watching process pid. When its RSS first passes limit
// (0: no limit) it calls over, from the watching goroutine: a test can
// stop its load there instead of letting a runaway process eat the
// machine.
func WatchRSS(pid int, limit uint64, over func()) *RSSWatch {
	w := &RSSWatch{stopc: make(chan struct{}), done: make(chan struct{})}
	go func() {
		defer close(w.done)
		for {
			if rss, err := ProcessRSS(pid); err == nil {
				w.mu.Lock()
				w.peak = max(w.peak, rss)
				first := limit > 0 && rss > limit && !w.exceeded
				w.exceeded = w.exceeded || first
				w.mu.Unlock()
				if first && over != nil {
					over()
				}
			}
			select {
			case <-w.stopc:
				return
			case <-time.After(20 * time.Millisecond):
			}
		}
	}()
	return w
}

// Stop ends the watch and returns the peak RSS in bytes and whether it
// passed the limit; idempotent.
func (w *RSSWatch) Stop() (peak uint64, exceeded bool) {
	w.once.Do(func() { close(w.stopc) })
	<-w.done
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.peak, w.exceeded
}
