#!/usr/bin/env python3
"""Installs real charts on a cluster with orch and syncs them twice more, reporting which
releases each later sync changed: what a chart keeps in live objects (generated passwords
read back with `lookup`) and what the server stores (YAML 1.1 numbers, defaulted fields)
must round-trip. Some charts change on their first upgrade under helm too (bitnami redis
16's checksum of its Secret, quoted on install and not on upgrade); the third sync shows
whether they settle.

Usage:
    python3 hack/parity/install.py CHARTS_DIR --kubeconfig FILE [--orch PATH]
                                   [--renderer native|helm] [--keep]

CHARTS_DIR holds one chart per directory and values/<name>.yaml for each (see
/work/corpus/k8s120 on a developer machine; nothing of those charts is committed). Each
chart becomes one release in namespace parity-<name>. The releases are destroyed at the
end unless --keep. Exit 0 when every release installed and the third sync changed nothing.
"""
import argparse, os, subprocess, sys, tempfile


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("charts")
    parser.add_argument("--kubeconfig", required=True)
    parser.add_argument("--orch", default="target/debug/orch")
    parser.add_argument("--renderer", default="native")
    parser.add_argument("--keep", action="store_true")
    args = parser.parse_args()
    charts = sorted(
        d for d in os.listdir(args.charts)
        if os.path.isfile(os.path.join(args.charts, d, "Chart.yaml"))
    )
    lines = ["helmDefaults:", "  timeout: 300", "releases:"]
    for name in charts:
        values = os.path.abspath(os.path.join(args.charts, "values", f"{name}.yaml"))
        lines += [
            f"  - name: {name}",
            f"    namespace: parity-{name}",
            f"    chart: {os.path.abspath(os.path.join(args.charts, name))}",
        ]
        if os.path.exists(values):
            lines.append(f"    values: [{values}]")
    with tempfile.TemporaryDirectory() as work:
        releases = os.path.join(work, "helmfile.yaml")
        with open(releases, "w") as f:
            f.write("\n".join(lines) + "\n")
        env = dict(os.environ, KUBECONFIG=args.kubeconfig)

        def orch(*command):
            run = subprocess.run(
                [args.orch, *command, "-f", releases, "--renderer", args.renderer],
                env=env, capture_output=True, text=True,
            )
            return run.returncode, run.stdout + run.stderr

        code, out = orch("sync")
        print(f"--- first sync ({args.renderer}): exit {code}\n{out}")
        ok = code == 0
        for which in ("second", "third"):
            if not ok:
                break
            code, out = orch("sync")
            print(f"--- {which} sync ({args.renderer}): exit {code}\n{out}")
            unchanged = [n for n in charts if any(
                l.split()[:1] == [f"parity-{n}/{n}"] and "no change" in l for l in out.splitlines()
            )]
            print(f"--- {len(unchanged)} of {len(charts)} releases unchanged on the {which} sync")
            ok = code == 0
        ok = ok and len(unchanged) == len(charts)
        if not args.keep:
            code, out = orch("destroy")
            print(f"--- destroy: exit {code}")
    sys.exit(0 if ok else 1)


main()
