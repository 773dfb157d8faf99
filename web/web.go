// Package web is zk_monitor's HTTP face: /metrics, the legacy /status JSON
// view (also served at /state), a landing page, health and readiness
// endpoints and the lifecycle reload endpoint.
package web

import (
	"bytes"
	"encoding/json"
	"errors"
	"html/template"
	"io"
	"net/http"
	"strings"
	"time"

	"github.com/go-kit/log"
	"github.com/go-kit/log/level"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"github.com/prometheus/common/version"

	"github.com/zk-monitor/zk_monitor/collector"
	"github.com/zk-monitor/zk_monitor/compliance"
	"github.com/zk-monitor/zk_monitor/logging"
)

// Source is the cached state the pages show; *collector.Watcher implements it.
type Source interface {
	Snapshot() []*collector.PathState
	Connected() bool
}

// Options wire the handler to the rest of the daemon. Every func may be
// nil when the daemon runs without that part.
type Options struct {
	Source        Source
	Version       string
	TelemetryPath string
	Gatherer      prometheus.Gatherer
	// Alerting reports whether this agent is the one sending alerts.
	Alerting func() bool
	// Alertmanagers returns JSON-ready delivery status for /status.
	Alertmanagers func() any
	// Cluster returns JSON-ready cluster status for /status.
	Cluster func() any
	// Ready reports whether the first full read has finished.
	Ready func() bool
	// Reload reloads the configuration; nil disables POST /-/reload.
	Reload func() error
	Logger log.Logger
}

// maxRequestBody bounds what a client may send to any endpoint; none of
// them needs a body.
const maxRequestBody = 1 << 10

// NewHandler returns the router for every endpoint.
func NewHandler(opts Options) http.Handler {
	if opts.TelemetryPath == "" {
		opts.TelemetryPath = "/metrics"
	}
	if opts.Logger == nil {
		opts.Logger = log.NewNopLogger()
	}
	h := &handler{opts: opts}
	mux := http.NewServeMux()
	mux.Handle(opts.TelemetryPath, promhttp.HandlerFor(opts.Gatherer, promhttp.HandlerOpts{
		ErrorLog:            logging.ErrorLog(opts.Logger, "serving metrics failed"),
		ErrorHandling:       promhttp.ContinueOnError,
		MaxRequestsInFlight: 10,
	}))
	mux.HandleFunc("/status", readOnly(h.status))
	mux.HandleFunc("/state", readOnly(h.status))
	mux.HandleFunc("/-/healthy", readOnly(h.healthy))
	mux.HandleFunc("/-/ready", readOnly(h.ready))
	mux.HandleFunc("/-/reload", h.reload)
	mux.HandleFunc("/", readOnly(h.landing))
	return limitBody(mux)
}

type handler struct {
	opts Options
}

// limitBody refuses bodies over maxRequestBody, whether their length is
// declared or they are chunked: it reads them before any handler acts, so
// an oversized or malformed request never reaches one.
func limitBody(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.ContentLength > maxRequestBody {
			http.Error(w, "request body too large", http.StatusRequestEntityTooLarge)
			return
		}
		if r.ContentLength != 0 {
			body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxRequestBody))
			var tooLarge *http.MaxBytesError
			switch {
			case errors.As(err, &tooLarge):
				http.Error(w, "request body too large", http.StatusRequestEntityTooLarge)
				return
			case err != nil:
				http.Error(w, "malformed request body", http.StatusBadRequest)
				return
			}
			r.Body = io.NopCloser(bytes.NewReader(body))
		}
		next.ServeHTTP(w, r)
	})
}

func readOnly(next http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			w.Header().Set("Allow", "GET, HEAD")
			http.Error(w, "method not allowed: use GET or HEAD", http.StatusMethodNotAllowed)
			return
		}
		next(w, r)
	}
}

// statusDocument builds the legacy /status view: the shape of the
// original README plus extra keys.
func statusDocument(opts Options) map[string]any {
	compl := map[string]any{}
	for _, st := range opts.Source.Snapshot() {
		compl[st.Spec.Path] = complianceValue(st.Result)
	}
	alerter := map[string]any{"alerting": opts.Alerting != nil && opts.Alerting()}
	if opts.Alertmanagers != nil {
		alerter["alertmanagers"] = sortedKeys(opts.Alertmanagers())
	}
	doc := map[string]any{
		"monitor": map[string]any{
			"alerter":    alerter,
			"compliance": compl,
		},
		"version":   opts.Version,
		"zookeeper": map[string]any{"connected": opts.Source.Connected()},
	}
	if opts.Cluster != nil {
		doc["cluster"] = sortedKeys(opts.Cluster())
	}
	return doc
}

// sortedKeys turns a struct into maps so that every level of /status has
// its keys sorted, as the original printed them; a struct would keep its
// field order.
func sortedKeys(v any) any {
	b, err := json.Marshal(v)
	if err != nil {
		return v
	}
	var out any
	if err := json.Unmarshal(b, &out); err != nil {
		return v
	}
	return out
}

// complianceValue is true for a compliant path and the message otherwise,
// as the original showed it.
func complianceValue(r compliance.Result) any {
	if r.State == compliance.OK {
		return true
	}
	return r.Message
}

func (h *handler) status(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, h.opts.Logger, statusDocument(h.opts))
}

func writeJSON(w http.ResponseWriter, logger log.Logger, v any) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetIndent("", "    ")
	if err := enc.Encode(v); err != nil {
		level.Error(logger).Log("msg", "encoding JSON response failed", "err", err)
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.Write(buf.Bytes())
}

