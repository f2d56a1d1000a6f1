#!/usr/bin/env python3
"""Differential test: does `orch template --renderer native` render real charts like helm 3.15?

Usage:
    python3 hack/parity/charts.py CORPUS_DIR [--orch PATH] [--helm PATH] [--only NAME] [--json]
                                             [--json-out FILE]

CORPUS_DIR holds one directory per chart: <name>/chart (the chart, dependencies vendored
into charts/) and <name>/values/*.yaml. A *case* is the chart's default values alone, or
one values file. For every case we run

    helm template parity <chart> -n parity [-f values] --include-crds      (twice)
    orch template -f <tmp releases file> --renderer native

where the releases file is `releases: [{name: parity, namespace: parity, chart: <abs chart>,
values: [<abs values file>]}]`.

What is compared, and why:
  * The rendered documents, parsed as YAML into objects and keyed by
    (apiVersion, kind, metadata.namespace, metadata.name) -- document order and formatting
    do not matter to Kubernetes, the objects do. Comparison is strict about scalar types:
    1, "1", 1.0 and true/"true" all differ (a quoted "8080" vs 8080 changes what the API
    server receives). The YAML loader is PyYAML's SafeLoader minus the timestamp resolver,
    so dates stay strings, as they do for Kubernetes.
  * The `# Source:` of each object, separately, as a set (they name the template each
    object came from; helm users grep for them). Documents of comments only hold no object
    and are not counted.
  * Random values. Charts call randAlphaNum, randAscii, uuidv4, genCA, genSelfSignedCert,
    genPrivateKey, htpasswd, bcrypt..., so two helm runs already differ. Rather than guess
    which fields are random from their names, helm is run twice and every leaf path whose
    value differs between the two helm runs is treated as random -- the most honest rule:
    only what helm itself does not reproduce is relaxed. At such a path orch's value is
    accepted when it has the same type and the same length as helm's; for base64 strings,
    the same decoded length; for PEM (raw or base64), the same sequence of PEM block types.
    (Checksum annotations over random secrets are caught by the same rule.)

Each case is reported as identical / differs (first differing paths, both values truncated)
/ orch error (first line of stderr) / helm error (the case is dropped from the totals),
followed by a per-chart summary "N of M identical". Output is markdown, or JSON with --json.
Standard library + PyYAML (`pip install pyyaml`).
"""
import argparse, base64, binascii, json, os, re, subprocess, sys, tempfile
from collections import Counter

import yaml

RELEASE = NAMESPACE = "parity"
MAX_DIFFS = 5
TRUNC = 120


class Loader(yaml.SafeLoader):
    """SafeLoader that keeps timestamps (and YAML 1.1's `=`) as strings; ints, floats, bools
    and null stay typed."""


Loader.yaml_implicit_resolvers = {
    k: [(tag, rx) for tag, rx in v if tag not in ("tag:yaml.org,2002:timestamp", "tag:yaml.org,2002:value")]
    for k, v in yaml.SafeLoader.yaml_implicit_resolvers.items()
}


def parse_stream(text):
    """-> (dict key -> object, set of the objects' sources). Raises ValueError on invalid YAML.

    Sources are those of documents that hold an object: a document of comments only is no
    object (helm upgrade, kubectl and orch's sync skip it), and it passes its `# Source:` on
    to the next document if that names none, as helm prints a CRD file that starts with a
    comment and `---` under one header."""
    docs, sources, pending = {}, set(), None
    for chunk in re.split(r"(?m)^---[ \t]*$", text):
        found = re.findall(r"(?m)^# Source: (.*?)\s*$", chunk)
        source = found[0] if found else pending
        try:
            obj = yaml.load(chunk, Loader=Loader)
        except yaml.YAMLError as e:
            raise ValueError(f"invalid YAML: {str(e).splitlines()[0]}")
        pending = source if obj is None else None
        if obj is None:
            continue
        if source:
            sources.add(source)
        meta = obj.get("metadata") or {} if isinstance(obj, dict) else {}
        key = "/".join(str(x) for x in (obj.get("apiVersion", "?"), obj.get("kind", "?"),
                                         meta.get("namespace") or "-", meta.get("name", "?"))) \
            if isinstance(obj, dict) else f"<{type(obj).__name__}>"
        k, n = key, 1
        while k in docs:  # same object rendered twice: keep both
            n += 1
            k = f"{key}#{n}"
        docs[k] = obj
    return docs, sources


def same(a, b):
    return type(a) is type(b) and a == b


