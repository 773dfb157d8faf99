#!/usr/bin/env bash
# make bench: runs zk_monitor's benchmarks against a real ZooKeeper and
# Alertmanager on loopback (packages collector, bench, zkclient and
# alerting, see bench/doc.go)
# and prints a Markdown table of the figures beside their baselines, also
# written to .bench/results.md. Raw `go test -bench` output: .bench/raw.txt.
#   BENCH_FULL=1      include 100,000 watched paths (default 1; 0 for a quick run)
#   BENCH_ONLY="a b"  run only these sets (scrape10k gauge alert failover
#                     reconnect huge restart hung scale-sync scale-scrape
#                     hostile firing-set); the others'
#                     figures show as n/a
#   BENCH_PROFILE=1   also write CPU profiles of the scale runs to .bench/*.cpu
#                     and heap profiles after each sync (.bench/sync-N.heap)
# Takes about 8 minutes on 2 cores with BENCH_FULL=1. Benchmarks report
# figures; none of them asserts a time.
set -uo pipefail
cd "$(dirname "$0")/.."
export BENCH_FULL=${BENCH_FULL:-1}
GO=${GO:-go}
OUT=.bench
RAW=$OUT/raw.txt
mkdir -p "$OUT"
: >"$RAW"
load_before=$(cut -d' ' -f1-3 /proc/loadavg)
started=$(date +%s)
failed=()

"$GO" test -c -o "$OUT/collector.test" ./collector || exit 1
"$GO" test -c -o "$OUT/bench.test" ./bench || exit 1
"$GO" test -c -o "$OUT/zkclient.test" ./zkclient || exit 1
"$GO" test -c -o "$OUT/alerting.test" ./alerting || exit 1
abs_out=$(cd "$OUT" && pwd)

# run PKG NAME ARGS...: runs one benchmark set of a compiled test binary in
# its package directory, as go test would, appending to the raw output.
run() {
  local pkg=$1 name=$2
  shift 2
  case " ${BENCH_ONLY:-$name} " in *" $name "*) ;; *) return ;; esac
  local profile=()
  if [ "${BENCH_PROFILE:-0}" = 1 ]; then
    profile=(-test.cpuprofile "$abs_out/$name.cpu")
    export BENCH_PROFILE_DIR=$abs_out
  fi
  echo "== $name: $*" >&2
  local log=$OUT/$name.log
  (cd "$pkg" && "$abs_out/$pkg.test" -test.run '^$' -test.benchmem "${profile[@]}" "$@") >"$log" 2>&1
  local rc=$?
  cat "$log" >>"$RAW"
  grep -E '^(Benchmark|--- FAIL|FAIL|panic)' "$log" >&2
  if [ "$rc" != 0 ]; then
    failed+=("$name")
  fi
}

run collector scrape10k -test.bench '^BenchmarkScrape10k$' -test.benchtime 3s
run collector gauge -test.bench '^Benchmark(ChangeToGauge|RawWatchRoundTrip)$' -test.benchtime 500x
run bench alert -test.bench '^BenchmarkChangeToAlert$' -test.benchtime 200x
run bench failover -test.bench '^BenchmarkFailover$' -test.benchtime 5x
run bench reconnect -test.bench '^BenchmarkReconnect$' -test.benchtime 5x
run bench huge -test.bench '^BenchmarkHugeZnode$' -test.benchtime 20x
run bench restart -test.bench '^BenchmarkZooKeeperRestart$' -test.benchtime 20x -test.timeout 30m
run zkclient hung -test.bench '^BenchmarkHungFirstServer$' -test.benchtime 5x
run collector deadlines -test.bench '^BenchmarkDeadlines$' -test.benchtime 1s
run collector expiry -test.bench '^BenchmarkMaxAgeExpiry$' -test.benchtime 3x
# Two agent processes, each idle for a minute (BENCH_IDLE shortens it).
run bench maxage -test.bench '^BenchmarkMaxAgeIdle$' -test.benchtime 1x -test.timeout 20m
# One-shot figures once each; scrapes and changes 20 times each.
run bench scale-sync -test.bench '^BenchmarkScale$/paths=/^(sync|rawsync|naive)$' -test.benchtime 1x -test.timeout 30m
run bench scale-scrape -test.bench '^BenchmarkScale$/paths=/^(scrape|change)$' -test.benchtime 20x -test.timeout 30m
run bench hostile -test.bench '^BenchmarkHostileClients$' -test.benchtime 1x -test.timeout 20m
run alerting firing-set -test.bench '^BenchmarkFiringSet$' -test.benchtime 1x -test.timeout 30m

