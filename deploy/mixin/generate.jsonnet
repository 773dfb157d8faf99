// The files generated from the mixin, by path under deploy/. The Go
// generator (deploy/mixin/cmd/generate) writes them, YAML where the name
// says so. The external variable config is a jsonnet object merged into
// _config (default {}).
local mixin = (import 'mixin.libsonnet') + { _config+:: std.parseJson(std.extVar('config')) };
local groups = mixin.prometheusRules.groups + mixin.prometheusAlerts.groups;
{
  'prometheus/rules/zk_monitor.rules.yml': { groups: groups },
  'grafana/zk_monitor.json': mixin.grafanaDashboards['zk_monitor.json'],
  // For the Prometheus Operator.
  'kubernetes/prometheusrule.yaml': {
    apiVersion: 'monitoring.coreos.com/v1',
    kind: 'PrometheusRule',
    metadata: {
      name: 'zk-monitor',
      namespace: 'zk-monitor',
      labels: { 'app.kubernetes.io/name': 'zk-monitor' },
    },
    spec: { groups: groups },
  },
}
