#!/usr/bin/env python3
"""head_check.py BASE.json HEAD.json BASE_TYPE HEAD_TYPE: two qcc-quantize reports of the same
model, the second with --output-type: output.weight is BASE_TYPE in the first and HEAD_TYPE in
the second, every other tensor has the same type and bytes in both."""
import json
import sys

base, head = ({t["name"]: t for t in json.load(open(p))["tensors"]} for p in sys.argv[1:3])
want_base, want_head = sys.argv[3:5]
if set(base) != set(head):
    sys.exit(f"tensors differ: {sorted(set(base) ^ set(head))}")
if base["output.weight"]["type"] != want_base or head["output.weight"]["type"] != want_head:
    sys.exit(f"output.weight: {base['output.weight']['type']} -> {head['output.weight']['type']}, "
             f"expected {want_base} -> {want_head}")
for name, t in base.items():
    if name != "output.weight" and (t["type"], t["bytes"]) != (head[name]["type"], head[name]["bytes"]):
        sys.exit(f"{name}: {t['type']} ({t['bytes']} bytes) became {head[name]['type']} "
                 f"({head[name]['bytes']} bytes)")
print(f"output.weight {want_base} -> {want_head}; {len(base) - 1} other tensors unchanged")
