#!/usr/bin/env bash
# make demo: runs one zk_monitor agent against ZooKeeper and Alertmanager on
# loopback. Starts a local ZooKeeper (Debian's jars) on 127.0.0.1:2181 and an
# Alertmanager on 127.0.0.1:9093 when none answers there, creates the znodes
# of the original README's example and watches them with its config.
#   ZK=host:port        use this ZooKeeper instead
#   AM=http://host:port use this Alertmanager instead
#   PORT=8080           web port of the agent
set -euo pipefail
cd "$(dirname "$0")/.."
ZK=${ZK:-127.0.0.1:2181}
AM=${AM:-http://127.0.0.1:9093}
PORT=${PORT:-8080}
STATE=.demo
mkdir -p "$STATE"
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; wait 2>/dev/null || true; }
trap cleanup EXIT INT TERM

ruok() { # host port
  exec 3<>"/dev/tcp/$1/$2" 2>/dev/null || return 1
  printf ruok >&3; local a; a=$(timeout 2 cat <&3 || true); exec 3>&-
  [ "$a" = imok ]
}

zk_host=${ZK%%:*}; zk_port=${ZK##*:}; zk_port=${zk_port%%/*}
if ruok "$zk_host" "$zk_port"; then
  echo "using the ZooKeeper at $ZK"
else
  echo "starting a local ZooKeeper on 127.0.0.1:$zk_port (logs: $STATE/zookeeper.log)"
  # A fresh tree each time, so the example shows the README's map again.
  rm -rf "$STATE/zk-data"
  mkdir -p "$STATE/zk-data"
  cat > "$STATE/zoo.cfg" <<CFG
tickTime=2000
dataDir=$PWD/$STATE/zk-data
clientPortAddress=127.0.0.1
clientPort=$zk_port
admin.enableServer=false
4lw.commands.whitelist=*
CFG
  cp=""
  for j in zookeeper zookeeper-jute slf4j-api slf4j-simple netty-buffer netty-common netty-handler \
           netty-transport netty-resolver netty-codec netty-transport-native-unix-common \
           netty-transport-native-epoll commons-cli metrics-core snappy-java commons-io \
           jackson-annotations jackson-core jackson-databind; do
    [ -f "/usr/share/java/$j.jar" ] && cp="$cp:/usr/share/java/$j.jar"
  done
  java -Xmx256m -cp "${cp#:}" org.apache.zookeeper.server.quorum.QuorumPeerMain "$STATE/zoo.cfg" >"$STATE/zookeeper.log" 2>&1 &
  pids+=($!)
  for _ in $(seq 1 60); do ruok 127.0.0.1 "$zk_port" && break; sleep 0.5; done
  ruok 127.0.0.1 "$zk_port" || { echo "ZooKeeper did not start; see $STATE/zookeeper.log"; exit 1; }
fi

if curl -fsS "$AM/-/ready" >/dev/null 2>&1; then
  echo "using the Alertmanager at $AM"
else
  am_port=${AM##*:}
  echo "starting a local Alertmanager on 127.0.0.1:$am_port (logs: $STATE/alertmanager.log)"
  rm -rf "$STATE/am-data"
  prometheus-alertmanager --config.file=examples/alertmanager-demo.yml --storage.path="$STATE/am-data" \
    --web.listen-address="127.0.0.1:$am_port" --cluster.listen-address= >"$STATE/alertmanager.log" 2>&1 &
  pids+=($!)
  for _ in $(seq 1 60); do curl -fsS "$AM/-/ready" >/dev/null 2>&1 && break; sleep 0.5; done
fi

echo "creating the example znodes (min_1: 0 children, min_0: 0, min_3: 2)"
./zk_monitor seed -z "$ZK" /services/foo/min_1 /services/foo/min_0 \
  /services/foo/min_3/host1 /services/foo/min_3/host2 >/dev/null

cat <<MSG

zk_monitor is starting:
  status:    curl -s http://127.0.0.1:$PORT/status
  metrics:   http://127.0.0.1:$PORT/metrics
  page:      http://127.0.0.1:$PORT/
  alerts:    $AM/#/alerts
Add a child to fix min_1:  ./zk_monitor seed -z $ZK /services/foo/min_1/host1
Stop with Ctrl-C.

MSG
./zk_monitor -z "$ZK" -f examples/legacy.yaml -p "$PORT" --alertmanager.url "$AM" \
  --alertmanager.resend-interval 30s -l INFO &
pids+=($!)
wait "${pids[-1]}"