def diff(a, b, path=()):
    """Yield (path, a_value, b_value) for every leaf where a and b differ."""
    if isinstance(a, dict) and isinstance(b, dict):
        for k in list(a) + [k for k in b if k not in a]:
            if k not in b:
                yield path + (k,), a[k], "<missing>"
            elif k not in a:
                yield path + (k,), "<missing>", b[k]
            else:
                yield from diff(a[k], b[k], path + (k,))
    elif isinstance(a, list) and isinstance(b, list):
        for i in range(max(len(a), len(b))):
            if i >= len(b):
                yield path + (i,), a[i], "<missing>"
            elif i >= len(a):
                yield path + (i,), "<missing>", b[i]
            else:
                yield from diff(a[i], b[i], path + (i,))
    elif not same(a, b):
        yield path, a, b


def diff_docs(a, b):
    """Diffs of two parsed streams; paths start with the document key."""
    for k in list(a) + [k for k in b if k not in a]:
        if k not in b:
            yield (k,), "<object>", "<missing object>"
        elif k not in a:
            yield (k,), "<missing object>", "<object>"
        else:
            yield from (((k,) + p, x, y) for p, x, y in diff(a[k], b[k]))


PEM_RX = re.compile(r"-----BEGIN ([A-Z0-9 ]+)-----")
B64_RX = re.compile(r"^[A-Za-z0-9+/\r\n]+={0,2}$")


def shape(v):
    """What must match for a random value to be accepted: type and length-ish."""
    if not isinstance(v, str):
        return type(v).__name__, (len(v) if isinstance(v, (list, dict)) else None)
    if PEM_RX.search(v):
        return "pem", tuple(PEM_RX.findall(v))
    if len(v) >= 4 and len(v) % 4 == 0 and B64_RX.match(v):
        try:
            raw = base64.b64decode(v, validate=False)
            text = raw.decode("utf-8", "replace")
            if PEM_RX.search(text):
                return "b64-pem", tuple(PEM_RX.findall(text))
            return "b64", len(raw)
        except (binascii.Error, ValueError):
            pass
    return "str", len(v)


def run(cmd, cwd=None, timeout=600):
    try:
        p = subprocess.run(cmd, capture_output=True, text=True, cwd=cwd, timeout=timeout)
        return p.returncode, p.stdout, p.stderr
    except subprocess.TimeoutExpired:
        return -1, "", f"timeout after {timeout}s"


def first_line(err):
    lines = [l for l in err.splitlines() if l.strip() and not re.match(r"^(coalesce\.go|walk\.go|W\d{4}|warning:)", l)]
    return (lines or ["<no stderr>"])[0].strip()


def render_helm(helm, chart, values):
    cmd = [helm, "template", RELEASE, chart, "-n", NAMESPACE, "--include-crds"]
    if values:
        cmd += ["-f", values]
    return run(cmd)


def render_orch(orch, chart, values, tmp):
    rel = {"releases": [{"name": RELEASE, "namespace": NAMESPACE, "chart": os.path.abspath(chart),
                         "values": [os.path.abspath(values)] if values else []}]}
    path = os.path.join(tmp, "releases.yaml")
    with open(path, "w") as f:
        yaml.safe_dump(rel, f)
    return run([orch, "template", "-f", path, "--renderer", "native"], cwd=tmp)


def short(v):
    s = json.dumps(v, default=str) if not isinstance(v, str) else repr(v)
    return s if len(s) <= TRUNC else s[:TRUNC] + "…"


def fmt_path(p):
    return p[0] + ":" + ".".join(str(x) for x in p[1:]) if len(p) > 1 else p[0]


def compare_case(chart, values, helm, orch, tmp):
    rc, h1, err = render_helm(helm, chart, values)
    if rc != 0:
        return {"status": "helm error", "message": first_line(err)}
    rc, o, err = render_orch(orch, chart, values, tmp)
    if rc != 0:
        msg = re.sub(r"^error: \S+releases\.yaml:\d+: release \S+: ", "", first_line(err))
        return {"status": "orch error", "message": msg}
    _, h2, _ = render_helm(helm, chart, values)
    try:
        hd1, hs1 = parse_stream(h1)
        hd2, _ = parse_stream(h2)
    except ValueError as e:
        return {"status": "helm error", "message": f"helm output: {e}"}
    try:
        od, os_ = parse_stream(o)
    except ValueError as e:
        return {"status": "orch error", "message": f"orch output: {e}"}
    random = {p for p, _, _ in diff_docs(hd1, hd2)}
    diffs, accepted = [], 0
    for p, hv, ov in diff_docs(hd1, od):
        if p in random and shape(hv) == shape(ov):
            accepted += 1
        else:
            diffs.append({"path": fmt_path(p), "helm": short(hv), "orch": short(ov),
                          "random": p in random})
    src = {"missing": sorted(hs1 - os_), "extra": sorted(os_ - hs1)}
    res = {"objects": len(hd1), "random_paths": len(random), "random_accepted": accepted,
           "diff_count": len(diffs), "diffs": diffs[:MAX_DIFFS]}
    if src["missing"] or src["extra"]:
        res["sources"] = src
    res["status"] = "differs" if diffs or "sources" in res else "identical"
    return res


