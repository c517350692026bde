#!/usr/bin/env python3
"""compare_f32.py OURS REF TOL: max|ours - ref| / max|ref| <= TOL for two float32 files."""
import array
import sys

ours, ref = array.array("f"), array.array("f")
with open(sys.argv[1], "rb") as f:
    ours.frombytes(f.read())
with open(sys.argv[2], "rb") as f:
    ref.frombytes(f.read())
if len(ours) != len(ref):
    sys.exit(f"size mismatch: {len(ours)} vs {len(ref)} floats")
scale = max(abs(x) for x in ref)
err = max(abs(a - b) for a, b in zip(ours, ref))
print(f"rel max error {err / scale:.3e} (max abs error {err:.3e}, logit scale {scale:.3f})")
sys.exit(0 if err / scale <= float(sys.argv[3]) else 1)
