#!/usr/bin/env python3
"""Differential test: does orch load real helmfile state files like helmfile 0.166?

Usage:
    python3 hack/parity/helmfiles.py CORPUS_DIR [--orch PATH] [--helmfile PATH] [--helm PATH]
                                     [--only SUBSTRING] [--user NAME] [--timeout S]
                                     [--json-out FILE] [--strict-namespace]

CORPUS_DIR holds repos/<owner>+<name>/ (work trees of public repositories that deploy with
helmfile) and index.json: a list of {repo, file, environments}, where file is an entry state
file (helmfile.yaml, helmfile.yaml.gotmpl, a helmfile.d dir...) relative to the repo and
environments the names it declares (best effort). --only keeps the entries whose
"repo/file" contains SUBSTRING (repeatable). A *case* is an entry and an environment: the
`default` environment, plus the first declared one when `default` is not declared.

How the tools are run. Hooks and the `exec` template function run commands from the corpus,
so both tools run OFFLINE (nothing here gives them a network), as an unprivileged user when
we are root (`--user`, default `corpus`; created with `useradd -m corpus` if missing), on a
private copy of the corpus and private copies of the three binaries, with a clean
environment -- PATH (the copied binaries, then /usr/local/bin:/usr/bin:/bin) and HOME (a
fresh temp dir per run) only: no HELMFILE_ENVIRONMENT, no KUBECONFIG, no dummy values for
the env vars state files require, so both tools see exactly the same thing. The working
directory is the entry's directory (the parent, for a helmfile.d dir) and -f names the entry
relative to it, as a user would run it. Every run has a timeout (60 s) and is killed with
its process group.

    helmfile -f FILE -e ENV list --skip-charts --output json
    orch list -f FILE -e ENV -o json

(`--skip-charts`: without it helmfile 0.166's `list` prepares charts -- helm repo add, chart
downloads and `prepare` hooks -- which is not loading the state, and needs the network.)
The release sets are compared on the fields both print: name, namespace, enabled, installed,
chart, version, labels (helmfile prints labels as "k:v,k2:v2"; parsed into a map). Releases
are matched by (namespace, name); order does not matter. helmfile prints a release without a
namespace as "", orch as "default": they are treated as equal (and counted) unless
--strict-namespace. When both lists succeed:

    helmfile -f FILE -e ENV write-values --skip-deps \\
        --output-file-template OUT/{{ .Release.Namespace }}/{{ .Release.Name }}.yaml
    orch write-values -f FILE -e ENV --output-dir OUT      (OUT/<namespace>/<release>.yaml)

and the files are compared per release as parsed YAML (strict about scalar types; the loader
is charts.py's: PyYAML SafeLoader without timestamps). A helmfile write-values that fails
for want of the network (chart downloads, helm repo lookups, remote values) is classified
"helmfile needs network" and dropped, as is any other helmfile failure.

When helmfile's list succeeds and every release it would render (enabled and installed)
has a LOCAL chart -- the chart, resolved against the directory of the state file that
declares the release (`#  Source:` of `helmfile build`), is a directory with a Chart.yaml;
charts from repositories or OCI cannot be fetched offline -- the case is a *local-chart
case* and the rendered manifests are compared too:

    helmfile -f FILE -e ENV template --skip-deps
    orch -f FILE -e ENV template --skip-deps

Both outputs are parsed as multi-document YAML (the same loader), empty documents and
comments (`# Source:`) dropped, objects keyed by (apiVersion, kind, namespace, name), the
namespace ""/absent and "default" being one unless --strict-namespace, and compared field
by field. Random values (randAlphaNum, genCA...): when they differ, helmfile is run a
second time and a path whose value changes between the two helmfile runs is accepted when
orch's value has the same shape (charts.py's rule); an object whose name changes between
the runs is paired with orch's unmatched object of the same kind and namespace. A helmfile
template failure drops the case from the template totals (it is still listed).

Each case is reported as: same / differs (first differences) / orch error (first line of
stderr) / helmfile error (dropped; first line), for list, write-values and template; then a
per-repo summary, totals (cases and files: files helmfile loads offline, of those orch loads,
orch same list, same write-values), and orch's error messages normalised (file names, line
numbers, release names out) and counted: the constructs to implement next.
Markdown on stdout; --json-out FILE also writes the results as JSON.
Standard library + PyYAML (`pip install pyyaml`).
"""
import argparse, hashlib, json, os, pwd, re, shutil, signal, subprocess, sys, tempfile, time
from collections import Counter, defaultdict

import yaml

sys.dont_write_bytecode = True  # no __pycache__ in the work tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from charts import Loader, diff, shape, short  # noqa: E402

