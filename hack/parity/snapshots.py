#!/usr/bin/env python3
"""helmfile's own snapshot tests, run offline with helmfile 0.166 and with orch.

Usage:
    python3 hack/parity/snapshots.py [--corpus DIR] [--ref v0.166.0] [--only CASE]...
                                     [--orch PATH] [--orch-arg ARG]... [--timeout S]
                                     [--goccy both|true|false] [--json-out FILE]

The corpus is helmfile's test/e2e/template/helmfile directory (testdata/snapshot/<case>/ and
testdata/charts/). By default it is `git archive`d at --ref (v0.166.0, the helmfile we compare
with) from the bare mirror /work/.mirror/helmfile+helmfile/repo; --corpus DIR uses another copy.

The harness is a re-reading of v0.166.0's snapshot_test.go, per case:
  * config.yaml (optional): helmfileArgs (default `build`), chartifyTempDir (default
    chartify_temp), localChartRepoServer {enabled, port, chartDir} and localDockerRegistry
    {enabled, port (default 5000), chartDir}; chartDir defaults to testdata/charts.
  * The chart repository: every chart dir `helm package`d, `helm repo index`ed with
    --url http://localhost:PORT/, served over HTTP on 127.0.0.1:PORT (what chartify's
    chartrepo.Server does). The OCI registry: Debian's docker-registry (hack/tools.sh
    registry) on 127.0.0.1:PORT instead of docker's registry:2, every chart pushed to
    oci://localhost:PORT/myrepo with `helm push --plain-http`; the digests are kept.
  * Run, from the corpus dir (a fresh copy per run, so no run sees another's files):
        helmfile -f testdata/snapshot/<case>/input.yaml <helmfileArgs>
    with HELMFILE_TEMPDIR, HELMFILE_DISABLE_RUNNER_UNIQUE_ID=1, CHARTIFY_TEMPDIR=<wd>/<dir>,
    HELMFILE_GOCCY_GOYAML=true and =false (the Go test runs every case with both YAML
    libraries; --goccy picks), and HOME, HELM_CACHE_HOME, HELM_CONFIG_HOME, HELM_DATA_HOME,
    HELMFILE_CACHE_HOME in a fresh temp dir. The combined stdout+stderr is normalised as the
    test does (chart=<wd> -> chart=$WD, go-getter paths, helm versions, the helmfile cache dir,
    OCI temp dirs -> chart=$TMP, pushed digests -> $DIGEST) and must equal output.yaml with
    __workingdir__ -> <wd>: that is "helmfile passes". Not reproduced: the Go test's
    CheckHelmPlugins (it installs helm plugins from the internet).
  * kustomize (chartify runs `kustomize build` for strategicMergePatches, transformers...):
    when there is none on PATH, a shim that runs `kubectl kustomize` instead.
  * orch runs the same way (`orch -f <input> <mapped args>`, same env), with helmfile flags it
    lacks dropped or mapped (printed under the table). orch prints its logs differently, so it
    is judged on stdout against output.yaml minus helm/helmfile log lines:
      text      the same text, ignoring blank lines before `---` and at either end;
      semantic  the same multiset of YAML documents, order-insensitive, comments ignored
                (for `list`: the same table rows; for `fetch`: the pulled charts on disk).
    "orch passes" is the semantic comparison.
A case that fails for want of the internet (DNS, git::, remote repos) is marked "needs network".

Standard library only. PyYAML, when importable, parses documents for the semantic comparison;
without it documents are compared as text with comments and blank lines removed.
Markdown on stdout; --json-out FILE also writes the results as JSON.
"""
import argparse, collections, contextlib, functools, hashlib, http.server, json, os, re, shutil
import signal, socket, subprocess, sys, tempfile, threading, time, urllib.request

try:
    import yaml
except ImportError:  # degrade: documents compared as normalised text
    yaml = None

MIRROR = "/work/.mirror/helmfile+helmfile/repo"
HARNESS = "test/e2e/template/helmfile"
TOOLS = os.path.expanduser("~/.cache/orch/tools/bin")
PATH_FIRST = [TOOLS]  # then, when there is no kustomize, a dir with KUSTOMIZE_SHIM
# chartify (helmfile's strategicMergePatches, transformers...) runs `kustomize build DIR
# --output FILE`; with no kustomize binary here, kubectl's built-in kustomize does that.
KUSTOMIZE_SHIM = """#!/bin/sh
case "$1" in
  build) shift; exec kubectl kustomize "$@" ;;
  version) kubectl version --client | sed -n 's/^Kustomize Version: /kustomize\\//p' ;;
  *) echo "kustomize shim (kubectl kustomize): unsupported: $*" >&2; exit 1 ;;
esac
"""
ORCH_COMMANDS = {"build", "template", "list", "graph", "lint", "diff", "sync", "apply", "status",
                 "destroy", "deps", "fetch", "write-values"}
