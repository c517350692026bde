#!/usr/bin/env python3
"""splice_calibration.py FROM.mlir INTO.mlir OUT.mlir: copies FROM's qllm.calibration attribute
into INTO's module attributes (to test statistics measured on other weights)."""
import re
import sys

attr = re.search(r"qllm\.calibration = #qllm\.calibration<[^>]*>", open(sys.argv[1]).read()).group(0)
into = open(sys.argv[2]).read()
out = re.sub(r"(module @\w+ attributes \{)", lambda m: m.group(1) + attr + ", ", into, count=1)
assert out != into
open(sys.argv[3], "w").write(out)
