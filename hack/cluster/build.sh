#!/usr/bin/env bash
# Builds kube-apiserver and kube-controller-manager once per machine from Debian
# bookworm's kubernetes source package (it vendors its Go dependencies, so it builds
# offline) and caches them outside the clone; later runs find them and return at once.
set -euo pipefail

K8S_VERSION=1.20.2
DEB_VERSION=1.20.5+really1.20.2-1.1+deb12u1
CACHE=${ORCH_K8S_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/orch/k8s-$K8S_VERSION}
BINARIES=(kube-apiserver kube-controller-manager)
# Go >= 1.18 breaks the reflect2 1.0.1 that Kubernetes 1.20 vendors: the API server
# panics decoding maps keyed by a named string type (a Node's capacity, a container's
# resources). Debian packages the fixed 1.0.2; it replaces the vendored copy. The build id
# names that, so binaries cached by an older recipe are rebuilt.
REFLECT2=/usr/share/gocode/src/github.com/modern-go/reflect2
BUILD_ID="$K8S_VERSION reflect2-1.0.2"
# How many packages `go build -v` names for the two binaries (counted on one build), so
# the progress lines can say how far the build is.
PACKAGES=2000

have_all() {
  local b
  [ "$(cat "$CACHE/build-id" 2>/dev/null)" = "$BUILD_ID" ] || return 1
  for b in "${BINARIES[@]}"; do [ -x "$CACHE/$b" ] || return 1; done
}

elapsed() { printf '%dm%02ds' $(($1 / 60)) $(($1 % 60)); }

as_root() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi; }

install_packages() {
  local missing=()
  command -v go >/dev/null || missing+=(golang-go)
  command -v etcd >/dev/null || missing+=(etcd-server)
  command -v rsync >/dev/null || missing+=(rsync)
  command -v openssl >/dev/null || missing+=(openssl)
  command -v curl >/dev/null || missing+=(curl)
  [ -f "$REFLECT2/reflect2.go" ] || missing+=(golang-github-modern-go-reflect2-dev)
  if [ ${#missing[@]} -gt 0 ]; then
    echo "cluster: installing ${missing[*]}" >&2
    as_root apt-get update -qq
    DEBIAN_FRONTEND=noninteractive as_root apt-get install -y -qq "${missing[@]}" >/dev/null
  fi
}

enable_deb_src() {
  # The source package comes from the same mirror apt already uses: copy its entries
  # as deb-src ones.
  local list=/etc/apt/sources.list.d/orch-debsrc.sources
  [ -f "$list" ] && return 0
  sed 's/^Types: deb$/Types: deb-src/' /etc/apt/sources.list.d/debian.sources | as_root tee "$list" >/dev/null
  as_root apt-get update -qq
}

build() {
  # Global, not local: the EXIT trap runs after this function has returned.
  work=$(mktemp -d "${TMPDIR:-/tmp}/orch-k8s-build.XXXXXX")
  trap 'rm -rf "$work"' EXIT
  echo "cluster: building ${BINARIES[*]} $K8S_VERSION from source (once per machine, about 6-10 min)" >&2
  (cd "$work" && apt-get source --download-only "kubernetes=$DEB_VERSION" >/dev/null 2>&1)
  tar -C "$work" -xzf "$work/kubernetes_${DEB_VERSION%%-*}.orig.tar.gz"
  local src="$work/kubernetes-$K8S_VERSION"
  rsync -a --delete --exclude go.mod "$REFLECT2/" "$src/vendor/github.com/modern-go/reflect2/"
  # GOPATH and HOME inside the work dir keep the build off the user's Go setup. GOFLAGS=-v
  # makes go name each package it compiles, which the progress lines count.
  (cd "$src" && GOPATH="$src/.go" HOME="$work/home" CGO_ENABLED=0 \
    make WHAT="cmd/kube-apiserver cmd/kube-controller-manager" GOFLAGS=-v >"$work/build.log" 2>&1) &
  # Global, as `work`: the trap that stops the build if this script is stopped needs it.
  make_pid=$!
  local started=$SECONDS next=$((SECONDS + 30))
  trap 'kill "$make_pid" 2>/dev/null; rm -rf "$work"' EXIT
  # The build is silent for minutes: say every 30 s that it goes on, and how far it got.
  while kill -0 "$make_pid" 2>/dev/null; do
    sleep 2
    if ((SECONDS >= next)); then
      next=$((next + 30))
      echo "cluster: still building Kubernetes: $(elapsed $((SECONDS - started))), $(grep -cE '^[A-Za-z0-9._-]+(/[A-Za-z0-9._~-]+)*$' "$work/build.log") of about $PACKAGES packages compiled" >&2
    fi
  done
  wait "$make_pid" || {
    tail -n 40 "$work/build.log" >&2
    echo "cluster: the Kubernetes build failed (log above)" >&2
    exit 1
  }
  echo "cluster: built Kubernetes in $(elapsed $((SECONDS - started)))" >&2
  mkdir -p "$CACHE"
  local b
  for b in "${BINARIES[@]}"; do
    install -m 0755 "$src/_output/bin/$b" "$CACHE/$b.tmp"
    mv "$CACHE/$b.tmp" "$CACHE/$b"
  done
  echo "$BUILD_ID" >"$CACHE/build-id"
}

install_packages
if ! have_all; then
  enable_deb_src
  build
fi
echo "$CACHE"