HELMFILE_COMMANDS = ORCH_COMMANDS | {"repos", "test", "cache", "init", "show-dag"}
# Lines helm and helmfile log (to stderr, interleaved in output.yaml); orch logs its own.
LOG_RX = re.compile(
    r'^(Adding repo |"[^"]*" has been added to your repositories|Building dependency |'
    r'Hang tight while|\.\.\.(Successfully got|Unable to get) an update|Update Complete\.|'
    r'Saving \d+ charts?|Downloading \S+ from repo|Deleting outdated charts|Templating release=|'
    r'Live output is enabled|WARNING: |Pulling |Pulled: |Digest: |Fetching |Skipping )')
NETWORK_RX = re.compile(r"no such host|could not resolve|dial tcp|network is unreachable|"
                        r"i/o timeout|git::|lookup \S+ on|failed to fetch|Temporary failure "
                        r"in name resolution|dns error|error sending request", re.I)
# The v0.166 harness's own redactions.
GOGETTER_RX = re.compile(r"chart=.*git\.ref=.*/charts/.*")
HELM_VERSION_RX = re.compile(r"v\d+\.\d+\.\d+\+[a-z0-9]+")


# ----------------------------------------------------------------------------- helpers

def scalar(s):
    s = s.strip().strip('"').strip("'")
    return {"true": True, "false": False}.get(s, int(s) if s.isdigit() else s)


def load_config(path):
    """config.yaml; without PyYAML, the subset it uses (maps two deep, lists of scalars)."""
    if not os.path.exists(path):
        return {}
    text = open(path).read()
    if yaml:
        return yaml.safe_load(text) or {}
    cfg, key = {}, None
    for raw in text.splitlines():
        line = re.sub(r"(^|\s)#.*", "", raw).rstrip()
        if not line.strip():
            continue
        s = line.strip()
        if s.startswith("- "):
            cfg[key] = (cfg.get(key) or []) + [scalar(s[2:])]
        elif not line[0].isspace():
            key, _, v = s.partition(":")
            cfg[key] = scalar(v) if v.strip() else None
        else:
            k, _, v = s.partition(":")
            cfg[key] = cfg.get(key) or {}
            cfg[key][k.strip()] = scalar(v)
    return cfg


def run(cmd, cwd, env, timeout, combined=False):
    """-> (rc, stdout, stderr as text; stderr "" when combined into stdout). Runs in its own
    process group, killed on timeout (then a last line says so)."""
    p = subprocess.Popen(cmd, cwd=cwd, env=env, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                         stderr=subprocess.STDOUT if combined else subprocess.PIPE,
                         start_new_session=True)
    try:
        out, err = p.communicate(timeout=timeout)
        note = b""
    except subprocess.TimeoutExpired:
        os.killpg(p.pid, signal.SIGKILL)
        out, err = p.communicate()
        note = f"\nerror: timeout after {timeout:g}s\n".encode()
    out, err = (out + note, b"") if combined else (out, err + note)
    return p.returncode, out.decode(errors="replace"), err.decode(errors="replace")


def port_free(port):
    with socket.socket() as s:
        return s.connect_ex(("127.0.0.1", port)) != 0


def helm_env(home):
    """A private HOME and helm dirs under `home`, over a cleaned copy of our environment."""
    env = {k: v for k, v in os.environ.items()
           if not re.match(r"(HELM|HELMFILE|ORCH|XDG|KUBE|CHARTIFY)_|KUBECONFIG$", k)}
    env["PATH"] = os.pathsep.join(PATH_FIRST + [env.get("PATH", "/usr/bin:/bin")])
    env["HOME"] = home
    for var, sub in (("HELM_CACHE_HOME", "helm_cache"), ("HELM_CONFIG_HOME", "helm_config"),
                     ("HELM_DATA_HOME", "helm_data"), ("HELMFILE_CACHE_HOME", "helmfile_cache"),
                     ("HELMFILE_TEMPDIR", "helmfile_tmp")):
        env[var] = os.path.join(home, sub)
        os.makedirs(env[var], exist_ok=True)
    env["HELMFILE_DISABLE_RUNNER_UNIQUE_ID"] = "1"
    return env


