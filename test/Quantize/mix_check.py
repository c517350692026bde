#!/usr/bin/env python3
"""mix_check.py REPORT.json LISTING.txt: every tensor in llama-quantize's listing has the same type
in qcc-quantize's report, and the total bytes agree."""
import json
import sys

report = json.load(open(sys.argv[1]))
ours = {t["name"]: t for t in report["tensors"]}
bad, total = 0, 0
for line in open(sys.argv[2]):
    name, typ, dims, size = line.split()
    total += int(size)
    t = ours.get(name)
    if t is None or t["type"].lower() != typ.lower() or t["bytes"] != int(size):
        print(f"{name}: llama-quantize {typ} {size} B, qcc {t and t['type']} {t and t['bytes']} B")
        bad += 1
if report["bytes"] != total:
    print(f"total bytes: qcc {report['bytes']}, llama-quantize {total}")
    bad += 1
print(f"{'OK' if not bad else 'MISMATCH'}: {report['mix']} {report['bits_per_weight']:.4f} bits/weight")
sys.exit(1 if bad else 0)