def cases(corpus, only):
    for name in sorted(os.listdir(corpus)):
        chart = os.path.join(corpus, name, "chart")
        if not os.path.isfile(os.path.join(chart, "Chart.yaml")) or (only and name not in only):
            continue
        yield name, "default", chart, None
        vdir = os.path.join(corpus, name, "values")
        if os.path.isdir(vdir):
            for f in sorted(os.listdir(vdir)):
                if f.endswith((".yaml", ".yml")):
                    yield name, os.path.splitext(f)[0], chart, os.path.join(vdir, f)


def markdown(results, orch, helm):
    out = [f"# orch native renderer vs helm — chart parity\n",
           f"- orch: `{orch}`\n- helm: `{helm}` ({run([helm, 'version', '--short'])[1].strip()})\n"]
    out.append("## Cases\n")
    for r in results:
        line = f"- **{r['chart']} / {r['case']}**: {r['status']}"
        if r["status"] in ("orch error", "helm error"):
            line += f" — `{r['message'][:300]}`"
        elif r["status"] == "differs" and not r["diff_count"]:
            line += f" (sources only; all {r['objects']} objects identical)"
        elif r["status"] == "differs":
            line += f" ({r['diff_count']} differing paths of {r['objects']} objects"
            line += f"; {r['random_accepted']} random values accepted)" if r["random_accepted"] else ")"
            for d in r["diffs"]:
                line += f"\n  - `{d['path']}`{' (random)' if d['random'] else ''}: helm `{d['helm']}` / orch `{d['orch']}`"
            for k in ("missing", "extra"):
                s = r.get("sources", {}).get(k)
                if s:
                    line += f"\n  - sources {k} in orch: {', '.join(s[:5])}{' …' if len(s) > 5 else ''}"
        elif r.get("random_accepted"):
            line += f" ({r['objects']} objects; {r['random_accepted']} random values accepted)"
        out.append(line)
    out.append("\n## Summary\n")
    out.append("| chart | cases | identical | differs | orch error | helm error (dropped) |")
    out.append("|---|---|---|---|---|---|")
    charts = sorted({r["chart"] for r in results})
    tot = Counter()
    for c in charts:
        n = Counter(r["status"] for r in results if r["chart"] == c)
        m = sum(n.values()) - n["helm error"]
        tot.update(n)
        out.append(f"| {c} | {m} | {n['identical']} of {m} | {n['differs']} | {n['orch error']} | {n['helm error']} |")
    m = sum(tot.values()) - tot["helm error"]
    out.append(f"| **total** | {m} | **{tot['identical']} of {m}** | {tot['differs']} | {tot['orch error']} | {tot['helm error']} |")
    errs = Counter(r["message"] for r in results if r["status"] == "orch error")
    if errs:
        out.append("\n## orch errors by message\n")
        out.append("| cases | message |\n|---|---|")
        for msg, n in errs.most_common():
            out.append(f"| {n} | `{msg[:200]}` |")
    return "\n".join(out) + "\n"


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("corpus")
    default_orch = next((p for p in ("/tmp/fresh/target/release/orch", "/tmp/fresh/target/debug/orch")
                         if os.path.exists(p)), "orch")
    ap.add_argument("--orch", default=default_orch)
    ap.add_argument("--helm", default=os.path.expanduser("~/.cache/orch/tools/bin/helm"))
    ap.add_argument("--only", action="append", help="chart name (repeatable)")
    ap.add_argument("--json", action="store_true", help="print JSON instead of markdown")
    ap.add_argument("--json-out", metavar="FILE", help="also write the JSON results to FILE")
    a = ap.parse_args()
    results = []
    with tempfile.TemporaryDirectory(prefix="orch-parity-") as tmp:
        for name, case, chart, values in cases(a.corpus, a.only):
            r = compare_case(chart, values, a.helm, a.orch, tmp)
            r.update(chart=name, case=case)
            print(f"{name} / {case}: {r['status']}", file=sys.stderr)
            results.append(r)
    if a.json_out:
        with open(a.json_out, "w") as f:
            json.dump(results, f, indent=1, default=str)
    if a.json:
        json.dump(results, sys.stdout, indent=1, default=str)
        print()
    else:
        sys.stdout.write(markdown(results, a.orch, a.helm))
    return 0


if __name__ == "__main__":
    sys.exit(main())
