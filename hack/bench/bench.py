#!/usr/bin/env python3
"""orch side by side with helmfile and helm, in one run, on this machine.

Generates releases files of N releases (one small local chart, 5 namespaces, needs chains
of 10) and times, as the median of several runs:
  offline: template / list / graph, orch vs helmfile 0.166 (`template --skip-deps`, `list`);
  remote: the same releases with the chart from a Helm repository on loopback: orch with a
          cold cache, a warm cache and --skip-deps, vs helmfile (repo add + update) and
          helmfile --skip-deps;
  cluster: first sync (wait: false), no-op diff, no-op sync, sync after one changed value,
           vs `helm upgrade --install` per release (what helmfile runs), vs the limits:
           the same objects server-side applied at once, and wave by wave in the needs'
           order (hack/bench/ssa-limit), and the no-op sync vs `kubectl apply
           --server-side` of the same objects in one process;
and orch's peak RSS. Prints a Markdown table, or JSON with --json. `make bench` runs it.
"""

import argparse
import functools
import http.server
import json
import os
import platform
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
CHART = ROOT / "tests/fixtures/parity/basic/charts/web"


def namespaces(prefix):
    """Each scenario deploys into namespaces of its own, so none waits for another's
    deletion; all are deleted, without waiting, at the end."""
    return [f"bench-{prefix}-{i}" for i in range(5)]


def generate(n, directory, prefix="offline", chart=CHART, repository=None):
    """A releases file of n releases in 5 namespaces; every tenth starts a new needs chain."""
    directory.mkdir(parents=True, exist_ok=True)
    spaces = namespaces(prefix)
    lines = ["helmDefaults:\n  wait: false"]
    if repository:
        lines.append(f"repositories:\n  - name: bench\n    url: {repository}")
    lines.append("releases:")
    for i in range(n):
        lines.append(f"  - name: r{i}\n    namespace: {spaces[i % 5]}\n    chart: {chart}")
        lines.append(f"    labels: {{group: g{i % 10}}}")
        if i % 10:
            lines.append(f"    needs: [{spaces[(i - 1) % 5]}/r{i - 1}]")
        lines.append(f"    values:\n      - replicas: {i % 3 + 1}")
    (directory / "helmfile.yaml").write_text("\n".join(lines) + "\n")
    return directory


def run(cmd, cwd, env=None, check=True, output=None):
    """Runs cmd, timed; its output is captured, or written to the file `output` (as a user's
    `> file` would) where megabytes of it would otherwise time this script's reading too."""
    started = time.perf_counter()
    if output:
        with open(output, "wb") as out:
            result = subprocess.run(cmd, cwd=cwd, env=env, stdout=out, stderr=subprocess.PIPE, text=True)
    else:
        result = subprocess.run(cmd, cwd=cwd, env=env, capture_output=True, text=True)
    elapsed = time.perf_counter() - started
    if check and result.returncode != 0:
        sys.exit(f"bench: {' '.join(map(str, cmd))} failed ({result.returncode}):\n{result.stderr[-2000:]}")
    return elapsed, result


def median_time(cmd, cwd, reps, env=None, before=None, output=None):
    times = []
    for _ in range(reps):
        if before:
            before()
        times.append(run(cmd, cwd, env, output=output)[0])
    return statistics.median(times)


def peak_rss_mb(cmd, cwd, env=None):
    _, result = run(["/usr/bin/time", "-v", *cmd], cwd, env)
    found = re.search(r"Maximum resident set size \(kbytes\): (\d+)", result.stderr)
    return int(found.group(1)) / 1024 if found else None


