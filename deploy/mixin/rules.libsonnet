// Recording rules about zk_monitor itself.
{
  prometheusRules+:: {
    groups+: [
      {
        name: 'zk_monitor.rules',
        rules: [
          {
            // Agents of each cluster that hold the leadership (should be 1).
            record: 'job_%(clusterLabel)s:zk_monitor_cluster_leader:sum' % $._config,
            expr: 'sum by (job, %(clusterLabel)s) (zk_monitor_cluster_leader{%(zkMonitorSelector)s})' % $._config,
          },
          {
            // Agents of each cluster connected to ZooKeeper; other metrics
            // get the cluster from zk_monitor_cluster_info (always 1).
            record: 'job_%(clusterLabel)s:zk_monitor_zookeeper_connected:sum' % $._config,
            expr: |||
              sum by (job, %(clusterLabel)s) (
                zk_monitor_zookeeper_connected{%(zkMonitorSelector)s}
                * on (job, instance) group_left (%(clusterLabel)s) zk_monitor_cluster_info{%(zkMonitorSelector)s}
              )
            ||| % $._config,
          },
          {
            // Compliance of each path of each cluster as the least compliant
            // agent sees it (absent while no agent knows).
            record: 'job_%(clusterLabel)s_path:zk_monitor_znode_compliant:min' % $._config,
            expr: |||
              min by (job, %(clusterLabel)s, path) (
                zk_monitor_znode_compliant{%(zkMonitorSelector)s}
                * on (job, instance) group_left (%(clusterLabel)s) zk_monitor_cluster_info{%(zkMonitorSelector)s}
              )
            ||| % $._config,
          },
          {
            record: 'job_alertmanager:zk_monitor_alertmanager_alerts_sent:rate5m',
            expr: 'sum by (job, alertmanager) (rate(zk_monitor_alertmanager_alerts_sent_total{%(zkMonitorSelector)s}[5m]))' % $._config,
          },
          {
            record: 'job_alertmanager:zk_monitor_alertmanager_alerts_failed:rate5m',
            expr: 'sum by (job, alertmanager) (rate(zk_monitor_alertmanager_alerts_failed_total{%(zkMonitorSelector)s}[5m]))' % $._config,
          },
        ],
      },
    ],
  },
}
