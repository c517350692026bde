"""The in-process API on stories260K: import, pass pipelines, quantization and the reference
executor, each checked against the tool that does the same thing (qcc-import, qcc-quantize,
qcc-run) on the same files; errors raise qcc.Error."""

import filecmp
import json
import math
import os
import subprocess
import threading
import time
import unittest

import numpy as np

import qcc
from qcc_test_util import (STORIES, STORIES_TOK, TEXT, data_path, import_stories, run_tool_json,
                           scratch_dir)

_tmp = None
F32 = None  # stories260K imported in process (module path)


def setUpModule():
    global _tmp, F32
    _tmp = scratch_dir("api-")
    F32 = import_stories(os.path.join(_tmp.name, "f32.mlir"))


def tearDownModule():
    _tmp.cleanup()


def tmp(name):
    return os.path.join(_tmp.name, name)


# Keys whose values are timings (differ run to run).
TIMINGS = {"seconds", "tokenize_seconds", "prefill_seconds", "decode_seconds"}


class ImportTest(unittest.TestCase):
    def test_same_module_as_qcc_import(self):
        ref = tmp("tool.mlir")
        subprocess.run([qcc.tool_path("qcc-import"), data_path(*STORIES), "--tokenizer",
                        data_path(*STORIES_TOK), "-o", ref], check=True)
        self.assertTrue(filecmp.cmp(F32, ref, shallow=False))

    def test_synthetic(self):
        self.assertIn("stories110m", qcc.synthetic_presets())
        out = qcc.import_model(None, tmp("syn.mlir"), synthetic="stories110m", synthetic_type="f16")
        self.assertTrue(os.path.isfile(tmp("syn.weights.gguf")))
        s = qcc.Module.load(out).summary()
        self.assertEqual(s["n_layers"], 12)
        self.assertEqual(list(s["formats"]), ["f16", "f32"])

    def test_errors(self):
        with self.assertRaisesRegex(qcc.Error, "missing.bin"):
            qcc.import_model(tmp("missing.bin"), tmp("x.mlir"))
        with self.assertRaisesRegex(qcc.Error, "exactly one"):
            qcc.import_model(None, tmp("x.mlir"))
        with self.assertRaisesRegex(qcc.Error, "unknown synthetic type 'f7'"):
            qcc.import_model(None, tmp("x.mlir"), synthetic="stories110m", synthetic_type="f7")
        self.assertFalse(os.path.exists(tmp("x.mlir")))


class ModuleTest(unittest.TestCase):
    def test_load_print_save(self):
        m = qcc.Module.load(F32)
        text = str(m)
        self.assertIn("func.func @forward", text)
        m.save(tmp("saved.mlir"))
        self.assertEqual(str(qcc.Module.load(tmp("saved.mlir"))), text)
        self.assertEqual(str(qcc.Module.parse(text)), text)
        self.assertEqual(str(m.clone()), text)

    def test_summary_matches_qcc_run(self):
        ref = run_tool_json("qcc-run", F32, "summary")
        self.assertEqual(qcc.Module.load(F32).summary(), ref)

    def test_pipeline_remarks(self):
        remarks = qcc.Module.load(F32).run_passes("qllm-summary")
        self.assertEqual(len(remarks), 1)
        self.assertIn("model stories260K: 47 tensors", remarks[0])

    def test_quantize_pipeline_then_perplexity_matches_qcc_run(self):
        m = qcc.Module.load(F32)
        # stories260K's rows (172) are no multiple of llama.cpp's blocks: int4 per channel.
        m.run_passes("builtin.module(qllm-quantize{method=rtn bits=4 group=0 weights-out=%s})"
                     % tmp("q4.gguf"))
        self.assertLess(m.summary()["bits_per_weight"], 16)
        m.save(tmp("q4.mlir"))
        text = data_path(*TEXT)
        model = qcc.ReferenceModel(tmp("q4.mlir"))
        got = model.perplexity(text, ctx=128, protocol="llama.cpp", threads=2)
        ref = run_tool_json("qcc-run", tmp("q4.mlir"), "ppl", "--text", text, "--ctx", 128,
                            "--protocol", "llama.cpp", "--threads", 2)
        self.assertEqual(set(got), set(ref))
        for k in set(ref) - TIMINGS:
            self.assertEqual(got[k], ref[k], k)
        self.assertTrue(1 < got["ppl"] < 100, got["ppl"])
        # The quantized model is a different model: not the f32 perplexity.
        f32 = qcc.ReferenceModel(F32).ppl(text, ctx=128, threads=2)
        self.assertNotEqual(f32["nll"], got["nll"])

    def test_errors(self):
        with self.assertRaisesRegex(qcc.Error, r"^.*nope\.mlir: No such file or directory$"):
            qcc.Module.load(tmp("nope.mlir"))
        with self.assertRaisesRegex(qcc.Error, r"^<string>:1:1: "):
            qcc.Module.parse("this is not mlir")
        m = qcc.Module.load(F32)
        before = str(m)
        with self.assertRaisesRegex(qcc.Error, "'no-such-pass' does not refer to a registered pass"):
            m.run_passes("no-such-pass")
        with self.assertRaisesRegex(qcc.Error, "bad pass pipeline"):
            m.run_passes("qllm-quantize{mix=q8_0")
        # A pass that fails: the module is left as it was.
        with self.assertRaisesRegex(qcc.Error, "unknown mix 'q9_9'"):
            m.run_passes("qllm-quantize{mix=q9_9 weights-out=%s}" % tmp("bad.gguf"))
        self.assertEqual(str(m), before)
        self.assertFalse(os.path.exists(tmp("bad.gguf")))
        self.assertTrue(issubclass(qcc.Error, RuntimeError))


