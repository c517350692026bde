#!/usr/bin/env python3
"""heldout_ppl.py LOGITS.f32 TOKENS.i32 ROWS SEQ VOCAB: perplexity of next-token prediction over
the first ROWS rows of SEQ tokens (logits as `qcc-run logits --tokens ... --out` writes them:
[rows, SEQ, VOCAB] float32). Prints the PPL; pure Python (no numpy on CI)."""
import array
import math
import sys

logits_path, tokens_path = sys.argv[1], sys.argv[2]
rows, seq, vocab = (int(a) for a in sys.argv[3:6])
tokens = array.array("i")
with open(tokens_path, "rb") as f:
    tokens.frombytes(f.read(rows * seq * 4))
nll = 0.0
count = 0
with open(logits_path, "rb") as f:
    for r in range(rows):
        block = array.array("f")
        block.frombytes(f.read(seq * vocab * 4))
        assert len(block) == seq * vocab, "logits file too short"
        for t in range(seq - 1):
            row = block[t * vocab:(t + 1) * vocab]
            m = max(row)
            lse = m + math.log(math.fsum(math.exp(v - m) for v in row))
            nll += lse - row[tokens[r * seq + t + 1]]
            count += 1
print("%.6f" % math.exp(nll / count))
