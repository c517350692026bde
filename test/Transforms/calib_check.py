#!/usr/bin/env python3
"""calib_check.py STATS.gguf TOKENS [xtx] [samples=N]: qllm-calibrate's file is llama.cpp's imatrix
GGUF layout (general.type, imatrix.* keys, <weight>.in_sum2 / <weight>.counts per weight) plus
qcc's per-record statistics, with sane values: counts == TOKENS, Σx² ≥ 0 and ≤ TOKENS·max|x|²,
Σ|x| ≤ TOKENS·max|x|, XᵀX symmetric with diagonal Σx² (when present)."""
import os
import struct
import sys

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "Quantize"))
from gguf_compare import read  # noqa: E402

path, tokens = sys.argv[1], int(sys.argv[2])
opts = sys.argv[3:]
kv, tensors = read(path)
assert kv["general.type"] == "imatrix", kv.get("general.type")
for k in ("imatrix.chunk_count", "imatrix.chunk_size", "imatrix.datasets",
          "qcc.calibration.weights", "qcc.calibration.records"):
    assert k in kv, k
weights = kv["qcc.calibration.weights"]
records = kv["qcc.calibration.records"]
assert len(weights) == len(records) == 43, (len(weights), len(records))  # student4M linears
f32 = lambda name: struct.unpack("<%df" % (len(tensors[name][2]) // 4), tensors[name][2])
first = {}
for w, r in zip(weights, records):
    first.setdefault(r, w)
    (count,) = f32(w + ".counts")
    assert count == tokens, (w, count)
    assert tensors[w + ".in_sum2"][0] == 0  # f32
for r, w in first.items():
    sum2, sabs, amax = f32(w + ".in_sum2"), f32(w + ".in_sum_abs"), f32(w + ".in_abs_max")
    cols = len(sum2)
    for j in range(cols):
        assert 0 <= sum2[j] <= tokens * amax[j] ** 2 * (1 + 1e-5), (w, j)
        assert 0 <= sabs[j] <= tokens * amax[j] * (1 + 1e-5), (w, j)
    if "xtx" in opts:
        h = f32(w + ".xtx")
        assert len(h) == cols * cols
        for j in range(0, cols, 17):
            assert abs(h[j * cols + j] - sum2[j]) <= 1e-4 * max(1.0, sum2[j]), (w, j)
            k = (j * 7 + 3) % cols
            assert h[j * cols + k] == h[k * cols + j], (w, j, k)
    else:
        assert w + ".xtx" not in tensors
    rows = [o for o in opts if o.startswith("samples=")]
    if rows:
        assert tensors[w + ".samples"][1] == [cols, int(rows[0][8:])], tensors[w + ".samples"][1]
# q/k/v read one input: one record, statistics stored once.
q, k = weights.index("blk.0.attn_q.weight"), weights.index("blk.0.attn_k.weight")
assert records[q] == records[k]
assert "blk.0.attn_k.weight.in_sum_abs" not in tensors or first[records[k]] == "blk.0.attn_k.weight"
print("ok: %d weights, %d records" % (len(weights), len(first)))
