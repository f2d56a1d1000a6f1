#!/usr/bin/env python3
"""One orch run across several control planes, against the same releases on one.

Starts N control planes of this script's own (hack/cluster/up.sh, each in its own state
directory and ports), writes one kubeconfig with a context per cluster (c0, c1, ...), and
generates R releases spread over the clusters, each chain of needs crossing them. Times,
as the median of --reps runs: the first sync (wait: false) and a no-op sync across the N
clusters, and the same releases all on c0 (--kube-context c0). Prints a Markdown table.
`make bench-clusters` runs it; the control planes are stopped at the end.
"""

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
CHART = ROOT / "tests/fixtures/parity/basic/charts/web"
UP = ROOT / "hack/cluster/up.sh"
DOWN = ROOT / "hack/cluster/down.sh"


def start(directory):
    env = dict(os.environ, ORCH_CLUSTER_DIR=str(directory))
    out = subprocess.run([str(UP)], env=env, check=True, capture_output=True, text=True).stdout
    return next(line.split("=", 1)[1] for line in out.splitlines() if line.startswith("export KUBECONFIG="))


def stop(directory):
    env = dict(os.environ, ORCH_CLUSTER_DIR=str(directory))
    subprocess.run([str(DOWN)], env=env, capture_output=True)


def merged_kubeconfig(kubeconfigs, path):
    """One kubeconfig: cluster, user and context cN for the Nth control plane."""
    import yaml  # PyYAML: in the bench's requirements, as for bench.py
    merged = {"apiVersion": "v1", "kind": "Config", "clusters": [], "users": [], "contexts": []}
    for i, kubeconfig in enumerate(kubeconfigs):
        config = yaml.safe_load(Path(kubeconfig).read_text())
        name = f"c{i}"
        merged["clusters"].append({"name": name, "cluster": config["clusters"][0]["cluster"]})
        merged["users"].append({"name": name, "user": config["users"][0]["user"]})
        merged["contexts"].append({"name": name, "context": {"cluster": name, "user": name}})
    merged["current-context"] = "c0"
    path.write_text(yaml.safe_dump(merged))


def generate(releases, clusters, directory, namespace):
    """`releases` releases round-robin over the clusters; every fifth starts a new chain of
    needs, each need on the previous release's cluster."""
    lines = ["helmDefaults:\n  wait: false", "releases:"]
    for i in range(releases):
        lines.append(f"  - name: r{i}\n    namespace: {namespace}\n    chart: {CHART}")
        lines.append(f"    kubeContext: c{i % clusters}")
        if i % 5:
            lines.append(f"    needs: [c{(i - 1) % clusters}/{namespace}/r{i - 1}]")
    directory.mkdir(parents=True, exist_ok=True)
    (directory / "helmfile.yaml").write_text("\n".join(lines) + "\n")


def timed(cmd, cwd, env):
    started = time.monotonic()
    result = subprocess.run(cmd, cwd=cwd, env=env, capture_output=True, text=True)
    if result.returncode != 0:
        sys.exit(f"{' '.join(cmd)} failed:\n{result.stdout}\n{result.stderr}")
    return time.monotonic() - started


def measure(orch, directory, kubeconfig, extra, reps):
    """Median first sync (each after a destroy) and median no-op sync."""
    env = dict(os.environ, KUBECONFIG=str(kubeconfig))
    base = [orch, "--kubeconfig", str(kubeconfig), *extra]
    first, noop = [], []
    for _ in range(reps):
        first.append(timed(base + ["sync"], directory, env))
        noop.append(timed(base + ["sync"], directory, env))
        timed(base + ["destroy"], directory, env)
    return statistics.median(first), statistics.median(noop)


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--orch", default=str(ROOT / "target/release/orch"))
    parser.add_argument("--clusters", default="2,3", help="numbers of control planes to compare")
    parser.add_argument("--releases", type=int, default=30)
    parser.add_argument("--reps", type=int, default=3)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    counts = [int(n) for n in args.clusters.split(",")]
    work = Path(tempfile.mkdtemp(prefix="orch-bench-clusters-"))
    dirs = [work / f"cluster-{i}" for i in range(max(counts))]
    rows = []
    try:
        kubeconfigs = [start(d) for d in dirs]
        kubeconfig = work / "kubeconfig"
        merged_kubeconfig(kubeconfigs, kubeconfig)
        for n in counts:
            project = work / f"across-{n}"
            generate(args.releases, n, project, f"bench-clusters-{n}")
            across = measure(args.orch, project, kubeconfig, [], args.reps)
            one = measure(args.orch, project, kubeconfig, ["--kube-context", "c0"], args.reps)
            rows.append({"clusters": n, "releases": args.releases,
                         "first_sync_across": across[0], "noop_sync_across": across[1],
                         "first_sync_one": one[0], "noop_sync_one": one[1]})
    finally:
        for d in dirs:
            stop(d)
    if args.json:
        print(json.dumps(rows, indent=2))
        return
    print(f"| control planes | releases | first sync across them | same on one | no-op sync across them | same on one |")
    print("|---|---|---|---|---|---|")
    for r in rows:
        print(f"| {r['clusters']} | {r['releases']} | {r['first_sync_across']:.2f} s | {r['first_sync_one']:.2f} s "
              f"| {r['noop_sync_across']:.2f} s | {r['noop_sync_one']:.2f} s |")


if __name__ == "__main__":
    main()
