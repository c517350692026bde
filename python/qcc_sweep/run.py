"""Running points: shared intermediates (import, quantize, compile) under DIR/work/shared, evals,
the point JSON in DIR/points/<id>.json (written atomically, also for a failure)."""

import datetime
import fcntl
import hashlib
import json
import os
import platform
import shutil
import signal
import subprocess
import threading
import time

from . import SCHEMA_VERSION
from .spec import resolve_data
from .util import atomic_write_json, read_json

STOP = threading.Event()          # set on Ctrl-C / SIGTERM: nothing more is written
_ACTIVE = set()                   # running child processes
_ACTIVE_LOCK = threading.Lock()
_PRINT_LOCK = threading.Lock()


def log(msg):
    with _PRINT_LOCK:
        print(f"qcc-sweep: {msg}", flush=True)


class Interrupted(Exception):
    pass


class StepError(Exception):
    """A command that failed: its step, command line, exit code and the tail of its stderr."""

    def __init__(self, step, cmd, rc, stderr, message=None):
        self.step, self.cmd, self.rc = step, [str(c) for c in cmd], rc
        self.stderr_tail = tail(stderr)
        last = [l for l in self.stderr_tail.splitlines() if l.strip()]
        self.message = message or (f"{step}: {os.path.basename(self.cmd[0])} exited with {rc}" +
                                   (f": {last[-1].strip()}" if last else ""))
        super().__init__(self.message)

    def to_json(self):
        return {"step": self.step, "command": self.cmd, "exit_code": self.rc,
                "stderr_tail": self.stderr_tail, "message": self.message}


def tail(text, lines=20, chars=4000):
    text = text or ""
    t = "\n".join(text.rstrip("\n").splitlines()[-lines:])
    return t[-chars:]


def kill_all():
    """Stop every child (they run in their own sessions, so Ctrl-C reaches only qcc-sweep)."""
    with _ACTIVE_LOCK:
        procs = list(_ACTIVE)
    for p in procs:
        try:
            os.killpg(p.pid, signal.SIGTERM)
        except (ProcessLookupError, PermissionError):
            pass
    deadline = time.time() + 3
    for p in procs:
        try:
            p.wait(max(0.1, deadline - time.time()))
        except subprocess.TimeoutExpired:
            try:
                os.killpg(p.pid, signal.SIGKILL)
            except (ProcessLookupError, PermissionError):
                pass


def run_cmd(step, cmd, timeout=None, env=None):
    """Run CMD, return (stdout, seconds); StepError when it fails, Interrupted when stopping."""
    if STOP.is_set():
        raise Interrupted()
    cmd = [str(c) for c in cmd]
    t0 = time.monotonic()
    try:
        p = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                             stdin=subprocess.DEVNULL, start_new_session=True, env=env,
                             text=True, errors="replace")
    except OSError as e:
        raise StepError(step, cmd, 127, f"{cmd[0]}: {e.strerror or e}")
    with _ACTIVE_LOCK:
        _ACTIVE.add(p)
    try:
        try:
            out, err = p.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            os.killpg(p.pid, signal.SIGKILL)
            out, err = p.communicate()
            raise StepError(step, cmd, p.returncode, err,
                            f"{step}: {os.path.basename(cmd[0])} timed out after {timeout:g} s")
    finally:
        with _ACTIVE_LOCK:
            _ACTIVE.discard(p)
    if STOP.is_set():
        raise Interrupted()
    if p.returncode != 0:
        raise StepError(step, cmd, p.returncode, err)
    return out, time.monotonic() - t0


def run_json(step, cmd, timeout=None):
    out, secs = run_cmd(step, cmd, timeout)
    try:
        return json.loads(out), secs
    except json.JSONDecodeError as e:
        raise StepError(step, cmd, 0, out[-2000:],
                        f"{step}: {os.path.basename(cmd[0])} printed no valid JSON ({e})")


