// The Grafana dashboard.
{
  grafanaDashboards+:: {
    'zk_monitor.json': {
      "__requires": [
        {
          "type": "grafana",
          "id": "grafana",
          "name": "Grafana",
          "version": "10.0.0"
        },
        {
          "type": "datasource",
          "id": "prometheus",
          "name": "Prometheus",
          "version": "1.0.0"
        },
        {
          "type": "panel",
          "id": "stat",
          "name": "Stat",
          "version": ""
        },
        {
          "type": "panel",
          "id": "state-timeline",
          "name": "State timeline",
          "version": ""
        },
        {
          "type": "panel",
          "id": "table",
          "name": "Table",
          "version": ""
        },
        {
          "type": "panel",
          "id": "timeseries",
          "name": "Time series",
          "version": ""
        }
      ],
      "annotations": {
        "list": [
          {
            "builtIn": 1,
            "datasource": {
              "type": "grafana",
              "uid": "-- Grafana --"
            },
            "enable": true,
            "hide": true,
            "iconColor": "rgba(0, 211, 255, 1)",
            "name": "Annotations & Alerts",
            "type": "dashboard"
          },
          {
            "datasource": {
              "type": "prometheus",
              "uid": "${datasource}"
            },
            "enable": true,
            "hide": false,
            "iconColor": "blue",
            "name": "Config reloads",
            "expr": "changes(zk_monitor_config_last_reload_success_timestamp_seconds{job=~\"$job\",instance=~\"$instance\"}[2m]) > 0",
            "step": "1m",
            "titleFormat": "Configuration reloaded",
            "textFormat": "{{instance}}",
            "tagKeys": "instance",
            "useValueForTime": false
          },
          {
            "datasource": {
              "type": "prometheus",
              "uid": "${datasource}"
            },
            "enable": true,
            "hide": false,
            "iconColor": "purple",
            "name": "Leader changes",
            "expr": "changes(zk_monitor_cluster_leader{job=~\"$job\",instance=~\"$instance\"}[2m]) > 0 and zk_monitor_cluster_leader{job=~\"$job\",instance=~\"$instance\"} == 1",
            "step": "1m",
            "titleFormat": "New leader",
            "textFormat": "{{instance}}",
            "tagKeys": "instance",
            "useValueForTime": false
          }
        ]
      },
      "description": "zk_monitor: compliance of watched ZooKeeper znodes, the agents' cluster and leader, their ZooKeeper sessions and alert delivery to Alertmanager.",
      "editable": true,
      "fiscalYearStartMonth": 0,
      "graphTooltip": 1,
      "id": null,
      "links": [],
      "liveNow": false,
      "panels": [
        {
          "type": "row",
          "id": 1,
          "title": "Overview",
          "collapsed": false,
          "gridPos": {
            "h": 1,
            "w": 24,
            "x": 0,
            "y": 0
          },
          "panels": []
        },
        {
          "type": "stat",
          "id": 2,
          "title": "Watched paths",
          "description": "Paths the agents watch (zk_monitor_watched_paths, highest of the selected agents).",
          "datasource": {
            "type": "prometheus",
            "uid": "${datasource}"
          },
          "gridPos": {
            "x": 0,
            "y": 1,
            "w": 4,
            "h": 4
          },
          "targets": [
            {
              "datasource": {
                "type": "prometheus",
                "uid": "${datasource}"
              },
              "editorMode": "code",
              "expr": "max(zk_monitor_watched_paths{job=~\"$job\",instance=~\"$instance\"})",
              "refId": "A",
              "legendFormat": "__auto",
              "range": true,
              "instant": false
            }
          ],
          "fieldConfig": {
            "defaults": {
              "color": {
                "mode": "thresholds"
              },
              "thresholds": {
                "mode": "absolute",
                "steps": [
                  {
                    "color": "blue",
                    "value": null
                  }
                ]
              },
              "unit": "short"
            },
            "overrides": []
          },
          "options": {
            "reduceOptions": {
              "calcs": [
                "lastNotNull"
              ],
              "fields": "",
              "values": false
            },
            "colorMode": "value",
            "graphMode": "none",
            "justifyMode": "auto",
            "orientation": "auto",
            "textMode": "auto",
            "wideLayout": true,
            "showPercentChange": false
          }
        },
        {
          "type": "stat",
          "id": 3,
          "title": "Paths in error",
          "description": "Paths that at least one selected agent sees out of spec.",
          "datasource": {
            "type": "prometheus",
            "uid": "${datasource}"
          },
          "gridPos": {
            "x": 4,
            "y": 1,
            "w": 4,
            "h": 4
          },
          "targets": [
            {
              "datasource": {
                "type": "prometheus",
                "uid": "${datasource}"
              },
              "editorMode": "code",
              "expr": "count(min by (path) (zk_monitor_znode_compliant{job=~\"$job\",instance=~\"$instance\",path=~\"$path\"}) == 0) or vector(0)",
              "refId": "A",
              "legendFormat": "__auto",
              "range": true,
              "instant": false
            }
          ],
          "fieldConfig": {
            "defaults": {
              "color": {
                "mode": "thresholds"
              },
              "thresholds": {
                "mode": "absolute",
                "steps": [
                  {
                    "color": "green",
                    "value": null
                  },
                  {
                    "color": "red",
                    "value": 1
                  }
                ]
              },
              "unit": "short"
            },
            "overrides": []
          },
          "options": {
            "reduceOptions": {
              "calcs": [
                "lastNotNull"
              ],
              "fields": "",
              "values": false
            },
            "colorMode": "background",
            "graphMode": "none",
            "justifyMode": "auto",
            "orientation": "auto",
            "textMode": "auto",
            "wideLayout": true,
            "showPercentChange": false
          }
        },
        {
          "type": "stat",
          "id": 4,
          "title": "Paths unknown",
          "description": "Paths without a verdict: stale (ZooKeeper connection lost, not read again yet), never read, or without checks.",
          "datasource": {
            "type": "prometheus",
            "uid": "${datasource}"
          },
          "gridPos": {
            "x": 8,
            "y": 1,
            "w": 4,
            "h": 4
          },
          "targets": [
            {
              "datasource": {
                "type": "prometheus",
                "uid": "${datasource}"
              },
              "editorMode": "code",
              "expr": "count(max by (path) (zk_monitor_znode_stale{job=~\"$job\",instance=~\"$instance\",path=~\"$path\"}) == 1 or max by (path) (zk_monitor_znode_stale{job=~\"$job\",instance=~\"$instance\",path=~\"$path\"}) unless on (path) max by (path) (zk_monitor_znode_compliant{job=~\"$job\",instance=~\"$instance\",path=~\"$path\"})) or vector(0)",
              "refId": "A",
              "legendFormat": "__auto",
              "range": true,
              "instant": false
            }
          ],
          "fieldConfig": {
            "defaults": {
              "color": {
                "mode": "thresholds"
              },
              "thresholds": {
                "mode": "absolute",
                "steps": [
                  {
                    "color": "green",
                    "value": null
                  },
                  {
                    "color": "yellow",
                    "value": 1
                  }
                ]
              },
              "unit": "short"
            },
            "overrides": []
          },
          "options": {
            "reduceOptions": {
              "calcs": [
                "lastNotNull"
              ],
              "fields": "",
              "values": false
            },
            "colorMode": "background",
            "graphMode": "none",
            "justifyMode": "auto",
            "orientation": "auto",
            "textMode": "auto",
            "wideLayout": true,
            "showPercentChange": false
          }
        },
        {
          "type": "stat",
          "id": 5,
          "title": "Leaders",
          "description": "Agents holding the leadership; exactly one should. Only the leader sends alerts to Alertmanager.",
          "datasource": {
            "type": "prometheus",
            "uid": "${datasource}"
          },
          "gridPos": {
            "x": 12,
            "y": 1,
            "w": 4,
            "h": 4
          },
          "targets": [
            {
              "datasource": {
                "type": "prometheus",
                "uid": "${datasource}"
              },
              "editorMode": "code",
              "expr": "sum(zk_monitor_cluster_leader{job=~\"$job\"})",
              "refId": "A",
              "legendFormat": "__auto",
              "range": true,
              "instant": false
            }
          ],
          "fieldConfig": {
            "defaults": {
              "color": {
                "mode": "thresholds"
              },
              "thresholds": {
                "mode": "absolute",
                "steps": [
                  {
                    "color": "red",
                    "value": null
                  },
                  {
                    "color": "green",
                    "value": 1
                  },
                  {
                    "color": "red",
                    "value": 2
                  }
                ]
              },
              "unit": "short",
              "mappings": [
                {
                  "type": "special",
                  "options": {
                    "match": "null",
                    "result": {
                      "text": "no data",
                      "color": "red",
                      "index": 0
                    }
                  }
                }
              ]
            },
            "overrides": []
          },
          "options": {
            "reduceOptions": {
              "calcs": [
                "lastNotNull"
              ],
              "fields": "",
              "values": false
            },
            "colorMode": "background",
            "graphMode": "none",
            "justifyMode": "auto",
            "orientation": "auto",
            "textMode": "auto",
            "wideLayout": true,
            "showPercentChange": false
          }
        },
        {
          "type": "stat",
          "id": 6,
          "title": "Agents up",
          "description": "Agents Prometheus scrapes successfully.",
          "datasource": {
            "type": "prometheus",
            "uid": "${datasource}"
          },
          "gridPos": {
            "x": 16,
            "y": 1,
            "w": 4,
            "h": 4
          },
          "targets": [
            {
              "datasource": {
                "type": "prometheus",
                "uid": "${datasource}"
              },
              "editorMode": "code",
              "expr": "sum(up{job=~\"$job\"})",
              "refId": "A",
              "legendFormat": "__auto",
              "range": true,
              "instant": false
            }
          ],
          "fieldConfig": {
            "defaults": {
              "color": {
                "mode": "thresholds"
              },
              "thresholds": {
                "mode": "absolute",
                "steps": [
                  {
                    "color": "red",
                    "value": null
                  },
                  {
                    "color": "yellow",
                    "value": 1
                  },
                  {
                    "color": "green",
                    "value": 2
                  }
                ]
              },
              "unit": "short"
            },
            "overrides": []
          },
          "options": {
            "reduceOptions": {
              "calcs": [
                "lastNotNull"
              ],
              "fields": "",
              "values": false
            },
            "colorMode": "value",
            "graphMode": "none",
            "justifyMode": "auto",
            "orientation": "auto",
            "textMode": "auto",
            "wideLayout": true,
            "showPercentChange": false
          }
        },
        {
          "type": "stat",
          "id": 7,
          "title": "Alerts firing",
          "description": "Znode alerts currently firing (zk_monitor_alerts_active, highest of the selected agents).",
          "datasource": {
            "type": "prometheus",
            "uid": "${datasource}"
          },
          "gridPos": {
            "x": 20,
            "y": 1,
            "w": 4,
            "h": 4
          },
          "targets": [
            {
              "datasource": {
                "type": "prometheus",
                "uid": "${datasource}"
              },
              "editorMode": "code",
              "expr": "max(zk_monitor_alerts_active{job=~\"$job\",instance=~\"$instance\"})",
              "refId": "A",
              "legendFormat": "__auto",
              "range": true,
              "instant": false
            }
          ],
          "fieldConfig": {
            "defaults": {
              "color": {
                "mode": "thresholds"
              },
              "thresholds": {
                "mode": "absolute",
                "steps": [
                  {
                    "color": "green",
                    "value": null
                  },
                  {
                    "color": "orange",
                    "value": 1
                  }
                ]
              },
              "unit": "short"
            },
            "overrides": []
          },
          "options": {
            "reduceOptions": {
              "calcs": [
                "lastNotNull"
              ],
              "fields": "",
              "values": false
            },
            "colorMode": "value",
            "graphMode": "none",
            "justifyMode": "auto",
            "orientation": "auto",
            "textMode": "auto",
            "wideLayout": true,
            "showPercentChange": false
          }
        },
        {
          "type": "row",
          "id": 8,
          "title": "Compliance",
          "collapsed": false,
          "gridPos": {
            "h": 1,
            "w": 24,
            "x": 0,
            "y": 5
          },
          "panels": []
        },
        {
          "type": "table",
          "id": 9,
          "title": "Compliance per path",
          "description": "One row per watched path: its state as the least compliant selected agent sees it (OK, ERROR or UNKNOWN), its children against the configured minimum and maximum, and when it last changed.",
          "datasource": {
            "type": "prometheus",
            "uid": "${datasource}"
          },
          "gridPos": {
            "x": 0,
            "y": 6,
            "w": 24,
            "h": 10
          },
          "targets": [
            {
              "datasource": {
                "type": "prometheus",
                "uid": "${datasource}"
              },
              "editorMode": "code",
              "expr": "min by (path) (zk_monitor_znode_compliant{job=~\"$job\",instance=~\"$instance\",path=~\"$path\"}) or on (path) (max by (path) (zk_monitor_znode_stale{job=~\"$job\",instance=~\"$instance\",path=~\"$path\"}) * 0 - 1)",
              "refId": "A",
              "format": "table",
              "instant": true,
              "range": false,
              "legendFormat": "__auto"
            },
            {
              "datasource": {
                "type": "prometheus",
                "uid": "${datasource}"
              },
              "editorMode": "code",
              "expr": "max by (path) (zk_monitor_znode_children{job=~\"$job\",instance=~\"$instance\",path=~\"$path\"})",
              "refId": "B",
              "format": "table",
              "instant": true,
              "range": false,
              "legendFormat": "__auto"
            },
            {
              "datasource": {
                "type": "prometheus",
                "uid": "${datasource}"
              },
              "editorMode": "code",
              "expr": "max by (path, min_children, max_children) (zk_monitor_znode_spec_info{job=~\"$job\",instance=~\"$instance\",path=~\"$path\"})",
              "refId": "C",
              "format": "table",
              "instant": true,
              "range": false,
              "legendFormat": "__auto"
            },
            {
              "datasource": {
                "type": "prometheus",
                "uid": "${datasource}"
              },
              "editorMode": "code",
              "expr": "max by (path) (zk_monitor_znode_exists{job=~\"$job\",instance=~\"$instance\",path=~\"$path\"})",
              "refId": "E",
              "format": "table",
              "instant": true,
              "range": false,
              "legendFormat": "__auto"
            },
            {
              "datasource": {
                "type": "prometheus",
                "uid": "${datasource}"
              },
              "editorMode": "code",
              "expr": "max by (path) (zk_monitor_znode_stale{job=~\"$job\",instance=~\"$instance\",path=~\"$path\"})",
              "refId": "F",
              "format": "table",
              "instant": true,
              "range": false,
              "legendFormat": "__auto"
            },
            {
              "datasource": {
                "type": "prometheus",
                "uid": "${datasource}"
              },
              "editorMode": "code",
              "expr": "max by (path) (zk_monitor_znode_last_change_timestamp_seconds{job=~\"$job\",instance=~\"$instance\",path=~\"$path\"}) * 1000",
              "refId": "G",
              "format": "table",
              "instant": true,
              "range": false,
              "legendFormat": "__auto"
            }
          ],
          "fieldConfig": {
            "defaults": {
              "custom": {
                "align": "auto",
                "cellOptions": {
                  "type": "auto"
                },
                "inspect": false,
                "filterable": true
              },
              "color": {
                "mode": "thresholds"
              },
              "thresholds": {
                "mode": "absolute",
                "steps": [
                  {
                    "color": "text",
                    "value": null
                  }
                ]
              },
              "unit": "short"
            },
            "overrides": [
              {
                "matcher": {
                  "id": "byName",
                  "options": "State"
                },
                "properties": [
                  {
                    "id": "mappings",
                    "value": [
                      {
                        "type": "value",
                        "options": {
                          "1": {
                            "text": "OK",
                            "color": "green",
                            "index": 0
                          },
                          "0": {
                            "text": "ERROR",
                            "color": "red",
                            "index": 1
                          },
                          "-1": {
                            "text": "UNKNOWN",
                            "color": "yellow",
                            "index": 2
                          }
                        }
                      }
                    ]
                  },
                  {
                    "id": "custom.cellOptions",
                    "value": {
                      "type": "color-background",
                      "mode": "basic"
                    }
                  }
                ]
              },
              {
                "matcher": {
                  "id": "byName",
                  "options": "Exists"
                },
                "properties": [
                  {
                    "id": "mappings",
                    "value": [
                      {
                        "type": "value",
                        "options": {
                          "1": {
                            "text": "yes",
                            "color": "green",
                            "index": 0
                          },
                          "0": {
                            "text": "no",
                            "color": "text",
                            "index": 1
                          }
                        }
                      }
                    ]
                  }
                ]
              },
              {
                "matcher": {
                  "id": "byName",
                  "options": "Stale"
                },
                "properties": [
                  {
                    "id": "mappings",
                    "value": [
                      {
                        "type": "value",
                        "options": {
                          "1": {
                            "text": "stale",
                            "color": "orange",
                            "index": 0
                          },
                          "0": {
                            "text": "fresh",
                            "color": "transparent",
                            "index": 1
                          }
                        }
                      }
                    ]
                  },
                  {
                    "id": "custom.cellOptions",
                    "value": {
                      "type": "color-background",
                      "mode": "basic"
                    }
                  }
                ]
              },
              {
                "matcher": {
                  "id": "byName",
                  "options": "Last change"
                },
                "properties": [
                  {
                    "id": "unit",
                    "value": "dateTimeFromNow"
                  }
                ]
              },
              {
                "matcher": {
                  "id": "byName",
                  "options": "path"
                },
                "properties": [
                  {
                    "id": "custom.width",
                    "value": 420
                  }
                ]
              }
            ]
          },
          "options": {
            "showHeader": true,
            "cellHeight": "sm",
            "footer": {
              "show": false,
              "reducer": [
                "sum"
              ],
              "fields": "",
              "countRows": false
            },
            "sortBy": [
              {
                "displayName": "State",
                "desc": false
              }
            ]
          },
          "transformations": [
            {
              "id": "merge",
              "options": {}
            },
            {
              "id": "organize",
              "options": {
                "excludeByName": {
                  "Time": true,
                  "Value #C": true
                },
                "indexByName": {
                  "path": 0,
                  "Value #A": 1,
                  "Value #B": 2,
                  "Value #C": 8,
                  "Value #E": 5,
                  "Value #F": 6,
                  "Value #G": 7,
                  "min_children": 3,
                  "max_children": 4
                },
                "renameByName": {
                  "Value #A": "State",
                  "Value #B": "Children",
                  "Value #E": "Exists",
                  "Value #F": "Stale",
                  "Value #G": "Last change",
                  "min_children": "Minimum",
                  "max_children": "Maximum"
                }
              }
            }
          ]
        },
        {
          "type": "state-timeline",
          "id": 10,
          "title": "Compliance over time",
          "description": "Each path's state over time, as the least compliant selected agent saw it.",
          "datasource": {
            "type": "prometheus",
            "uid": "${datasource}"
          },
          "gridPos": {
            "x": 0,
            "y": 16,
            "w": 24,
            "h": 8
          },
          "targets": [
            {
              "datasource": {
                "type": "prometheus",
                "uid": "${datasource}"
              },
              "editorMode": "code",
              "expr": "min by (path) (zk_monitor_znode_compliant{job=~\"$job\",instance=~\"$instance\",path=~\"$path\"}) or on (path) (max by (path) (zk_monitor_znode_stale{job=~\"$job\",instance=~\"$instance\",path=~\"$path\"}) * 0 - 1)",
              "refId": "A",
              "legendFormat": "{{path}}",
              "range": true,
              "instant": false
            }
          ],
          "fieldConfig": {
            "defaults": {
              "color": {
                "mode": "thresholds"
              },
              "mappings": [
                {
                  "type": "value",
                  "options": {
                    "1": {
                      "text": "OK",
                      "color": "green",
                      "index": 0
                    },
                    "0": {
                      "text": "ERROR",
                      "color": "red",
                      "index": 1
                    },
                    "-1": {
                      "text": "UNKNOWN",
                      "color": "yellow",
                      "index": 2
                    }
                  }
                }
              ],
              "thresholds": {
                "mode": "absolute",
                "steps": [
                  {
                    "color": "text",
                    "value": null
                  }
                ]
              },
              "custom": {
                "fillOpacity": 70,
                "lineWidth": 0,
                "hideFrom": {
                  "legend": false,
                  "tooltip": false,
                  "viz": false
                }
              }
            },
            "overrides": []
          },
          "options": {
            "showValue": "auto",
            "rowHeight": 0.9,
            "mergeValues": true,
            "alignValue": "left",
            "legend": {
              "showLegend": false,
              "displayMode": "list",
              "placement": "bottom"
            },
            "tooltip": {
              "mode": "single",
              "sort": "none"
            }
          }
        },
        {
          "type": "row",
          "id": 11,
          "title": "Children",
          "collapsed": false,
          "gridPos": {
            "h": 1,
            "w": 24,
            "x": 0,
            "y": 24
          },
          "panels": []
        },
        {
          "type": "timeseries",
          "id": 12,
          "title": "Children of $path",
          "description": "Direct children of the path over time (highest of the selected agents); the Compliance table shows its limits. One panel per selected path.",
          "datasource": {
            "type": "prometheus",
            "uid": "${datasource}"
          },
          "gridPos": {
            "x": 0,
            "y": 25,
            "w": 8,
            "h": 8
          },
          "targets": [
            {
              "datasource": {
                "type": "prometheus",
                "uid": "${datasource}"
              },
              "editorMode": "code",
              "expr": "max by (path) (zk_monitor_znode_children{job=~\"$job\",instance=~\"$instance\",path=~\"$path\"})",
              "refId": "A",
              "legendFormat": "children",
              "range": true,
              "instant": false
            }
          ],
          "fieldConfig": {
            "defaults": {
              "color": {
                "mode": "palette-classic"
              },
              "custom": {
                "drawStyle": "line",
                "lineWidth": 1,
                "fillOpacity": 10,
                "showPoints": "never",
                "spanNulls": false,
                "axisPlacement": "auto",
                "axisSoftMin": 0,
                "decimals": 0
              },
              "unit": "short"
            },
            "overrides": []
          },
          "options": {
            "legend": {
              "displayMode": "list",
              "placement": "bottom",
              "showLegend": true
            },
            "tooltip": {
              "mode": "multi",
              "sort": "desc"
            }
          },
          "repeat": "path",
          "repeatDirection": "h",
          "maxPerRow": 3
        },
        {
          "type": "row",
          "id": 13,
          "title": "Cluster",
          "collapsed": false,
          "gridPos": {
            "h": 1,
            "w": 24,
            "x": 0,
            "y": 33
          },
          "panels": []
        },
        {
          "type": "state-timeline",
          "id": 14,
          "title": "Leader per agent",
          "description": "Which agent holds the leadership over time. Exactly one should at any time.",
          "datasource": {
            "type": "prometheus",
            "uid": "${datasource}"
          },
          "gridPos": {
            "x": 0,
            "y": 34,
            "w": 12,
            "h": 8
          },
          "targets": [
            {
              "datasource": {
                "type": "prometheus",
                "uid": "${datasource}"
              },
              "editorMode": "code",
              "expr": "max by (instance) (zk_monitor_cluster_leader{job=~\"$job\",instance=~\"$instance\"})",
              "refId": "A",
              "legendFormat": "{{instance}}",
              "range": true,
              "instant": false
            }
          ],
          "fieldConfig": {
            "defaults": {
              "color": {
                "mode": "thresholds"
              },
              "mappings": [
                {
                  "type": "value",
                  "options": {
                    "1": {
                      "text": "leader",
                      "color": "blue",
                      "index": 0
                    },
                    "0": {
                      "text": "follower",
                      "color": "transparent",
                      "index": 1
                    }
                  }
                }
              ],
              "thresholds": {
                "mode": "absolute",
                "steps": [
                  {
                    "color": "text",
                    "value": null
                  }
                ]
              },
              "custom": {
                "fillOpacity": 70,
                "lineWidth": 0,
                "hideFrom": {
                  "legend": false,
                  "tooltip": false,
                  "viz": false
                }
              }
            },
            "overrides": []
          },
          "options": {
            "showValue": "auto",
            "rowHeight": 0.9,
            "mergeValues": true,
            "alignValue": "left",
            "legend": {
              "showLegend": false,
              "displayMode": "list",
              "placement": "bottom"
            },
            "tooltip": {
              "mode": "single",
              "sort": "none"
            }
          }
        },
        {
          "type": "timeseries",
          "id": 15,
          "title": "Agents seen by each agent",
          "description": "Agents registered in the cluster workspace, as each agent sees it. They should agree and equal the number of agents running.",
          "datasource": {
            "type": "prometheus",
            "uid": "${datasource}"
          },
          "gridPos": {
            "x": 12,
            "y": 34,
            "w": 12,
            "h": 8
          },
          "targets": [
            {
              "datasource": {
                "type": "prometheus",
                "uid": "${datasource}"
              },
              "editorMode": "code",
              "expr": "max by (instance) (zk_monitor_cluster_agents{job=~\"$job\",instance=~\"$instance\"})",
              "refId": "A",
              "legendFormat": "{{instance}}",
              "range": true,
              "instant": false
            }
          ],
          "fieldConfig": {
            "defaults": {
              "color": {
                "mode": "palette-classic"
              },
              "custom": {
                "drawStyle": "line",
                "lineWidth": 1,
                "fillOpacity": 10,
                "showPoints": "never",
                "spanNulls": false,
                "axisPlacement": "auto",
                "axisSoftMin": 0,
                "decimals": 0
              },
              "unit": "short"
            },
            "overrides": []
          },
          "options": {
            "legend": {
              "displayMode": "list",
              "placement": "bottom",
              "showLegend": true
            },
            "tooltip": {
              "mode": "multi",
              "sort": "desc"
            }
          }
        },
        {
          "type": "timeseries",
          "id": 16,
          "title": "Leader changes",
          "description": "Leadership changes each agent observed.",
          "datasource": {
            "type": "prometheus",
            "uid": "${datasource}"
          },
          "gridPos": {
            "x": 0,
            "y": 42,
            "w": 12,
            "h": 8
          },
          "targets": [
            {
              "datasource": {
                "type": "prometheus",
                "uid": "${datasource}"
              },
              "editorMode": "code",
              "expr": "sum by (instance) (increase(zk_monitor_cluster_leader_changes_total{job=~\"$job\",instance=~\"$instance\"}[$__rate_interval]))",
              "refId": "A",
              "legendFormat": "{{instance}}",
              "range": true,
              "instant": false
            }
          ],
          "fieldConfig": {
            "defaults": {
              "color": {
                "mode": "palette-classic"
              },
              "custom": {
                "drawStyle": "bars",
                "lineWidth": 1,
                "fillOpacity": 80,
                "showPoints": "never",
                "spanNulls": false,
                "axisPlacement": "auto",
                "axisSoftMin": 0
              },
              "unit": "short"
            },
            "overrides": []
          },
          "options": {
            "legend": {
              "displayMode": "list",
              "placement": "bottom",
              "showLegend": true
            },
            "tooltip": {
              "mode": "multi",
              "sort": "desc"
            }
          }
        },
        {
          "type": "state-timeline",
          "id": 17,
          "title": "Scrape status",
          "description": "Whether Prometheus can scrape each agent (up).",
          "datasource": {
            "type": "prometheus",
            "uid": "${datasource}"
          },
          "gridPos": {
            "x": 12,
            "y": 42,
            "w": 12,
            "h": 8
          },
          "targets": [
            {
              "datasource": {
                "type": "prometheus",
                "uid": "${datasource}"
              },
              "editorMode": "code",
              "expr": "max by (instance) (up{job=~\"$job\",instance=~\"$instance\"})",
              "refId": "A",
              "legendFormat": "{{instance}}",
              "range": true,
              "instant": false
            }
          ],
          "fieldConfig": {
            "defaults": {
              "color": {
                "mode": "thresholds"
              },
              "mappings": [
                {
                  "type": "value",
                  "options": {
                    "1": {
                      "text": "up",
                      "color": "green",
                      "index": 0
                    },
                    "0": {
                      "text": "down",
                      "color": "red",
                      "index": 1
                    }
                  }
                }
              ],
              "thresholds": {
                "mode": "absolute",
                "steps": [
                  {
                    "color": "text",
                    "value": null
                  }
                ]
              },
              "custom": {
                "fillOpacity": 70,
                "lineWidth": 0,
                "hideFrom": {
                  "legend": false,
                  "tooltip": false,
                  "viz": false
                }
              }
            },
            "overrides": []
          },
          "options": {
            "showValue": "auto",
            "rowHeight": 0.9,
            "mergeValues": true,
            "alignValue": "left",
            "legend": {
              "showLegend": false,
              "displayMode": "list",
              "placement": "bottom"
            },
            "tooltip": {
              "mode": "single",
              "sort": "none"
            }
          }
        },
        {
          "type": "row",
          "id": 18,
          "title": "ZooKeeper",
          "collapsed": false,
          "gridPos": {
            "h": 1,
            "w": 24,
            "x": 0,
            "y": 50
          },
          "panels": []
        },
        {
          "type": "state-timeline",
          "id": 19,
          "title": "ZooKeeper connection",
          "description": "Whether each agent has a ZooKeeper session.",
          "datasource": {
            "type": "prometheus",
            "uid": "${datasource}"
          },
          "gridPos": {
            "x": 0,
            "y": 51,
            "w": 12,
            "h": 8
          },
          "targets": [
            {
              "datasource": {
                "type": "prometheus",
                "uid": "${datasource}"
              },
              "editorMode": "code",
              "expr": "max by (instance) (zk_monitor_zookeeper_connected{job=~\"$job\",instance=~\"$instance\"})",
              "refId": "A",
              "legendFormat": "{{instance}}",
              "range": true,
              "instant": false
            }
          ],
          "fieldConfig": {
            "defaults": {
              "color": {
                "mode": "thresholds"
              },
              "mappings": [
                {
                  "type": "value",
                  "options": {
                    "1": {
                      "text": "connected",
                      "color": "green",
                      "index": 0
                    },
                    "0": {
                      "text": "disconnected",
                      "color": "red",
                      "index": 1
                    }
                  }
                }
              ],
              "thresholds": {
                "mode": "absolute",
                "steps": [
                  {
                    "color": "text",
                    "value": null
                  }
                ]
              },
              "custom": {
                "fillOpacity": 70,
                "lineWidth": 0,
                "hideFrom": {
                  "legend": false,
                  "tooltip": false,
                  "viz": false
                }
              }
            },
            "overrides": []
          },
          "options": {
            "showValue": "auto",
            "rowHeight": 0.9,
            "mergeValues": true,
            "alignValue": "left",
            "legend": {
              "showLegend": false,
              "displayMode": "list",
              "placement": "bottom"
            },
            "tooltip": {
              "mode": "single",
              "sort": "none"
            }
          }
        },
        {
          "type": "timeseries",
          "id": 20,
          "title": "Reconnects and session expirations",
          "description": "ZooKeeper reconnections and expired sessions per agent. Expired sessions lose the agent's ephemeral registration and leadership.",
          "datasource": {
            "type": "prometheus",
            "uid": "${datasource}"
          },
          "gridPos": {
            "x": 12,
            "y": 51,
            "w": 12,
            "h": 8
          },
          "targets": [
            {
              "datasource": {
                "type": "prometheus",
                "uid": "${datasource}"
              },
              "editorMode": "code",
              "expr": "sum by (instance) (increase(zk_monitor_zookeeper_reconnects_total{job=~\"$job\",instance=~\"$instance\"}[$__rate_interval]))",
              "refId": "A",
              "legendFormat": "{{instance}} reconnects",
              "range": true,
              "instant": false
            },
            {
              "datasource": {
                "type": "prometheus",
                "uid": "${datasource}"
              },
              "editorMode": "code",
              "expr": "sum by (instance) (increase(zk_monitor_zookeeper_session_expirations_total{job=~\"$job\",instance=~\"$instance\"}[$__rate_interval]))",
              "refId": "B",
              "legendFormat": "{{instance}} session expirations",
              "range": true,
              "instant": false
            }
          ],
          "fieldConfig": {
            "defaults": {
              "color": {
                "mode": "palette-classic"
              },
              "custom": {
                "drawStyle": "bars",
                "lineWidth": 1,
                "fillOpacity": 80,
                "showPoints": "never",
                "spanNulls": false,
                "axisPlacement": "auto",
                "axisSoftMin": 0
              },
              "unit": "short"
            },
            "overrides": []
          },
          "options": {
            "legend": {
              "displayMode": "list",
              "placement": "bottom",
              "showLegend": true
            },
            "tooltip": {
              "mode": "multi",
              "sort": "desc"
            }
          }
        },
        {
          "type": "timeseries",
          "id": 21,
          "title": "Watch events",
          "description": "ZooKeeper watch events received per second, by type, all selected agents.",
          "datasource": {
            "type": "prometheus",
            "uid": "${datasource}"
          },
          "gridPos": {
            "x": 0,
            "y": 59,
            "w": 12,
            "h": 8
          },
          "targets": [
            {
              "datasource": {
                "type": "prometheus",
                "uid": "${datasource}"
              },
              "editorMode": "code",
              "expr": "sum by (type) (rate(zk_monitor_zookeeper_watch_events_total{job=~\"$job\",instance=~\"$instance\"}[$__rate_interval]))",
              "refId": "A",
              "legendFormat": "{{type}}",
              "range": true,
              "instant": false
            }
          ],
          "fieldConfig": {
            "defaults": {
              "color": {
                "mode": "palette-classic"
              },
              "custom": {
                "drawStyle": "line",
                "lineWidth": 1,
                "fillOpacity": 10,
                "showPoints": "never",
                "spanNulls": false,
                "axisPlacement": "auto",
                "axisSoftMin": 0
              },
              "unit": "ops"
            },
            "overrides": []
          },
          "options": {
            "legend": {
              "displayMode": "list",
              "placement": "bottom",
              "showLegend": true
            },
            "tooltip": {
              "mode": "multi",
              "sort": "desc"
            }
          }
        },
        {
          "type": "timeseries",
          "id": 22,
          "title": "ZooKeeper requests",
          "description": "Requests to ZooKeeper per second by operation, and those that failed (red).",
          "datasource": {
            "type": "prometheus",
            "uid": "${datasource}"
          },
          "gridPos": {
            "x": 12,
            "y": 59,
            "w": 12,
            "h": 8
          },
          "targets": [
            {
              "datasource": {
                "type": "prometheus",
                "uid": "${datasource}"
              },
              "editorMode": "code",
              "expr": "sum by (op) (rate(zk_monitor_zookeeper_requests_total{job=~\"$job\",instance=~\"$instance\"}[$__rate_interval]))",
              "refId": "A",
              "legendFormat": "{{op}}",
              "range": true,
              "instant": false
            },
            {
              "datasource": {
                "type": "prometheus",
                "uid": "${datasource}"
              },
              "editorMode": "code",
              "expr": "sum by (op) (rate(zk_monitor_zookeeper_request_failures_total{job=~\"$job\",instance=~\"$instance\"}[$__rate_interval]))",
              "refId": "B",
              "legendFormat": "{{op}} failed",
              "range": true,
              "instant": false
            }
          ],
          "fieldConfig": {
            "defaults": {
              "color": {
                "mode": "palette-classic"
              },
              "custom": {
                "drawStyle": "line",
                "lineWidth": 1,
                "fillOpacity": 10,
                "showPoints": "never",
                "spanNulls": false,
                "axisPlacement": "auto",
                "axisSoftMin": 0
              },
              "unit": "ops"
            },
            "overrides": [
              {
                "matcher": {
                  "id": "byFrameRefID",
                  "options": "B"
                },
                "properties": [
                  {
                    "id": "color",
                    "value": {
                      "mode": "fixed",
                      "fixedColor": "red"
                    }
                  }
                ]
              }
            ]
          },
          "options": {
            "legend": {
              "displayMode": "list",
              "placement": "bottom",
              "showLegend": true
            },
            "tooltip": {
              "mode": "multi",
              "sort": "desc"
            }
          }
        },
        {
          "type": "row",
          "id": 23,
          "title": "Alert delivery",
          "collapsed": false,
          "gridPos": {
            "h": 1,
            "w": 24,
            "x": 0,
            "y": 67
          },
          "panels": []
        },
        {
          "type": "timeseries",
          "id": 24,
          "title": "Alerts sent, failed and dropped",
          "description": "Alerts per second each Alertmanager accepted, those in failed requests, and those dropped because the queue was full.",
          "datasource": {
            "type": "prometheus",
            "uid": "${datasource}"
          },
          "gridPos": {
            "x": 0,
            "y": 68,
            "w": 12,
            "h": 8
          },
          "targets": [
            {
              "datasource": {
                "type": "prometheus",
                "uid": "${datasource}"
              },
              "editorMode": "code",
              "expr": "sum by (alertmanager) (rate(zk_monitor_alertmanager_alerts_sent_total{job=~\"$job\",instance=~\"$instance\"}[$__rate_interval]))",
              "refId": "A",
              "legendFormat": "sent {{alertmanager}}",
              "range": true,
              "instant": false
            },
            {
              "datasource": {
                "type": "prometheus",
                "uid": "${datasource}"
              },
              "editorMode": "code",
              "expr": "sum by (alertmanager) (rate(zk_monitor_alertmanager_alerts_failed_total{job=~\"$job\",instance=~\"$instance\"}[$__rate_interval]))",
              "refId": "B",
              "legendFormat": "failed {{alertmanager}}",
              "range": true,
              "instant": false
            },
            {
              "datasource": {
                "type": "prometheus",
                "uid": "${datasource}"
              },
              "editorMode": "code",
              "expr": "sum by (alertmanager) (rate(zk_monitor_alertmanager_alerts_dropped_total{job=~\"$job\",instance=~\"$instance\"}[$__rate_interval]))",
              "refId": "C",
              "legendFormat": "dropped {{alertmanager}}",
              "range": true,
              "instant": false
            }
          ],
          "fieldConfig": {
            "defaults": {
              "color": {
                "mode": "palette-classic"
              },
              "custom": {
                "drawStyle": "line",
                "lineWidth": 1,
                "fillOpacity": 10,
                "showPoints": "never",
                "spanNulls": false,
                "axisPlacement": "auto",
                "axisSoftMin": 0
              },
              "unit": "short"
            },
            "overrides": [
              {
                "matcher": {
                  "id": "byFrameRefID",
                  "options": "B"
                },
                "properties": [
                  {
                    "id": "color",
                    "value": {
                      "mode": "fixed",
                      "fixedColor": "red"
                    }
                  }
                ]
              },
              {
                "matcher": {
                  "id": "byFrameRefID",
                  "options": "C"
                },
                "properties": [
                  {
                    "id": "color",
                    "value": {
                      "mode": "fixed",
                      "fixedColor": "purple"
                    }
                  }
                ]
              }
            ]
          },
          "options": {
            "legend": {
              "displayMode": "list",
              "placement": "bottom",
              "showLegend": true
            },
            "tooltip": {
              "mode": "multi",
              "sort": "desc"
            }
          }
        },
        {
          "type": "timeseries",
          "id": 25,
          "title": "Queue length",
          "description": "Alerts waiting to be sent, per agent and Alertmanager.",
          "datasource": {
            "type": "prometheus",
            "uid": "${datasource}"
          },
          "gridPos": {
            "x": 12,
            "y": 68,
            "w": 12,
            "h": 8
          },
          "targets": [
            {
              "datasource": {
                "type": "prometheus",
                "uid": "${datasource}"
              },
              "editorMode": "code",
              "expr": "max by (instance, alertmanager) (zk_monitor_alertmanager_queue_length{job=~\"$job\",instance=~\"$instance\"})",
              "refId": "A",
              "legendFormat": "{{instance}} to {{alertmanager}}",
              "range": true,
              "instant": false
            }
          ],
          "fieldConfig": {
            "defaults": {
              "color": {
                "mode": "palette-classic"
              },
              "custom": {
                "drawStyle": "line",
                "lineWidth": 1,
                "fillOpacity": 10,
                "showPoints": "never",
                "spanNulls": false,
                "axisPlacement": "auto",
                "axisSoftMin": 0,
                "decimals": 0
              },
              "unit": "short"
            },
            "overrides": []
          },
          "options": {
            "legend": {
              "displayMode": "list",
              "placement": "bottom",
              "showLegend": true
            },
            "tooltip": {
              "mode": "multi",
              "sort": "desc"
            }
          }
        },
        {
          "type": "timeseries",
          "id": 26,
          "title": "Alertmanager request duration",
          "description": "Median and 99th percentile duration of requests posting alerts, per Alertmanager.",
          "datasource": {
            "type": "prometheus",
            "uid": "${datasource}"
          },
          "gridPos": {
            "x": 0,
            "y": 76,
            "w": 8,
            "h": 8
          },
          "targets": [
            {
              "datasource": {
                "type": "prometheus",
                "uid": "${datasource}"
              },
              "editorMode": "code",
              "expr": "histogram_quantile(0.5, sum by (le, alertmanager) (rate(zk_monitor_alertmanager_request_duration_seconds_bucket{job=~\"$job\",instance=~\"$instance\"}[$__rate_interval])))",
              "refId": "A",
              "legendFormat": "p50 {{alertmanager}}",
              "range": true,
              "instant": false
            },
            {
              "datasource": {
                "type": "prometheus",
                "uid": "${datasource}"
              },
              "editorMode": "code",
              "expr": "histogram_quantile(0.99, sum by (le, alertmanager) (rate(zk_monitor_alertmanager_request_duration_seconds_bucket{job=~\"$job\",instance=~\"$instance\"}[$__rate_interval])))",
              "refId": "B",
              "legendFormat": "p99 {{alertmanager}}",
              "range": true,
              "instant": false
            }
          ],
          "fieldConfig": {
            "defaults": {
              "color": {
                "mode": "palette-classic"
              },
              "custom": {
                "drawStyle": "line",
                "lineWidth": 1,
                "fillOpacity": 10,
                "showPoints": "never",
                "spanNulls": false,
                "axisPlacement": "auto",
                "axisSoftMin": 0
              },
              "unit": "s"
            },
            "overrides": []
          },
          "options": {
            "legend": {
              "displayMode": "list",
              "placement": "bottom",
              "showLegend": true
            },
            "tooltip": {
              "mode": "multi",
              "sort": "desc"
            }
          }
        },
        {
          "type": "stat",
          "id": 27,
          "title": "Since last successful delivery",
          "description": "Time since an Alertmanager last accepted alerts from any selected agent. Empty until the first success.",
          "datasource": {
            "type": "prometheus",
            "uid": "${datasource}"
          },
          "gridPos": {
            "x": 8,
            "y": 76,
            "w": 8,
            "h": 8
          },
          "targets": [
            {
              "datasource": {
                "type": "prometheus",
                "uid": "${datasource}"
              },
              "editorMode": "code",
              "expr": "time() - max by (alertmanager) (zk_monitor_alertmanager_last_success_timestamp_seconds{job=~\"$job\",instance=~\"$instance\"} > 0)",
              "refId": "A",
              "legendFormat": "{{alertmanager}}",
              "range": true,
              "instant": false
            }
          ],
          "fieldConfig": {
            "defaults": {
              "color": {
                "mode": "thresholds"
              },
              "thresholds": {
                "mode": "absolute",
                "steps": [
                  {
                    "color": "text",
                    "value": null
                  }
                ]
              },
              "unit": "s"
            },
            "overrides": []
          },
          "options": {
            "reduceOptions": {
              "calcs": [
                "lastNotNull"
              ],
              "fields": "",
              "values": false
            },
            "colorMode": "value",
            "graphMode": "none",
            "justifyMode": "auto",
            "orientation": "auto",
            "textMode": "auto",
            "wideLayout": true,
            "showPercentChange": false
          }
        },
        {
          "type": "timeseries",
          "id": 28,
          "title": "Active alerts",
          "description": "Znode alerts firing, as each agent counts them.",
          "datasource": {
            "type": "prometheus",
            "uid": "${datasource}"
          },
          "gridPos": {
            "x": 16,
            "y": 76,
            "w": 8,
            "h": 8
          },
          "targets": [
            {
              "datasource": {
                "type": "prometheus",
                "uid": "${datasource}"
              },
              "editorMode": "code",
              "expr": "max by (instance) (zk_monitor_alerts_active{job=~\"$job\",instance=~\"$instance\"})",
              "refId": "A",
              "legendFormat": "{{instance}}",
              "range": true,
              "instant": false
            }
          ],
          "fieldConfig": {
            "defaults": {
              "color": {
                "mode": "palette-classic"
              },
              "custom": {
                "drawStyle": "line",
                "lineWidth": 1,
                "fillOpacity": 10,
                "showPoints": "never",
                "spanNulls": false,
                "axisPlacement": "auto",
                "axisSoftMin": 0,
                "decimals": 0
              },
              "unit": "short"
            },
            "overrides": []
          },
          "options": {
            "legend": {
              "displayMode": "list",
              "placement": "bottom",
              "showLegend": true
            },
            "tooltip": {
              "mode": "multi",
              "sort": "desc"
            }
          }
        },
        {
          "type": "row",
          "id": 29,
          "title": "Configuration and build",
          "collapsed": false,
          "gridPos": {
            "h": 1,
            "w": 24,
            "x": 0,
            "y": 84
          },
          "panels": []
        },
        {
          "type": "state-timeline",
          "id": 30,
          "title": "Config reload status",
          "description": "Whether each agent's last reload of its path-spec file worked. After a failed reload the agent keeps its previous configuration.",
          "datasource": {
            "type": "prometheus",
            "uid": "${datasource}"
          },
          "gridPos": {
            "x": 0,
            "y": 85,
            "w": 12,
            "h": 8
          },
          "targets": [
            {
              "datasource": {
                "type": "prometheus",
                "uid": "${datasource}"
              },
              "editorMode": "code",
              "expr": "max by (instance) (zk_monitor_config_last_reload_successful{job=~\"$job\",instance=~\"$instance\"})",
              "refId": "A",
              "legendFormat": "{{instance}}",
              "range": true,
              "instant": false
            }
          ],
          "fieldConfig": {
            "defaults": {
              "color": {
                "mode": "thresholds"
              },
              "mappings": [
                {
                  "type": "value",
                  "options": {
                    "1": {
                      "text": "OK",
                      "color": "green",
                      "index": 0
                    },
                    "0": {
                      "text": "FAILED",
                      "color": "red",
                      "index": 1
                    }
                  }
                }
              ],
              "thresholds": {
                "mode": "absolute",
                "steps": [
                  {
                    "color": "text",
                    "value": null
                  }
                ]
              },
              "custom": {
                "fillOpacity": 70,
                "lineWidth": 0,
                "hideFrom": {
                  "legend": false,
                  "tooltip": false,
                  "viz": false
                }
              }
            },
            "overrides": []
          },
          "options": {
            "showValue": "auto",
            "rowHeight": 0.9,
            "mergeValues": true,
            "alignValue": "left",
            "legend": {
              "showLegend": false,
              "displayMode": "list",
              "placement": "bottom"
            },
            "tooltip": {
              "mode": "single",
              "sort": "none"
            }
          }
        },
        {
          "type": "table",
          "id": 31,
          "title": "Agents",
          "description": "Each agent's version and configuration state.",
          "datasource": {
            "type": "prometheus",
            "uid": "${datasource}"
          },
          "gridPos": {
            "x": 12,
            "y": 85,
            "w": 12,
            "h": 8
          },
          "targets": [
            {
              "datasource": {
                "type": "prometheus",
                "uid": "${datasource}"
              },
              "editorMode": "code",
              "expr": "max by (instance, version, revision, goversion) (zk_monitor_build_info{job=~\"$job\",instance=~\"$instance\"})",
              "refId": "A",
              "format": "table",
              "instant": true,
              "range": false,
              "legendFormat": "__auto"
            },
            {
              "datasource": {
                "type": "prometheus",
                "uid": "${datasource}"
              },
              "editorMode": "code",
              "expr": "max by (instance) (zk_monitor_config_last_reload_successful{job=~\"$job\",instance=~\"$instance\"})",
              "refId": "B",
              "format": "table",
              "instant": true,
              "range": false,
              "legendFormat": "__auto"
            },
            {
              "datasource": {
                "type": "prometheus",
                "uid": "${datasource}"
              },
              "editorMode": "code",
              "expr": "max by (instance) (zk_monitor_config_last_reload_success_timestamp_seconds{job=~\"$job\",instance=~\"$instance\"}) * 1000",
              "refId": "C",
              "format": "table",
              "instant": true,
              "range": false,
              "legendFormat": "__auto"
            }
          ],
          "fieldConfig": {
            "defaults": {
              "custom": {
                "align": "auto",
                "cellOptions": {
                  "type": "auto"
                },
                "inspect": false
              },
              "color": {
                "mode": "thresholds"
              },
              "thresholds": {
                "mode": "absolute",
                "steps": [
                  {
                    "color": "text",
                    "value": null
                  }
                ]
              }
            },
            "overrides": [
              {
                "matcher": {
                  "id": "byName",
                  "options": "Last reload"
                },
                "properties": [
                  {
                    "id": "mappings",
                    "value": [
                      {
                        "type": "value",
                        "options": {
                          "1": {
                            "text": "OK",
                            "color": "green",
                            "index": 0
                          },
                          "0": {
                            "text": "FAILED",
                            "color": "red",
                            "index": 1
                          }
                        }
                      }
                    ]
                  },
                  {
                    "id": "custom.cellOptions",
                    "value": {
                      "type": "color-background",
                      "mode": "basic"
                    }
                  }
                ]
              },
              {
                "matcher": {
                  "id": "byName",
                  "options": "Last successful reload"
                },
                "properties": [
                  {
                    "id": "unit",
                    "value": "dateTimeFromNow"
                  }
                ]
              }
            ]
          },
          "options": {
            "showHeader": true,
            "cellHeight": "sm",
            "footer": {
              "show": false,
              "reducer": [
                "sum"
              ],
              "fields": "",
              "countRows": false
            }
          },
          "transformations": [
            {
              "id": "joinByField",
              "options": {
                "byField": "instance",
                "mode": "outer"
              }
            },
            {
              "id": "organize",
              "options": {
                "excludeByName": {
                  "Time": true,
                  "Time 1": true,
                  "Time 2": true,
                  "Time 3": true,
                  "Value #A": true
                },
                "indexByName": {
                  "instance": 0,
                  "version": 1,
                  "revision": 2,
                  "goversion": 3,
                  "Value #B": 4,
                  "Value #C": 5
                },
                "renameByName": {
                  "version": "Version",
                  "revision": "Revision",
                  "goversion": "Go",
                  "Value #B": "Last reload",
                  "Value #C": "Last successful reload"
                }
              }
            }
          ]
        }
      ],
      "refresh": "30s",
      "schemaVersion": 39,
      "tags": [
        "zookeeper",
        "zk_monitor"
      ],
      "templating": {
        "list": [
          {
            "type": "datasource",
            "name": "datasource",
            "label": "Data source",
            "query": "prometheus",
            "current": {},
            "hide": 0,
            "includeAll": false,
            "multi": false,
            "options": [],
            "refresh": 1,
            "regex": "",
            "skipUrlSync": false
          },
          {
            "type": "query",
            "name": "job",
            "label": "Job",
            "datasource": {
              "type": "prometheus",
              "uid": "${datasource}"
            },
            "query": "label_values(zk_monitor_zookeeper_connected{%(zkMonitorSelector)s}, job)" % $._config,
            "definition": "label_values(zk_monitor_zookeeper_connected{%(zkMonitorSelector)s}, job)" % $._config,
            "current": {},
            "hide": 0,
            "includeAll": false,
            "multi": false,
            "options": [],
            "refresh": 2,
            "regex": "",
            "skipUrlSync": false,
            "sort": 1
          },
          {
            "type": "query",
            "name": "instance",
            "label": "Agent",
            "datasource": {
              "type": "prometheus",
              "uid": "${datasource}"
            },
            "query": "label_values(zk_monitor_zookeeper_connected{%(zkMonitorSelector)s,job=~\"$job\"}, instance)" % $._config,
            "definition": "label_values(zk_monitor_zookeeper_connected{%(zkMonitorSelector)s,job=~\"$job\"}, instance)" % $._config,
            "current": {},
            "hide": 0,
            "includeAll": true,
            "allValue": ".+",
            "multi": true,
            "options": [],
            "refresh": 2,
            "regex": "",
            "skipUrlSync": false,
            "sort": 1
          },
          {
            "type": "query",
            "name": "path",
            "label": "Path",
            "datasource": {
              "type": "prometheus",
              "uid": "${datasource}"
            },
            "query": "label_values(zk_monitor_znode_stale{%(zkMonitorSelector)s,job=~\"$job\",instance=~\"$instance\"}, path)" % $._config,
            "definition": "label_values(zk_monitor_znode_stale{%(zkMonitorSelector)s,job=~\"$job\",instance=~\"$instance\"}, path)" % $._config,
            "current": {},
            "hide": 0,
            "includeAll": true,
            "allValue": ".+",
            "multi": true,
            "options": [],
            "refresh": 2,
            "regex": "",
            "skipUrlSync": false,
            "sort": 1
          }
        ]
      },
      "time": {
        "from": "now-6h",
        "to": "now"
      },
      "timepicker": {},
      "timezone": "browser",
      "title": "zk_monitor",
      "uid": "zk-monitor",
      "version": 1,
      "weekStart": ""
    },
  },
}
