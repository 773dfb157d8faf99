package web

import "github.com/prometheus/client_golang/prometheus"

// The handlers that render pages, as the handler label names them.
const (
	handlerMetrics = "metrics"
	handlerStatus  = "status"
	handlerLanding = "landing"
)

// metrics are the web server's own: how often pages are rendered, and
// what slow or too many clients cost.
type metrics struct {
	renders  *prometheus.CounterVec
	rejected *prometheus.CounterVec
	cut      *prometheus.CounterVec
	reused   prometheus.Counter
}

// newMetrics registers the metrics on reg, unless it is nil.
func newMetrics(reg prometheus.Registerer) *metrics {
	perHandler := func(name, help string) *prometheus.CounterVec {
		return prometheus.NewCounterVec(prometheus.CounterOpts{Name: name, Help: help}, []string{"handler"})
	}
	m := &metrics{
		renders: perHandler("zk_monitor_http_renders_total",
			"Times a page was rendered; between changes of what it shows, every request gets the same rendering."),
		rejected: perHandler("zk_monitor_http_rejected_requests_total",
			"Requests answered 503 because their handler already served as many requests as it may."),
		cut: perHandler("zk_monitor_http_cut_responses_total",
			"Responses cut off because the client did not take them in time."),
		reused: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "zk_monitor_http_reused_scrapes_total",
			Help: "Scrapes answered with the latest rendering instead of a new one because slow clients held the memory budget of scrapes.",
		}),
	}
	for _, h := range []string{handlerMetrics, handlerStatus, handlerLanding} {
		m.renders.WithLabelValues(h)
		m.rejected.WithLabelValues(h)
		m.cut.WithLabelValues(h)
	}
	if reg != nil {
		reg.MustRegister(m.renders, m.rejected, m.cut, m.reused)
	}
	return m
}
