"""The parts of qcc that run its executables: compiling (the ``qcc`` tool) and running what it
emits (and ``qcc-run`` for commands the in-process reference model does not implement).

The compiler is run as a subprocess: its logic lives in tools/qcc (kernel generation with Halide
in a child process, LLVM code generation, the link), not in a library. Every command is run with
``--json`` and its object returned as a dict; a failing command raises :class:`qcc.Error` with the
tool's one-line message.
"""

import json
import os
import re
import shutil
import subprocess
import tempfile

from . import _qcc

Error = _qcc.Error

try:
    from . import _config
except ImportError:  # a source tree without a build: only the environment says where tools are
    _config = None


def tools_dir():
    """The folder qcc's tools are taken from: $QCC_TOOLS_DIR, else the build's bin folder."""
    return os.environ.get("QCC_TOOLS_DIR") or (_config.TOOLS_DIR if _config else "")


def data_dir():
    """The data folder: $QCC_DATA_DIR, else the one the build was configured with."""
    return os.environ.get("QCC_DATA_DIR") or (_config.DATA_DIR if _config else "")


def tool_path(name):
    """The path of tool `name` (qcc, qcc-run, ...) in :func:`tools_dir`, else on PATH."""
    d = tools_dir()
    if d:
        p = os.path.join(d, name)
        if os.path.isfile(p) and os.access(p, os.X_OK):
            return p
    p = shutil.which(name)
    if p:
        return p
    raise Error("%s: not found in %s or on PATH (set QCC_TOOLS_DIR)" % (name, d or "(no tools folder)"))


_ANSI = re.compile(r"\x1b\[[0-9;]*m")


def _error_line(stderr):
    """The tool's error line ("TOOL: error: ..."), else its last line of output."""
    lines = [_ANSI.sub("", l).strip() for l in stderr.splitlines()]
    lines = [l for l in lines if l]
    for l in lines:
        if "error:" in l:
            return l
    return lines[-1] if lines else ""


def _run(argv, want_json=True):
    try:
        proc = subprocess.run([str(a) for a in argv], stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, text=True, errors="replace")
    except OSError as e:
        raise Error("%s: %s" % (argv[0], e.strerror)) from None
    if proc.returncode != 0:
        msg = _error_line(proc.stderr)
        raise Error(msg or "%s exited with status %d" % (os.path.basename(argv[0]), proc.returncode))
    if not want_json:
        return proc.stdout
    try:
        return json.loads(proc.stdout)
    except ValueError:
        raise Error("%s: output is not JSON: %r" % (os.path.basename(argv[0]), proc.stdout[:200])) from None


def _flags(options):
    """Keyword arguments as command-line options: a_b=1 -> --a-b=1, True -> --a-b, None and
    False are left out, lists become comma-separated."""
    out = []
    for key, value in options.items():
        if value is None or value is False:
            continue
        flag = "--" + key.replace("_", "-")
        if value is True:
            out.append(flag)
        elif isinstance(value, (list, tuple)):
            out.append("%s=%s" % (flag, ",".join(str(v) for v in value)))
        else:
            out.append("%s=%s" % (flag, os.fspath(value) if isinstance(value, os.PathLike) else value))
    return out