def first_error(err):
    lines = [l.strip() for l in err.splitlines() if l.strip()]
    for l in lines:
        if re.match(r"(error|Error:|err:|panic:)", l):
            return l
    return next((l for l in lines if not LOG_RX.match(l)), "<no output>")


# ----------------------------------------------------------------------------- services

class ChartRepo:
    """What chartify's chartrepo.Server serves: packaged charts and their index.yaml."""

    def __init__(self, tmp, port, charts_dir):
        d = tempfile.mkdtemp(prefix=f"chartrepo-{port}-", dir=tmp)
        env = helm_env(os.path.join(d, "home"))
        for c in sorted(os.listdir(charts_dir)):
            subprocess.run(["helm", "package", os.path.join(charts_dir, c), "-d", d], env=env,
                           check=True, capture_output=True)
        subprocess.run(["helm", "repo", "index", d, "--url", f"http://localhost:{port}/"],
                       env=env, check=True, capture_output=True)

        class Quiet(http.server.SimpleHTTPRequestHandler):
            def log_message(self, *_):
                pass

        self.srv = http.server.ThreadingHTTPServer(("127.0.0.1", port),
                                                   functools.partial(Quiet, directory=d))
        threading.Thread(target=self.srv.serve_forever, daemon=True).start()

    def close(self):
        self.srv.shutdown()
        self.srv.server_close()


class Registry:
    """docker-registry on 127.0.0.1:port, every chart pushed to oci://localhost:port/myrepo."""

    def __init__(self, tmp, port, charts_dir):
        d = tempfile.mkdtemp(prefix=f"registry-{port}-", dir=tmp)
        with open(os.path.join(d, "config.yml"), "w") as f:
            f.write(f"version: 0.1\nlog:\n  level: warn\n  accesslog:\n    disabled: true\n"
                    f"storage:\n  filesystem:\n    rootdirectory: {d}/storage\n"
                    f"http:\n  addr: 127.0.0.1:{port}\n  secret: snapshots\n")
        binary = shutil.which("docker-registry") or "/usr/bin/docker-registry"
        self.log = open(os.path.join(d, "log"), "w")
        self.proc = subprocess.Popen([binary, "serve", os.path.join(d, "config.yml")],
                                     stdout=self.log, stderr=self.log, stdin=subprocess.DEVNULL)
        deadline = time.time() + 30
        while True:  # ready when GET /v2/ answers 200 (the Go test sleeps 5 s instead)
            try:
                if urllib.request.urlopen(f"http://127.0.0.1:{port}/v2/", timeout=2).status == 200:
                    break
            except OSError:
                pass
            if self.proc.poll() is not None or time.time() > deadline:
                self.close()
                raise RuntimeError(f"docker-registry did not start on port {port}")
            time.sleep(0.2)
        try:
            self.charts = self.push_all(os.path.join(d, "home"), d, port, charts_dir)
        except (OSError, subprocess.CalledProcessError):
            self.close()
            raise

    @staticmethod
    def push_all(home, d, port, charts_dir):
        """-> [(name, version, digest)] of the pushed charts, for the harness's redactions."""
        env, charts = helm_env(home), []
        for c in sorted(os.listdir(charts_dir)):
            path = os.path.join(charts_dir, c)
            meta = subprocess.run(["helm", "show", "chart", path], env=env, check=True,
                                  capture_output=True, text=True).stdout
            name = re.search(r"(?m)^name: (.*)$", meta).group(1)
            version = re.search(r"(?m)^version: (.*)$", meta).group(1)
            out = subprocess.run(["helm", "package", path, "-d", d], env=env, check=True,
                                 capture_output=True, text=True).stdout
            tgz = out.split()[-1]
            out = subprocess.run(["helm", "push", tgz, f"oci://localhost:{port}/myrepo",
                                  "--plain-http"], env=env, check=True, capture_output=True,
                                 text=True)
            digest = re.search(r"(?m)^Digest: (\S+)", out.stdout + out.stderr)
            charts.append((name, version, digest.group(1) if digest else None))
        return charts

    def close(self):
        self.proc.terminate()
        self.proc.wait()
        self.log.close()


