"""qcc-sweep's command line (docs/Sweep.md)."""

import argparse
import concurrent.futures as cf
import os
import signal
import sys
import time

from . import spec
from .run import STOP, Runner, Tools, clean_point, describe_failure, kill_all, log
from .util import atomic_write_json, remove_stale_temps

USAGE = """qcc-sweep SWEEP_FILE --out DIR [--jobs N] [options]
       qcc-sweep --render-only DIR"""


def _args(argv):
    ap = argparse.ArgumentParser(
        prog="qcc-sweep", usage=USAGE,
        description="Run a sweep of models x methods x targets x evals with qcc's tools "
                    "(resumable; points in parallel) and render DIR/tables.md and "
                    "DIR/pareto-*.png/svg. Schema: docs/Sweep.md.")
    ap.add_argument("sweep", nargs="?", metavar="SWEEP_FILE", help="YAML or JSON sweep file")
    ap.add_argument("--out", metavar="DIR", help="output folder (points/, work/, tables.md, plots)")
    ap.add_argument("--jobs", "-j", type=int, default=1, metavar="N",
                    help="points run at once (default 1)")
    ap.add_argument("--render-only", metavar="DIR", help="only re-render DIR from its points")
    ap.add_argument("--data", metavar="DIR",
                    help="data folder (default $QCC_DATA_DIR, else the build's QCC_DATA_DIR)")
    ap.add_argument("--bin", metavar="DIR", help="folder of qcc's tools (default: qcc-sweep's)")
    ap.add_argument("--kernel-cache", metavar="DIR",
                    help="qcc --kernel-cache (default qcc's: $QCC_CACHE_DIR or ~/.cache/qcc/kernels)")
    ap.add_argument("--only", metavar="TEXT", action="append",
                    help="run only points whose id contains TEXT (repeatable)")
    ap.add_argument("--force", action="store_true",
                    help="re-run the selected points even when done (shared builds are reused)")
    ap.add_argument("--list", action="store_true", help="print the points' ids and labels, run nothing")
    ap.add_argument("--no-render", action="store_true", help="do not render after running")
    return ap, ap.parse_args(argv)


def _default_data_dir():
    env = os.environ.get("QCC_DATA_DIR")
    if env:
        return env
    return os.environ.get("QCC_SWEEP_DEFAULT_DATA_DIR") or \
        os.path.join(os.path.dirname(__file__), "..", "..", "..", "shared", "data")


def _fail(msg, code=1):
    print(f"qcc-sweep: error: {msg}", file=sys.stderr, flush=True)
    return code


def main(argv=None):
    """Exit status: 0 all points done, 1 a point failed or a bad sweep file, 130 interrupted
    (Ctrl-C or SIGTERM: the running commands are stopped, no point file is half-written)."""
    def on_term(signum, frame):
        raise KeyboardInterrupt()
    signal.signal(signal.SIGTERM, on_term)
    try:
        return _main(sys.argv[1:] if argv is None else argv)
    except KeyboardInterrupt:
        STOP.set()
        kill_all()
        log("interrupted")
        return 130


def _main(argv):
    ap, a = _args(argv)
    if a.render_only:
        if a.sweep or a.out:
            return _fail("--render-only DIR takes no sweep file or --out")
        return _render(a.render_only)
    if not a.sweep or not a.out:
        return _fail("usage: " + USAGE.splitlines()[0] + " (or --render-only DIR)")
    if a.jobs < 1:
        return _fail(f"--jobs {a.jobs}: must be at least 1")
    data_dir = os.path.abspath(a.data or _default_data_dir())
    try:
        sweep = spec.parse(spec.load_file(a.sweep), a.sweep, data_dir)
    except spec.SpecError as e:
        return _fail(str(e))
    points = sweep.points
    if a.only:
        points = [p for p in points if any(s in p["id"] for s in a.only)]
    if a.list:
        for p in points:
            lab = p["labels"]
            print(f"{p['id']}\t{lab['model']}\t{lab['method']}\t{lab['target']}")
        return 0
    bin_dir = os.path.abspath(a.bin or os.environ.get("QCC_SWEEP_BIN_DIR") or
                              os.path.dirname(os.path.abspath(sys.argv[0])))
    tools = Tools(bin_dir)
    missing = tools.missing()
    if missing:
        return _fail(f"{bin_dir}: missing {', '.join(missing)} (build qcc, or pass --bin DIR)")
    out = os.path.abspath(a.out)
    os.makedirs(os.path.join(out, "points"), exist_ok=True)
    remove_stale_temps(os.path.join(out, "points"))
    remove_stale_temps(out)
    # The manifest: which points this sweep has, in order (render-only reads it).
    atomic_write_json(os.path.join(out, "sweep.json"), {
        "name": sweep.name, "file": os.path.abspath(a.sweep), "data_dir": data_dir,
        "points": [{"id": p["id"], "labels": p["labels"], "definition": p["definition"]}
                   for p in sweep.points]})
    runner = Runner(sweep, out, data_dir, tools,
                    os.path.abspath(a.kernel_cache) if a.kernel_cache else None)
    todo = []
    for p in points:
        if a.force:
            clean_point(runner, p)
        if not runner.is_done(p):
            todo.append(p)
            if runner.made_by_other_tools(p):
                log(f"{p['id']}: its results were made by other qcc tools: running it again")
    log(f"{sweep.name}: {len(sweep.points)} points, {len(points) - len(todo)} done, "
        f"{len(todo)} to run with {a.jobs} job{'s' if a.jobs > 1 else ''}; data {data_dir}")
    for p in points:
        if p not in todo:
            log(f"skip {p['id']} (done)")
    rc = _run(runner, todo, a.jobs)
    if rc == 130:
        return rc
    failed = [p for p in points if not runner.is_done(p)]
    if not a.no_render:
        r = _render(out)
        if r:
            return r
    if failed:
        log(f"{len(failed)} of {len(points)} points failed: " + ", ".join(p["id"] for p in failed))
        return 1
    log(f"all {len(points)} points done")
    return 0


def _run(runner, todo, jobs):
    t0 = time.time()
    ex = cf.ThreadPoolExecutor(max_workers=jobs)
    futs = {}
    try:
        for p in todo:
            futs[ex.submit(_one, runner, p)] = p
        pending = set(futs)
        while pending:
            done, pending = cf.wait(pending, timeout=0.5, return_when=cf.FIRST_COMPLETED)
            for f in done:
                f.result()
    except KeyboardInterrupt:
        STOP.set()
        log("interrupted: stopping the running commands; no point file is left half-written")
        kill_all()
        ex.shutdown(wait=True, cancel_futures=True)
        return 130
    ex.shutdown(wait=True)
    if todo:
        log(f"ran {len(todo)} points in {time.time() - t0:.1f} s")
    return 0


def _one(runner, p):
    log(f"run {p['id']}")
    t0 = time.time()
    rec = runner.run_point(p)
    if rec is None:
        return
    if rec["status"] == "ok":
        log(f"ok {p['id']} ({time.time() - t0:.1f} s)")
    else:
        log(f"FAILED {p['id']}: {describe_failure(rec)}")


def _render(out):
    from .render import render
    try:
        files = render(out)
    except FileNotFoundError as e:
        return _fail(str(e))
    log("wrote " + ", ".join(os.path.relpath(f, out) for f in files) + f" in {out}")
    return 0
