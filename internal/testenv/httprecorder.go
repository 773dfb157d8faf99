package testenv

import (
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
)

// RecordedRequest is one request received by an HTTPRecorder.
type RecordedRequest struct {
	Method   string
	Path     string
	RawQuery string
	Header   http.Header
	Body     []byte
}

// HTTPRecorder is an HTTP server on 127.0.0.1 that records every request
// and answers with a fixed status: a fake webhook (Slack, Alertmanager
// webhook receiver) or proof that a process never posts.
type HTTPRecorder struct {
	srv *httptest.Server

	mu     sync.Mutex
	status int
	reqs   []RecordedRequest
}

// StartHTTPRecorder starts a recorder answering 200 to everything.
func StartHTTPRecorder(t testing.TB) *HTTPRecorder {
	t.Helper()
	r := &HTTPRecorder{status: http.StatusOK}
	r.srv = httptest.NewServer(http.HandlerFunc(r.serveHTTP))
	t.Cleanup(r.srv.Close)
	return r
}

// URL returns the base URL, "http://127.0.0.1:PORT".
func (r *HTTPRecorder) URL() string { return r.srv.URL }

// SetStatus sets the status code of the answers from now on.
func (r *HTTPRecorder) SetStatus(code int) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.status = code
}

// Requests returns a copy of the requests received so far, oldest first.
func (r *HTTPRecorder) Requests() []RecordedRequest {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := make([]RecordedRequest, len(r.reqs))
	for i, q := range r.reqs {
		q.Header = q.Header.Clone()
		q.Body = append([]byte(nil), q.Body...)
		out[i] = q
	}
	return out
}

func (r *HTTPRecorder) serveHTTP(w http.ResponseWriter, req *http.Request) {
	body, _ := io.ReadAll(req.Body)
	r.mu.Lock()
	r.reqs = append(r.reqs, RecordedRequest{
		Method:   req.Method,
		Path:     req.URL.Path,
		RawQuery: req.URL.RawQuery,
		Header:   req.Header.Clone(),
		Body:     body,
	})
	status := r.status
	r.mu.Unlock()
	w.WriteHeader(status)
}
