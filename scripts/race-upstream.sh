#!/usr/bin/env bash
# race-upstream.sh: shows why go.mod replaces go-zookeeper with the patched
# copy in third_party/go-zookeeper/zk. It runs the reproduction of the
# library's lastZxid data race (upstream PR go-zookeeper/zk#35) with -race,
# first against the unpatched upstream v1.0.4 (go.mod without the replace
# directive, in a temporary -modfile), then against the patched copy.
# Expected: upstream reports "race detected", the patched copy passes.
# Exit status 0 only if both happen. Needs ZooKeeper (make deps).
set -uo pipefail
cd "$(dirname "$0")/.."
GO=${GO:-go}
RUNS=${RUNS:-3}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
grep -v '^replace github.com/go-zookeeper/zk ' go.mod >"$tmp/go.mod"
cp go.sum "$tmp/go.sum"
test=TestReconnectWithWatchesAndRequestsInFlight
status=0

echo "== upstream go-zookeeper v1.0.4 ($RUNS runs)"
raced=0
for _ in $(seq "$RUNS"); do
  if "$GO" test -modfile="$tmp/go.mod" -mod=mod -race -count=1 -run "^$test\$" ./zkclient >"$tmp/out" 2>&1; then
    echo "passed (race not hit this run)"
  elif grep -q 'race detected' "$tmp/out"; then
    raced=$((raced + 1))
    grep -m1 -A2 '^Write at' "$tmp/out"
  else
    cat "$tmp/out"
    status=1
  fi
done
echo "upstream: race detected in $raced of $RUNS runs"
[ "$raced" -gt 0 ] || status=1

echo "== patched copy (third_party/go-zookeeper/zk, $RUNS runs)"
if "$GO" test -race -count="$RUNS" -run "^$test\$" ./zkclient; then
  echo "patched: no race in $RUNS runs"
else
  status=1
fi
exit $status
