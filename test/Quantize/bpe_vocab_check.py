#!/usr/bin/env python3
"""bpe_vocab_check.py FILE.gguf: the LLaMA-3 vocabulary in FILE.gguf is written as llama.cpp's
convert_hf_to_gguf writes it (model gpt2, pre llama-bpe, 128256 tokens spelled in GPT-2's
byte-to-unicode alphabet, the 280147 merges of Meta-Llama-3's tokenizer.json in its order, special
tokens as their text with type 3). Read with gguf_compare's stdlib reader, independent of qcc."""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import gguf_compare  # noqa: E402


def main():
    kv, _ = gguf_compare.read(sys.argv[1])
    errors = []

    def expect(what, got, want):
        if got != want:
            errors.append("%s: %r, expected %r" % (what, got, want))

    expect("tokenizer.ggml.model", kv.get("tokenizer.ggml.model"), "gpt2")
    expect("tokenizer.ggml.pre", kv.get("tokenizer.ggml.pre"), "llama-bpe")
    tokens = kv.get("tokenizer.ggml.tokens", [])
    types = kv.get("tokenizer.ggml.token_type", [])
    merges = kv.get("tokenizer.ggml.merges", [])
    expect("tokens", len(tokens), 128256)
    expect("token types", len(types), 128256)
    expect("merges", len(merges), 280147)
    if len(tokens) == 128256 and len(types) == 128256:
        # Byte 0x20 is U+0120 'Ġ' in GPT-2's alphabet; "Hello" is rank 9906.
        expect("token 220", tokens[220], "\u0120")
        expect("token 9906", tokens[9906], "Hello")
        expect("token 128000", tokens[128000], "<|begin_of_text|>")
        expect("token 128009", tokens[128009], "<|eot_id|>")
        expect("types of the ranked tokens", set(types[:128000]), {1})
        expect("types of the special tokens", set(types[128000:]), {3})
    expect("first merges", merges[:6], ["\u0120 \u0120", "\u0120 \u0120\u0120\u0120",
                                          "\u0120\u0120 \u0120\u0120", "\u0120\u0120\u0120 \u0120",
                                          "i n", "\u0120 t"])
    for key, want in (("bos_token_id", 128000), ("eos_token_id", 128001),
                      ("eot_token_id", 128009), ("add_bos_token", True)):
        expect("tokenizer.ggml." + key, kv.get("tokenizer.ggml." + key), want)
    if errors:
        sys.exit("bpe_vocab_check: " + "\n".join(errors))
    print("llama-3 vocabulary ok: %d tokens, %d merges" % (len(tokens), len(merges)))


if __name__ == "__main__":
    main()