# ----------------------------------------------------------------------------- normalising

def normalise(got, wd, cache_home, registry, placeholder):
    """The v0.166 harness's redactions of the tool's output."""
    got = got.replace(f"chart={wd}", "chart=$WD")
    got = GOGETTER_RX.sub("chart=$GoGetterPath", got)
    got = HELM_VERSION_RX.sub("$HelmVersion", got)
    got = got.replace(cache_home, "/home/runner/.cache/helmfile")
    if registry:
        templating = [l[len("Templating "):] for l in got.splitlines() if l.startswith("Templating ")]
        release, chart = (templating[-1].split(", ") + [""])[:2] if templating else ("", "")
        release = release[len("release="):]
        for name, version, digest in registry.charts:
            suffix = f"/{release}/{name}/{version}/{name}"
            if chart.endswith(suffix) and len(chart) > len(suffix):
                got = got.replace(chart[:-len(suffix)], "chart=$TMP")
            if digest:
                got = got.replace(f"Digest: {digest}", "Digest: $DIGEST")
        if placeholder:
            got = got.replace(f"localhost:{placeholder}", "localhost:$REGISTRY_PORT")
    return got


def manifests(text):
    """The stdout part of an output: log lines out, blank lines before `---` and at the ends out."""
    out = []
    for line in text.splitlines():
        if LOG_RX.match(line):
            continue
        if line.rstrip() == "---":
            while out and not out[-1].strip():
                out.pop()
        out.append(line)
    return "\n".join(out).strip("\n")


def documents(text):
    """-> Counter of canonical documents (JSON with PyYAML, else comment-free text), and a map
    canonical -> parsed object (for describing differences)."""
    docs, objs = collections.Counter(), {}
    for chunk in re.split(r"(?m)^---[ \t]*$", text):
        obj = None
        if yaml:
            try:
                obj = yaml.safe_load(chunk)
            except yaml.YAMLError:
                obj = chunk.strip()
            if obj is None:
                continue
            key = json.dumps(obj, sort_keys=True, default=str)
        else:
            key = "\n".join(l.rstrip() for l in chunk.splitlines()
                            if l.strip() and not l.lstrip().startswith("#"))
            if not key:
                continue
            obj = key
        docs[key] += 1
        objs[key] = obj
    return docs, objs


def ident(obj):
    if isinstance(obj, dict):
        meta = obj.get("metadata") if isinstance(obj.get("metadata"), dict) else {}
        return f"{obj.get('kind', '?')}/{meta.get('name', '?')}"
    return repr(obj)[:60]


def first_path_diff(a, b, path=""):
    if isinstance(a, dict) and isinstance(b, dict):
        for k in list(a) + [k for k in b if k not in a]:
            if k not in a or k not in b:
                return f"{path}.{k}: expected {a.get(k, '<missing>')!r}, orch {b.get(k, '<missing>')!r}"
            d = first_path_diff(a[k], b[k], f"{path}.{k}")
            if d:
                return d
        return None
    if isinstance(a, list) and isinstance(b, list) and len(a) == len(b):
        return next((d for i in range(len(a)) if (d := first_path_diff(a[i], b[i], f"{path}[{i}]"))), None)
    return None if a == b and type(a) is type(b) else f"{path or '.'}: expected {a!r}, orch {b!r}"


def compare_docs(want, got):
    """-> None when the same multiset of documents, else the first difference."""
    wd, wo = documents(want)
    gd, go = documents(got)
    missing, extra = list((wd - gd).elements()), list((gd - wd).elements())
    if not missing and not extra:
        return None
    if missing:
        w = wo[missing[0]]
        twin = next((go[e] for e in extra if ident(go[e]) == ident(w)), None)
        if twin is not None and yaml:
            return f"{ident(w)}: {first_path_diff(w, twin)}"
        return f"orch lacks document {ident(w)}" + (f" (orch has {ident(go[extra[0]])})" if extra else "")
    return f"orch has an extra document {ident(go[extra[0]])}"


def first_line_diff(want, got, who="orch"):
    w, g = want.splitlines(), got.splitlines()
    for i in range(max(len(w), len(g))):
        a, b = (w[i] if i < len(w) else "<end>"), (g[i] if i < len(g) else "<end>")
        if a != b:
            return f"line {i + 1}: expected {a!r}, {who} {b!r}"
    return None