class Bench:
    def __init__(self, args):
        self.args = args
        self.orch = str(Path(args.orch).resolve())
        self.env = dict(os.environ)
        if args.kubeconfig:
            self.env["KUBECONFIG"] = args.kubeconfig
        self.rows = []
        self.used = []
        self.largest = 0

    def record(self, scenario, n, tool, value, unit="s"):
        self.rows.append({"scenario": scenario, "releases": n, "tool": tool, "value": value, "unit": unit})
        print(f"bench: {scenario:<28} n={n!s:<8} {tool:<34} {value:8.3f} {unit}", file=sys.stderr)

    def offline(self, n, directory, label):
        reps = self.args.reps
        slow_reps = 1 if n >= 500 else reps
        orch, helmfile = self.orch, self.args.helmfile
        self.record("template", label, "orch", median_time([orch, "template"], directory, reps, self.env))
        self.record("template", label, "helmfile template --skip-deps",
                    median_time([helmfile, "template", "--skip-deps"], directory, slow_reps, self.env))
        self.record("list", label, "orch", median_time([orch, "list"], directory, reps, self.env))
        self.record("list", label, "helmfile list", median_time([helmfile, "list"], directory, slow_reps, self.env))
        self.record("graph", label, "orch", median_time([orch, "graph"], directory, reps, self.env))

    def big_chart(self, chart, tmp):
        """One release of a big chart: what the native engine costs against `helm template`."""
        directory = tmp / "big-chart"
        directory.mkdir()
        (directory / "helmfile.yaml").write_text(
            f"releases:\n  - name: big\n    namespace: big\n    chart: {chart}\n")
        label = chart.name if chart.name != "chart" else chart.parent.name
        # Tens of milliseconds each: more runs, and the two tools alternate, so that a busy
        # moment of a shared machine weighs on both alike.
        reps = max(self.args.reps, 11)
        # Megabytes of manifests: each tool writes them to a file.
        output = tmp / "big-chart.yaml"
        commands = {
            "orch": [self.orch, "template", "--renderer", "native"],
            "helm template": [self.args.helm, "template", "big", str(chart), "-n", "big", "--include-crds"],
        }
        times = {tool: [] for tool in commands}
        for _ in range(reps):
            for tool, cmd in commands.items():
                times[tool].append(run(cmd, directory, self.env, output=output)[0])
        # The tool is "orch" so that the table pairs the two rows.
        for tool, measured in times.items():
            self.record("template, big chart", label, tool, statistics.median(measured))

    def remote(self, n, tmp):
        """The chart from a Helm repository served on loopback by this process."""
        served = tmp / "repo"
        served.mkdir(exist_ok=True)
        run([self.args.helm, "package", "-d", served, CHART], ROOT)
        handler = functools.partial(QuietHandler, directory=str(served))
        server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        url = f"http://127.0.0.1:{server.server_address[1]}"
        run([self.args.helm, "repo", "index", served, "--url", url], ROOT)
        directory = generate(n, tmp / f"remote{n}", chart="bench/web", repository=url)
        cache = tmp / "orch-cache"
        env = dict(self.env, ORCH_CACHE_DIR=str(cache))
        for name in ("HELM_CONFIG_HOME", "HELM_CACHE_HOME", "HELM_DATA_HOME"):
            env[name] = str(tmp / "helm-home" / name)
        reps = self.args.reps
        orch, helmfile = self.orch, self.args.helmfile
        try:
            cold, warm = "template, remote chart, cold cache", "template, remote chart, warm cache"
            self.record(cold, n, "orch", median_time([orch, "template"], directory, reps, env, before=lambda: shutil.rmtree(cache, ignore_errors=True)))
            self.record(cold, n, "helmfile template (repo add + update)", median_time([helmfile, "template"], directory, 1, env))
            self.record(warm, n, "orch", median_time([orch, "template"], directory, reps, env))
            self.record(warm, n, "helmfile template --skip-deps", median_time([helmfile, "template", "--skip-deps"], directory, 1, env))
            self.record("template --skip-deps, remote chart", n, "orch",
                        median_time([orch, "template", "--skip-deps"], directory, reps, env))
        finally:
            server.shutdown()

    def rendered_waves(self, n, tmp, prefix):
        """The objects of n generated releases in namespaces of their own, rendered to files,
        grouped in the waves the needs allow: release i is in wave i % 10 (generate's chains
        are ten long). The namespaces are created."""
        directory = generate(n, tmp / prefix, prefix)
        out = directory / "rendered"
        run([self.orch, "template", "--output-dir", str(out)], directory, self.env)
        spaces = namespaces(prefix)
        waves = [[] for _ in range(min(n, 10))]
        for release in range(n):
            namespace = spaces[release % 5]
            for manifest in (out / namespace / f"r{release}").rglob("*.yaml"):
                text = manifest.read_text().replace("\nmetadata:\n", f"\nmetadata:\n  namespace: {namespace}\n")
                manifest.write_text(text)
                waves[release % 10].append(str(manifest))
        self.create_namespaces(prefix)
        return waves

    def create_namespaces(self, prefix):
        for namespace in namespaces(prefix):
            run(["kubectl", "create", "namespace", namespace], ROOT, self.env)
        self.used.append(prefix)

    def settle(self, timeout=180):
        """Waits until the control plane has done what earlier runs set off (the controllers'
        ReplicaSets and pods for new Deployments, namespaces being deleted), so that a timed
        run does not share the two cores with the aftermath of the one before."""
        deadline = time.monotonic() + timeout
        last = None
        while time.monotonic() < deadline:
            phases = ["-o", "custom-columns=P:.status.phase", "--no-headers"]
            pods = run(["kubectl", "get", "pods", "-A", *phases], ROOT, self.env)[1].stdout
            spaces = run(["kubectl", "get", "namespaces", *phases], ROOT, self.env)[1].stdout
            state = (pods.count("\n"), pods.count("Pending"), spaces.count("Terminating"))
            if state == last and state[1:] == (0, 0):
                return
            last = state
            time.sleep(1)

    def clean(self):
        spaces = [ns for prefix in self.used for ns in namespaces(prefix)]
        if spaces:
            run(["kubectl", "delete", "namespace", "--wait=false", "--ignore-not-found", *spaces], ROOT, self.env)
        self.used = []

    def cluster(self, n, tmp):
        orch, reps = self.orch, self.args.reps
        directory = generate(n, tmp / f"orch{n}", f"orch{n}")
        # Each size on a control plane holding none of the smaller sizes' objects.
        self.clean()
        self.used.append(f"orch{n}")
        settle = self.settle
        settle()
        self.record("first sync (wait: false)", n, "orch", run([orch, "sync"], directory, self.env)[0])
        self.record("no-op diff", n, "orch", median_time([orch, "diff"], directory, reps, self.env, before=settle))
        self.record("no-op sync", n, "orch", median_time([orch, "sync"], directory, reps, self.env, before=settle))
        settle()
        self.record("sync, one value changed", n, "orch",
                    run([orch, "sync", "-l", "name=r0", "--set", "replicas=5"], directory, self.env)[0])
        if n == self.largest:
            settle()
            self.record("peak RSS, no-op sync", n, "orch", peak_rss_mb([orch, "sync"], directory, self.env), "MB")

        # The limits: the same objects server-side applied, nothing else: all at once
        # (ignoring needs), and wave by wave in the needs' order, each wave all at once.
        waves = self.rendered_waves(n, tmp, f"limit{n}")
        settle()
        self.record("first sync (wait: false)", n, "limit: parallel SSA, all at once",
                    run([self.args.ssa_limit, *[f for wave in waves for f in wave]], ROOT, self.env)[0])
        waves = self.rendered_waves(n, tmp, f"waves{n}")
        separated = [arg for wave in waves for arg in ["--", *wave]][1:]
        settle()
        self.record("first sync (wait: false)", n, "limit: parallel SSA, wave by wave",
                    run([self.args.ssa_limit, *separated], ROOT, self.env)[0])
        # kubectl applying what is already there, in one process, as a no-op sync would.
        files = [f for wave in waves for f in wave]
        self.record("no-op sync", n, "kubectl apply --server-side, one process",
                    median_time(["kubectl", "apply", "--server-side", "--field-manager", "bench",
                                 *[a for f in files for a in ("-f", f)]], ROOT, reps, self.env,
                                before=settle))

        if n <= self.args.helm_max:
            prefix = f"helm{n}"
            self.create_namespaces(prefix)
            spaces = namespaces(prefix)
            settle()
            started = time.perf_counter()
            for release in range(n):
                run([self.args.helm, "upgrade", "--install", f"r{release}", str(CHART), "-n",
                     spaces[release % 5], "--set", f"replicas={release % 3 + 1}"], ROOT, self.env)
            self.record("first sync (wait: false)", n, "helm upgrade --install per release",
                        time.perf_counter() - started)


