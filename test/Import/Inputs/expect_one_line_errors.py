#!/usr/bin/env python3
"""Runs TOOL on every entry of INDIR (writing OUTDIR/m.mlir) and checks that each run exits with
code 1, prints exactly one line on stderr and nothing on stdout, and leaves OUTDIR empty."""
import os
import subprocess
import sys

tool, indir, outdir = sys.argv[1:4]
bad = []
for name in sorted(os.listdir(indir)):
    p = subprocess.run([tool, os.path.join(indir, name), "-o", os.path.join(outdir, "m.mlir")],
                       capture_output=True, text=True)
    lines = p.stderr.splitlines()
    if p.returncode != 1 or len(lines) != 1 or p.stdout or os.listdir(outdir):
        bad.append(f"{name}: exit {p.returncode}, {len(lines)} stderr lines, out={os.listdir(outdir)}")
print("\n".join(bad) if bad else f"{len(os.listdir(indir))} files rejected cleanly")
sys.exit(1 if bad else 0)
