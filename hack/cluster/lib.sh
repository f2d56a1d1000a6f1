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

# Prints the start time of process PID (field 22 of /proc/PID/stat, in clock ticks since
# boot) and its state letter; fails if there is no such process. The start time is fixed
# at fork and kept across exec, so PID + start time names one process for its whole life,
# whichever program it runs, and a recycled PID never matches.
proc_start_and_state() {
  local stat fields
  stat=$(cat "/proc/$1/stat" 2>/dev/null) || return 1
  [ -n "$stat" ] || return 1
  # The command name (field 2) is in parentheses and may hold blanks: split after it.
  read -ra fields <<<"${stat##*) }"
  echo "${fields[19]} ${fields[0]}"
}

# True while the process recorded as PID with start time START runs: it exists, is the
# same process (not a recycled PID) and is not a zombie. Nothing here reads the command
# line, which reads empty while the process is exec'ing a program that is not cached yet.
owned_pid() {
  local now state cmdline
  read -r now state < <(proc_start_and_state "$1") || return 1
  [ "$state" != Z ] && [ "$state" != X ] || return 1
  if [ -z "$2" ]; then
    # Recorded by an up.sh from before start times were: its command line names $DIR.
    cmdline=$({ tr '\0' ' ' <"/proc/$1/cmdline"; } 2>/dev/null) && [[ $cmdline == *"$DIR/"* ]]
    return
  fi
  [ "$now" = "$2" ]
}

# Stops the processes recorded in $DIR/pids (lines of NAME PID START): TERM, then KILL
# after 5 s.
stop_recorded() {
  [ -f "$DIR/pids" ] || return 0
  local pid start live=() starts=() alive i
  while read -r _ pid start; do
    if owned_pid "$pid" "$start"; then live+=("$pid") starts+=("$start"); fi
  done <"$DIR/pids"
  [ ${#live[@]} -gt 0 ] || return 0
  echo "cluster: stopping ${#live[@]} processes" >&2
  kill -TERM "${live[@]}" 2>/dev/null || true
  for _ in {1..50}; do
    alive=()
    for i in "${!live[@]}"; do
      if owned_pid "${live[i]}" "${starts[i]}"; then alive+=("${live[i]}"); fi
    done
    [ ${#alive[@]} -gt 0 ] || return 0
    sleep 0.1
  done
  kill -KILL "${alive[@]}" 2>/dev/null || true
  sleep 0.5
}