class Tools:
    NAMES = ["qcc-import", "qcc-quantize", "qcc", "qcc-run"]
    # Not called by the sweep, but qcc runs it to generate kernels (when it is there).
    HELPERS = ["qcc-kernel-gen"]

    def __init__(self, bin_dir):
        self.bin_dir = bin_dir
        self._digests = {}
        self._lock = threading.Lock()

    def __getitem__(self, name):
        return os.path.join(self.bin_dir, name)

    def missing(self):
        return [n for n in self.NAMES if not os.access(self[n], os.X_OK)]

    def digest(self, name):
        """sha256 of a tool's contents ("" when absent): which build made an intermediate."""
        with self._lock:
            if name not in self._digests:
                self._digests[name] = _file_digest(self[name])
            return self._digests[name]

    def runtime_digest(self):
        """What qcc links into every executable besides its own code: the files under
        ../lib/qcc next to the tools (runtime objects, driver link lines) and qcc's own archives
        those link lines name (the evaluation driver). They change without qcc changing."""
        with self._lock:
            if "(runtime)" not in self._digests:
                root = os.path.join(os.path.dirname(self.bin_dir), "lib", "qcc")
                files = []
                for d, _, names in sorted(os.walk(root)):
                    for n in sorted(names):
                        files.append(os.path.join(d, n))
                        if n.endswith(".rsp"):
                            try:
                                with open(files[-1]) as f:
                                    words = f.read().split()
                            except OSError:
                                words = []
                            files += [w for w in words
                                      if os.path.isabs(w) and not w.startswith("/usr/")]
                h = hashlib.sha256()
                for f in files:
                    h.update(f"{os.path.basename(f)}:{_file_digest(f)}\n".encode())
                self._digests["(runtime)"] = h.hexdigest()
            return self._digests["(runtime)"]


def _file_digest(path):
    h = hashlib.sha256()
    try:
        with open(path, "rb") as f:
            for block in iter(lambda: f.read(1 << 20), b""):
                h.update(block)
    except OSError:
        return ""
    return h.hexdigest()


def tool_stamps(tools):
    """What each kind of result was made by: a hash of the tools of its step (for the compile,
    also what qcc links into executables) and of the steps before it. A result whose stamp
    differs from this build's is built (or run) again: an intermediate of another qcc build is
    never mixed into this one's numbers, and changing one tool redoes only what depends on it
    (a new qcc recompiles, it does not re-quantize)."""
    def stamp(*parts):
        return hashlib.sha256("\n".join(parts).encode()).hexdigest()[:16]
    d = tools.digest
    s = {"import": stamp("import", d("qcc-import"))}
    s["quant"] = stamp("quant", s["import"], d("qcc-quantize"), d("qcc-run"))
    s["build"] = stamp("build", s["quant"], d("qcc"), *[d(n) for n in Tools.HELPERS],
                       tools.runtime_digest())
    s["eval-reference"] = stamp("eval", s["quant"], d("qcc-run"))
    s["eval-exe"] = stamp("eval", s["build"])
    return s