def table(rows):
    """One Markdown row per scenario and size: each tool's median and orch's ratio to it."""
    out = ["| scenario | releases | orch | per release | compared with | its time | orch faster by |",
           "|---|---|---|---|---|---|---|"]
    groups = {}
    for row in rows:
        groups.setdefault((row["scenario"], row["releases"]), {})[row["tool"]] = row
    for (scenario, n), tools in groups.items():
        orch = tools.get("orch")
        if orch is None:
            continue
        others = [t for t in tools if t != "orch"] or [None]
        # The cost per release, so that growth with the size shows.
        each = f"{orch['value'] / n * 1000:.2f} ms" if orch["unit"] == "s" and isinstance(n, int) and n else ""
        for other in others:
            cell = f"{orch['value']:.3f} {orch['unit']}"
            if other is None:
                out.append(f"| {scenario} | {n} | {cell} | {each} | | | |")
            else:
                value = tools[other]["value"]
                ratio = value / orch["value"] if orch["value"] else float("inf")
                out.append(f"| {scenario} | {n} | {cell} | {each} | {other} | {value:.3f} s | {ratio:.1f}× |")
    return "\n".join(out)


class QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--orch", default=str(ROOT / "target/release/orch"))
    parser.add_argument("--ssa-limit", default=str(ROOT / "target/release/orch-ssa-limit"))
    parser.add_argument("--helmfile", default="helmfile")
    parser.add_argument("--helm", default="helm")
    parser.add_argument("--kubeconfig", help="the cluster for the sync figures; none: offline only")
    parser.add_argument("--sizes", default="100,1000,2000")
    parser.add_argument("--reps", type=int, default=3)
    parser.add_argument("--helm-max", type=int, default=100, help="largest N for per-release helm")
    parser.add_argument("--big-chart", help="a big real chart (e.g. kube-prometheus-stack, its "
                        "dependencies vendored): one release of it, orch native against helm template")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()

    bench = Bench(args)
    sizes = [int(s) for s in args.sizes.split(",")]
    with tempfile.TemporaryDirectory(prefix="orch-bench-") as tmp:
        for n in sizes:
            bench.offline(n, generate(n, Path(tmp) / f"n{n}"), n)
        bench.remote(min(100, sizes[-1]), Path(tmp))
        example_env = dict(bench.env)
        for scenario, cmd in [("template", ["template", "-e", "staging"]), ("list", ["list", "-e", "staging"])]:
            bench.record(scenario, "example", "orch", median_time([bench.orch, *cmd], ROOT, args.reps, example_env))
        if args.big_chart:
            bench.big_chart(Path(args.big_chart).resolve(), Path(tmp))
        bench.record("peak RSS, template", 500 if 500 in sizes else sizes[-1], "orch",
                     peak_rss_mb([bench.orch, "template"], Path(tmp) / f"n{sizes[-1]}", bench.env), "MB")
        if args.kubeconfig:
            bench.largest = sizes[-1]
            try:
                for n in sizes:
                    bench.cluster(n, Path(tmp))
            finally:
                bench.clean()

    machine = f"{platform.machine()}, {os.cpu_count()} cores, {platform.system()} {platform.release()}"
    if args.json:
        print(json.dumps({"machine": machine, "results": bench.rows}, indent=2))
    else:
        print(f"Machine: {machine}. Median of {args.reps} runs (1 for helmfile at 500 releases).\n")
        print(table(bench.rows))


if __name__ == "__main__":
    main()