class QuantizeTest(unittest.TestCase):
    def test_same_weights_as_qcc_quantize(self):
        report = qcc.quantize(F32, tmp("rtn.mlir"), method="rtn", bits=8, group=0,
                              report=tmp("rtn.json"))
        self.assertTrue(os.path.isfile(tmp("rtn.gguf")))
        self.assertEqual(report, qcc.load_results(tmp("rtn.json")))
        self.assertEqual(report["method"], "rtn")
        subprocess.run([qcc.tool_path("qcc-quantize"), F32, "--method", "rtn", "--bits", "8",
                        "--group", "0", "-o", tmp("rtn-tool.mlir")], check=True,
                       stderr=subprocess.DEVNULL)
        self.assertTrue(filecmp.cmp(tmp("rtn.gguf"), tmp("rtn-tool.gguf"), shallow=False))
        formats = qcc.Module.load(tmp("rtn.mlir")).summary()["formats"]
        self.assertIn("int8", json.dumps(formats))

    def test_output_type(self):
        # The LM head's format (qcc-quantize --output-type) reaches the quantizer: stories260K's
        # embeddings are tied, so it has no output.weight to set (test/Quantize sets one).
        with self.assertRaisesRegex(qcc.Error, "no output.weight .*tied"):
            qcc.quantize(F32, tmp("head.mlir"), method="rtn", bits=4, group=0,
                         output_type="q8_0")
        self.assertFalse(os.path.exists(tmp("head.mlir")))
        self.assertFalse(os.path.exists(tmp("head.gguf")))

    def test_errors(self):
        # qcc-quantize's checks and messages (lib/Quantize/QuantizeJob.cpp), options spelled as
        # keyword arguments.
        with self.assertRaisesRegex(qcc.Error, "exactly one of mix NAME, method M bits B, budget"):
            qcc.quantize(F32, tmp("e.mlir"))
        with self.assertRaisesRegex(qcc.Error, "unknown mix 'q9'"):
            qcc.quantize(F32, tmp("e.mlir"), mix="q9")
        with self.assertRaisesRegex(qcc.Error, "method gptq needs calib FILE"):
            qcc.quantize(F32, tmp("e.mlir"), method="gptq")
        with self.assertRaisesRegex(qcc.Error, "group must be 0 .* power of two >= 16, got 100"):
            qcc.quantize(F32, tmp("e.mlir"), method="rtn", bits=4, group=100)
        with self.assertRaisesRegex(qcc.Error, "fold_only applies to method awq and smoothquant"):
            qcc.quantize(F32, tmp("e.mlir"), method="rtn", bits=4, fold_only=True)
        with self.assertRaisesRegex(qcc.Error, "unknown output_type 'q9'"):
            qcc.quantize(F32, tmp("e.mlir"), mix="q8_0", output_type="q9")
        with self.assertRaisesRegex(qcc.Error, "refusing to overwrite the input"):
            qcc.quantize(F32, F32, mix="q8_0")
        self.assertFalse(os.path.exists(tmp("e.mlir")))


class ReferenceModelTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.model = qcc.ReferenceModel(F32)

    def test_properties(self):
        m = self.model
        self.assertEqual((m.name, m.vocab_size, m.max_seq_len), ("stories260K", 512, 512))
        self.assertTrue(m.has_tokenizer)
        ids = m.encode("Once upon a time")
        self.assertEqual(ids[0], 1)
        self.assertEqual(m.decode(ids[1:]).strip(), "Once upon a time")

    def test_logits_match_qcc_run(self):
        rows = np.array([[1, 403, 407, 261, 378, 13], [1, 20, 30, 40, 50, 60]], dtype=np.int32)
        got = self.model.logits(rows, threads=2)
        self.assertEqual(got.shape, (2, 6, 512))
        self.assertEqual(got.dtype, np.float32)
        rows.tofile(tmp("t.i32"))
        run_tool_json("qcc-run", F32, "logits", "--tokens", tmp("t.i32"), "--batch", 2, "--out",
                      tmp("t.f32"), "--threads", 2)
        ref = np.fromfile(tmp("t.f32"), dtype=np.float32).reshape(2, 6, 512)
        np.testing.assert_array_equal(got, ref)
        # One row as a plain list: [T, vocab], the same numbers.
        np.testing.assert_array_equal(self.model.logits(rows[1].tolist(), threads=2), ref[1])

    def test_generate_matches_qcc_run(self):
        got = self.model.generate("Once upon a time", n=12)
        ref = run_tool_json("qcc-run", F32, "generate", "--prompt", "Once upon a time", "-n", 12)
        for k in set(ref) - TIMINGS:
            self.assertEqual(got[k], ref[k], k)
        self.assertEqual(len(got["tokens"]), 12)

    def test_bench(self):
        r = self.model.bench(prompt=16, gen=4, batch=2, repeat=1, warmup=0, threads=1)
        self.assertEqual((r["prompt_tokens"], r["gen_tokens"], r["threads"]), (16, 4, 1))
        self.assertEqual(r["decode_latency_ms"]["samples"], 4)
        self.assertEqual([b["batch"] for b in r["batched"]], [2])
        self.assertGreater(r["decode_tok_s"], 0)

    def test_gil_released(self):
        # The main thread keeps running Python while perplexity runs in C++ on another: it
        # spins about as much as during a 0.1 s sleep of that thread, or more (holding the GIL,
        # the call would let it spin one switch interval, 5 ms).
        def spin(target):
            t = threading.Thread(target=target)
            ticks = 0
            t.start()
            while t.is_alive():
                ticks += 1
            t.join()
            return ticks

        per_100ms = spin(lambda: time.sleep(0.1))
        done = []
        ticks = spin(lambda: done.append(
            self.model.perplexity(data_path(*TEXT), ctx=128, protocol="gptq", threads=1)))
        self.assertEqual(len(done), 1)
        self.assertGreater(done[0]["seconds"], 0.2)
        self.assertGreater(ticks, per_100ms)

    def test_errors(self):
        text = data_path(*TEXT)
        with self.assertRaisesRegex(qcc.Error, "unknown protocol 'foo'"):
            self.model.perplexity(text, ctx=128, protocol="foo")
        with self.assertRaisesRegex(qcc.Error, "context 4096 exceeds"):
            self.model.perplexity(text, ctx=4096)
        with self.assertRaisesRegex(qcc.Error, "missing.txt: No such file or directory"):
            self.model.perplexity(tmp("missing.txt"))
        with self.assertRaisesRegex(qcc.Error, "nope.mlir"):
            qcc.ReferenceModel(tmp("nope.mlir"))
        with self.assertRaises(ValueError):
            self.model.logits([[[1]]])
        with self.assertRaises(qcc.Error):
            self.model.logits([1, 99999])


class ResultsTest(unittest.TestCase):
    def test_load_results(self):
        d = tmp("results")
        os.makedirs(os.path.join(d, "sub"), exist_ok=True)
        a = {"ppl": 1.5, "model": "a"}
        with open(os.path.join(d, "a.json"), "w") as f:
            json.dump(a, f)
        with open(os.path.join(d, "sub", "b.jsonl"), "w") as f:
            f.write('{"n": 1}\n{"n": 2}\n')
        with open(os.path.join(d, "notes.txt"), "w") as f:
            f.write("not a result")
        self.assertEqual(qcc.load_results(os.path.join(d, "a.json")), a)
        self.assertEqual(qcc.load_results(d),
                         {"a.json": a, os.path.join("sub", "b.jsonl"): [{"n": 1}, {"n": 2}]})
        with self.assertRaisesRegex(qcc.Error, "No such file"):
            qcc.load_results(tmp("none.json"))
        with self.assertRaisesRegex(qcc.Error, "not JSON"):
            qcc.load_results(os.path.join(d, "notes.txt"))


if __name__ == "__main__":
    unittest.main()
