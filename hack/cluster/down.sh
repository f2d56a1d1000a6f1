#!/usr/bin/env bash
# Stops the test control plane hack/cluster/up.sh started (exactly the processes it
# recorded) and removes its state directory. Harmless when nothing runs.
set -euo pipefail

source "$(dirname "$0")/lib.sh"

lock_cluster_dir
stop_recorded
rm -rf "$DIR"
echo "cluster: stopped; removed $DIR" >&2
