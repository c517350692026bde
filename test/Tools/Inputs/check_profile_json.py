"""Reads a `bench --profile --json` report (stdin), checks that the profile's figures agree with
each other (the identities docs/Driver.md states) and prints each part's rows in a fixed order
(op, weights, format, tensors, calls per sample) for FileCheck. With --roofline in the report,
also checks that the decode step's matmul rows read exactly the roofline's streamed bytes."""
import json
import math
import sys

b = json.load(sys.stdin)
p = b["profile"]
close = lambda x, y: math.isclose(x, y, rel_tol=1e-9, abs_tol=1e-12)
samples = {"decode": b["gen_tokens"] * b["repeat"], "prefill": b["repeat"]}
for part in ("decode", "prefill"):
    d = p[part]
    assert d["samples"] == samples[part], (part, d["samples"])
    rows = d["rows"]
    assert close(sum(r["ms"] for r in rows), d["kernel_ms"]), d
    assert d["kernel_ms"] <= d["ms"] * (1 + 1e-9), d
    assert all(rows[i]["ms"] >= rows[i + 1]["ms"] for i in range(len(rows) - 1)), "not sorted"
    for r in rows:
        assert close(r["fraction"], r["ms"] / d["ms"]), r
        if r["op"] == "matmul":
            assert r["bytes"] > 0 and close(r["gb_s"], r["bytes"] / (r["ms"] * 1e6)), r
        else:
            assert "weights" not in r and "bytes" not in r, r
    if part == "decode":
        mm = sum(r["bytes"] for r in rows if r["op"] == "matmul")
        print("decode matmul bytes per step: %d" % round(mm))
        if "roofline" in b:
            assert round(mm) == b["roofline"]["streamed_bytes"], (mm, b["roofline"])
            print("decode matmul bytes = roofline streamed bytes")
    for r in sorted(rows, key=lambda r: (r["op"], r.get("weights", ""), r.get("format", ""))):
        print("%s %s %s %s %g" % (part, r["op"], r.get("weights", "-"), r.get("format", "-"),
                                  r.get("tensors", 0)), "calls %g" % r["calls"])
print("profile figures consistent")