def table_rows(text):
    """A `list` table's rows as sorted (column, cell) tuples. Cells are cut at the header's
    column starts: helmfile pads with spaces and a tab, orch with spaces only."""
    lines = [l for l in text.splitlines() if l.strip()]
    if not lines:
        return []
    cols = [(m.start(), m.group()) for m in re.finditer(r"\S+", lines[0])]
    ends = [start for start, _ in cols[1:]] + [None]
    return sorted(tuple((name, l[start:end].strip()) for (start, name), end in zip(cols, ends))
                  for l in lines[1:])


def fetched_charts(outdir):
    found = set()
    for root, _, files in os.walk(outdir):
        if "Chart.yaml" in files:
            meta = open(os.path.join(root, "Chart.yaml")).read()
            n, v = (re.search(rf"(?m)^{k}:\s*['\"]?([^'\"\s]+)", meta) for k in ("name", "version"))
            found.add((n and n.group(1), v and v.group(1)))
    return found


# ----------------------------------------------------------------------------- the cases

VALUE_FLAGS = {"-e", "--environment", "-l", "--selector", "-f", "--file", "-n", "--namespace",
               "--state-values-set", "--state-values-file", "--kube-context", "--set", "--values",
               "--output-dir", "--concurrency", "--chart", "-c"}


def command_of(args):
    """helmfile's subcommand: the first word that is neither a flag nor a flag's value."""
    prev = None
    for a in args:
        if not a.startswith("-") and prev not in VALUE_FLAGS:
            return a
        prev = a
    return "build"


def orch_args(args, outdir):
    """helmfile's args for orch: flags orch lacks dropped, `fetch` given its --output-dir."""
    out, notes = [], []
    for a in args:
        if a == "--enable-live-output":
            notes.append("dropped --enable-live-output (helm output streaming; orch has no such flag)")
        elif a == "--skip-charts":
            notes.append("dropped `list --skip-charts` (orch's list never prepares charts)")
        else:
            out.append(a)
    if "fetch" in out and "--output-dir" not in out:
        out += ["--output-dir", outdir]
        notes.append("`fetch` given --output-dir DIR (helmfile's default: a temp dir)")
    return out, notes


