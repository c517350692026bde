#!/usr/bin/env python3
"""gguf_compare.py OURS.gguf THEIRS.gguf: every tensor of THEIRS exists in OURS with the same type,
dims and data bytes. Prints one line per differing tensor and a summary; exit 1 on any difference.
A small stdlib GGUF v2/v3 reader (little-endian), independent of qcc's C++ reader."""
import struct
import sys

SCALAR = {0: "B", 1: "b", 2: "H", 3: "h", 4: "I", 5: "i", 6: "f", 7: "?", 10: "Q", 11: "q", 12: "d"}
# ggml type -> (block size, bytes per block)
BLOCK = {0: (1, 4), 1: (1, 2), 2: (32, 18), 3: (32, 20), 6: (32, 22), 7: (32, 24), 8: (32, 34),
         10: (256, 84), 11: (256, 110), 12: (256, 144), 13: (256, 176), 14: (256, 210),
         15: (256, 292), 20: (32, 18), 24: (1, 1), 30: (1, 2)}


def read(path):
    data = open(path, "rb").read()
    pos = 0

    def take(fmt):
        nonlocal pos
        v = struct.unpack_from("<" + fmt, data, pos)
        pos += struct.calcsize("<" + fmt)
        return v[0]

    def string():
        nonlocal pos
        n = take("Q")
        s = data[pos:pos + n]
        pos += n
        return s.decode("utf-8", "replace")

    def value(t):
        if t == 8:
            return string()
        if t == 9:
            et, n = take("I"), take("Q")
            return [value(et) for _ in range(n)]
        return take(SCALAR[t])

    assert data[:4] == b"GGUF", path
    version, n_tensors, n_kv = struct.unpack_from("<IQQ", data, 4)
    pos = 24
    kv = {}
    for _ in range(n_kv):
        k = string()
        kv[k] = value(take("I"))
    infos = []
    for _ in range(n_tensors):
        name = string()
        nd = take("I")
        ne = [take("Q") for _ in range(nd)]
        t = take("I")
        off = take("Q")
        infos.append((name, ne, t, off))
    align = kv.get("general.alignment", 32)
    start = (pos + align - 1) // align * align
    tensors = {}
    for name, ne, t, off in infos:
        n = 1
        for d in ne:
            n *= d
        bs, bb = BLOCK[t]
        size = n // bs * bb
        tensors[name] = (t, ne, data[start + off:start + off + size])
    return kv, tensors


def main():
    ours_kv, ours = read(sys.argv[1])
    theirs_kv, theirs = read(sys.argv[2])
    bad = 0
    for name, (t, ne, blob) in theirs.items():
        if name not in ours:
            print(f"{name}: missing")
            bad += 1
            continue
        ot, one, oblob = ours[name]
        if (ot, one) != (t, ne):
            print(f"{name}: type/dims {ot} {one} vs {t} {ne}")
            bad += 1
        elif oblob != blob:
            diff = next(i for i in range(len(blob)) if blob[i] != oblob[i])
            print(f"{name}: data differs from byte {diff} of {len(blob)}")
            bad += 1
    for key in ("llama.block_count", "llama.embedding_length", "tokenizer.ggml.model"):
        if ours_kv.get(key) != theirs_kv.get(key):
            print(f"metadata {key}: {ours_kv.get(key)} vs {theirs_kv.get(key)}")
            bad += 1
    print(f"{len(theirs) - bad} of {len(theirs)} tensors identical")
    sys.exit(1 if bad else 0)


if __name__ == "__main__":
    main()
