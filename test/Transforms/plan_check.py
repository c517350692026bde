#!/usr/bin/env python3
"""plan_check.py CHOICE.json PLAN.mlir OUT.gguf BUDGET: the formats qllm-choose-bits reported are
the quantize_to attributes of the plan and the tensor types qllm-quantize wrote, and the written
file's bits per weight (8 × bytes / elements, all tensors) is within the budget."""
import json
import os
import re
import sys

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "Quantize"))
from gguf_compare import read, BLOCK  # noqa: E402

TYPES = {0: "f32", 1: "f16", 2: "q4_0", 3: "q4_1", 6: "q5_0", 7: "q5_1", 8: "q8_0", 10: "q2_K",
         11: "q3_K", 12: "q4_K", 13: "q5_K", 14: "q6_K", 20: "iq4_nl", 30: "bf16"}
choice = json.load(open(sys.argv[1]))
plan = open(sys.argv[2]).read()
_, tensors = read(sys.argv[3])
budget = float(sys.argv[4])
planned = dict(re.findall(r'qllm.weight "([^"]+)" \{quantize_to = #qllm.ggml<(\w+)>\}', plan))
bits = elements = 0
for t in choice["tensors"]:
    if t["type"] != t["from"]:
        assert planned.get(t["source"]) == t["type"], (t["source"], planned.get(t["source"]))
    else:
        assert t["source"] not in planned, t["source"]
    ty, ne, data = tensors[t["name"]]
    assert TYPES[ty] == t["type"], (t["name"], TYPES[ty], t["type"])
    n = 1
    for d in ne:
        n *= d
    bits += 8 * len(data)
    elements += n
bpw = bits / elements
assert bpw <= budget + 1e-9, (bpw, budget)
assert abs(bpw - choice["bits_per_weight"]) < 1e-9, (bpw, choice["bits_per_weight"])
print("ok: %d tensors, %.4f bits/weight <= %.4f" % (len(choice["tensors"]), bpw, budget))