load_after=$(cut -d' ' -f1-3 /proc/loadavg)
elapsed=$(($(date +%s) - started))

# metric BENCHMARK UNIT: the last value reported with UNIT by BENCHMARK
# (name without the -GOMAXPROCS suffix).
metric() {
  awk -v name="$1" -v unit="$2" '
    $1 ~ /^Benchmark/ {
      n = $1; sub(/-[0-9]+$/, "", n)
      if (n != name) next
      for (i = 3; i < NF; i++) if ($(i + 1) == unit) v = $i
    }
    END { if (v != "") print v }' "$RAW"
}

# num VALUE [SCALE]: VALUE*SCALE with 3 significant digits, or "n/a".
num() {
  [ -n "$1" ] || { echo "n/a"; return; }
  awk -v v="$1" -v s="${2:-1}" 'BEGIN {
    v *= s; a = v < 0 ? -v : v
    if (a >= 100) printf "%.0f", v; else if (a >= 10) printf "%.1f", v
    else if (a >= 1) printf "%.2f", v; else printf "%.3g", v }'
}

# pair BENCH UNIT1 UNIT2 SUFFIX: "x / y SUFFIX".
pair() { echo "$(num "$(metric "$1" "$2")") / $(num "$(metric "$1" "$3")") $4"; }

# triple BENCH PREFIX: "p50 / p99 / max" of PREFIX-p50-ms, -p99-ms, -max-ms.
triple() { echo "$(num "$(metric "$1" "$2-p50-ms")") / $(num "$(metric "$1" "$2-p99-ms")") / $(num "$(metric "$1" "$2-max-ms")")"; }

row() { printf '| %s | %s | %s | %s |\n' "$1" "$2" "$3" "$4"; }

sizes=(1000 10000)
[ "$BENCH_FULL" = 1 ] && sizes+=(100000)

cpu=$(awk -F': ' '/^model name/ { print $2; exit }' /proc/cpuinfo)
mem=$(awk '/^MemTotal/ { printf "%.1f GiB", $2 / 1048576 }' /proc/meminfo)
am_version=$(prometheus-alertmanager --version 2>&1 | head -n 1 | awk '{ print $3 }')
zk_version=$(ls /usr/share/java/ 2>/dev/null | sed -n 's/^zookeeper-\([0-9][0-9.]*\)\.jar$/\1/p' | head -n 1)