def run_case(name, corpus, tmp, a, orch_bin):
    case_dir = os.path.join(corpus, "testdata", "snapshot", name)
    cfg = load_config(os.path.join(case_dir, "config.yaml"))
    args = [str(x) for x in (cfg.get("helmfileArgs") or ["build"])]
    cmd = command_of(args)
    input_name = next((f for f in ("input.yaml", "input.yaml.gotmpl")
                       if os.path.exists(os.path.join(case_dir, f))), "input.yaml")
    output_file = next((os.path.join(case_dir, f) for f in ("output.yaml", "gopkg.in-yaml.v2-output.yaml")
                        if os.path.exists(os.path.join(case_dir, f))), None)
    res = {"case": name, "command": cmd, "args": args, "helmfile": None, "orch": None,
           "orch_text": None, "detail": "", "notes": []}
    if not output_file:
        res["helmfile"] = res["orch"] = "no output.yaml"
        return res
    input_text = open(os.path.join(case_dir, input_name)).read()
    placeholder = None  # the registry port, when the input names it $REGISTRY_PORT
    remote = re.findall(r"(?:git::|https?://)(?!localhost)[^\s\"']+", input_text)

    with contextlib.ExitStack() as stack:
        registry = port = None
        try:
            repo_cfg = cfg.get("localChartRepoServer") or {}
            if repo_cfg.get("enabled"):
                p = int(repo_cfg.get("port") or 18080)
                if not port_free(p):
                    raise RuntimeError(f"port {p} is in use")
                stack.callback(ChartRepo(tmp, p, os.path.join(corpus, repo_cfg.get("chartDir") or "testdata/charts")).close)
            reg_cfg = cfg.get("localDockerRegistry") or {}
            if reg_cfg.get("enabled"):
                port = int(reg_cfg.get("port") or 5000)
                if not port_free(port):
                    raise RuntimeError(f"port {port} is in use")
                registry = Registry(tmp, port, os.path.join(corpus, reg_cfg.get("chartDir") or "testdata/charts"))
                stack.callback(registry.close)
                placeholder = port if "$REGISTRY_PORT" in input_text else None
        except (RuntimeError, OSError, subprocess.CalledProcessError) as e:
            res["helmfile"] = res["orch"] = "harness error"
            res["detail"] = str(e)
            return res

        def prepare(label):
            """A fresh copy of the corpus (the working dir) and a fresh home for one run."""
            wd = tempfile.mkdtemp(prefix=f"{label}-", dir=tmp)
            shutil.copytree(os.path.join(corpus, "testdata"), os.path.join(wd, "testdata"), symlinks=True)
            inp = os.path.join(wd, "testdata", "snapshot", name, input_name)
            if placeholder:  # later harnesses' placeholder
                open(inp, "w").write(input_text.replace("$REGISTRY_PORT", str(placeholder)))
            env = helm_env(os.path.join(wd, "home"))
            env["CHARTIFY_TEMPDIR"] = os.path.join(wd, cfg.get("chartifyTempDir") or "chartify_temp")
            want = open(output_file).read().replace("__workingdir__", wd)
            return wd, env, os.path.relpath(inp, wd), want

        # helmfile: the test's verdict, once per YAML library.
        verdicts = []
        for goccy in (["true", "false"] if a.goccy == "both" else [a.goccy]):
            wd, env, inp, want = prepare("helmfile")
            env["HELMFILE_GOCCY_GOYAML"] = goccy
            rc, out, _ = run([a.helmfile, "-f", inp] + args, wd, env, a.timeout, combined=True)
            got = normalise(out, wd, env["HELMFILE_CACHE_HOME"], registry, placeholder)
            if rc == 0 and got == want:
                verdicts.append(None)
            elif rc != 0:
                verdicts.append(("needs network" if remote and NETWORK_RX.search(out) else "fail",
                                 f"goccy={goccy}: {first_error(out)}"))
            else:
                verdicts.append(("fail", f"goccy={goccy}: {first_line_diff(want, got, 'helmfile')}"))
        bad = next((v for v in verdicts if v), None)
        res["helmfile"] = "pass" if not bad else bad[0]
        res["helmfile_detail"] = bad[1] if bad else ""

        # orch: same working dir layout and environment, judged on what it renders.
        wd, env, inp, want = prepare("orch")
        # The kustomize helmfile runs (what `build` shows as kustomizeBinary), not kubectl's.
        env["ORCH_KUSTOMIZE_BINARY"] = "kustomize"
        if cmd not in ORCH_COMMANDS:
            res["orch"], res["detail"] = "unsupported", f"orch has no `{cmd}` command"
            return res
        mapped, res["notes"] = orch_args(args, os.path.join(wd, "fetched"))
        res["orch_args"] = mapped
        rc, out, err = run([orch_bin, "-f", inp] + a.orch_arg + mapped, wd, env, a.timeout)
        res["orch_stderr"] = err[-1500:]
        if rc != 0:
            res["orch"] = "needs network" if remote and NETWORK_RX.search(err) else "error"
            res["detail"] = first_error(err)
            return res
        got = normalise(out, wd, env["HELMFILE_CACHE_HOME"], registry, placeholder)
        want_m, got_m = manifests(want), manifests(got)
        if cmd == "fetch":  # helmfile logs "Pulling HOST/REPO/NAME:VERSION"; look on disk
            pulled = {(m.group(1), m.group(2)) for m in re.finditer(r"(?m)^Pulling \S+/([^/:\s]+):(\S+)$", want)}
            lacking = pulled - fetched_charts(os.path.join(wd, "fetched"))
            diff = f"orch did not fetch {sorted(lacking)}" if lacking else None
        elif cmd == "list":
            diff = None if table_rows(want_m) == table_rows(got_m) else first_line_diff(want_m, got_m)
        else:
            diff = compare_docs(want_m, got_m)
        res["orch"] = "pass" if diff is None else "differs"
        res["orch_text"] = None if cmd == "fetch" else want_m == got_m
        res["detail"] = diff or ("" if res["orch_text"] in (True, None) else first_line_diff(want_m, got_m))
        return res


# ----------------------------------------------------------------------------- main

