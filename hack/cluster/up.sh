#!/usr/bin/env bash
# Starts orch's test control plane: etcd, the real kube-apiserver and
# kube-controller-manager, and the node simulator in place of kubelets and scheduler,
# all on free loopback ports, with state, logs and PIDs in one directory. Prints
# `export KUBECONFIG=...` on stdout (everything else goes to stderr). Reuses a running,
# ready cluster from the same directory. hack/cluster/down.sh stops it.
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/../.." && pwd)
# The admin's token; a test's own control planes may each have another
# (ORCH_CLUSTER_TOKEN), so that a credential sent to the wrong cluster is refused.
TOKEN=${ORCH_CLUSTER_TOKEN:-orch-admin-token}
# More kube-apiserver flags, space-separated: a test's own control plane may be given
# limits (ORCH_APISERVER_ARGS="--max-requests-inflight 2" and the like).
read -r -a APISERVER_ARGS <<< "${ORCH_APISERVER_ARGS:-}"
SIMULATOR=orch-node-simulator
source "$ROOT/hack/cluster/lib.sh"

log() { echo "cluster: $*" >&2; }

# Prints the tail of a component's log, stops what this run started (keeping the logs
# in $DIR) and gives up.
fail() {
  local component=$1
  shift
  log "$*"
  if [ -f "$DIR/$component.log" ]; then
    echo "--- last lines of $DIR/$component.log ---" >&2
    tail -n 30 "$DIR/$component.log" >&2
  fi
  stop_recorded
  exit 1
}

# Prints N unused loopback ports, below the ephemeral range so that outgoing connections
# do not take them meanwhile.
free_ports() {
  local taken=" " _ local_address state port n
  # Listening sockets (state 0A) in /proc/net/tcp*, whose local port is in hex.
  while read -r _ local_address _ state _; do
    if [ "$state" = 0A ]; then taken+="$((16#${local_address##*:})) "; fi
  done < <(cat /proc/net/tcp /proc/net/tcp6 2>/dev/null)
  for ((n = 0; n < $1; )); do
    port=$((20000 + RANDOM % 12000))
    case "$taken" in *" $port "*) continue ;; esac
    taken+="$port "
    echo "$port"
    n=$((n + 1))
  done
}

# Starts a component in its own session (so a terminal's Ctrl-C or the caller's exit does
# not reach it) with its output in $DIR/NAME.log, and records its PID.
start() {
  local name=$1
  shift
  # The command line, NUL-separated, so `repair` can start the component again as it was.
  printf '%s\0' "$@" >"$DIR/$name.cmd"
  setsid "$@" </dev/null >>"$DIR/$name.log" 2>&1 9>&- &
  local pid=$! start
  # A component that dies at once may be reaped before its stat is read.
  read -r start _ < <(proc_start_and_state "$pid") || fail "$name" "$name exited as it started"
  echo "$name $pid $start" >>"$DIR/pids"
}

api() { curl -skf --max-time 5 -H "Authorization: Bearer $TOKEN" "https://127.0.0.1:$API_PORT$1"; }

# Waits until `api PATH` answers (with EXPECTED as body, if not empty) while every
# component started so far keeps running; on a timeout, shows COMPONENT's log.
wait_for() {
  local component=$1 path=$2 expected=$3 what=$4 deadline=$((SECONDS + 90)) body name pid start
  while ((SECONDS < deadline)); do
    while read -r name pid start; do
      owned_pid "$pid" "$start" || fail "$name" "$name exited while waiting for $what"
    done <"$DIR/pids"
    if body=$(api "$path" 2>/dev/null) && [[ -z $expected || $body == "$expected" ]]; then
      return 0
    fi
    sleep 0.5
  done
  fail "$component" "timed out after 90 s waiting for $what"
}

pid_alive() {
  local pid start
  read -r pid start < <(awk -v n="$1" '$1 == n { print $2, $3 }' "$DIR/pids" 2>/dev/null)
  [ -n "$pid" ] && owned_pid "$pid" "$start"
}

running_and_ready() {
  [ -f "$DIR/kubeconfig" ] && [ -f "$DIR/ports" ] || return 1
  local component
  for component in etcd kube-apiserver kube-controller-manager "$SIMULATOR"; do
    pid_alive "$component" || return 1
  done
  API_PORT=$(cat "$DIR/ports")
  [ "$(api /readyz)" = ok ]
}

report() { echo "export KUBECONFIG=$DIR/kubeconfig"; }

# Starts again, with the same command line and state, each component that stopped while
# etcd kept running (fault tests kill the API server mid-sync). False if it cannot.
repair() {
  [ -f "$DIR/ports" ] && pid_alive etcd || return 1
  API_PORT=$(cat "$DIR/ports")
  local component cmd dead=()
  for component in kube-apiserver kube-controller-manager "$SIMULATOR"; do
    pid_alive "$component" && continue
    [ -f "$DIR/$component.cmd" ] || return 1
    dead+=("$component")
    sed -i "/^$component /d" "$DIR/pids"
  done
  # The controllers and the simulator need the API server when they start.
  for component in kube-apiserver kube-controller-manager "$SIMULATOR"; do
    [[ " ${dead[*]} " == *" $component "* ]] || continue
    log "restarting $component"
    mapfile -d '' cmd <"$DIR/$component.cmd"
    start "$component" "${cmd[@]}"
    if [ "$component" = kube-apiserver ]; then
      wait_for kube-apiserver /readyz ok "the restarted API server to be ready"
    fi
  done
}