{
  echo "## zk_monitor benchmarks"
  echo
  echo "Machine: $(nproc) CPUs, ${cpu:-unknown CPU}, $mem RAM; $(uname -sr); $("$GO" env GOVERSION)."
  echo "ZooKeeper ${zk_version:-?} standalone and Alertmanager ${am_version:-?} on loopback, started by the benchmarks."
  echo "Date: $(date -u '+%Y-%m-%d %H:%M UTC'); took ${elapsed}s; load average before: $load_before, after: $load_after."
  echo
  echo "| figure | our value | baseline | goal |"
  echo "| --- | --- | --- | --- |"
  raw_p99=$(metric BenchmarkRawWatchRoundTrip p99-ms)
  goal3x=""
  [ -n "$raw_p99" ] && goal3x=" (≤ $(num "$raw_p99" 3) ms here)"
  row "change → gauge, p50 / p99" "$(pair BenchmarkChangeToGauge p50-ms p99-ms ms)" \
    "$(pair BenchmarkRawWatchRoundTrip p50-ms p99-ms ms) (raw watch + getChildren)" "p99 ≤ 3× raw$goal3x"
  row "ZooKeeper requests per change" "$(num "$(metric BenchmarkChangeToGauge zk-req/change)")" "1 (raw getChildren)" "1 or 2"
  row "change → alert in Alertmanager, p50 / p99" "$(pair BenchmarkChangeToAlert/zk_monitor p50-ms p99-ms ms)" \
    "$(pair BenchmarkChangeToAlert/direct p50-ms p99-ms ms) (POST straight to Alertmanager)" "p99 < 100 ms"
  row "back in spec → alert resolved, p50 / p99" "$(pair BenchmarkChangeToAlert/zk_monitor resolve-p50-ms resolve-p99-ms ms)" \
    "$(pair BenchmarkChangeToAlert/direct resolve-p50-ms resolve-p99-ms ms)" "—"
  row "scrape of 10,000 paths (Gather + text)" \
    "$(num "$(metric BenchmarkScrape10k ns/op)" 1e-6) ms, $(num "$(metric BenchmarkScrape10k allocs/op)") allocs" "—" "—"
  row "ZooKeeper requests per scrape, 10,000 paths" "$(num "$(metric BenchmarkScrape10k zk-req/scrape)")" "—" "0"
  for n in "${sizes[@]}"; do
    s="BenchmarkScale/paths=$n"
    label=$(echo "$n" | sed -e ':a' -e 's/\B[0-9]\{3\}\>/,&/' -e 'ta')
    goal_sync="—" goal_rss="—" goal_scrape="—"
    if [ "$n" = 100000 ]; then goal_sync="< 10 s" goal_rss="< 300 MB" goal_scrape="< 1 s"; fi
    row "$label paths: time to first full sync" "$(num "$(metric "$s/sync" sync-s)") s" \
      "$(num "$(metric "$s/rawsync" ns/op)" 1e-9) s (raw ChildrenW, 16 in flight)" "$goal_sync"
    row "$label paths: heap added / process RSS after sync" \
      "$(num "$(metric "$s/sync" heap-MB)") MB / $(num "$(metric "$s/sync" rss-MB)") MB" "—" "$goal_rss"
    row "$label paths: /metrics scrape (text, gzip)" "$(num "$(metric "$s/scrape" ns/op)" 1e-6) ms" \
      "$(num "$(metric "$s/naive" ns/op)" 1e-6) ms (naive poll-per-scrape)" "$goal_scrape"
    row "$label paths: ZooKeeper requests per scrape" "$(num "$(metric "$s/scrape" zk-req/scrape)")" \
      "$(num "$(metric "$s/naive" zk-req/scrape)") (naive)" "0"
    row "$label paths: ZooKeeper requests per change; change → result p50" \
      "$(num "$(metric "$s/change" zk-req/change)"); $(num "$(metric "$s/change" p50-ms)") ms" "—" "1 or 2"
  done
  row "10,000 paths: connection cut and restored → every path read again, p50" \
    "$(num "$(metric BenchmarkReconnect resync-p50-ms)") ms" "$(num "$(metric "BenchmarkScale/paths=10000/sync" sync-s)" 1e3) ms (first sync)" "—"
  row "10,000 paths: heap growth per reconnect (no znode changed)" \
    "$(num "$(metric BenchmarkReconnect heap-KB/reconnect)") KB" "—" "≈ 0"
  row "one znode with 200,000 children and 1 MB of data: agent process RSS after sync / after 20 changes" \
    "$(pair BenchmarkHugeZnode rss-MB rss-end-MB MB)" "—" "—"
  row "one znode with 200,000 children and 1 MB of data: first sync; change → exact count p50 / p99" \
    "$(num "$(metric BenchmarkHugeZnode sync-s)") s; $(pair BenchmarkHugeZnode change-p50-ms change-p99-ms ms)" \
    "$(pair BenchmarkHugeZnode raw-p50-ms raw-p99-ms ms) (raw getChildren + getData)" "—"
  row "ZooKeeper restarted 20 times → session again (4 s session), median / max" \
    "$(pair BenchmarkZooKeeperRestart reconnect-p50-ms reconnect-max-ms ms)" \
    "$(pair BenchmarkZooKeeperRestart raw-reconnect-p50-ms raw-reconnect-max-ms ms) (go-zookeeper alone)" "≤ 6000 ms (session + 2 s)"
  row "hung first server of two → first session (4 s session), median / max of 5" \
    "$(pair BenchmarkHungFirstServer connect-p50-ms connect-max-ms ms)" "26.7 s (go-zookeeper alone: 10 × 2/3 session)" "< 6000 ms"
  row "failover, leader killed (connection blackholed) → new leader / sending, median" \
    "$(pair BenchmarkFailover/kill lead-p50-ms send-p50-ms ms)" "2000 ms session timeout" "≈ session timeout"
  row "failover, graceful stop → new leader / sending, median" \
    "$(pair BenchmarkFailover/graceful lead-p50-ms send-p50-ms ms)" "—" "—"
  row "runs with two agents claiming leadership at once (kill)" "$(num "$(metric BenchmarkFailover/kill dual-leader)")" "—" "0"
  h=BenchmarkHostileClients/load=stalled
  row "8,000 paths, 1,500 stalled /status + 10 stalled /metrics: agent RSS idle → peak" \
    "$(num "$(metric $h idle-rss-MB)") → $(num "$(metric $h peak-rss-MB)") MB" "before the fix: 4.3 GB (issue 13)" \
    "< 2 × idle + 100 MB (≤ $(num "$(metric $h bound-rss-MB)") MB here)"
  row "… scrapes meanwhile, p50 / p99 / max; failed" \
    "$(triple $h scrape) ms; $(num "$(metric $h scrape-failures)")" \
    "$(pair $h idle-scrape-p50-ms idle-scrape-p99-ms ms) without the load; before the fix: 503 for 60 s" "max < 1 s; 0"
  row "… ZooKeeper session lost / leadership lost (2 s session)" \
    "$(num "$(metric $h session-lost)") / $(num "$(metric $h lead-lost)")" "—" "0 / 0"
  h=BenchmarkHostileClients/load=busy
  row "8,000 paths, 400 clients reading /status flat out: agent RSS idle → peak; /status per s; 503s" \
    "$(num "$(metric $h idle-rss-MB)") → $(num "$(metric $h peak-rss-MB)") MB; $(num "$(metric $h status-per-s)"); $(num "$(metric $h status-503)")" \
    "before the fix: 1.4 GB (issue 13)" "< 2 × idle + 100 MB"
  row "… scrapes meanwhile, p50 / p99 / max; failed; session / leadership lost" \
    "$(triple $h scrape) ms; $(num "$(metric $h scrape-failures)"); $(num "$(metric $h session-lost)") / $(num "$(metric $h lead-lost)")" \
    "$(pair $h idle-scrape-p50-ms idle-scrape-p99-ms ms) without the load" "—"
  ma=BenchmarkMaxAgeIdle/check=max_age
  mc=BenchmarkMaxAgeIdle/check=children
  row "10,000 paths with max_age, agent process: CPU over an idle minute (no scrape, no change) / RSS after sync" \
    "$(num "$(metric $ma idle-cpu-pct)") % of one core / $(num "$(metric $ma rss-MB)") MB" \
    "$(num "$(metric $mc idle-cpu-pct)") % / $(num "$(metric $mc rss-MB)") MB (the same paths with a children check)" "< 1 % of one core"
  row "10,000 paths with max_age, agent process: ZooKeeper requests in the idle minute" \
    "$(num "$(metric $ma idle-zk-req)")" "$(num "$(metric $mc idle-zk-req)") (children check)" "none from the watcher"
  row "10,000 max_age deadlines, one heap under one timer: memory; one moved by a write; 10,000 coming at once" \
    "$(num "$(metric BenchmarkDeadlines/setup/heap B/op)" 1e-6) MB; $(num "$(metric BenchmarkDeadlines/move/heap ns/op)") ns; $(num "$(metric BenchmarkDeadlines/burst/heap ns/op)" 1e-6) ms" \
    "$(num "$(metric BenchmarkDeadlines/setup/afterfunc B/op)" 1e-6) MB; $(num "$(metric BenchmarkDeadlines/move/afterfunc ns/op)") ns; $(num "$(metric BenchmarkDeadlines/burst/afterfunc ns/op)" 1e-6) ms (a time.AfterFunc per path)" "—"
  row "10,000 max_age checks failing within a second: last deadline → last failure told; CPU; ZooKeeper requests" \
    "$(num "$(metric BenchmarkMaxAgeExpiry expire-ms)") ms; $(num "$(metric BenchmarkMaxAgeExpiry cpu-ms)") ms; $(num "$(metric BenchmarkMaxAgeExpiry zk-req)")" "—" "0 requests"
  row "the same, agent process: last deadline → /metrics shows all 10,000 non-compliant (polled every 250 ms; one look takes the second figure)" \
    "$(num "$(metric $ma expire-s)") s; $(num "$(metric $ma poll-s)") s" "—" "—"
  for n in "${sizes[@]}"; do
    label=$(echo "$n" | sed -e ':a' -e 's/\B[0-9]\{3\}\>/,&/' -e 'ta')
    row "$label firing alerts: record them all / a new leader reads and merges them" \
      "$(pair "BenchmarkFiringSet/alerts=$n" record-s takeover-s s)" "—" "—"
  done
  echo
  echo "RSS is that of the benchmark process (its own ZooKeeper clients and test data included), but for the one huge znode: that is the agent binary's own; heap added is what the Watcher's sync added to the Go heap."
  echo "Latencies are measured by polling every 0.25 ms (alerts) or 2 ms (failover); failover runs use a 2 s ZooKeeper session timeout."
  echo "The hostile-client rows run the real binary (no race detector) and read its RSS from /proc; a Prometheus-like client scrapes it (gzip) every 250 ms for 15 s of load."
  if [ ${#failed[@]} -gt 0 ]; then
    echo
    echo "FAILED benchmark runs: ${failed[*]} (see $RAW)"
  fi
} | tee "$OUT/results.md"

[ ${#failed[@]} -eq 0 ]