func (h *handler) healthy(w http.ResponseWriter, r *http.Request) {
	w.Write([]byte("Healthy.\n"))
}

func (h *handler) ready(w http.ResponseWriter, r *http.Request) {
	if h.opts.Ready != nil && !h.opts.Ready() {
		http.Error(w, "Not ready: the first read of all paths has not finished.", http.StatusServiceUnavailable)
		return
	}
	w.Write([]byte("Ready.\n"))
}

func (h *handler) reload(w http.ResponseWriter, r *http.Request) {
	if h.opts.Reload == nil {
		http.Error(w, "lifecycle API is not enabled (--web.enable-lifecycle)", http.StatusForbidden)
		return
	}
	if r.Method != http.MethodPost && r.Method != http.MethodPut {
		w.Header().Set("Allow", "POST, PUT")
		http.Error(w, "method not allowed: use POST", http.StatusMethodNotAllowed)
		return
	}
	if err := h.opts.Reload(); err != nil {
		http.Error(w, "failed to reload config: "+err.Error(), http.StatusInternalServerError)
		return
	}
	w.Write([]byte("Config reloaded.\n"))
}

func (h *handler) landing(w http.ResponseWriter, r *http.Request) {
	if r.URL.Path != "/" {
		http.NotFound(w, r)
		return
	}
	if wantsJSON(r) {
		writeJSON(w, h.opts.Logger, map[string]string{"version": h.opts.Version})
		return
	}
	type row struct {
		Path, State, Message string
		Children             any
	}
	var rows []row
	for _, st := range h.opts.Source.Snapshot() {
		var children any = "-"
		if st.Observation.Known {
			children = st.Observation.Children
		}
		rows = append(rows, row{st.Spec.Path, st.Result.State.String(), st.Result.Message, children})
	}
	var buf bytes.Buffer
	err := landingTemplate.Execute(&buf, map[string]any{
		"Version":       h.opts.Version,
		"Revision":      version.Revision,
		"Cluster":       landingCluster(h.opts),
		"TelemetryPath": h.opts.TelemetryPath,
		"Connected":     h.opts.Source.Connected(),
		"Alerting":      h.opts.Alerting != nil && h.opts.Alerting(),
		"Rows":          rows,
		"Now":           time.Now().UTC().Format(time.RFC3339),
	})
	if err != nil {
		level.Error(h.opts.Logger).Log("msg", "rendering landing page failed", "err", err)
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Write(buf.Bytes())
}

// clusterView is what the landing page shows of the cluster: the fields
// of the cluster status that /status also shows.
type clusterView struct {
	Name   string   `json:"name"`
	Agent  string   `json:"agent"`
	Leader string   `json:"leader"`
	Agents []string `json:"agents"`
}

// landingCluster reads the cluster status through its JSON form, the one
// /status shows, so the page needs nothing but Options.Cluster; nil when
// the daemon runs without a cluster.
func landingCluster(opts Options) *clusterView {
	if opts.Cluster == nil {
		return nil
	}
	b, err := json.Marshal(opts.Cluster())
	if err != nil {
		return nil
	}
	var v clusterView
	if err := json.Unmarshal(b, &v); err != nil {
		return nil
	}
	return &v
}

func wantsJSON(r *http.Request) bool {
	accept := r.Header.Get("Accept")
	return strings.Contains(accept, "application/json") && !strings.Contains(accept, "text/html")
}

var landingTemplate = template.Must(template.New("landing").Parse(`<!DOCTYPE html>
<html lang="en">
<head><meta charset="utf-8"><title>zk_monitor</title>
<style>
body { font-family: -apple-system, system-ui, sans-serif; margin: 0 2em; }
header { border-bottom: 1px solid #ccc; margin-bottom: 1em; }
table { border-collapse: collapse; }
td, th { border: 1px solid #ccc; padding: .3em .6em; text-align: left; }
.ok { color: #1a7f37; } .error { color: #cf222e; font-weight: bold; } .unknown { color: #6e7781; }
</style></head>
<body>
<header><h1>zk_monitor</h1><p>ZooKeeper znode compliance exporter, version {{.Version}}{{with .Revision}} (revision {{.}}){{end}}.</p></header>
<ul>
<li><a href="{{.TelemetryPath}}">Metrics</a></li>
<li><a href="/status">Status (JSON)</a></li>
<li><a href="/-/ready">Readiness</a> · <a href="/-/healthy">Health</a></li>
</ul>
{{with .Cluster}}<p>Cluster <b>{{.Name}}</b> · leader: <b>{{or .Leader "none"}}</b> · {{len .Agents}} agent{{if ne (len .Agents) 1}}s{{end}}:{{range .Agents}} {{.}}{{end}} · this agent: {{.Agent}}</p>
{{end}}<p>ZooKeeper connected: <b>{{.Connected}}</b> · this agent sends alerts: <b>{{.Alerting}}</b> · {{.Now}}</p>
<table>
<tr><th>Path</th><th>State</th><th>Children</th><th>Message</th></tr>
{{range .Rows}}<tr><td>{{.Path}}</td><td class="{{.State}}">{{.State}}</td><td>{{.Children}}</td><td>{{.Message}}</td></tr>
{{else}}<tr><td colspan="4">No paths are configured.</td></tr>
{{end}}</table>
</body>
</html>
`))
