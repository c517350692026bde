#!/usr/bin/env python3
"""ppl_match.py OURS.json REF.json TOL: the two `ppl --json` results score the same tokens and
their perplexities agree within a relative TOL (0.001 = 0.1 %)."""
import json
import sys

ours, ref = (json.load(open(p)) for p in sys.argv[1:3])
for key in ("protocol", "ctx", "chunks", "tokens_scored"):
    if ours[key] != ref[key]:
        sys.exit(f"{key} differs: {ours[key]} vs {ref[key]}")
rel = abs(ours["ppl"] - ref["ppl"]) / ref["ppl"]
print(f"ppl {ours['ppl']:.6f} vs {ref['ppl']:.6f}: rel diff {rel:.2e}")
sys.exit(0 if rel <= float(sys.argv[3]) else 1)
