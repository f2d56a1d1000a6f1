# Shared by up.sh and down.sh: where a cluster lives, and the processes it records.
# shellcheck shell=bash

DIR=${ORCH_CLUSTER_DIR:-${TMPDIR:-/tmp}/orch-cluster-$(id -u)}
DIR=${DIR%/}

# Holds a lock (fd 9) next to the state directory: one up.sh or down.sh at a time.
lock_cluster_dir() {
  mkdir -p "$(dirname "$DIR")"
  exec 9>"$DIR.lock"
  flock 9
}

# True if PID runs and is ours: every component's command line names $DIR, which guards
# against a PID recycled by some other process.
owned_pid() {
  local cmdline
  cmdline=$({ tr '\0' ' ' <"/proc/$1/cmdline"; } 2>/dev/null) && [[ $cmdline == *"$DIR/"* ]]
}

# Stops the processes recorded in $DIR/pids: TERM, then KILL after 5 s.
stop_recorded() {
  [ -f "$DIR/pids" ] || return 0
  local pid live=() alive
  while read -r _ pid; do
    if owned_pid "$pid"; then live+=("$pid"); fi
  done <"$DIR/pids"
  [ ${#live[@]} -gt 0 ] || return 0
  echo "cluster: stopping ${#live[@]} processes" >&2
  kill -TERM "${live[@]}" 2>/dev/null || true
  for _ in {1..50}; do
    alive=()
    for pid in "${live[@]}"; do
      if owned_pid "$pid"; then alive+=("$pid"); fi
    done
    [ ${#alive[@]} -gt 0 ] || return 0
    sleep 0.1
  done
  kill -KILL "${alive[@]}" 2>/dev/null || true
  sleep 0.5
}
