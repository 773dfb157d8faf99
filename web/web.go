// Package web is zk_monitor's HTTP face: /metrics, the legacy /status JSON
// view (also served at /state), a landing page, health and readiness
// endpoints and the lifecycle reload endpoint.
package web

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"html/template"
	"io"
	"net/http"
	"strings"
	"time"

	"github.com/go-kit/log"
	"github.com/go-kit/log/level"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/common/version"

	"github.com/zk-monitor/zk_monitor/collector"
	"github.com/zk-monitor/zk_monitor/compliance"
)

// Source is the cached state the pages show; *collector.Watcher implements it.
type Source interface {
	Snapshot() []*collector.PathState
	Connected() bool
	// Generation changes whenever Snapshot may return something else.
	Generation() uint64
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
	// Registerer, if not nil, gets the web server's own metrics.
	Registerer prometheus.Registerer
	// Limits bound what clients may cost; zero fields take the defaults.
	Limits Limits
	Logger log.Logger
}

// Limits bound what HTTP clients can cost the agent, so that no load on
// its web server, however slow or many the clients, costs it its memory,
// its ZooKeeper session or Prometheus's scrapes. Zero fields take the
// defaults in brackets.
type Limits struct {
	// PageRequests is how many /status, /state and landing page requests
	// are served at once [16]; one more waits up to PageWait [1s] for its
	// turn, then gets 503. Scrapes of the telemetry path are not counted:
	// they have their own budget, ScrapeMemory.
	PageRequests int
	PageWait     time.Duration
	// ScrapeMemory bounds the renderings held by scrapes still being
	// written, in bytes of text [64 MiB]; past it, scrapes get the latest
	// rendering instead of a new one.
	ScrapeMemory int
	// WriteStall is how long a client may take no data at all before it
	// is cut off [10s]; WriteTotal bounds writing one response [2m].
	WriteStall time.Duration
	WriteTotal time.Duration
}

func (l Limits) withDefaults() Limits {
	set := func(v *time.Duration, d time.Duration) {
		if *v <= 0 {
			*v = d
		}
	}
	if l.PageRequests <= 0 {
		l.PageRequests = 16
	}
	if l.ScrapeMemory <= 0 {
		l.ScrapeMemory = 64 << 20
	}
	set(&l.PageWait, time.Second)
	set(&l.WriteStall, 10*time.Second)
	set(&l.WriteTotal, 2*time.Minute)
	return l
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
	limits := opts.Limits.withDefaults()
	m := newMetrics(opts.Registerer)
	scrapesFirst := &priority{}
	h := &handler{
		opts:    opts,
		metrics: m,
		// Pages yield to scrapes; scrapes yield to nothing.
		write:       writeLimits{stall: limits.WriteStall, total: limits.WriteTotal, yieldTo: scrapesFirst},
		statusPage:  &pageCache{renders: m.renders.WithLabelValues(handlerStatus)},
		landingPage: &pageCache{renders: m.renders.WithLabelValues(handlerLanding)},
	}
	h.landingJSON = newBody("application/json; charset=utf-8", mustJSON(map[string]string{"version": opts.Version}))
	telemetry := newTelemetry(opts.Gatherer, opts.Logger, writeLimits{stall: limits.WriteStall, total: limits.WriteTotal}, limits.ScrapeMemory, m, scrapesFirst)
	pages := newBudget(limits.PageRequests, limits.PageWait)
	status := limited(pages, m.rejected.WithLabelValues(handlerStatus), h.status)
	mux := http.NewServeMux()
	mux.HandleFunc(opts.TelemetryPath, readOnly(telemetry.ServeHTTP))
	mux.HandleFunc("/status", readOnly(status))
	mux.HandleFunc("/state", readOnly(status))
	mux.HandleFunc("/-/healthy", readOnly(h.healthy))
	mux.HandleFunc("/-/ready", readOnly(h.ready))
	mux.HandleFunc("/-/reload", h.reload)
	mux.HandleFunc("/", readOnly(h.rootOnly(limited(pages, m.rejected.WithLabelValues(handlerLanding), h.landing))))
	return limitBody(mux)
}

