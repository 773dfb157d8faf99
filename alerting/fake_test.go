package alerting

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/zk-monitor/zk_monitor/compliance"
	"github.com/zk-monitor/zk_monitor/config"
	"github.com/zk-monitor/zk_monitor/internal/testenv"
)

// postedAlert is one alert as a fake Alertmanager received it.
type postedAlert = testenv.AMPostableAlert

// fakeAM is an httptest Alertmanager: it records every POSTed batch
// (accepted or not), answers with a settable status code, serves
// /api/v2/status with a settable uptime, and can hold POSTs until released.
type fakeAM struct {
	srv *httptest.Server
	// entered receives a value whenever a POST arrives.
	entered chan struct{}
	// cancelled receives a value when a held POST saw its request end.
	cancelled chan struct{}

	mu          sync.Mutex
	batches     [][]postedAlert
	auth        []string
	codes       []int // answers for the next POSTs, then code
	code        int
	uptime      string
	statusCalls int
	hold        chan struct{} // POSTs wait while non-nil and open
}

func newFakeAM(t *testing.T) *fakeAM {
	t.Helper()
	f := &fakeAM{
		code:      http.StatusOK,
		uptime:    "2024-05-31T16:20:00.000Z",
		entered:   make(chan struct{}, 1000),
		cancelled: make(chan struct{}, 1000),
	}
	f.srv = httptest.NewServer(http.HandlerFunc(f.serveHTTP))
	t.Cleanup(f.srv.Close)
	// Runs before srv.Close: held requests must end first.
	t.Cleanup(f.release)
	return f
}

func (f *fakeAM) url(t *testing.T) *url.URL {
	t.Helper()
	u, err := url.Parse(f.srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	return u
}

func (f *fakeAM) serveHTTP(w http.ResponseWriter, r *http.Request) {
	switch {
	case r.Method == http.MethodGet && r.URL.Path == "/api/v2/status":
		f.mu.Lock()
		f.statusCalls++
		up := f.uptime
		f.mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(map[string]string{"uptime": up})
		return
	case r.Method == http.MethodPost && r.URL.Path == "/api/v2/alerts":
	default:
		http.NotFound(w, r)
		return
	}
	var batch []postedAlert
	if err := json.NewDecoder(r.Body).Decode(&batch); err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	f.mu.Lock()
	f.batches = append(f.batches, batch)
	f.auth = append(f.auth, r.Header.Get("Authorization"))
	code := f.code
	if len(f.codes) > 0 {
		code, f.codes = f.codes[0], f.codes[1:]
	}
	hold := f.hold
	f.mu.Unlock()
	f.entered <- struct{}{}
	if hold != nil {
		select {
		case <-hold:
		case <-r.Context().Done():
			f.cancelled <- struct{}{}
			return
		}
	}
	w.WriteHeader(code)
}

func (f *fakeAM) setCode(code int) {
	f.mu.Lock()
	f.code = code
	f.mu.Unlock()
}

func (f *fakeAM) setUptime(up string) {
	f.mu.Lock()
	f.uptime = up
	f.mu.Unlock()
}

// holdPosts makes POSTs wait until release.
func (f *fakeAM) holdPosts() {
	f.mu.Lock()
	f.hold = make(chan struct{})
	f.mu.Unlock()
}

func (f *fakeAM) release() {
	f.mu.Lock()
	if f.hold != nil {
		select {
		case <-f.hold:
		default:
			close(f.hold)
		}
	}
	f.mu.Unlock()
}

func (f *fakeAM) posts() [][]postedAlert {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([][]postedAlert(nil), f.batches...)
}

func (f *fakeAM) probes() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.statusCalls
}

// alertsFor returns every posted alert of path, in order.
func (f *fakeAM) alertsFor(path string) []postedAlert {
	var out []postedAlert
	for _, b := range f.posts() {
		for _, a := range b {
			if a.Labels["path"] == path {
				out = append(out, a)
			}
		}
	}
	return out
}

// waitEntered waits for a POST to arrive.
func (f *fakeAM) waitEntered(t *testing.T) {
	t.Helper()
	select {
	case <-f.entered:
	case <-time.After(testenv.Scaled(10 * time.Second)):
		t.Fatal("no POST arrived")
	}
}

// clock is a settable time source.
type clock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *clock) set(t time.Time) {
	c.mu.Lock()
	c.now = t
	c.mu.Unlock()
}

// newTestAlerter returns an Alerter with a fresh registry; opts may leave
// the registry and logger unset.
func newTestAlerter(t *testing.T, opts Options) (*Alerter, *prometheus.Registry) {
	t.Helper()
	reg := prometheus.NewRegistry()
	if opts.Registerer == nil {
		opts.Registerer = reg
	}
	a, err := New(opts)
	if err != nil {
		t.Fatal(err)
	}
	return a, reg
}

// lead makes a lead until the returned function is called (or the test
// ends); that function returns once Lead has returned.
func lead(t *testing.T, a *Alerter) (stop func()) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		a.Lead(ctx)
	}()
	testenv.Eventually(t, 10*time.Second, 5*time.Millisecond, func() bool { return a.Status().Alerting }, "leadership to start")
	var once sync.Once
	stop = func() {
		once.Do(func() {
			cancel()
			select {
			case <-done:
			case <-time.After(testenv.Scaled(10 * time.Second)):
				t.Error("Lead did not return after its context ended")
			}
		})
	}
	t.Cleanup(stop)
	return stop
}

// run runs a.Run until the test ends.
func run(t *testing.T, a *Alerter) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- a.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Run: %v", err)
		}
	})
}

func errorResult(msg string) compliance.Result {
	return compliance.Result{State: compliance.Error, Message: msg}
}

var okResult = compliance.Result{State: compliance.OK, Message: "All checks pass."}

func spec(path string) config.PathSpec { return config.PathSpec{Path: path} }