lock_cluster_dir
if running_and_ready; then
  report
  exit 0
fi
if [ -d "$DIR" ] && repair; then
  report
  exit 0
fi
if [ -d "$DIR" ]; then
  log "cleaning up a stopped or broken cluster in $DIR"
  stop_recorded
  rm -rf "$DIR"
fi

K8S_BIN=$("$ROOT/hack/cluster/build.sh")
for tool in etcd openssl curl; do
  command -v "$tool" >/dev/null || { log "$tool is missing (hack/cluster/build.sh installs it)"; exit 1; }
done
log "building the node simulator"
(cd "$ROOT" && cargo build -q -p "$SIMULATOR" >&2)
mkdir -p "$DIR/certs"
# A copy in the state dir keeps the running binary apart from later builds of target/.
cp "${CARGO_TARGET_DIR:-$ROOT/target}/debug/$SIMULATOR" "$DIR/$SIMULATOR"

{ read -r ETCD_PORT; read -r PEER_PORT; read -r API_PORT; } < <(free_ports 3)
echo "$API_PORT" >"$DIR/ports"
openssl genrsa -out "$DIR/sa.key" 2048 2>/dev/null
openssl rsa -in "$DIR/sa.key" -pubout -out "$DIR/sa.pub" 2>/dev/null
# admin can do anything; deployer nothing until a test grants it a Role (least privilege).
printf '%s\n' "$TOKEN,admin,admin,system:masters" "orch-deployer-token,deployer,deployer" >"$DIR/tokens.csv"
cat >"$DIR/kubeconfig" <<EOF
apiVersion: v1
kind: Config
clusters:
- name: orch-test
  cluster:
    server: https://127.0.0.1:$API_PORT
    certificate-authority: $DIR/certs/apiserver.crt
users:
- name: admin
  user:
    token: $TOKEN
contexts:
- name: orch-test
  context: {cluster: orch-test, user: admin}
current-context: orch-test
EOF
# It holds the admin token; helm and kubectl also warn about readable kubeconfigs.
chmod 600 "$DIR/kubeconfig" "$DIR/tokens.csv"

log "starting etcd, kube-apiserver and kube-controller-manager in $DIR"
# The service range is a /16: `make bench` syncs thousands of releases with a Service each,
# and a /24 runs out at the 255th ("failed to allocate a serviceIP: range is full").
start etcd etcd --name orch --data-dir "$DIR/etcd" \
  --listen-client-urls "http://127.0.0.1:$ETCD_PORT" --advertise-client-urls "http://127.0.0.1:$ETCD_PORT" \
  --listen-peer-urls "http://127.0.0.1:$PEER_PORT" --initial-advertise-peer-urls "http://127.0.0.1:$PEER_PORT" \
  --initial-cluster "orch=http://127.0.0.1:$PEER_PORT"
start kube-apiserver "$K8S_BIN/kube-apiserver" --etcd-servers "http://127.0.0.1:$ETCD_PORT" \
  --bind-address 127.0.0.1 --advertise-address 127.0.0.1 --secure-port "$API_PORT" \
  --cert-dir "$DIR/certs" --token-auth-file "$DIR/tokens.csv" --authorization-mode RBAC \
  --service-account-key-file "$DIR/sa.pub" --service-account-signing-key-file "$DIR/sa.key" \
  --service-account-issuer https://kubernetes.default.svc --service-cluster-ip-range 10.0.0.0/16 \
  --allow-privileged=true --disable-admission-plugins ServiceAccount \
  --kubelet-preferred-address-types InternalIP ${APISERVER_ARGS[@]+"${APISERVER_ARGS[@]}"}
wait_for kube-apiserver /readyz ok "the API server to be ready"

start kube-controller-manager "$K8S_BIN/kube-controller-manager" --kubeconfig "$DIR/kubeconfig" \
  --bind-address 127.0.0.1 --secure-port 0 --port 0 \
  --service-account-private-key-file "$DIR/sa.key" --root-ca-file "$DIR/certs/apiserver.crt" \
  --leader-elect=false --use-service-account-credentials=false \
  --controllers '*,-nodeipam,-nodelifecycle,-cloud-node-lifecycle,-route,-service,-attachdetach,-persistentvolume-binder,-persistentvolume-expander,-ttl'
start "$SIMULATOR" "$DIR/$SIMULATOR" --kubeconfig "$DIR/kubeconfig" --nodes 2
# The default service account appears once the controllers run; the node once the
# simulator registered it.
wait_for kube-controller-manager /api/v1/namespaces/default/serviceaccounts/default "" \
  "the controller manager to create the default service account"
wait_for "$SIMULATOR" /api/v1/nodes/orch-sim-node-1 "" "the node simulator to register its nodes"
log "ready"
report