type handler struct {
	opts    Options
	metrics *metrics
	write   writeLimits

	statusPage  *pageCache
	landingPage *pageCache
	landingJSON *body
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

// statusInputs are the small inputs of /status, read for every request
// to tell whether the cached rendering is current. The big one, the
// compliance of every path, is represented by the Source's generation.
type statusInputs struct {
	Generation    uint64 `json:"generation"`
	Connected     bool   `json:"connected"`
	Alerting      bool   `json:"alerting"`
	Alertmanagers any    `json:"alertmanagers,omitempty"`
	Cluster       any    `json:"cluster,omitempty"`
}

func (h *handler) statusInputs() statusInputs {
	opts := h.opts
	in := statusInputs{
		// First: the snapshot rendered later is at least this new.
		Generation: opts.Source.Generation(),
		Connected:  opts.Source.Connected(),
		Alerting:   opts.Alerting != nil && opts.Alerting(),
	}
	if opts.Alertmanagers != nil {
		in.Alertmanagers = sortedKeys(opts.Alertmanagers())
	}
	if opts.Cluster != nil {
		in.Cluster = sortedKeys(opts.Cluster())
	}
	return in
}

// statusDocument builds the legacy /status view: the shape of the
// original README plus extra keys.
func statusDocument(opts Options, in statusInputs) map[string]any {
	compl := map[string]any{}
	stats := map[string]any{}
	unreadable := map[string]string{}
	for _, st := range opts.Source.Snapshot() {
		compl[st.Spec.Path] = complianceValue(st.Result)
		if v, ok := statValue(st); ok {
			stats[st.Spec.Path] = v
		}
		if st.Unreadable() {
			unreadable[st.Spec.Path] = st.Observation.ReadError
		}
	}
	alerter := map[string]any{"alerting": in.Alerting}
	if in.Alertmanagers != nil {
		alerter["alertmanagers"] = in.Alertmanagers
	}
	monitor := map[string]any{
		"alerter":    alerter,
		"compliance": compl,
	}
	if len(stats) > 0 {
		monitor["stat"] = stats
	}
	// Only when there are any: the legacy view stays as it was.
	if len(unreadable) > 0 {
		monitor["unreadable"] = unreadable
	}
	doc := map[string]any{
		"monitor":   monitor,
		"version":   opts.Version,
		"zookeeper": map[string]any{"connected": in.Connected},
	}
	if in.Cluster != nil {
		doc["cluster"] = in.Cluster
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

// statValue shows what the checks on a znode's Stat looked at when it was
// last read: the owner's session in hex as ZooKeeper writes it ("0x0" for
// a persistent node), the size of its data and when it was last written
// (ZooKeeper's mtime). Only for paths with such checks, once read.
func statValue(st *collector.PathState) (map[string]any, bool) {
	obs := st.Observation
	if !st.Spec.ChecksStat() || !obs.Known || !obs.Exists {
		return nil, false
	}
	return map[string]any{
		"ephemeral_owner": compliance.SessionID(obs.EphemeralOwner),
		"data_bytes":      obs.DataLength,
		"modified":        obs.Modified.UTC().Format("2006-01-02T15:04:05.000Z07:00"),
	}, true
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
	in := h.statusInputs()
	key, err := json.Marshal(in)
	if err != nil {
		h.internalError(w, "encoding /status inputs failed", err)
		return
	}
	b, err := h.statusPage.get(string(key), func() (*body, error) {
		doc, err := renderJSON(statusDocument(h.opts, in))
		return newBody("application/json; charset=utf-8", doc), err
	})
	if err != nil {
		h.internalError(w, "encoding /status failed", err)
		return
	}
	respond(w, r, b, h.write, h.metrics.cut.WithLabelValues(handlerStatus), h.opts.Logger)
}

// renderJSON encodes v indented by four spaces, as the original did.
func renderJSON(v any) ([]byte, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetIndent("", "    ")
	err := enc.Encode(v)
	return buf.Bytes(), err
}

// mustJSON is renderJSON for values that always encode.
func mustJSON(v any) []byte {
	b, err := renderJSON(v)
	if err != nil {
		panic(err)
	}
	return b
}

func (h *handler) internalError(w http.ResponseWriter, msg string, err error) {
	level.Error(h.opts.Logger).Log("msg", msg, "err", err)
	http.Error(w, "internal error", http.StatusInternalServerError)
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

// rootOnly answers 404 for every path but "/", before next takes a turn
// of the page budget.
func (h *handler) rootOnly(next http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/" {
			http.NotFound(w, r)
			return
		}
		next(w, r)
	}
}

func (h *handler) landing(w http.ResponseWriter, r *http.Request) {
	cut := h.metrics.cut.WithLabelValues(handlerLanding)
	if wantsJSON(r) {
		respond(w, r, h.landingJSON, h.write, cut, h.opts.Logger)
		return
	}
	// The generation first: the snapshot rendered is at least this new.
	gen := h.opts.Source.Generation()
	connected := h.opts.Source.Connected()
	alerting := h.opts.Alerting != nil && h.opts.Alerting()
	cl := landingCluster(h.opts)
	key := fmt.Sprintf("%d %t %t %v", gen, connected, alerting, cl)
	b, err := h.landingPage.get(key, func() (*body, error) {
		type row struct {
			Path, State, Message string
			Children             any
		}
		var rows, unreadable []row
		for _, st := range h.opts.Source.Snapshot() {
			var children any = "-"
			if st.Observation.Known {
				children = st.Observation.Children
			}
			r := row{st.Spec.Path, st.Result.State.String(), st.Result.Message, children}
			if st.Unreadable() {
				r.State = "unreadable"
				unreadable = append(unreadable, row{Path: st.Spec.Path, Message: st.Observation.ReadError})
			}
			rows = append(rows, r)
		}
		var buf bytes.Buffer
		err := landingTemplate.Execute(&buf, map[string]any{
			"Version":       h.opts.Version,
			"Revision":      version.Revision,
			"Cluster":       cl,
			"TelemetryPath": h.opts.TelemetryPath,
			"Connected":     connected,
			"Alerting":      alerting,
			"Rows":          rows,
			"Unreadable":    unreadable,
			"Rendered":      time.Now().UTC().Format(time.RFC3339),
		})
		return newBody("text/html; charset=utf-8", buf.Bytes()), err
	})
	if err != nil {
		h.internalError(w, "rendering landing page failed", err)
		return
	}
	respond(w, r, b, h.write, cut, h.opts.Logger)
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
.ok { color: #1a7f37; } .error, .unreadable { color: #cf222e; font-weight: bold; } .unknown { color: #6e7781; }
</style></head>
<body>
<header><h1>zk_monitor</h1><p>ZooKeeper znode compliance exporter, version {{.Version}}{{with .Revision}} (revision {{.}}){{end}}.</p></header>
<ul>
<li><a href="{{.TelemetryPath}}">Metrics</a></li>
<li><a href="/status">Status (JSON)</a></li>
<li><a href="/-/ready">Readiness</a> · <a href="/-/healthy">Health</a></li>
</ul>
{{with .Cluster}}<p>Cluster <b>{{.Name}}</b> · leader: <b>{{or .Leader "none"}}</b> · {{len .Agents}} agent{{if ne (len .Agents) 1}}s{{end}}:{{range .Agents}} {{.}}{{end}} · this agent: {{.Agent}}</p>
{{end}}<p>ZooKeeper connected: <b>{{.Connected}}</b> · this agent sends alerts: <b>{{.Alerting}}</b> · rendered {{.Rendered}}</p>
{{with .Unreadable}}<p class="unreadable">{{len .}} path{{if ne (len .) 1}}s{{end}} cannot be read (ZnodeUnreadable):</p>
<ul>
{{range .}}<li>{{.Path}}: {{.Message}}</li>
{{end}}</ul>
{{end}}<table>
<tr><th>Path</th><th>State</th><th>Children</th><th>Message</th></tr>
{{range .Rows}}<tr><td>{{.Path}}</td><td class="{{.State}}">{{.State}}</td><td>{{.Children}}</td><td>{{.Message}}</td></tr>
{{else}}<tr><td colspan="4">No paths are configured.</td></tr>
{{end}}</table>
</body>
</html>
`))