def cell(s, width=170):
    s = (s or "").replace("\n", " ")
    s = s if len(s) <= width else s[:width - 1] + "…"
    return s.replace("|", "\\|")


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--corpus", help=f"a helmfile {HARNESS} dir (default: git archive --ref from {MIRROR})")
    ap.add_argument("--ref", default="v0.166.0")
    ap.add_argument("--only", action="append", help="run only this case (repeatable)")
    ap.add_argument("--orch", default=os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                                   "..", "..", "target", "release", "orch"))
    ap.add_argument("--orch-arg", action="append", default=[], help="extra orch flag (repeatable)")
    ap.add_argument("--helmfile", default=os.path.join(TOOLS, "helmfile"))
    ap.add_argument("--goccy", choices=("both", "true", "false"), default="both",
                    help="HELMFILE_GOCCY_GOYAML values helmfile must pass with")
    ap.add_argument("--timeout", type=float, default=60)
    ap.add_argument("--json-out", metavar="FILE")
    a = ap.parse_args()

    with tempfile.TemporaryDirectory(prefix="orch-snapshots-") as tmp:
        if a.corpus:
            corpus = os.path.abspath(a.corpus)
        else:
            src = os.path.join(tmp, "src")
            os.makedirs(src)
            subprocess.run(f"git --git-dir={MIRROR} archive {a.ref} {HARNESS} | tar -x -C {src}",
                           shell=True, check=True)
            corpus = os.path.join(src, HARNESS)
        # A private copy of orch: a rebuild during the run must not mix two binaries.
        orch_bin = os.path.join(tmp, "orch")
        shutil.copy2(os.path.realpath(a.orch), orch_bin)
        if not shutil.which("kustomize", path=os.pathsep.join(PATH_FIRST + [os.environ["PATH"]])):
            shim = os.path.join(tmp, "shim")
            os.makedirs(shim)
            with open(os.path.join(shim, "kustomize"), "w") as f:
                f.write(KUSTOMIZE_SHIM)
            os.chmod(os.path.join(shim, "kustomize"), 0o755)
            PATH_FIRST.append(shim)
        orch_sha = hashlib.sha256(open(orch_bin, "rb").read()).hexdigest()[:12]
        names = sorted(n for n in os.listdir(os.path.join(corpus, "testdata", "snapshot"))
                       if os.path.isdir(os.path.join(corpus, "testdata", "snapshot", n)))
        results = []
        for n in names:
            if a.only and n not in a.only:
                continue
            print(f"snapshots: {n}", file=sys.stderr)
            results.append(run_case(n, corpus, tmp, a, orch_bin))

    yesno = {"pass": "yes", True: "yes", False: "no", None: "n/a"}
    print(f"# helmfile snapshot tests ({a.corpus or a.ref}), offline\n")
    print(f"orch {orch_sha} (sha256 prefix of {os.path.realpath(a.orch)}); "
          f"PyYAML {'used' if yaml else 'absent: text comparison'}\n")
    print("| case | command | helmfile 0.166 passes? | orch passes? (semantic) | orch text-identical? | orch: first error / first difference |")
    print("|---|---|---|---|---|---|")
    for r in results:
        hf = yesno.get(r["helmfile"], f"no ({r['helmfile']})")
        orch = yesno.get(r["orch"], f"no ({r['orch']})")
        detail = r["detail"] or ("" if r["helmfile"] == "pass" else f"(helmfile: {r.get('helmfile_detail', '')})")
        detail = detail.replace(f"testdata/snapshot/{r['case']}/", "")  # room for the message
        print(f"| {r['case']} | {r['command']} | {hf} | {orch} | {yesno[r['orch_text']]} | {cell(detail)} |")
    passing = [r for r in results if r["helmfile"] == "pass"]
    both = [r for r in passing if r["orch"] == "pass"]
    text = [r for r in passing if r["orch_text"] is True]
    print(f"\nhelmfile passes {len(passing)} of {len(results)} offline; of those orch passes "
          f"{len(both)} (semantic), {len(text)} text-identical.")
    notes = sorted({n for r in results for n in r["notes"]})
    if notes:
        print("\nhelmfile flags mapped for orch:\n" + "\n".join(f"- {n}" for n in notes))
    failing = [r for r in results if r["helmfile"] != "pass"]
    if failing:
        print("\nhelmfile's failures:\n" + "\n".join(
            f"- {r['case']}: {r['helmfile']}: {cell(r.get('helmfile_detail') or r['detail'], 300)}" for r in failing))
    if a.json_out:
        with open(a.json_out, "w") as f:
            json.dump({"orch_sha256": orch_sha, "corpus": a.corpus or a.ref, "cases": results,
                       "totals": {"cases": len(results), "helmfile_passes": len(passing),
                                  "orch_passes": len(both), "orch_text_identical": len(text)}},
                      f, indent=2)


if __name__ == "__main__":
    main()