class Runner:
    def __init__(self, sweep, out_dir, data_dir, tools, kernel_cache=None):
        self.sweep = sweep
        self.out = out_dir
        self.data = data_dir
        self.tools = tools
        self.kernel_cache = kernel_cache
        self.timeout = sweep.timeout
        self.points_dir = os.path.join(out_dir, "points")
        self.work = os.path.join(out_dir, "work")
        # Failures of shared steps in this run: the other points that need them fail the same way
        # without running the command again.
        self._shared_failures = {}
        self._shared_lock = threading.Lock()
        self._commands = None
        self._stamps = None

    def stamp(self, kind):
        with self._shared_lock:
            if self._stamps is None:
                self._stamps = tool_stamps(self.tools)
            return self._stamps[kind]

    def point_stamp(self, p):
        """The stamp of a point's evals (and of its point file)."""
        return self.stamp("eval-reference" if p["target"]["target"] == "reference" else "eval-exe")

    def d(self, p):
        return resolve_data(p, self.data)

    # ---- shared intermediates ---------------------------------------------------------------

    def _shared(self, kind, key, fn):
        """Build DIR/work/shared/<kind>-<key> once (lock file; done.json marks it complete, with
        the stamp of the tools that built it: one of other tools is built again)."""
        folder = os.path.join(self.work, "shared", f"{kind}-{key}")
        done = os.path.join(folder, "done.json")
        stamp = self.stamp(kind)

        def current():
            try:
                info = read_json(done)
            except (OSError, ValueError):
                return None
            return info if info.get("tools") == stamp else None
        with self._shared_lock:
            if (kind, key) in self._shared_failures:
                raise self._shared_failures[(kind, key)]
        info = current()
        if info is not None:
            return info, folder
        os.makedirs(folder, exist_ok=True)
        with open(os.path.join(folder, ".lock"), "w") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            info = current()
            if info is not None:
                return info, folder
            if os.path.exists(done):
                log(f"{kind}-{key} was made by other qcc tools: making it again")
                os.unlink(done)
            with self._shared_lock:
                if (kind, key) in self._shared_failures:
                    raise self._shared_failures[(kind, key)]
            try:
                info = fn(folder)
            except StepError as e:
                with self._shared_lock:
                    self._shared_failures[(kind, key)] = e
                raise
            if STOP.is_set():
                raise Interrupted()
            info["tools"] = stamp
            atomic_write_json(done, info)
            return info, folder

    def _import(self, p):
        model = p["model"]

        def build(folder):
            out = os.path.join(folder, "model.mlir")
            cmd = [self.tools["qcc-import"], self.d(model["source"])]
            if "tokenizer" in model:
                cmd += ["--tokenizer", self.d(model["tokenizer"])]
            _, secs = run_cmd("import", cmd + ["-o", out], self.timeout)
            return {"mlir": "model.mlir", "seconds": secs}
        info, folder = self._shared("import", p["import_key"], build)
        return os.path.join(folder, info["mlir"]), info

    def _summary(self, mlir, folder):
        s, _ = run_json("summary", [self.tools["qcc-run"], mlir, "summary", "--json"], self.timeout)
        keep = ["weight_bytes", "bits_per_weight", "parameters", "max_seq_len", "vocab_size",
                "n_layers", "dim", "name"]
        return {k: s[k] for k in keep if k in s}

    def _quantize(self, p, f32_mlir):
        m = p["method"]

        def build(folder):
            if m["kind"] == "f32":
                return {"mlir": os.path.relpath(f32_mlir, folder), "seconds": 0.0,
                        "summary": self._summary(f32_mlir, folder)}
            out = os.path.join(folder, "model.mlir")
            cmd = [self.tools["qcc-quantize"], f32_mlir]
            if m["kind"] == "mix":
                cmd += ["--mix", m["mix"]] + (["--imatrix"] if m["imatrix"] else [])
            elif m["kind"] == "int":
                cmd += ["--method", m["method"], "--bits", m["bits"], "--group", m["group"]]
                cmd += (["--asym"] if m["asym"] else []) + (["--act-order"] if m["act_order"] else [])
            elif m["kind"] == "smoothquant":
                cmd += ["--method", "smoothquant"]
                if m["alpha"] is not None:
                    cmd += ["--alpha", repr(m["alpha"])]
            else:
                cmd += ["--budget", repr(m["budget"])]
                if m["sensitivity_tokens"] is not None:
                    cmd += ["--sensitivity-tokens", m["sensitivity_tokens"]]
            c = m.get("calib")
            if c:
                cmd += ["--calib", self.d(c["text"])]
                if c["samples"] is not None:
                    cmd += ["--calib-samples", c["samples"]]
                if c["seqlen"] is not None:
                    cmd += ["--calib-seqlen", c["seqlen"]]
            cmd += m.get("args", [])
            cmd += ["-o", out, "--gguf", os.path.join(folder, "model.gguf"),
                    "--report", os.path.join(folder, "report.json")]
            _, secs = run_cmd("quantize", cmd, self.timeout)
            rep = read_json(os.path.join(folder, "report.json"))
            return {"mlir": "model.mlir", "seconds": secs, "command": [str(x) for x in cmd],
                    "summary": self._summary(out, folder),
                    "report": {k: rep.get(k) for k in ("bits_per_weight", "bytes", "seconds",
                                                       "simulated_bits_per_weight",
                                                       "simulated_bytes")}}
        info, folder = self._shared("quant", p["quant_key"], build)
        return os.path.normpath(os.path.join(folder, info["mlir"])), info

    def _compile(self, p, mlir, rebuild=False):
        t = p["target"]
        if rebuild:
            # The executable is older than a driver command it lacks: drop it and build it again
            # (qcc replaces it atomically, so a point still running the old one is not disturbed).
            folder = os.path.join(self.work, "shared", f"build-{p['build_key']}")
            with open(os.path.join(folder, ".lock"), "w") as lock:
                fcntl.flock(lock, fcntl.LOCK_EX)
                try:
                    os.unlink(os.path.join(folder, "done.json"))
                except FileNotFoundError:
                    pass

        def build(folder):
            exe = os.path.join(folder, "model")
            cmd = [self.tools["qcc"], mlir, f"-O{t['opt']}", f"--target={t['target']}", "-o", exe]
            if t["embed_weights"]:
                cmd.append("--embed-weights")
            cmd += t.get("args", [])
            if self.kernel_cache:
                cmd += ["--kernel-cache", self.kernel_cache]
            _, secs = run_cmd("compile", cmd, self.timeout)
            return {"exe": "model", "seconds": secs, "exe_bytes": os.path.getsize(exe),
                    "command": [str(x) for x in cmd]}
        info, folder = self._shared("build", p["build_key"], build)
        return os.path.join(folder, info["exe"]), info

    # ---- evals -------------------------------------------------------------------------------

    def _eval_cmd(self, prefix, e, threads):
        th = ["--threads", threads]
        if e["kind"] == "ppl":
            cmd = prefix + ["ppl", "--text", self.d(e["text"]), "--ctx", e["ctx"], "--protocol",
                            e["protocol"], "--chunks", e["chunks"]]
            if "batch" in e:
                cmd += ["--batch", e["batch"]]
        elif e["kind"] == "bench":
            cmd = prefix + ["bench"]
            for k in ("prompt", "gen", "repeat", "warmup"):
                if e[k] is not None:
                    cmd += [f"--{k}", e[k]]
        else:
            cmd = prefix + ["tasks", "--task", e["task"], "--data", self.d(e["data"])]
            for k in ("limit", "shots"):
                if e.get(k) is not None:
                    cmd += [f"--{k}", e[k]]
        return cmd + th + ["--json"]

    def _has_command(self, name):
        """Whether this build's driver has a command (qcc-run and executables share it)."""
        with self._shared_lock:
            if self._commands is None:
                try:
                    out, _ = run_cmd("probe", [self.tools["qcc-run"], "--help"], 60)
                except StepError:
                    out = ""
                # llvm::cl lists the subcommands as "  NAME - description".
                self._commands = {l.split()[0] for l in out.splitlines()
                                  if l.startswith("  ") and " - " in l and not
                                  l.strip().startswith("-")}
            return name in self._commands

    def _eval(self, p, prefix, e, folder, rebuild=None):
        """One eval; its JSON is kept in DIR/work/<id>/evals/ so a retry runs only what failed.
        rebuild: for executables, a function that compiles the model again and returns the new
        command prefix, used when the executable predates a command the driver now has."""
        path = os.path.join(folder, "evals", e["name"] + ".json")
        stamp = self.point_stamp(p)
        try:
            kept = read_json(path)
        except (OSError, ValueError):
            kept = None
        if kept is not None and kept.get("tools") == stamp:
            return kept
        cmd = self._eval_cmd(prefix, e, p["threads"])
        step = f"eval {e['name']}"
        try:
            res, secs = run_json(step, cmd, self.timeout)
        except StepError as err:
            unknown = f"unknown command '{cmd[len(prefix)]}'"
            if unknown not in err.stderr_tail:
                raise
            if rebuild is not None and self._has_command(cmd[len(prefix)]):
                log(f"{p['id']}: the executable has no '{cmd[len(prefix)]}' command, this qcc "
                    f"has: compiling it again")
                return self._eval(p, rebuild(), e, folder)
            if e["kind"] == "tasks":
                err.message = (f"{step}: {os.path.basename(cmd[0])} has no 'tasks' command (the "
                               f"zero-shot tasks driver is not in this qcc build); rebuild qcc "
                               f"and re-run the sweep to fill it in")
            raise
        res = {"result": res, "seconds": secs, "command": [str(c) for c in cmd], "tools": stamp}
        atomic_write_json(path, res)
        return res

    # ---- one point ---------------------------------------------------------------------------

    def point_path(self, p):
        return os.path.join(self.points_dir, p["id"] + ".json")

    def _finished(self, p):
        """The point file of a finished run of this point's definition (any tools), or None."""
        try:
            j = read_json(self.point_path(p))
        except (OSError, ValueError):
            return None
        ok = j.get("status") == "ok" and j.get("id") == p["id"] and \
            j.get("definition") == p["definition"]
        return j if ok else None

    def is_done(self, p):
        j = self._finished(p)
        return j is not None and j.get("tools") == self.point_stamp(p)

    def made_by_other_tools(self, p):
        """A finished point whose results another qcc build made (it runs again)."""
        j = self._finished(p)
        return j is not None and j.get("tools") != self.point_stamp(p)

    def run_point(self, p):
        """Run one point; returns its JSON (also written), or None when interrupted."""
        t0 = time.time()
        rec = {"schema": SCHEMA_VERSION, "id": p["id"], "definition": p["definition"],
               "labels": p["labels"], "sweep": self.sweep.name, "status": "running",
               "started": _now(), "host": {"node": platform.node(), "cpus": os.cpu_count(),
                                           "loadavg": list(os.getloadavg())},
               "steps": {}, "evals": {}, "errors": [], "tools": self.point_stamp(p)}
        folder = os.path.join(self.work, p["id"])
        try:
            try:
                f32, info = self._import(p)
                rec["steps"]["import"] = {"seconds": info["seconds"]}
                mlir, qinfo = self._quantize(p, f32)
                rec["steps"]["quantize"] = {k: qinfo[k] for k in ("seconds", "command", "report")
                                            if k in qinfo}
                rec["size"] = qinfo["summary"]
                rebuild = None
                if p["target"]["target"] == "reference":
                    prefix = [self.tools["qcc-run"], mlir]
                else:
                    def build(again=False):
                        exe, binfo = self._compile(p, mlir, again)
                        rec["steps"]["compile"] = binfo
                        if p["target"]["target"] == "aarch64":
                            return ["qemu-aarch64-static", "-L", "/usr/aarch64-linux-gnu", exe]
                        return [exe]
                    prefix = build()
                    rebuild = lambda: build(True)  # noqa: E731
            except StepError as err:
                rec["errors"].append(err.to_json())
            else:
                for e in p["evals"]:
                    try:
                        rec["evals"][e["name"]] = self._eval(p, prefix, e, folder, rebuild)
                    except StepError as err:
                        rec["errors"].append(err.to_json())
        except Interrupted:
            return None
        if STOP.is_set():
            return None
        rec["status"] = "failed" if rec["errors"] else "ok"
        if rec["errors"]:
            rec["failure"] = rec["errors"][0]
        rec["finished"] = _now()
        rec["seconds"] = round(time.time() - t0, 3)
        atomic_write_json(self.point_path(p), rec)
        return rec


def _now():
    return datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def clean_point(runner, p):
    """--force: forget a point's results and its own work folder (shared builds are kept)."""
    for path in (runner.point_path(p),):
        if os.path.exists(path):
            os.unlink(path)
    shutil.rmtree(os.path.join(runner.work, p["id"]), ignore_errors=True)


def describe_failure(rec):
    f = rec.get("failure") or {}
    return f.get("message", "failed")