class _DriverCommands:
    """The evaluation driver's commands (docs/Driver.md) over a command prefix."""

    def _argv(self, command):
        raise NotImplementedError

    def run(self, command, *args, **options):
        """Runs driver command `command` with --json; keyword options become flags
        (``batch=[1, 4]`` -> ``--batch=1,4``). Returns the JSON object."""
        return _run(self._argv(command) + [str(a) for a in args] + _flags(options) + ["--json"])

    def ppl(self, text, *, ctx=512, protocol="llama.cpp", chunks=0, batch=4, threads=0):
        """Perplexity of a text file (the ``ppl`` command's JSON object)."""
        return self.run("ppl", text=text, ctx=ctx, protocol=protocol, chunks=chunks or None,
                        batch=batch, threads=threads)

    perplexity = ppl

    def bench(self, *, prompt=0, gen=0, batch=None, repeat=3, warmup=1, seed=0, text=None, threads=0):
        """Latency and throughput (the ``bench`` command's object); 0 for prompt/gen: defaults."""
        if isinstance(batch, int):
            batch = [batch]
        return self.run("bench", prompt=prompt or None, gen=gen or None, batch=batch or None,
                        repeat=repeat, warmup=warmup, seed=seed, text=text, threads=threads)

    def generate(self, prompt, *, n=64, temp=0.0, top_p=1.0, seed=0, threads=0):
        """Generates up to n tokens (the ``generate`` command's object)."""
        return self.run("generate", prompt=prompt, n=n, temp=temp, top_p=top_p, seed=seed,
                        threads=threads)

    def tasks(self, task, data, *, shots=None, limit=None, batch=None, threads=0):
        """Zero-/few-shot task accuracy (the ``tasks`` command's object: acc, acc_norm,
        acc_stderr, n, ...)."""
        return self.run("tasks", task=task, data=data, shots=shots, limit=limit, batch=batch,
                        threads=threads)

    def logits(self, tokens, *, threads=0):
        """Logits of token ids from position 0 (the ``logits`` command): [T] -> [T, vocab],
        [B, T] -> [B, T, vocab], numpy float32."""
        import numpy as np
        ids = np.ascontiguousarray(np.asarray(tokens, dtype=np.int32))
        if ids.ndim not in (1, 2) or ids.size == 0:
            raise ValueError("tokens must be 1-D [T] or 2-D [B, T] and not empty")
        rows = 1 if ids.ndim == 1 else ids.shape[0]
        with tempfile.TemporaryDirectory(prefix="qcc-logits-") as tmp:
            tok_file = os.path.join(tmp, "tokens.i32")
            out_file = os.path.join(tmp, "logits.f32")
            ids.astype("<i4").tofile(tok_file)
            r = self.run("logits", tokens=tok_file, batch=rows, out=out_file, threads=threads)
            logits = np.fromfile(out_file, dtype="<f4").astype(np.float32)
        shape = (r["seq_len"], r["vocab_size"]) if ids.ndim == 1 else \
            (rows, r["seq_len"], r["vocab_size"])
        return logits.reshape(shape)


class Executable(_DriverCommands):
    """An executable emitted by ``qcc`` (or :func:`compile`): its commands run as a subprocess
    with --json, each returning the command's JSON object as a dict."""

    def __init__(self, path):
        self.path = os.path.abspath(os.fspath(path))
        if not (os.path.isfile(self.path) and os.access(self.path, os.X_OK)):
            raise Error("%s: not an executable file" % os.fspath(path))

    def _argv(self, command):
        return [self.path, command]

    def __repr__(self):
        return "qcc.Executable(%r)" % self.path


class ReferenceRun(_DriverCommands):
    """``qcc-run model.mlir COMMAND`` as a subprocess (the same interface as Executable)."""

    def __init__(self, model):
        self.model = os.fspath(model)

    def _argv(self, command):
        return [tool_path("qcc-run"), self.model, command]


def compile(model, out, *, target="x86-64", opt=3, embed_weights=False, kernel_cache=None,
            save_temps=False, extra_args=()):
    """Compiles a qllm module into an evaluation executable with the ``qcc`` tool (run as a
    subprocess) and returns it as an :class:`Executable`.

    target: x86-64 (the host's features), x86-64-avx2, x86-64-avx512, aarch64, cuda; opt: 0..3;
    kernel_cache: the kernel cache folder (default: $QCC_CACHE_DIR, else ~/.cache/qcc/kernels);
    extra_args: more qcc flags."""
    if opt not in (0, 1, 2, 3):
        raise ValueError("opt must be 0, 1, 2 or 3, not %r" % (opt,))
    argv = [tool_path("qcc"), os.fspath(model), "-O%d" % opt, "--target=%s" % target,
            "-o", os.fspath(out)]
    if embed_weights:
        argv.append("--embed-weights")
    if kernel_cache is not None:
        argv.append("--kernel-cache=%s" % os.fspath(kernel_cache))
    if save_temps:
        argv.append("--save-temps")
    argv += [str(a) for a in extra_args]
    _run(argv, want_json=False)
    return Executable(out)
