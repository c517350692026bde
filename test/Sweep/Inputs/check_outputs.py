"""Checks of a qcc-sweep output folder (test/Sweep/*.test).
  check_outputs.py files DIR N      the N point files are complete and agree with each other, and
                                    every plot is a valid PNG / SVG
  check_outputs.py mtimes DIR       every result and intermediate file with its mtime (ns)
  check_outputs.py interrupt QCC_SWEEP SWEEP_FILE DIR SLOW_ID_PART
                                    start a sweep, SIGTERM it while SLOW_ID_PART's point runs: exit
                                    status 130, no point file for it, no temporary file left"""

import glob
import json
import os
import signal
import struct
import subprocess
import sys
import time
import xml.etree.ElementTree as ET


def files(out, n):
    pts = sorted(glob.glob(os.path.join(out, "points", "*.json")))
    assert len(pts) == n, f"{len(pts)} point files, expected {n}"
    recs = [json.load(open(p)) for p in pts]
    for p, r in zip(pts, recs):
        assert os.path.basename(p) == r["id"] + ".json", p
        assert r["status"] == "ok", (p, r.get("failure"))
        for k in ("definition", "labels", "size", "evals", "started", "finished", "seconds"):
            assert k in r, (p, k)
        names = [e["name"] for e in r["definition"]["evals"]]
        assert sorted(r["evals"]) == sorted(names), (p, sorted(r["evals"]), names)
        for name, e in r["evals"].items():
            assert e["command"] and e["seconds"] >= 0, (p, name)
    # The same quantized model gives the same perplexity and the same task accuracy compiled and
    # on the reference executor.
    by_method = {}
    for r in recs:
        for name, e in r["evals"].items():
            for k in ("ppl", "acc"):
                if k in e["result"]:
                    by_method.setdefault((r["labels"]["method"], name, k), []).append(e["result"][k])
    assert by_method, "no ppl or acc results"
    for key, v in by_method.items():
        assert len(v) > 1 and max(v) - min(v) <= 1e-3 * min(v), (key, v)
    plots = sorted(glob.glob(os.path.join(out, "pareto-*")))
    assert plots, "no plots"
    for f in plots:
        data = open(f, "rb").read()
        if f.endswith(".png"):
            assert data[:8] == b"\x89PNG\r\n\x1a\n" and data[12:16] == b"IHDR", f
            w, h = struct.unpack(">II", data[16:24])
            assert w >= 400 and h >= 300, (f, w, h)
            assert data[-8:-4] == b"IEND", f
        elif f.endswith(".svg"):
            root = ET.fromstring(data)
            assert root.tag.endswith("svg"), (f, root.tag)
        else:
            raise AssertionError(f"unexpected file {f}")
    print(f"files ok: {n} points, {len(plots)} plots: " +
          " ".join(os.path.basename(f) for f in plots))


def mtimes(out):
    paths = glob.glob(os.path.join(out, "points", "*")) + \
        glob.glob(os.path.join(out, "work", "**", "*"), recursive=True)
    for p in sorted(paths):
        if os.path.isfile(p):
            print(os.stat(p).st_mtime_ns, os.path.relpath(p, out))


def interrupt(tool, sweep_file, out, slow):
    log = open(os.path.join(out + ".log"), "w+")
    p = subprocess.Popen([tool, sweep_file, "--out", out], stdout=log, stderr=subprocess.STDOUT)
    deadline = time.time() + 60
    while time.time() < deadline:
        log.seek(0)
        text = log.read()
        if "run " in text and slow in text.split("run ", 1)[1]:
            break
        if p.poll() is not None:
            raise AssertionError("qcc-sweep ended before the slow point started:\n" + text)
        time.sleep(0.1)
    time.sleep(1.0)
    p.send_signal(signal.SIGTERM)
    rc = p.wait(30)
    log.seek(0)
    text = log.read()
    assert rc == 130, (rc, text)
    assert "interrupted" in text, text
    left = os.listdir(os.path.join(out, "points"))
    assert not [f for f in left if slow in f], left
    assert not [f for f in left if f.endswith(".tmp")], left
    # The killed command is gone too (its process group got SIGTERM).
    ps = subprocess.run(["ps", "-eo", "args"], capture_output=True, text=True).stdout
    work = os.path.join(out, "work")
    assert work not in ps, [l for l in ps.splitlines() if work in l]
    print(f"interrupt ok: exit {rc}, {len(left)} point files: " + " ".join(sorted(left)))


if __name__ == "__main__":
    cmd = sys.argv[1]
    if cmd == "files":
        files(sys.argv[2], int(sys.argv[3]))
    elif cmd == "mtimes":
        mtimes(sys.argv[2])
    elif cmd == "interrupt":
        interrupt(*sys.argv[2:6])
    else:
        sys.exit(f"unknown command {cmd}")
