// Alerts about zk_monitor itself: are the agents up, does each cluster have
// exactly one leader, can the agents reach ZooKeeper and Alertmanager, did
// the last configuration reload work. The alerts about the watched znodes
// are sent by zk_monitor to Alertmanager directly, not from here.
local withCluster(expr, config) =
  // An agent's own metrics carry no cluster label; zk_monitor_cluster_info
  // (always 1, same job and instance) adds it, so these alerts can be
  // routed per cluster like the cluster-wide ones.
  |||
    (
      %s
    )
    * on (job, instance) group_left (%s) zk_monitor_cluster_info{%s}
  ||| % [std.rstripChars(std.strReplace(expr, '\n', '\n  '), ' \n'), config.clusterLabel, config.zkMonitorSelector];

{
  prometheusAlerts+:: {
    groups+: [
      {
        name: 'zk_monitor.alerts',
        rules: [
          {
            alert: 'ZkMonitorDown',
            expr: 'up{%(zkMonitorSelector)s} == 0' % $._config,
            'for': $._config.agentDownFor,
            labels: { severity: 'warning' },
            annotations: {
              summary: 'zk_monitor agent {{ $labels.instance }} is down.',
              description: 'Prometheus has failed to scrape the zk_monitor agent {{ $labels.instance }} (job {{ $labels.job }}) for %(agentDownFor)s. The other agents keep watching ZooKeeper; if this agent was the leader, another one takes over sending alerts once its ZooKeeper session expires.' % $._config,
            },
          },
          {
            // Per cluster: another cluster's leader in the same job must
            // not hide this one's absence. absent() covers a job where no
            // agent reports the metric at all.
            alert: 'ZkMonitorNoLeader',
            expr: |||
              sum by (job, %(clusterLabel)s) (zk_monitor_cluster_leader{%(zkMonitorSelector)s}) == 0
              or
              absent(zk_monitor_cluster_leader{%(zkMonitorSelector)s})
            ||| % $._config,
            'for': $._config.noLeaderFor,
            labels: { severity: $._config.noLeaderSeverity },
            annotations: {
              summary: 'No zk_monitor agent {{ with $labels.%(clusterLabel)s }}of cluster {{ . }} {{ end }}is the leader; znode alerts are not being sent.' % $._config,
              description: 'For %(noLeaderFor)s no agent of {{ with $labels.%(clusterLabel)s }}cluster {{ . }} in {{ end }}job {{ $labels.job }} has reported zk_monitor_cluster_leader 1, or no agent reports it at all. Only the leader sends alerts to Alertmanager, so znodes falling out of spec go unnoticed. Check that the agents are up and connected to ZooKeeper, and look at their logs (component=cluster).' % $._config,
            },
          },
          {
            alert: 'ZkMonitorSplitBrain',
            expr: 'sum by (job, %(clusterLabel)s) (zk_monitor_cluster_leader{%(zkMonitorSelector)s}) > 1' % $._config,
            'for': $._config.splitBrainFor,
            labels: { severity: 'warning' },
            annotations: {
              summary: '{{ $value }} zk_monitor agents of cluster {{ $labels.%(clusterLabel)s }} claim to be the leader.' % $._config,
              description: 'For %(splitBrainFor)s {{ $value }} agents of cluster {{ $labels.%(clusterLabel)s }} in job {{ $labels.job }} have reported zk_monitor_cluster_leader 1; exactly one should. Each of them sends alerts, so Alertmanager receives duplicates. Check that all agents use the same --zookeeper ensemble, --cluster_prefix and --cluster_name.' % $._config,
            },
          },
          {
            alert: 'ZkMonitorZooKeeperDisconnected',
            expr: withCluster('zk_monitor_zookeeper_connected{%(zkMonitorSelector)s} == 0' % $._config, $._config),
            'for': $._config.zookeeperDisconnectedFor,
            labels: { severity: 'warning' },
            annotations: {
              summary: 'zk_monitor agent {{ $labels.instance }} is not connected to ZooKeeper.',
              description: "The agent {{ $labels.instance }} has had no ZooKeeper connection for %(zookeeperDisconnectedFor)s. It cannot see changes to the znodes it watches and cannot take part in the leader election. Check the --zookeeper address and the ZooKeeper ensemble's health." % $._config,
            },
          },
          {
            alert: 'ZkMonitorAlertDeliveryFailing',
            expr: withCluster(|||
              sum by (job, instance, alertmanager) (
                rate(zk_monitor_alertmanager_alerts_failed_total{%(zkMonitorSelector)s}[5m])
              ) > 0
            ||| % $._config, $._config),
            'for': $._config.deliveryFailingFor,
            labels: { severity: 'warning' },
            annotations: {
              summary: 'zk_monitor agent {{ $labels.instance }} fails to send alerts to {{ $labels.alertmanager }}.',
              description: "For %(deliveryFailingFor)s the agent {{ $labels.instance }} has failed to deliver {{ printf \"%%.2f\" $value }} alerts per second to the Alertmanager {{ $labels.alertmanager }}. Check that Alertmanager is reachable at the --alertmanager.url given to the agent, and the agent's logs (component=alerting)." % $._config,
            },
          },
          {
            alert: 'ZkMonitorAlertsDropped',
            expr: withCluster(|||
              sum by (job, instance, alertmanager) (
                increase(zk_monitor_alertmanager_alerts_dropped_total{%(zkMonitorSelector)s}[5m])
              ) > 0
            ||| % $._config, $._config),
            labels: { severity: 'warning' },
            annotations: {
              summary: 'zk_monitor agent {{ $labels.instance }} dropped alerts for {{ $labels.alertmanager }}.',
              description: 'The agent {{ $labels.instance }} dropped {{ $value }} alerts meant for the Alertmanager {{ $labels.alertmanager }} in the last 5 minutes, because its send queue was full. These alerts were never delivered.',
            },
          },
          {
            alert: 'ZkMonitorConfigReloadFailed',
            expr: withCluster('zk_monitor_config_last_reload_successful{%(zkMonitorSelector)s} == 0' % $._config, $._config),
            'for': $._config.configReloadFailedFor,
            labels: { severity: 'warning' },
            annotations: {
              summary: 'zk_monitor agent {{ $labels.instance }} failed to reload its configuration.',
              description: "The last reload of the path-spec file on {{ $labels.instance }} failed; the agent keeps running with its previous configuration. Run `zk_monitor check-config FILE` to see the errors, or look for the reload error in the agent's logs.",
            },
          },
        ],
      },
    ],
  },
}
