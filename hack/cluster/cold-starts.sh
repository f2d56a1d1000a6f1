#!/usr/bin/env bash
# Starts the test control plane cold N times in a row (default 20) and reports how many
# came up, with the start times. Each round stops the cluster, removes its state, drops
# the page cache (so the binaries are read from disk, as on a machine that just booted;
# needs root) and runs up.sh. The cluster lives in a state directory of its own, so a
# developer's running cluster is left alone.
# Usage: hack/cluster/cold-starts.sh [N]
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/../.." && pwd)
ROUNDS=${1:-20}
export ORCH_CLUSTER_DIR=${TMPDIR:-/tmp}/orch-cold-starts-$$
LOGS=$(mktemp -d "${TMPDIR:-/tmp}/orch-cold-starts-logs.XXXXXX")

drop_page_cache() {
  sync
  if ! { echo 3 >/proc/sys/vm/drop_caches; } 2>/dev/null; then
    echo "cold-starts: cannot drop the page cache (needs root); starts are warm" >&2
  fi
}

# Builds what up.sh needs first, so round 1 times a start, not a build.
"$ROOT/hack/cluster/build.sh" >/dev/null
(cd "$ROOT" && cargo build -q -p orch-node-simulator)

up=0 times=()
for ((round = 1; round <= ROUNDS; round++)); do
  "$ROOT/hack/cluster/down.sh" 2>/dev/null
  drop_page_cache
  started=$(date +%s%N)
  if "$ROOT/hack/cluster/up.sh" >"$LOGS/$round.out" 2>"$LOGS/$round.err"; then
    millis=$((($(date +%s%N) - started) / 1000000))
    seconds=$((millis / 1000)).$(printf '%03d' $((millis % 1000)))
    up=$((up + 1))
    times+=("$seconds")
    printf 'cold-starts: round %d up in %.1f s\n' "$round" "$seconds" >&2
  else
    echo "cold-starts: round $round failed; up.sh said:" >&2
    tail -n 20 "$LOGS/$round.err" >&2
  fi
done
"$ROOT/hack/cluster/down.sh" 2>/dev/null

echo "cold-starts: $up of $ROUNDS came up"
if [ ${#times[@]} -gt 0 ]; then
  printf '%s\n' "${times[@]}" | sort -n | awk '
    { t[NR] = $1 }
    END {
      median = NR % 2 ? t[(NR + 1) / 2] : (t[NR / 2] + t[NR / 2 + 1]) / 2
      printf "cold-starts: start time min %.1f s, median %.1f s, max %.1f s\n", t[1], median, t[NR]
    }'
fi
echo "cold-starts: up.sh output of each round in $LOGS"
[ "$up" -eq "$ROUNDS" ]
