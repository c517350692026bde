"""Reads a `bench --roofline --json` report (stdin) and checks that its roofline figures agree
with each other and with the decode figures (the identities docs/Driver.md states)."""
import json
import math
import sys

b = json.load(sys.stdin)
r = b["roofline"]
n = r["read_gb_s"]["samples"]
assert n == b["gen_tokens"] * b["repeat"] == r["step_fraction"]["samples"], (n, b)
close = lambda x, y: math.isclose(x, y, rel_tol=1e-9)
assert close(r["decode_gb_s"], r["streamed_bytes"] * b["decode_tok_s"] / 1e9), r
assert close(r["fraction"], b["decode_tok_s"] / r["roofline_tok_s"]), r
# fraction = sum(read) / sum(step): between the smallest and largest per-step fraction.
assert r["step_fraction"]["min"] * (1 - 1e-9) <= r["fraction"] <= r["step_fraction"]["max"] * (1 + 1e-9), r
assert 0 < r["read_gb_s"]["min"] <= r["read_gb_s"]["p50"] <= r["read_gb_s"]["max"], r
print(f"{n} read passes, figures consistent")
