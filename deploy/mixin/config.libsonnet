// Configuration of the zk_monitor mixin. Override any of these in your own
// jsonnet: (import 'mixin.libsonnet') + { _config+:: { zkMonitorSelector: 'job="zk"' } }.
{
  _config+:: {
    // Selects the series scraped from zk_monitor agents; it is inserted
    // between {} in every rule and in the dashboard's variables.
    zkMonitorSelector: 'job="zk_monitor"',

    // The label naming a zk_monitor cluster (the agents' --cluster_name) on
    // the cluster metrics and zk_monitor_cluster_info.
    clusterLabel: 'cluster',

    // Alerting thresholds.
    agentDownFor: '5m',
    noLeaderFor: '1m',
    splitBrainFor: '1m',
    zookeeperDisconnectedFor: '2m',
    deliveryFailingFor: '5m',
    configReloadFailedFor: '5m',
    noLeaderSeverity: 'critical',

    // The dashboard.
    dashboardTitle: 'zk_monitor',
    dashboardUid: 'zk-monitor',
    dashboardTags: ['zk_monitor', 'zookeeper'],
    dashboardRefresh: '30s',
  },
}
