#!/usr/bin/env bash
# Stops the test control plane hack/cluster/up.sh started (exactly the processes it
# recorded) and removes its state directory. Harmless when nothing runs.
set -euo pipefail

# shellcheck source=hack/cluster/lib.sh
source "$(dirname "$0")/lib.sh"

if [ ! -d "$DIR" ]; then
  echo "cluster: nothing to stop in $DIR" >&2
  exit 0
fi
lock_cluster_dir
stop_recorded
rm -rf "$DIR"
echo "cluster: stopped; removed $DIR" >&2
