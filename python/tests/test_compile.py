"""qcc.compile (the qcc tool as a subprocess) and qcc.Executable on stories260K: the executable's
perplexity, logits and task accuracy agree with the reference executor's; tool errors raise qcc.Error."""

import os
import unittest

import numpy as np

import qcc
from qcc_test_util import TEXT, data_path, import_stories, scratch_dir

_tmp = None


def setUpModule():
    global _tmp
    _tmp = scratch_dir("compile-")


def tearDownModule():
    _tmp.cleanup()


def tmp(name):
    return os.path.join(_tmp.name, name)


class CompileTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.mlir = import_stories(tmp("s.mlir"))
        # The kernel cache is $QCC_CACHE_DIR (CTest: the lit suite's).
        cls.exe = qcc.compile(cls.mlir, tmp("s"), target="x86-64", opt=3)
        cls.ref = qcc.ReferenceModel(cls.mlir)

    def test_executable(self):
        self.assertIsInstance(self.exe, qcc.Executable)
        self.assertTrue(os.access(tmp("s"), os.X_OK))

    def test_ppl_agrees_with_reference(self):
        text = data_path(*TEXT)
        got = self.exe.ppl(text, ctx=128, threads=2)
        ref = self.ref.perplexity(text, ctx=128, threads=2)
        self.assertEqual(set(got), set(ref))
        for k in ("chunks", "ctx", "protocol", "tokens_total", "tokens_scored", "threads"):
            self.assertEqual(got[k], ref[k], k)
        self.assertEqual(got["model"], "stories260K")
        self.assertAlmostEqual(got["nll"], ref["nll"], delta=1e-5 * ref["nll"])

    def test_logits_agree_with_reference(self):
        rows = [[1, 403, 407, 261], [1, 20, 30, 40]]
        got = self.exe.logits(rows, threads=2)
        self.assertEqual(got.shape, (2, 4, 512))
        np.testing.assert_allclose(got, self.ref.logits(rows, threads=2), atol=1e-4, rtol=0)

    def test_bench(self):
        r = self.exe.bench(prompt=16, gen=4, repeat=1, warmup=0, threads=1)
        self.assertEqual((r["name"], r["prompt_tokens"], r["gen_tokens"]), ("stories260K", 16, 4))
        self.assertGreater(r["decode_tok_s"], 0)

    def test_tasks_agree_with_qcc_run(self):
        data = data_path("tasks", "hellaswag", "hellaswag_val_full.txt")
        got = self.exe.tasks("hellaswag", data, limit=8, threads=2)
        ref = self.ref.tasks("hellaswag", data, limit=8, threads=2)  # qcc-run ... tasks --json
        for k in ("acc", "acc_norm", "acc_stderr"):
            self.assertIn(k, got)
        self.assertEqual((got["task"], got["n"], ref["n"]), ("hellaswag", 8, 8))
        # Compiled and reference logits differ by ~1e-6: at most one item may flip.
        self.assertLessEqual(abs(got["acc"] - ref["acc"]), 1 / 8 + 1e-12)
        with self.assertRaisesRegex(qcc.Error, "unknown --task 'nope'"):
            self.exe.tasks("nope", data)

    def test_errors(self):
        with self.assertRaisesRegex(qcc.Error, r"^qcc: error: .*riscv"):
            qcc.compile(self.mlir, tmp("bad"), target="riscv")
        self.assertFalse(os.path.exists(tmp("bad")))
        with self.assertRaises(ValueError):
            qcc.compile(self.mlir, tmp("bad"), opt=7)
        with self.assertRaisesRegex(qcc.Error, "missing.mlir"):
            qcc.compile(tmp("missing.mlir"), tmp("bad"))
        with self.assertRaisesRegex(qcc.Error, "not an executable"):
            qcc.Executable(self.mlir)
        with self.assertRaisesRegex(qcc.Error, "error: unknown --protocol 'foo'"):
            self.exe.ppl(data_path(*TEXT), ctx=128, protocol="foo")


if __name__ == "__main__":
    unittest.main()
