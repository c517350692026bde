#!/usr/bin/env python3
"""Writes a corpus of broken model files into OUTDIR, derived from real ones in DATA.

Each case is named after what is wrong with it; test/Import/broken-files.test runs qcc-import
on every one and checks the one-line diagnostic and that no output file is left behind.
"""
import json
import os
import shutil
import struct
import sys

data, out = sys.argv[1], sys.argv[2]
os.makedirs(out, exist_ok=True)


def read(rel):
    with open(os.path.join(data, rel), "rb") as f:
        return f.read()


def write(name, blob):
    with open(os.path.join(out, name), "wb") as f:
        f.write(blob)


# llama2.c -----------------------------------------------------------------
l2c = read("models/llama2c/stories260K/stories260K.bin")
write("l2c-truncated.bin", l2c[: len(l2c) // 2])
write("l2c-header-only.bin", l2c[:28])
write("l2c-short-header.bin", l2c[:10])
write("l2c-trailing.bin", l2c + b"\0" * 100)
hdr = list(struct.unpack("<7i", l2c[:28]))
bad = hdr.copy(); bad[3] = 7  # 64 dims over 7 heads
write("l2c-bad-heads.bin", struct.pack("<7i", *bad) + l2c[28:])
bad = hdr.copy(); bad[4] = 3  # 8 heads over 3 kv heads
write("l2c-bad-gqa.bin", struct.pack("<7i", *bad) + l2c[28:])
bad = hdr.copy(); bad[0] = 0
write("l2c-zero-dim.bin", struct.pack("<7i", *bad) + l2c[28:])
bad = hdr.copy(); bad[1] = 2**30
write("l2c-huge-ffn.bin", struct.pack("<7i", *bad) + l2c[28:])
write("l2c-empty.bin", b"")
write("l2c-bad-version.bin", struct.pack("<Ii", 0x616B3432, 7) + b"\0" * 248)

# GGUF ---------------------------------------------------------------------
gg = read("models/gguf/stories260K-f32.gguf")
write("gguf-bad-magic.gguf", b"GGUX" + gg[4:])
write("gguf-version-9.gguf", gg[:4] + struct.pack("<I", 9) + gg[8:])
write("gguf-truncated-header.gguf", gg[:200])
write("gguf-truncated-data.gguf", gg[: len(gg) - 1000])
write("gguf-huge-tensor-count.gguf", gg[:8] + struct.pack("<Q", 2**60) + gg[16:])
write("gguf-huge-kv-count.gguf", gg[:16] + struct.pack("<Q", 2**60) + gg[24:])
# First key length (u64 after the 24-byte preamble) made enormous.
write("gguf-huge-string.gguf", gg[:24] + struct.pack("<Q", 2**62) + gg[32:])
# Architecture other than llama: rewrite the value of general.architecture in place.
i = gg.find(b"general.architecture")
if i >= 0:
    j = i + len(b"general.architecture") + 4  # value type
    n = struct.unpack("<Q", gg[j:j + 8])[0]
    name = gg[j + 8:j + 8 + n]
    write("gguf-arch-gpt9.gguf", gg[:j + 8] + b"gpt9"[:n].ljust(n, b"9") + gg[j + 8 + n:])
# Vocab-only GGUF (no tensors).
shutil.copy(os.path.join(data, "models/gguf-vocab/ggml-vocab-llama-spm.gguf"),
            os.path.join(out, "gguf-vocab-only.gguf"))

# safetensors ----------------------------------------------------------------
st_dir = os.path.join(data, "models/student4M/student4M-hf")
st = read("models/student4M/student4M-hf/model.safetensors")
cfg = read("models/student4M/student4M-hf/config.json")
(hlen,) = struct.unpack("<Q", st[:8])
header = json.loads(st[8:8 + hlen])


def st_case(name, blob, config=cfg):
    d = os.path.join(out, name)
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, "model.safetensors"), "wb") as f:
        f.write(blob)
    if config is not None:
        with open(os.path.join(d, "config.json"), "wb") as f:
            f.write(config)


def with_header(h):
    body = json.dumps(h).encode()
    body += b" " * ((8 - len(body) % 8) % 8)
    return struct.pack("<Q", len(body)) + body + st[8 + hlen:]


st_case("st-truncated", st[: len(st) // 2])
st_case("st-huge-header", struct.pack("<Q", 2**40) + st[8:])
st_case("st-bad-json", struct.pack("<Q", hlen) + b"{" * hlen + st[8 + hlen:])
h = json.loads(json.dumps(header)); k = next(k for k in h if k != "__metadata__")
h[k]["dtype"] = "I64"
st_case("st-bad-dtype", with_header(h))
h = json.loads(json.dumps(header)); h[k]["data_offsets"][1] += 4
st_case("st-bad-offsets", with_header(h))
h = json.loads(json.dumps(header)); del h["model.layers.0.mlp.up_proj.weight"]
st_case("st-missing-tensor", with_header(h))
st_case("st-no-config", st, config=None)
c = json.loads(cfg); c["num_key_value_heads"] = 3
st_case("st-bad-config", st, config=json.dumps(c).encode())
c = json.loads(cfg); c["hidden_size"] = 128
st_case("st-shape-mismatch", st, config=json.dumps(c).encode())
