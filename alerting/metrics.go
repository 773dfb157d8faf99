package alerting

import (
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promauto"
)

// metrics are the alerter's own metrics. Per-Alertmanager ones are labelled
// with the Alertmanager's URL (its password redacted).
type metrics struct {
	sent          *prometheus.CounterVec
	failed        *prometheus.CounterVec
	dropped       *prometheus.CounterVec
	queueLength   *prometheus.GaugeVec
	latency       *prometheus.HistogramVec
	lastSuccess   *prometheus.GaugeVec
	active        prometheus.Gauge
	invalidLabels prometheus.Counter

	records        prometheus.Gauge
	recordsPending prometheus.Gauge
	recordFailures *prometheus.CounterVec
}

func newMetrics(reg prometheus.Registerer) *metrics {
	f := promauto.With(reg)
	am := []string{"alertmanager"}
	m := &metrics{
		sent: f.NewCounterVec(prometheus.CounterOpts{
			Name: "zk_monitor_alertmanager_alerts_sent_total",
			Help: "Total number of alerts the Alertmanager accepted.",
		}, am),
		failed: f.NewCounterVec(prometheus.CounterOpts{
			Name: "zk_monitor_alertmanager_alerts_failed_total",
			Help: "Total number of alerts in requests to the Alertmanager that failed.",
		}, am),
		dropped: f.NewCounterVec(prometheus.CounterOpts{
			Name: "zk_monitor_alertmanager_alerts_dropped_total",
			Help: "Total number of alerts dropped because the Alertmanager's queue was full.",
		}, am),
		queueLength: f.NewGaugeVec(prometheus.GaugeOpts{
			Name: "zk_monitor_alertmanager_queue_length",
			Help: "Number of alerts waiting to be sent to the Alertmanager.",
		}, am),
		latency: f.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "zk_monitor_alertmanager_request_duration_seconds",
			Help:    "Duration of requests posting alerts to the Alertmanager.",
			Buckets: prometheus.DefBuckets,
		}, am),
		lastSuccess: f.NewGaugeVec(prometheus.GaugeOpts{
			Name: "zk_monitor_alertmanager_last_success_timestamp_seconds",
			Help: "Unix time of the last request the Alertmanager accepted.",
		}, am),
		active: f.NewGauge(prometheus.GaugeOpts{
			Name: "zk_monitor_alerts_active",
			Help: "Number of alerts currently firing.",
		}),
		invalidLabels: f.NewCounter(prometheus.CounterOpts{
			Name: "zk_monitor_alerts_invalid_labels_total",
			Help: "Total number of labels left out of alerts because Alertmanager would reject their name or value.",
		}),
		records: f.NewGauge(prometheus.GaugeOpts{
			Name: "zk_monitor_alert_records",
			Help: "Number of firing alerts recorded in ZooKeeper for the next leader, as this agent wrote or read them; 0 unless it leads.",
		}),
		recordsPending: f.NewGauge(prometheus.GaugeOpts{
			Name: "zk_monitor_alert_records_pending",
			Help: "Number of changes of the firing alerts not yet recorded in ZooKeeper; 0 unless this agent leads.",
		}),
		recordFailures: f.NewCounterVec(prometheus.CounterOpts{
			Name: "zk_monitor_alert_record_failures_total",
			Help: "Total number of failed reads (load), writes (write) and encodings (encode) of the firing alerts recorded in ZooKeeper.",
		}, []string{"op"}),
	}
	for _, op := range []string{"load", "write", "encode"} {
		m.recordFailures.WithLabelValues(op)
	}
	return m
}

// forAlertmanager creates the series of one Alertmanager, so they exist
// before anything happens.
func (m *metrics) forAlertmanager(name string) {
	m.sent.WithLabelValues(name)
	m.failed.WithLabelValues(name)
	m.dropped.WithLabelValues(name)
	m.queueLength.WithLabelValues(name)
	m.latency.WithLabelValues(name)
	m.lastSuccess.WithLabelValues(name)
}