MAX_DIFFS = 5
STDERR_KEEP = 1500  # the last characters of a failing run's stderr, kept in the JSON
TOOLS = os.path.expanduser("~/.cache/orch/tools/bin")
NETWORK_RX = re.compile(
    r"dial tcp|no such host|lookup \S+ on|connection refused|network is unreachable|i/o timeout|"
    r"Unable to connect to the server|could not download|failed to download|Could not resolve host|"
    r"no cached repo|repo \S+ not found|no repository definition|failed to fetch|"
    r"error getting credentials|TLS handshake|x509:|oci://|git::|https?://", re.I)


# ---------------------------------------------------------------------------- running

class Runner:
    """Runs a command as the unprivileged user (if any), clean env, new process group."""

    def __init__(self, tmp, user, timeout, bins):
        self.tmp, self.user, self.timeout = tmp, user, timeout
        self.bindir = os.path.join(tmp, "bin")
        os.makedirs(self.bindir)
        self.bins = {}
        for name, src in bins.items():
            dst = os.path.join(self.bindir, name)
            shutil.copy2(os.path.realpath(src), dst)
            os.chmod(dst, 0o755)
            self.bins[name] = dst
        self.n = 0

    def chown(self, path):
        if self.user:
            subprocess.run(["chown", "-R", f"{self.user.pw_uid}:{self.user.pw_gid}", path], check=True)

    def scratch(self, prefix):
        self.n += 1
        d = os.path.join(self.tmp, "work", f"{self.n:05d}-{prefix}")
        os.makedirs(d)
        self.chown(d)
        return d

    def run(self, cmd, cwd):
        home = self.scratch("home")
        env = {"PATH": f"{self.bindir}:/usr/local/bin:/usr/bin:/bin", "HOME": home}
        full = ["env", "-i"] + [f"{k}={v}" for k, v in env.items()] + cmd
        if self.user:
            full = ["setpriv", f"--reuid={self.user.pw_uid}", f"--regid={self.user.pw_gid}",
                    "--init-groups", "--"] + full
        try:
            p = subprocess.Popen(full, cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                 stdin=subprocess.DEVNULL, text=True, errors="replace",
                                 start_new_session=True)
        except OSError as e:
            return -1, "", str(e)
        try:
            out, err = p.communicate(timeout=self.timeout)
            return p.returncode, out, err
        except subprocess.TimeoutExpired:
            try:
                os.killpg(p.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            p.communicate()
            return -1, "", f"timeout after {self.timeout}s"


def join_colon(lines, i):
    """lines[i], with the next line appended when it ends in ':' (the detail follows)."""
    l = lines[i].strip()
    if l.endswith(":") and i + 1 < len(lines) and lines[i + 1].strip():
        l += " " + lines[i + 1].strip()
    return l


ANSI_RX = re.compile(r"\x1b\[[0-9;]*m")


def code(s, table=False):
    """A markdown code span that survives backticks in s (and, in a table cell, pipes)."""
    if table:
        s = s.replace("|", "\\|")
    return f"`` {s} ``" if "`" in s else f"`{s}`"


def first_line(err):
    """The first error line of stderr (orch's `error: ...`), else the first informative one."""
    err = ANSI_RX.sub("", err)
    lines = err.splitlines()
    for i, l in enumerate(lines):
        if re.match(r"^\s*error\b", l, re.I):
            return join_colon(lines, i)
    skip = re.compile(r"^(\s*$|Adding repo|Building dependency|Fetching|Listing releases|Templating|"
                      r"Writing values file|WARNING|\s*WARN\b|W\d{4}|walk\.go|coalesce\.go|"
                      r"There are no repositories defined)")
    lines = [l for l in err.splitlines() if not skip.match(l)]
    return join_colon(lines, 0) if lines else "<no stderr>"


def helmfile_error_line(err):
    """helmfile prints `in ./helmfile.yaml: ... error ...` -- the informative part; when a
    helm command failed, helm's own `Error: ...` (in helmfile's STDERR: block)."""
    lines = ANSI_RX.sub("", err).splitlines()
    for l in lines:
        if re.match(r"^\s*Error: ", l):
            return l.strip()
    for i, l in enumerate(lines):
        if re.search(r"err(or)?[: ]|failed|cannot|not found|invalid", l, re.I) \
                and not re.match(r"(Adding repo|WARNING|W\d{4})", l):
            return join_colon(lines, i)
    return first_line(err)


# ---------------------------------------------------------------------------- comparing

def parse_labels(v):
    if isinstance(v, dict):
        return {str(k): str(x) for k, x in v.items()}
    out = {}
    for part in (v or "").split(","):
        if part:
            k, _, x = part.partition(":")
            out[k] = x
    return out


FIELDS = ("enabled", "installed", "chart", "version", "labels")


def norm_release(r, strict_ns):
    ns = r.get("namespace") or ""
    if not strict_ns and ns in ("", "default"):
        ns = "default"
    return (ns, r.get("name")), {
        "enabled": r.get("enabled"), "installed": r.get("installed"), "chart": r.get("chart"),
        "version": r.get("version") or "", "labels": parse_labels(r.get("labels"))}


def parse_list(text):
    data = json.loads(text or "null")
    if data is None:
        return []
    if not isinstance(data, list):
        raise ValueError(f"not a JSON list: {type(data).__name__}")
    return data


def compare_lists(h, o, strict_ns):
    hm, om, diffs = {}, {}, []
    for rels, m in ((h, hm), (o, om)):
        for r in rels:
            k, v = norm_release(r, strict_ns)
            if k in m:
                k = (k[0], f"{k[1]}#{sum(1 for x in m if x[1].split('#')[0] == k[1]) + 1}")
            m[k] = v
    for k in list(hm) + [k for k in om if k not in hm]:
        name = f"{k[0]}/{k[1]}"
        if k not in om:
            diffs.append({"path": name, "helmfile": "<release>", "orch": "<missing>"})
        elif k not in hm:
            diffs.append({"path": name, "helmfile": "<missing>", "orch": "<release>"})
        else:
            for f in FIELDS:
                if hm[k][f] != om[k][f] or type(hm[k][f]) is not type(om[k][f]):
                    diffs.append({"path": f"{name}.{f}", "helmfile": short(hm[k][f]), "orch": short(om[k][f])})
    ns_default = sum(1 for r in h if not r.get("namespace"))
    return len(hm), diffs, ns_default


def read_values_dir(d, strict_ns):
    """-> {(namespace, release): parsed values}. A file at the top level is namespace ''."""
    out = {}
    for dp, _, fns in os.walk(d):
        for fn in fns:
            if not fn.endswith(".yaml"):
                continue
            rel = os.path.relpath(os.path.join(dp, fn), d)
            ns = os.path.dirname(rel)
            if not strict_ns and ns in ("", "default"):
                ns = "default"
            with open(os.path.join(dp, fn), encoding="utf-8", errors="replace") as f:
                text = f.read()
            try:
                v = yaml.load(text, Loader=Loader)
            except yaml.YAMLError as e:
                v = f"<invalid YAML: {str(e).splitlines()[0]}>"
            out[(ns, fn[:-5])] = {} if v is None else v
    return out


def compare_values(h, o):
    diffs, count = [], 0
    for k in list(h) + [k for k in o if k not in h]:
        name = f"{k[0]}/{k[1]}"
        if k not in o:
            diffs.append({"path": name, "helmfile": "<values file>", "orch": "<missing>"})
        elif k not in h:
            diffs.append({"path": name, "helmfile": "<missing>", "orch": "<values file>"})
        else:
            for p, a, b in diff(h[k], o[k]):
                count += 1
                diffs.append({"path": name + ":" + ".".join(str(x) for x in p), "helmfile": short(a), "orch": short(b)})
    return len(h), diffs


def parse_manifests(text, strict_ns):
    """Rendered manifests -> {(apiVersion, kind, namespace, name): object}. Empty documents
    and comments are dropped; an object rendered twice is kept twice (name#2). Raises
    ValueError on invalid YAML."""
    out = {}
    for chunk in re.split(r"(?m)^---[ \t]*$", text):
        try:
            obj = yaml.load(chunk, Loader=Loader)
        except yaml.YAMLError as e:
            raise ValueError(f"invalid YAML: {str(e).splitlines()[0]}")
        if obj is None:
            continue
        meta = (obj.get("metadata") or {}) if isinstance(obj, dict) else {}
        ns = str(meta.get("namespace") or "")
        if not strict_ns and ns in ("", "default"):
            ns = "default"
        key = (str(obj.get("apiVersion", "?")), str(obj.get("kind", "?")), ns, str(meta.get("name", "?"))) \
            if isinstance(obj, dict) else ("?", f"<{type(obj).__name__}>", "", "?")
        k, n = key, 1
        while k in out:
            n += 1
            k = key[:3] + (f"{key[3]}#{n}",)
        out[k] = obj
    return out


def pair_random_names(h, o, names):
    """Objects named at random (helm test pods `...-test-{{ randAlphaNum 5 }}`): for each
    key in `names` that o lacks, o's first unmatched object of the same apiVersion, kind
    and namespace takes that key, so that it is compared field by field (the name too)."""
    extra = [k for k in o if k not in h]
    for k in [k for k in h if k in names and k not in o]:
        m = next((x for x in extra if x[:3] == k[:3]), None)
        if m:
            extra.remove(m)
            o[k] = o.pop(m)
    return o


def compare_manifests(h, o, random=frozenset()):
    """-> (diffs, accepted). Paths are "apiVersion/kind ns/name:field.path"; a path in
    `random` (it changes between two helmfile runs) passes when orch's value has its shape."""
    diffs, accepted = [], 0
    for k in list(h) + [k for k in o if k not in h]:
        name = f"{k[0]}/{k[1]} {k[2]}/{k[3]}"
        if k not in o:
            diffs.append({"path": name, "helmfile": "<object>", "orch": "<missing>"})
        elif k not in h:
            diffs.append({"path": name, "helmfile": "<missing>", "orch": "<object>"})
        else:
            for p, a, b in diff(h[k], o[k]):
                path = name + ":" + ".".join(str(x) for x in p)
                if path in random and shape(a) == shape(b):
                    accepted += 1
                else:
                    diffs.append({"path": path, "helmfile": short(a), "orch": short(b)})
    return diffs, accepted


# ---------------------------------------------------------------------------- one case

def where(root, entry):
    """(cwd, -f argument) for an entry: run from the entry's directory."""
    path = os.path.join(root, entry["repo"].replace("/", "+", 1), entry["file"])
    return os.path.dirname(path), os.path.basename(path)


def templated(path):
    """Whether the entry (any file of a helmfile.d dir) holds a Go template action."""
    files = [os.path.join(path, f) for f in os.listdir(path)] if os.path.isdir(path) else [path]
    for p in files:
        try:
            with open(p, encoding="utf-8", errors="replace") as fh:
                if "{{" in fh.read():
                    return True
        except OSError:
            pass
    return False


def local_chart_case(rn, cwd, f, env, releases):
    """Whether helmfile would render only local charts here: every enabled, installed release
    (what `helmfile template` renders) has a chart that is a directory with a Chart.yaml,
    relative to the state file declaring the release. `helmfile list` gives the rendered
    chart but not that file (sub-helmfiles, helmfile.d); `helmfile build` prints each state
    under `#  Source: <abs path>` -- releases are matched by (name, chart), else by name.
    helmfile's build fails offline when a release needs chartify (patches, transformers,
    chart `needs`: it runs kustomize / helm fetch); then charts are resolved against the
    entry's directory (the helmfile.d dir for one), right for a single-file entry."""
    rels = [r for r in releases if r.get("enabled", True) and r.get("installed", True)]
    if not rels or any(str(r.get("chart", "")).startswith("oci://") or "::" in str(r.get("chart", ""))
                       for r in rels):
        return False
    rc, out, _ = rn.run([rn.bins["helmfile"], "-f", f, "-e", env, "build"], cwd)
    entry_dir = os.path.join(cwd, f) if os.path.isdir(os.path.join(cwd, f)) else cwd
    dirs = defaultdict(set)
    for chunk in re.split(r"(?m)^---[ \t]*$", out if rc == 0 else ""):
        m = re.search(r"(?m)^#\s+Source: (.*?)\s*$", chunk)
        try:
            doc = yaml.load(chunk, Loader=Loader)
        except yaml.YAMLError:
            continue
        if not m or not isinstance(doc, dict):
            continue
        for r in doc.get("releases") or []:
            d = os.path.dirname(m.group(1))
            dirs[(r.get("name"), r.get("chart"))].add(d)
            dirs[r.get("name")].add(d)
    return all(any(os.path.isfile(os.path.join(d, r["chart"], "Chart.yaml"))
                   for d in dirs.get((r["name"], r["chart"])) or dirs.get(r["name"]) or {entry_dir})
               for r in rels)


def template_case(rn, cwd, f, env, strict_ns):
    """helmfile template vs orch template, compared as sets of Kubernetes objects."""
    hcmd = [rn.bins["helmfile"], "-f", f, "-e", env, "template", "--skip-deps"]
    rc, hout, err = rn.run(hcmd, cwd)
    try:
        h = parse_manifests(hout, strict_ns) if rc == 0 else None
    except ValueError as e:
        rc, err = 1, f"helmfile output: {e}"
    if rc != 0:
        return {"status": "helmfile error", "message": helmfile_error_line(err), "stderr": err[-STDERR_KEEP:]}
    rc, oout, err = rn.run([rn.bins["orch"], "-f", f, "-e", env, "template", "--skip-deps"], cwd)
    try:
        o = parse_manifests(oout, strict_ns) if rc == 0 else None
    except ValueError as e:
        rc, err = 1, f"orch output: {e}"
    if rc != 0:
        return {"status": "orch error", "message": first_line(err), "objects": len(h), "stderr": err[-STDERR_KEEP:]}
    diffs, accepted = compare_manifests(h, o)
    if diffs:  # random values? only helmfile's own run-to-run changes are relaxed
        rc, hout2, _ = rn.run(hcmd, cwd)
        try:
            h2 = parse_manifests(hout2, strict_ns) if rc == 0 else {}
        except ValueError:
            h2 = {}
        names = set(h) - set(h2) if h2 else set()
        random = {d["path"] for d in compare_manifests(h, pair_random_names(h, h2, names))[0]} if h2 else set()
        diffs, accepted = compare_manifests(h, pair_random_names(h, o, names), random)
    return {"status": "differs" if diffs else "same", "objects": len(h), "random_accepted": accepted,
            "diff_count": len(diffs), "diffs": diffs[:MAX_DIFFS]}


def run_case(rn, root, entry, env, strict_ns):
    cwd, f = where(root, entry)
    res = {"list": {}, "write_values": {"status": "skipped"}, "template": {"status": "skipped"},
           "templated": templated(os.path.join(cwd, f))}
    rc, out, err = rn.run([rn.bins["helmfile"], "-f", f, "-e", env, "list", "--skip-charts", "--output", "json"], cwd)
    try:
        h = parse_list(out) if rc == 0 else None
    except ValueError as e:
        rc, err = 1, f"helmfile output: {e}"
    if rc != 0:
        msg = helmfile_error_line(err)
        res["list"] = {"status": "helmfile error", "message": msg,
                       "network": bool(NETWORK_RX.search(err)), "stderr": err[-STDERR_KEEP:]}
        return res
    # Before orch's list: a case orch cannot load is still a local-chart case (an orch error).
    if local_chart_case(rn, cwd, f, env, h):
        res["template"] = template_case(rn, cwd, f, env, strict_ns)
    rc, out, err = rn.run([rn.bins["orch"], "list", "-f", f, "-e", env, "-o", "json"], cwd)
    try:
        o = parse_list(out) if rc == 0 else None
    except ValueError as e:
        rc, err = 1, f"orch output: {e}"
    if rc != 0:
        res["list"] = {"status": "orch error", "message": first_line(err), "releases": len(h),
                       "stderr": err[-STDERR_KEEP:]}
        return res
    n, diffs, nsd = compare_lists(h, o, strict_ns)
    res["list"] = {"status": "differs" if diffs else "same", "releases": n, "diff_count": len(diffs),
                   "diffs": diffs[:MAX_DIFFS], "namespace_unset": nsd}

    res["build"] = build_case(rn, cwd, f, env)

    hout, oout = rn.scratch("helmfile-values"), rn.scratch("orch-values")
    rc, out, err = rn.run([rn.bins["helmfile"], "-f", f, "-e", env, "write-values", "--skip-deps",
                           "--output-file-template", hout + "/{{ .Release.Namespace }}/{{ .Release.Name }}.yaml"], cwd)
    if rc != 0:
        msg = helmfile_error_line(err)
        net = bool(NETWORK_RX.search(err))
        res["write_values"] = {"status": "helmfile needs network" if net else "helmfile error", "message": msg,
                               "stderr": err[-STDERR_KEEP:]}
        return res
    rc, out, err = rn.run([rn.bins["orch"], "write-values", "-f", f, "-e", env, "--output-dir", oout], cwd)
    if rc != 0:
        res["write_values"] = {"status": "orch error", "message": first_line(err), "stderr": err[-STDERR_KEEP:]}
        return res
    n, diffs = compare_values(read_values_dir(hout, strict_ns), read_values_dir(oout, strict_ns))
    res["write_values"] = {"status": "differs" if diffs else "same", "releases": n,
                           "diff_count": len(diffs), "diffs": diffs[:MAX_DIFFS]}
    return res


def build_documents(text):
    """`build` output as documents; a chartPath that is a temporary directory (a chart
    helmfile turned into a new one) left out, since orch makes none."""
    docs = []
    for d in yaml.load_all(text, Loader=Loader):
        if d is None:
            continue
        for r in d.get("releases") or []:
            if str(r.get("chartPath", "")).startswith("/"):
                del r["chartPath"]
        docs.append(d)
    return docs


def build_case(rn, cwd, f, env):
    """helmfile build and orch build of one case: the same states, the same documents?"""
    rc, out, err = rn.run([rn.bins["helmfile"], "-f", f, "-e", env, "build"], cwd)
    if rc != 0:
        return {"status": "helmfile error", "message": helmfile_error_line(err)}
    want = build_documents(out)
    rc, out, err = rn.run([rn.bins["orch"], "build", "-f", f, "-e", env, "--kustomize-binary", "kustomize"], cwd)
    if rc != 0:
        return {"status": "orch error", "message": first_line(err)}
    got = build_documents(out)
    diffs = [first_difference(w, g) for w, g in zip(want, got) if w != g]
    if len(want) != len(got):
        diffs.insert(0, f"{len(want)} states, orch {len(got)}")
    return {"status": "differs" if diffs else "same", "states": len(want), "diffs": diffs[:MAX_DIFFS]}


def first_difference(a, b, path=""):
    if isinstance(a, dict) and isinstance(b, dict):
        for k in list(a) + [k for k in b if k not in a]:
            d = first_difference(a.get(k), b.get(k), f"{path}.{k}")
            if d:
                return d
        return None
    if isinstance(a, list) and isinstance(b, list) and len(a) == len(b):
        return next((d for i, (x, y) in enumerate(zip(a, b)) if (d := first_difference(x, y, f"{path}[{i}]"))), None)
    return None if a == b else f"{path or '.'}: helmfile {json.dumps(a)[:120]}, orch {json.dumps(b)[:120]}"


def envs_for(entry):
    e = entry.get("environments") or []
    return ["default"] if "default" in e or not e else ["default", e[0]]


# ---------------------------------------------------------------------------- report

def normalise(msg):
    """An orch error message with the case-specific parts taken out, to count causes."""
    m = re.sub(r"^(error|Error):\s*", "", msg)
    m = re.sub(r"(?:[\w.+@~-]*/)*[\w.+@-]+\.(?:ya?ml|gotmpl|tpl|json|txt|hcl)(?:\.gotmpl)?(?::\d+)*:?", "<file>", m)
    m = re.sub(r"(?:\./|\.\./|/)[\w./+-]+", "<path>", m)
    m = re.sub(r"\b(release|environment|repository|chart|helmfile|template|file|key|value)s? [`'\"]([^`'\"]+)[`'\"]",
               lambda x: f"{x.group(1)} `…`" if x.group(1) in ("release", "environment", "repository", "chart", "helmfile", "file")
               else x.group(0), m)
    m = re.sub(r"; expected one of: .*$", "", m)
    m = re.sub(r"\b\d+\b", "N", m)
    m = re.sub(r"(<file>\s*)+", "<file> ", m)
    m = re.sub(r"^<file>\s*", "", m.strip())
    return m.strip()[:160]


def case_line(r):
    L, W = r["list"], r["write_values"]
    line = f"- **{r['repo']} / {r['file']} / -e {r['env']}**: list {L['status']}"
    if L["status"] in ("orch error", "helmfile error"):
        line += f" — {code(L['message'][:240])}"
    elif L["status"] in ("same", "differs"):
        line += f" ({L['releases']} releases)"
    if L["status"] == "differs":
        for d in L["diffs"]:
            line += f"\n  - {code(d['path'])}: helmfile {code(d['helmfile'])} / orch {code(d['orch'])}"
    if W["status"] != "skipped":
        line += f"; write-values {W['status']}"
        if "message" in W:
            line += f" — {code(W['message'][:240])}"
        if W["status"] == "differs":
            line += f" ({W['diff_count']} differences)"
            for d in W["diffs"]:
                line += f"\n  - {code(d['path'])}: helmfile {code(d['helmfile'])} / orch {code(d['orch'])}"
    T = r.get("template", {"status": "skipped"})
    if T["status"] != "skipped":
        line += f"; template {T['status']}"
        if "message" in T:
            line += f" — {code(T['message'][:240])}"
        if T["status"] in ("same", "differs"):
            line += f" ({T['objects']} objects" + (f", {T['diff_count']} differences" if T["diff_count"] else "") + ")"
        for d in T.get("diffs", []):
            line += f"\n  - {code(d['path'])}: helmfile {code(d['helmfile'])} / orch {code(d['orch'])}"
    return line


def file_rollup(results):
    """Per file: loads (helmfile loads some case), orch loads / same list / same values
    (over the cases helmfile loads; write-values over the cases where it was compared)."""
    files = defaultdict(list)
    for r in results:
        files[(r["repo"], r["file"])].append(r)
    out = {}
    for k, rs in files.items():
        ok = [r for r in rs if r["list"]["status"] != "helmfile error"]
        wv = [r for r in ok if r["write_values"]["status"] in ("same", "differs", "orch error")]
        out[k] = {"helmfile": bool(ok),
                  "orch": bool(ok) and all(r["list"]["status"] != "orch error" for r in ok),
                  "same": bool(ok) and all(r["list"]["status"] == "same" for r in ok),
                  "wv_compared": bool(wv),
                  "wv_same": bool(wv) and all(r["write_values"]["status"] == "same" for r in wv)}
    return out


def totals_row(label, results, rollup):
    L = Counter(r["list"]["status"] for r in results)
    W = Counter(r["write_values"]["status"] for r in results)
    T = Counter(r.get("template", {}).get("status", "skipped") for r in results)
    B = Counter(r.get("build", {}).get("status", "skipped") for r in results)
    loads = len(results) - L["helmfile error"]
    orch = L["same"] + L["differs"]
    wv = W["same"] + W["differs"] + W["orch error"]
    f = [v for v in rollup.values()]
    fl = sum(v["helmfile"] for v in f)
    return (f"| {label} | {len(results)} | {loads} | {orch} of {loads} | {L['same']} of {orch} | "
            f"{W['same']} of {wv} | {W['helmfile needs network'] + W['helmfile error']} | "
            f"{len(f)} | {fl} | {sum(v['orch'] for v in f)} of {fl} | {sum(v['same'] for v in f)} of {fl} | "
            f"{sum(v['wv_same'] for v in f)} of {sum(v['wv_compared'] for v in f)} | "
            f"{len(results) - T['skipped']} | {T['same']} of {T['same'] + T['differs'] + T['orch error']} | "
            f"{T['helmfile error']} | {B['same']} of {B['same'] + B['differs'] + B['orch error']} |")


def markdown(results, a, versions):
    out = ["# orch vs helmfile — state file parity on real helmfiles\n",
           f"- orch: `{a.orch}` ({versions.get('orch', '?')})",
           f"- helmfile: `{a.helmfile}` ({versions.get('helmfile', '?')}), helm `{a.helm}`",
           f"- corpus: `{a.corpus}` — {len({r['repo'] for r in results})} repos, "
           f"{len({(r['repo'], r['file']) for r in results})} entry files, {len(results)} cases",
           f"- namespace: helmfile's \"\" and orch's \"default\" "
           f"{'differ (--strict-namespace)' if a.strict_namespace else 'are treated as equal'}\n"]
    roll = file_rollup(results)
    out.append("## Totals\n")
    out.append("Cases are (entry file, environment); a file counts as loaded by helmfile if any of its cases "
               "loads, and as loaded / same for orch if all the cases helmfile loads are. Local-chart cases: every "
               "release helmfile renders has a chart directory on disk; same template is over those helmfile "
               "renders offline (orch errors count as not same).\n")
    out.append("| | cases | helmfile loads offline | of those, orch loads | orch same list | same write-values "
               "| write-values dropped (helmfile failed) | files | helmfile loads | orch loads | same list | same write-values "
               "| local-chart cases | same template | template dropped (helmfile failed) | same build |")
    out.append("|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|")
    out.append(totals_row("**all**", results, roll))
    real = [r for r in results if r["repo"] != "helmfile/helmfile"]
    out.append(totals_row("real repos (not helmfile/helmfile's tests)", real,
                          {k: v for k, v in roll.items() if k[0] != "helmfile/helmfile"}))
    tests = [r for r in results if r["repo"] == "helmfile/helmfile"]
    if tests:
        out.append(totals_row("helmfile/helmfile test/ and examples/", tests,
                              {k: v for k, v in roll.items() if k[0] == "helmfile/helmfile"}))
    nsd = sum(r["list"].get("namespace_unset", 0) for r in results)
    if nsd and not a.strict_namespace:
        out.append(f"\n{nsd} compared releases have no namespace (helmfile \"\", orch \"default\"; counted as equal).")

    errs = Counter(normalise(r["list"]["message"]) for r in results if r["list"]["status"] == "orch error")
    werrs = Counter(normalise(r["write_values"]["message"]) for r in results if r["write_values"]["status"] == "orch error")
    if errs:
        out.append("\n## orch `list` errors by cause (normalised)\n")
        out.append("`{{` files: of those files, how many hold Go template actions (`{{ }}`; any file of "
                   "a helmfile.d dir) -- a YAML error there is usually the template not being rendered.\n")
        out.append("| cases | files | `{{` files | cause |\n|---|---|---|---|")
        for msg, n in errs.most_common():
            fs = {(r["repo"], r["file"]): r["templated"] for r in results
                  if r["list"]["status"] == "orch error" and normalise(r["list"]["message"]) == msg}
            out.append(f"| {n} | {len(fs)} | {sum(fs.values())} | {code(msg, True)} |")
    keys = Counter()
    for r in results:
        if r["list"]["status"] == "orch error":
            msg = normalise(r["list"]["message"])
            m = re.search(r"`([\w.-]+)` is a helmfile key|unknown key `([\w.-]+)`", msg)
            if m:
                where_ = re.search(r"^(releases\[N\]|helmDefaults|repositories\[N\]|environments\.[\w-]+)[.:]", msg)
                keys[(where_.group(1).replace("[N]", "[]") + "." if where_ else "") + (m.group(1) or m.group(2))] += 1
    if keys:
        out.append("\n### the same, by helmfile key orch refuses (first refused key of each case)\n")
        out.append(", ".join(f"`{k}` {n}" for k, n in keys.most_common()))
    if werrs:
        out.append("\n## orch `write-values` errors by cause (normalised)\n")
        out.append("| cases | cause |\n|---|---|")
        for msg, n in werrs.most_common():
            out.append(f"| {n} | {code(msg, True)} |")
    herrs = Counter(("network " if r["list"].get("network") else "") + normalise(r["list"]["message"])
                    for r in results if r["list"]["status"] == "helmfile error")
    if herrs:
        out.append("\n## helmfile `list` errors (cases dropped)\n")
        out.append("| cases | message |\n|---|---|")
        for msg, n in herrs.most_common(25):
            out.append(f"| {n} | {code(msg, True)} |")

    bad = [r for r in results if r.get("template", {}).get("status") in ("differs", "orch error", "helmfile error")]
    if bad:
        out.append("\n## template: every local-chart case that is not the same\n")
        out.append("First differences (object `apiVersion/kind namespace/name`, then the field path), "
                   "or the failing tool's first error line.\n")
        for r in bad:
            T = r["template"]
            line = f"- **{r['repo']} / {r['file']} / -e {r['env']}**: {T['status']}"
            if "message" in T:
                line += f" — {code(T['message'][:240])}"
            else:
                line += f" ({T['diff_count']} differences in {T['objects']} objects)"
            for d in T.get("diffs", []):
                line += f"\n  - {code(d['path'])}: helmfile {code(d['helmfile'])} / orch {code(d['orch'])}"
            out.append(line)

    out.append("\n## Per repo\n")
    out.append("| repo | files | cases | helmfile loads | orch loads | same list | write-values compared | same write-values |")
    out.append("|---|---|---|---|---|---|---|---|")
    for repo in sorted({r["repo"] for r in results}, key=str.lower):
        rs = [r for r in results if r["repo"] == repo]
        L = Counter(r["list"]["status"] for r in rs)
        W = Counter(r["write_values"]["status"] for r in rs)
        loads = len(rs) - L["helmfile error"]
        out.append(f"| {repo} | {len({r['file'] for r in rs})} | {len(rs)} | {loads} | {L['same'] + L['differs']} "
                   f"| {L['same']} | {W['same'] + W['differs'] + W['orch error']} | {W['same']} |")

    out.append("\n## Cases\n")
    out += [case_line(r) for r in results]
    return "\n".join(out) + "\n"


# ---------------------------------------------------------------------------- main

def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("corpus", metavar="CORPUS_DIR")
    default_orch = next((p for p in ("/tmp/fresh/target/release/orch", "target/release/orch")
                         if os.path.exists(p)), "orch")
    ap.add_argument("--orch", default=default_orch)
    ap.add_argument("--helmfile", default=os.path.join(TOOLS, "helmfile"))
    ap.add_argument("--helm", default=os.path.join(TOOLS, "helm"), help="the helm on helmfile's PATH")
    ap.add_argument("--only", action="append", help="keep entries whose repo/file contains this (repeatable)")
    ap.add_argument("--user", default="corpus", help="unprivileged user to run as when root ('' for none)")
    ap.add_argument("--timeout", type=float, default=60)
    ap.add_argument("--strict-namespace", action="store_true", help='helmfile "" != orch "default"')
    ap.add_argument("--json-out", metavar="FILE", help="also write the JSON results to FILE")
    a = ap.parse_args()
    a.corpus = os.path.abspath(a.corpus)

    with open(os.path.join(a.corpus, "index.json")) as f:
        index = json.load(f)
    if a.only:
        index = [e for e in index if any(s in f"{e['repo']}/{e['file']}" for s in a.only)]

    user = None
    if os.geteuid() == 0 and a.user:
        try:
            user = pwd.getpwnam(a.user)
        except KeyError:
            subprocess.run(["useradd", "-m", a.user], check=True)
            user = pwd.getpwnam(a.user)

    results = []
    with tempfile.TemporaryDirectory(prefix="orch-helmfiles-") as tmp:
        os.chmod(tmp, 0o755)
        rn = Runner(tmp, user, a.timeout, {"orch": a.orch, "helmfile": a.helmfile, "helm": a.helm})
        root = os.path.join(tmp, "repos")
        os.makedirs(root)
        for repo in sorted({e["repo"] for e in index}):
            d = repo.replace("/", "+", 1)
            subprocess.run(["cp", "-a", os.path.join(a.corpus, "repos", d), os.path.join(root, d)], check=True)
        rn.chown(root)
        with open(rn.bins["orch"], "rb") as fh:
            digest = hashlib.sha256(fh.read()).hexdigest()[:12]
        mtime = time.strftime("%Y-%m-%d %H:%M", time.localtime(os.path.getmtime(a.orch)))
        versions = {"orch": rn.run([rn.bins["orch"], "--version"], tmp)[1].strip() + f", built {mtime}, sha256 {digest}",
                    "helmfile": re.sub(r"\s+", " ", rn.run([rn.bins["helmfile"], "--version"], tmp)[1]).strip()}
        for e in index:
            for env in envs_for(e):
                r = run_case(rn, root, e, env, a.strict_namespace)
                r.update(repo=e["repo"], file=e["file"], env=env)
                print(f"{e['repo']} / {e['file']} / {env}: list {r['list']['status']}, "
                      f"write-values {r['write_values']['status']}, template {r['template']['status']}", file=sys.stderr)
                results.append(r)
                shutil.rmtree(os.path.join(tmp, "work"), ignore_errors=True)
    if a.json_out:
        with open(a.json_out, "w") as f:
            json.dump(results, f, indent=1, default=str)
    sys.stdout.write(markdown(results, a, versions))
    return 0


if __name__ == "__main__":
    sys.exit(main())
