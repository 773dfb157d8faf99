// The zk_monitor mixin: Prometheus recording rules and alerts about
// zk_monitor itself, and its Grafana dashboard, in the layout of the
// monitoring mixins (github.com/monitoring-mixins/docs).
(import 'config.libsonnet') +
(import 'rules.libsonnet') +
(import 'alerts.libsonnet') +
(import 'dashboards.libsonnet')
