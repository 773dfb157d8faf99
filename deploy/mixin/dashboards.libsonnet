// The Grafana dashboard (Grafana 10+). Built for fleets: the Cluster, Job
// and Agent variables narrow every query, and the per-path part shows
// counts, a top list and tables instead of one panel per path, so it stays
// usable with 10,000 paths. It only uses metrics the agent serves by default
// (deploy/testdata/exported_metrics.txt).
local ds = { type: 'prometheus', uid: '${datasource}' };

{
  local c = $._config,

  // Matchers of every query: the mixin's selector, then the variables.
  // Every series of an agent carries job and instance; the cluster
  // metrics and zk_monitor_cluster_info also carry the cluster label, and
  // the Agent variable only lists agents of the selected clusters.
  local agents = '%(zkMonitorSelector)s,job=~"$job",instance=~"$instance"' % c,
  local clusters = '%(zkMonitorSelector)s,job=~"$job",%(clusterLabel)s=~"$cluster",instance=~"$instance"' % c,
  local paths = agents + ',path=~"$path"',

  local target(expr, legend='__auto', ref='A', table=false) = {
    datasource: ds,
    editorMode: 'code',
    expr: expr,
    refId: ref,
    legendFormat: legend,
    [if table then 'format']: 'table',
    instant: table,
    range: !table,
  },
  local refs = ['A', 'B', 'C', 'D', 'E', 'F', 'G', 'H'],
  // targets turns [expr] or [[expr, legend]] into targets A, B, ...
  local targets(list, table=false) = [
    local e = list[i];
    if std.isArray(e) then target(e[0], e[1], refs[i], table) else target(e, '__auto', refs[i], table)
    for i in std.range(0, std.length(list) - 1)
  ],
  local pos(x, y, w, h) = { gridPos: { x: x, y: y, w: w, h: h } },
  local thresholds(steps) = { mode: 'absolute', steps: [{ color: steps[0], value: null }] + [
    { color: s[1], value: s[0] }
    for s in steps[1:]
  ] },
  local valueMap(m) = [{ type: 'value', options: {
    [k]: { text: m[k][0], color: m[k][1], index: std.length(std.objectFields(m)) - 1 }
    for k in std.objectFields(m)
  } }],
  local okMap = valueMap({ '1': ['OK', 'green'], '0': ['ERROR', 'red'], '-1': ['UNKNOWN', 'yellow'] }),
  local byName(name, props) = { matcher: { id: 'byName', options: name }, properties: props },
  local colorCells = { id: 'custom.cellOptions', value: { type: 'color-background', mode: 'basic' } },

  local row(title, y) = pos(0, y, 24, 1) + { type: 'row', title: title, collapsed: false, panels: [] },

  // A stat of whole numbers: decimals where Grafana reads it, in
  // fieldConfig.defaults (under custom it is ignored).
  local stat(title, description, expr, steps) = {
    type: 'stat',
    title: title,
    description: description,
    datasource: ds,
    targets: targets([expr]),
    fieldConfig: { defaults: {
      color: { mode: 'thresholds' },
      decimals: 0,
      thresholds: thresholds(steps),
      unit: 'short',
    }, overrides: [] },
    options: {
      reduceOptions: { calcs: ['lastNotNull'], fields: '', values: false },
      colorMode: 'background',
      graphMode: 'none',
      justifyMode: 'auto',
      orientation: 'auto',
      textMode: 'auto',
    },
  },

  local timeseries(title, description, exprs, unit='short', decimals=null, stack=false) = {
    type: 'timeseries',
    title: title,
    description: description,
    datasource: ds,
    targets: targets(exprs),
    fieldConfig: { defaults: {
      color: { mode: 'palette-classic' },
      custom: {
        drawStyle: 'line',
        lineWidth: 1,
        fillOpacity: if stack then 30 else 10,
        showPoints: 'never',
        spanNulls: false,
        axisSoftMin: 0,
        stacking: { mode: if stack then 'normal' else 'none', group: 'A' },
      },
      unit: unit,
      [if decimals != null then 'decimals']: decimals,
    }, overrides: [] },
    options: {
      legend: { displayMode: 'list', placement: 'bottom', showLegend: true },
      tooltip: { mode: 'multi', sort: 'desc' },
    },
  },

  local timeline(title, description, expr, mappings) = {
    type: 'state-timeline',
    title: title,
    description: description,
    datasource: ds,
    targets: targets([expr]),
    fieldConfig: { defaults: {
      color: { mode: 'thresholds' },
      custom: { fillOpacity: 70, lineWidth: 0 },
      mappings: mappings,
      thresholds: thresholds(['text']),
    }, overrides: [] },
    options: {
      alignValue: 'left',
      mergeValues: true,
      rowHeight: 0.9,
      showValue: 'auto',
      legend: { displayMode: 'list', placement: 'bottom', showLegend: false },
      tooltip: { mode: 'single', sort: 'none' },
    },
  },

  // A table of instant queries merged on their labels. columns maps the
  // frames' field names to titles, in order; other fields are hidden.
  local table(title, description, exprs, columns, overrides=[], sortBy=null) = {
    type: 'table',
    title: title,
    description: description,
    datasource: ds,
    targets: targets(exprs, table=true),
    fieldConfig: { defaults: {
      custom: { align: 'auto', cellOptions: { type: 'auto' }, inspect: false, filterable: true },
      color: { mode: 'thresholds' },
      thresholds: thresholds(['text']),
      decimals: 0,
    }, overrides: overrides },
    options: {
      showHeader: true,
      cellHeight: 'sm',
      footer: { show: false, reducer: ['sum'], fields: '', countRows: false, enablePagination: true },
      [if sortBy != null then 'sortBy']: [{ displayName: sortBy[0], desc: sortBy[1] }],
    },
    transformations: [
      { id: 'merge', options: {} },
      { id: 'organize', options: {
        // Hide every field not named in columns.
        excludeByName: { Time: true } + {
          ['Value #' + r]: true
          for r in refs
          if !std.objectHas(columns, 'Value #' + r)
        },
        indexByName: { [std.objectFields(columns)[i]]: i for i in std.range(0, std.length(columns) - 1) },
        renameByName: columns,
      } },
    ],
  },

  local verdict = |||
    min by (path) (zk_monitor_znode_compliant{%(p)s})
    or on (path) (max by (path) (zk_monitor_znode_stale{%(p)s}) * 0 - 1)
  ||| % { p: paths },

  local overview = [
    row('Overview', 0),
    stat('Watched paths', 'Znode paths each selected agent watches (the most of them), glob matches included.',
         'max(zk_monitor_watched_paths{%s})' % agents, ['blue']) + pos(0, 1, 4, 4),
    stat('Non-compliant paths', 'Paths matching the Path filter that at least one selected agent sees out of spec.',
         'count(min by (path) (zk_monitor_znode_compliant{%s}) == 0) or vector(0)' % paths, ['green', [1, 'red']]) + pos(4, 1, 4, 4),
    stat('Paths without a verdict', 'Paths that are stale (ZooKeeper connection lost, not read again yet), never read, or without checks.',
         |||
           count(
             max by (path) (zk_monitor_znode_stale{%(p)s}) == 1
             or max by (path) (zk_monitor_znode_stale{%(p)s}) unless on (path) max by (path) (zk_monitor_znode_compliant{%(p)s})
           ) or vector(0)
         ||| % { p: paths }, ['green', [1, 'yellow']]) + pos(8, 1, 4, 4),
    stat('Clusters without one leader', 'Selected clusters where not exactly one agent is the leader. Only the leader sends alerts.',
         'count(sum by (job, %(l)s) (zk_monitor_cluster_leader{%(s)s}) != 1) or vector(0)' % { l: c.clusterLabel, s: clusters },
         ['green', [1, 'red']]) + pos(12, 1, 4, 4),
    stat('Agents up', 'Selected agents Prometheus can scrape.',
         'sum(up{%s})' % agents, ['red', [1, 'green']]) + pos(16, 1, 4, 4),
    stat('Alerts firing', 'ZnodeNotCompliant alerts the leaders currently send.',
         'sum(max by (job, %(l)s) (zk_monitor_alerts_active{%(a)s} * on (job, instance) group_left (%(l)s) zk_monitor_cluster_info{%(s)s}))' % { l: c.clusterLabel, a: agents, s: clusters },
         ['green', [1, 'orange']]) + pos(20, 1, 4, 4),
  ],

  local compliance = [
    row('Paths', 5),
    table('Non-compliant paths (top 50, longest unchanged first)',
          'Paths out of spec on at least one selected agent, those whose znode changed longest ago first, with their children and limits. At most 50 rows: narrow with the Path filter.',
          [
            |||
              topk(50,
                time() - max by (path) (zk_monitor_znode_last_change_timestamp_seconds{%(p)s})
                and on (path) (min by (path) (zk_monitor_znode_compliant{%(p)s}) == 0)
              )
            ||| % { p: paths },
            'max by (path) (zk_monitor_znode_children{%s}) and on (path) (min by (path) (zk_monitor_znode_compliant{%s}) == 0)' % [paths, paths],
            'max by (path, min_children, max_children) (zk_monitor_znode_spec_info{%s}) and on (path) (min by (path) (zk_monitor_znode_compliant{%s}) == 0)' % [paths, paths],
          ],
          { path: 'Path', 'Value #A': 'Unchanged for', 'Value #B': 'Children', min_children: 'Minimum', max_children: 'Maximum' },
          [
            byName('Unchanged for', [{ id: 'unit', value: 's' }]),
            byName('Path', [{ id: 'custom.width', value: 420 }]),
          ],
          ['Unchanged for', true]) + pos(0, 6, 14, 10),
    table('Failing checks', 'Each failing check of a path with two checks or more (zk_monitor_znode_check_passing 0): children, max_children, exists or data. A path with a single check shows only in Non-compliant paths: that check is the one failing. At most 200 rows.',
          ['topk(200, min by (path, check) (zk_monitor_znode_check_passing{%s}) == 0)' % paths],
          { path: 'Path', check: 'Failing check' },
          [byName('Failing check', [colorCells, { id: 'color', value: { mode: 'fixed', fixedColor: 'red' } }])]) + pos(14, 6, 10, 10),
    timeseries('Paths by verdict', 'Paths matching the Path filter that are out of spec, and those without a verdict (stale, never read, without checks), over time.', [
      ['count(min by (path) (zk_monitor_znode_compliant{%s}) == 0) or vector(0)' % paths, 'non-compliant'],
      ['count(max by (path) (zk_monitor_znode_stale{%s}) == 1) or vector(0)' % paths, 'stale'],
    ], decimals=0) + pos(0, 16, 12, 8),
    timeseries('Children (top 20 paths)', 'Direct children of the 20 paths matching the Path filter that have the most (highest of the selected agents). Set the Path filter to a path to follow it alone.', [
      ['topk(20, max by (path) (zk_monitor_znode_children{%s}))' % paths, '{{path}}'],
    ], decimals=0) + pos(12, 16, 12, 8),
    table('Compliance per path', 'One row per path matching the Path filter: its verdict as the least compliant selected agent sees it (OK, ERROR, or UNKNOWN when there is none), its children against the configured limits, and when it last changed. Paginated; narrow it with the Path filter (a regular expression).',
          [
            verdict,
            'max by (path) (zk_monitor_znode_children{%s})' % paths,
            'max by (path, min_children, max_children) (zk_monitor_znode_spec_info{%s})' % paths,
            'max by (path) (zk_monitor_znode_exists{%s})' % paths,
            'max by (path) (zk_monitor_znode_stale{%s})' % paths,
            'max by (path) (zk_monitor_znode_last_change_timestamp_seconds{%s}) * 1000' % paths,
          ],
          {
            path: 'Path',
            'Value #A': 'State',
            'Value #B': 'Children',
            min_children: 'Minimum',
            max_children: 'Maximum',
            'Value #D': 'Exists',
            'Value #E': 'Stale',
            'Value #F': 'Last change',
          },
          [
            byName('State', [{ id: 'mappings', value: okMap }, colorCells]),
            byName('Exists', [{ id: 'mappings', value: valueMap({ '1': ['yes', 'green'], '0': ['no', 'text'] }) }]),
            byName('Stale', [{ id: 'mappings', value: valueMap({ '1': ['stale', 'orange'], '0': ['fresh', 'transparent'] }) }, colorCells]),
            byName('Last change', [{ id: 'unit', value: 'dateTimeFromNow' }]),
            byName('Path', [{ id: 'custom.width', value: 420 }]),
          ],
          ['State', false]) + pos(0, 24, 24, 12),
  ],

  local cluster = [
    row('Cluster', 36),
    table('Clusters and agents', 'Each selected agent: its cluster (--cluster_name), workspace and ZooKeeper (servers and chroot), whether it leads, and the agents it sees.',
          [
            'max by (%(l)s, workspace, zookeeper, instance) (zk_monitor_cluster_info{%(s)s})' % { l: c.clusterLabel, s: clusters },
            'max by (%(l)s, instance) (zk_monitor_cluster_leader{%(s)s})' % { l: c.clusterLabel, s: clusters },
            'max by (%(l)s, instance) (zk_monitor_cluster_agents{%(s)s})' % { l: c.clusterLabel, s: clusters },
          ],
          { [c.clusterLabel]: 'Cluster', instance: 'Agent', workspace: 'Workspace', zookeeper: 'ZooKeeper', 'Value #B': 'Leader', 'Value #C': 'Agents seen' },
          [byName('Leader', [{ id: 'mappings', value: valueMap({ '1': ['leader', 'green'], '0': ['follower', 'text'] }) }])],
          ['Cluster', false]) + pos(0, 37, 12, 8),
    timeseries('Leaders per cluster', 'Agents of each cluster that claim the lead: exactly 1 is healthy, 0 means nobody sends alerts, 2 or more send duplicates.', [
      ['sum by (%(l)s) (zk_monitor_cluster_leader{%(s)s})' % { l: c.clusterLabel, s: clusters }, '{{%s}}' % c.clusterLabel],
    ], decimals=0) + pos(12, 37, 12, 8),
    timeline('Leader per agent', 'Which agent held the leadership over time.',
             'max by (%(l)s, instance) (zk_monitor_cluster_leader{%(s)s})' % { l: c.clusterLabel, s: clusters },
             valueMap({ '1': ['leader', 'green'], '0': ['follower', 'transparent'] })) + pos(0, 45, 12, 8),
    timeseries('Leader changes', 'Leader changes each agent observed.', [
      ['sum by (instance) (increase(zk_monitor_cluster_leader_changes_total{%s}[$__rate_interval]))' % clusters, '{{instance}}'],
    ], decimals=0) + pos(12, 45, 12, 8),
  ],

  local zookeeper = [
    row('ZooKeeper', 53),
    timeline('ZooKeeper connection', 'Whether each agent has a live ZooKeeper session.',
             'max by (instance) (zk_monitor_zookeeper_connected{%s})' % agents,
             valueMap({ '1': ['connected', 'green'], '0': ['disconnected', 'red'] })) + pos(0, 54, 12, 8),
    timeseries('Reconnects and session expirations', 'Reconnections to ZooKeeper and expired sessions, per agent.', [
      ['sum by (instance) (increase(zk_monitor_zookeeper_reconnects_total{%s}[$__rate_interval]))' % agents, 'reconnects {{instance}}'],
      ['sum by (instance) (increase(zk_monitor_zookeeper_session_expirations_total{%s}[$__rate_interval]))' % agents, 'expirations {{instance}}'],
    ], decimals=0) + pos(12, 54, 12, 8),
    timeseries('Watch events', 'ZooKeeper watch events per second, by type, all selected agents.', [
      ['sum by (type) (rate(zk_monitor_zookeeper_watch_events_total{%s}[$__rate_interval]))' % agents, '{{type}}'],
    ], unit='ops') + pos(0, 62, 12, 8),
    timeseries('ZooKeeper requests', 'Requests to ZooKeeper per second and their failures, by operation, all selected agents.', [
      ['sum by (op) (rate(zk_monitor_zookeeper_requests_total{%s}[$__rate_interval]))' % agents, '{{op}}'],
      ['sum by (op) (rate(zk_monitor_zookeeper_request_failures_total{%s}[$__rate_interval]))' % agents, 'failed {{op}}'],
    ], unit='reqps') + pos(12, 62, 12, 8),
  ],

  local delivery = [
    row('Alert delivery', 70),
    timeseries('Alerts sent, failed and dropped', 'Alerts per second handed to each Alertmanager, failed, and dropped because the queue was full.', [
      ['sum by (alertmanager) (rate(zk_monitor_alertmanager_alerts_sent_total{%s}[$__rate_interval]))' % agents, 'sent {{alertmanager}}'],
      ['sum by (alertmanager) (rate(zk_monitor_alertmanager_alerts_failed_total{%s}[$__rate_interval]))' % agents, 'failed {{alertmanager}}'],
      ['sum by (alertmanager) (rate(zk_monitor_alertmanager_alerts_dropped_total{%s}[$__rate_interval]))' % agents, 'dropped {{alertmanager}}'],
    ], unit='ops') + pos(0, 71, 12, 8),
    timeseries('Queue length', 'Alerts waiting to be sent, per agent and Alertmanager.', [
      ['max by (instance, alertmanager) (zk_monitor_alertmanager_queue_length{%s})' % agents, '{{instance}} → {{alertmanager}}'],
    ], decimals=0) + pos(12, 71, 12, 8),
    timeseries('Alertmanager request duration', 'Median and 99th percentile of a request to each Alertmanager.', [
      ['histogram_quantile(0.5, sum by (le, alertmanager) (rate(zk_monitor_alertmanager_request_duration_seconds_bucket{%s}[$__rate_interval])))' % agents, 'p50 {{alertmanager}}'],
      ['histogram_quantile(0.99, sum by (le, alertmanager) (rate(zk_monitor_alertmanager_request_duration_seconds_bucket{%s}[$__rate_interval])))' % agents, 'p99 {{alertmanager}}'],
    ], unit='s') + pos(0, 79, 12, 8),
    timeseries('Since last successful delivery', 'Time since each Alertmanager last accepted alerts from a selected agent (only agents that ever sent).', [
      ['time() - max by (alertmanager) (zk_monitor_alertmanager_last_success_timestamp_seconds{%s} > 0)' % agents, '{{alertmanager}}'],
    ], unit='s') + pos(12, 79, 12, 8),
  ],

  local build = [
    row('Configuration and build', 87),
    timeline('Config reload status', 'Whether each agent\'s last configuration load or reload succeeded.',
             'max by (instance) (zk_monitor_config_last_reload_successful{%s})' % agents,
             valueMap({ '1': ['OK', 'green'], '0': ['FAILED', 'red'] })) + pos(0, 88, 12, 8),
    table('Agents', "Each agent's version and configuration state.",
          [
            'max by (instance, version, revision, goversion) (zk_monitor_build_info{%s})' % agents,
            'max by (instance) (zk_monitor_config_last_reload_successful{%s})' % agents,
            'max by (instance) (zk_monitor_config_last_reload_success_timestamp_seconds{%s}) * 1000' % agents,
          ],
          { instance: 'Agent', version: 'Version', revision: 'Revision', goversion: 'Go', 'Value #B': 'Last reload', 'Value #C': 'Last successful reload' },
          [
            byName('Last reload', [{ id: 'mappings', value: valueMap({ '1': ['OK', 'green'], '0': ['FAILED', 'red'] }) }, colorCells]),
            byName('Last successful reload', [{ id: 'unit', value: 'dateTimeFromNow' }]),
          ]) + pos(12, 88, 12, 8),
  ],

  local variable(name, label, query, all=true) = {
    type: 'query',
    name: name,
    label: label,
    datasource: ds,
    query: query,
    definition: query,
    current: {},
    hide: 0,
    includeAll: all,
    [if all then 'allValue']: '.+',
    multi: true,
    options: [],
    refresh: 2,
    regex: '',
    skipUrlSync: false,
    sort: 1,
  },

  grafanaDashboards+:: {
    'zk_monitor.json': {
      __requires: [
        { type: 'grafana', id: 'grafana', name: 'Grafana', version: '10.0.0' },
        { type: 'datasource', id: 'prometheus', name: 'Prometheus', version: '1.0.0' },
        { type: 'panel', id: 'stat', name: 'Stat', version: '' },
        { type: 'panel', id: 'state-timeline', name: 'State timeline', version: '' },
        { type: 'panel', id: 'table', name: 'Table', version: '' },
        { type: 'panel', id: 'timeseries', name: 'Time series', version: '' },
      ],
      uid: c.dashboardUid,
      title: c.dashboardTitle,
      description: "zk_monitor: compliance of watched ZooKeeper znodes, each cluster's agents and leader, their ZooKeeper sessions and alert delivery to Alertmanager.",
      tags: c.dashboardTags,
      editable: true,
      graphTooltip: 1,
      id: null,
      links: [],
      refresh: c.dashboardRefresh,
      schemaVersion: 39,
      time: { from: 'now-6h', to: 'now' },
      timepicker: {},
      timezone: 'browser',
      version: 1,
      annotations: { list: [
        {
          builtIn: 1,
          datasource: { type: 'grafana', uid: '-- Grafana --' },
          enable: true,
          hide: true,
          iconColor: 'rgba(0, 211, 255, 1)',
          name: 'Annotations & Alerts',
          type: 'dashboard',
        },
        {
          datasource: ds,
          enable: true,
          expr: 'changes(zk_monitor_config_last_reload_success_timestamp_seconds{%s}[2m]) > 0' % agents,
          hide: false,
          iconColor: 'blue',
          name: 'Config reloads',
          step: '1m',
          tagKeys: 'instance',
          textFormat: '{{instance}}',
          titleFormat: 'Configuration reloaded',
        },
      ] },
      templating: { list: [
        {
          type: 'datasource',
          name: 'datasource',
          label: 'Data source',
          query: 'prometheus',
          current: {},
          hide: 0,
          includeAll: false,
          multi: false,
          options: [],
          refresh: 1,
          regex: '',
          skipUrlSync: false,
        },
        variable('job', 'Job', 'label_values(zk_monitor_cluster_info{%(zkMonitorSelector)s}, job)' % c),
        variable('cluster', 'Cluster', 'label_values(zk_monitor_cluster_info{%(zkMonitorSelector)s,job=~"$job"}, %(clusterLabel)s)' % c),
        variable('instance', 'Agent', 'label_values(zk_monitor_cluster_info{%(zkMonitorSelector)s,job=~"$job",%(clusterLabel)s=~"$cluster"}, instance)' % c),
        {
          // A text box, not a list: at 10,000 paths a list of every path
          // is too long to pick from.
          type: 'textbox',
          name: 'path',
          label: 'Path (regex)',
          query: '.+',
          current: { text: '.+', value: '.+' },
          hide: 0,
          options: [{ selected: true, text: '.+', value: '.+' }],
          skipUrlSync: false,
        },
      ] },
      // Panel ids in layout order.
      panels: std.mapWithIndex(function(i, p) p { id: i + 1 }, overview + compliance + cluster + zookeeper + delivery + build),
    },
  },
}
