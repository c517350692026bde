"""Unit tests of qcc-sweep (python/qcc_sweep): Pareto frontiers, point ids, sweep-file errors,
table and plot rendering from hand-made point files, atomic writes, and the per-point error when
an executable has no `tasks` command.
usage: /usr/bin/python3 test_sweep.py QCC_SOURCE_DIR WORK_DIR [unittest args]"""

import json
import os
import random
import shutil
import stat
import sys
import unittest

SRC, WORK = sys.argv[1], sys.argv[2]
sys.path.insert(0, os.path.join(SRC, "python"))

from qcc_sweep import pareto, render, spec  # noqa: E402
from qcc_sweep.run import Runner, StepError, Tools  # noqa: E402
from qcc_sweep.util import atomic_write_json, read_json  # noqa: E402

DOC = {"name": "t", "models": [{"name": "m", "source": "m.gguf"}],
       "methods": ["Q4_K_M", {"method": "gptq", "bits": 3, "group": 128, "asym": True,
                              "calib": "c.txt"}, {"budget": 3.5}],
       "targets": ["x86-64", "reference"],
       "evals": [{"ppl": "wikitext2", "ctx": 128, "chunks": 10},
                 {"bench": {"prompt": 64, "gen": 32}}]}


def parse(doc, file="t.yaml"):
    return spec.parse(doc, file, "/nonexistent-data", check_files=False)


def ids(doc):
    return [p["id"] for p in parse(doc).points]


def copy(doc):
    return json.loads(json.dumps(doc))


class ParetoTest(unittest.TestCase):
    def test_lower_better(self):
        pts = [(1.0, 10.0), (2.0, 8.0), (3.0, 9.0), (4.0, 5.0), (5.0, 5.0), (0.5, 12.0)]
        self.assertEqual(pareto.frontier(pts), [5, 0, 1, 3])

    def test_higher_better(self):
        pts = [(1.0, 0.30), (2.0, 0.25), (3.0, 0.40), (2.5, 0.40)]
        self.assertEqual(pareto.frontier(pts, higher_better=True), [0, 3])

    def test_ties_and_missing(self):
        # Same cost: only the better quality; identical points: the first; None/NaN ignored.
        pts = [(1.0, 5.0), (1.0, 4.0), (1.0, 4.0), (None, 1.0), (2.0, float("nan")), (2.0, 3.0)]
        self.assertEqual(pareto.frontier(pts), [1, 5])
        self.assertEqual(pareto.frontier([]), [])

    def test_against_definition(self):
        # The frontier is exactly the set of points that no other point dominates.
        rng = random.Random(1234)
        for trial in range(200):
            n = rng.randint(1, 25)
            pts = [(float(rng.randint(0, 8)), float(rng.randint(0, 8))) for _ in range(n)]
            for hb in (False, True):
                got = pareto.frontier(pts, hb)
                want = [i for i, p in enumerate(pts)
                        if not any(pareto.dominates(q, p, hb) for q in pts)
                        and pts.index(p) == i]  # identical points: the first only
                self.assertEqual(sorted(got), sorted(want), (pts, hb))
                costs = [pts[i][0] for i in got]
                self.assertEqual(costs, sorted(costs))


class IdTest(unittest.TestCase):
    def test_golden(self):
        # Ids must not change between qcc-sweep versions for the same definition (or every
        # existing sweep folder would be recomputed): these are the ids of DOC.
        self.assertEqual(ids(DOC), [
            "m-q4_k_m-x86-64-o3-2d1d145d", "m-q4_k_m-ref-a1fb6c60",
            "m-gptq-w3g128-asym-x86-64-o3-4249bfec", "m-gptq-w3g128-asym-ref-47225929",
            "m-budget3.5-x86-64-o3-df31518a", "m-budget3.5-ref-5a987e7c"])

    def test_spelling_does_not_matter(self):
        d = copy(DOC)
        d["methods"][0] = {"mix": "q4_k_m", "imatrix": False, "label": "another label"}
        d["methods"][1] = dict(reversed(list(d["methods"][1].items())), act_order=False)
        d["targets"] = [{"target": "x86-64", "opt": 3, "embed_weights": False}, "reference"]
        d["evals"][0] = {"chunks": 10, "protocol": "llama.cpp", "ctx": 128, "ppl": "wikitext2"}
        d["threads"] = 1
        self.assertEqual(ids(d), ids(DOC))

    def test_changes_give_new_ids(self):
        base = ids(DOC)
        for change in (lambda d: d["evals"][0].update(ctx=64),
                       lambda d: d["evals"][1]["bench"].update(repeat=5),
                       lambda d: d.update(threads=2),
                       lambda d: d["methods"][1].update(asym=False),
                       lambda d: d["methods"][1].update(calib={"text": "c.txt", "samples": 8}),
                       lambda d: d["models"][0].update(source="other.gguf")):
            d = copy(DOC)
            change(d)
            new = ids(d)
            self.assertTrue(any(a != b for a, b in zip(new, base)), change)
        d = copy(DOC)
        d["targets"] = [{"target": "x86-64", "opt": 2}]
        self.assertNotIn(ids(d)[0], base)
        d["targets"] = [{"target": "x86-64", "args": ["--act-quant=none"]}]
        self.assertNotIn(ids(d)[0], base)
        self.assertTrue(ids(d)[0].startswith("m-q4_k_m-x86-64-o3-act-quant-none-"), ids(d)[0])
        d["targets"] = [{"target": "x86-64", "args": []}]
        self.assertEqual(ids(d)[0], base[0])

    def test_shared_keys(self):
        pts = parse(DOC).points
        # Both targets of a method share the quantized model, not the build.
        self.assertEqual(pts[0]["quant_key"], pts[1]["quant_key"])
        self.assertNotEqual(pts[0]["quant_key"], pts[2]["quant_key"])
        self.assertEqual(len({p["import_key"] for p in pts}), 1)


class SpecErrorTest(unittest.TestCase):
    def err(self, doc):
        with self.assertRaises(spec.SpecError) as cm:
            parse(doc, "bad.yaml")
        msg = str(cm.exception)
        self.assertNotIn("\n", msg)
        return msg

    def test_messages(self):
        cases = [
            (lambda d: d.update(method=[]), "bad.yaml: method: unknown key"),
            (lambda d: d["methods"].append("q4_k_z"), "bad.yaml: methods[3]: unknown method 'q4_k_z'"),
            (lambda d: d["methods"].append({"mix": "q9"}), "bad.yaml: methods[3].mix: unknown mix 'q9'"),
            (lambda d: d["methods"].append({"method": "gptq", "bits": 4, "group": 128}),
             "bad.yaml: methods[3].calib: missing"),
            (lambda d: d["methods"].append({"method": "rtn", "bits": 9, "group": 0}),
             "bad.yaml: methods[3].bits: 9 out of range (2..8)"),
            (lambda d: d["targets"].append("riscv"), "bad.yaml: targets[2].target: unknown target 'riscv'"),
            (lambda d: d["evals"].append({"ppl": "wiki", "ctx": 8}), "bad.yaml: evals[2].ppl: unknown dataset 'wiki'"),
            (lambda d: d["evals"].append({"ppl": "ptb"}), "bad.yaml: evals[2].ctx: missing"),
            (lambda d: d["evals"].append({"tasks": ["nope"]}), "bad.yaml: evals[2].tasks[0]: unknown task 'nope'"),
            (lambda d: d["evals"].append({"ppl": "wikitext2", "ctx": 64}), "bad.yaml: evals: two evals named 'wikitext2'"),
            (lambda d: d.pop("models"), "bad.yaml: models: missing"),
            (lambda d: d["models"].append({"name": "m", "source": "x.gguf"}), "bad.yaml: models[1].name: duplicate"),
            (lambda d: d["methods"].append("q4_k_m"), "bad.yaml: methods[3]: the same point as methods[0]"),
        ]
        for change, want in cases:
            d = copy(DOC)
            change(d)
            self.assertIn(want, self.err(d))

    def test_missing_file(self):
        with self.assertRaises(spec.SpecError) as cm:
            spec.parse(copy(DOC), "bad.yaml", os.path.join(WORK, "no-data"), check_files=True)
        self.assertIn("bad.yaml: evals[0].text: 'text/wikitext-2-raw/wiki.test.raw' not found", str(cm.exception))

    def test_yaml_and_json_agree(self):
        os.makedirs(WORK, exist_ok=True)
        j = os.path.join(WORK, "s.json")
        with open(j, "w") as f:
            json.dump(DOC, f)
        y = os.path.join(WORK, "s.yaml")
        with open(y, "w") as f:
            f.write("name: t\nmodels: [{name: m, source: m.gguf}]\n"
                    "methods: [Q4_K_M, {method: gptq, bits: 3, group: 128, asym: true, calib: c.txt},"
                    " {budget: 3.5}]\ntargets: [x86-64, reference]\n"
                    "evals:\n  - {ppl: wikitext2, ctx: 128, chunks: 10}\n"
                    "  - bench: {prompt: 64, gen: 32}\n")
        a = [p["id"] for p in spec.parse(spec.load_file(j), j, "/x", False).points]
        b = [p["id"] for p in spec.parse(spec.load_file(y), y, "/x", False).points]
        self.assertEqual(a, b)
        with open(y, "w") as f:
            f.write("models: [a\n")
        with self.assertRaises(spec.SpecError) as cm:
            spec.load_file(y)
        self.assertIn("s.yaml: not valid YAML", str(cm.exception))


def point(pid, model, method, bits, family, target, status="ok", ppl=None, tasks=None, bench=None,
          wbytes=None, bpw=None, failure=None):
    evals = {}
    if ppl is not None:
        evals["wikitext2"] = {"result": {"ppl": ppl, "ppl_stderr": 0.5, "tokens_scored": 1280}}
    for t, acc in (tasks or {}).items():
        if acc is not None:
            evals["tasks-" + t] = {"result": {"acc": acc, "acc_stderr": 0.01, "n": 100}}
    if bench is not None:
        evals["bench"] = {"result": {"decode_latency_ms": {"mean": bench}, "decode_tok_s": 1000 / bench,
                                     "prefill_tok_s": 5000.0, "peak_rss_bytes": 12_500_000}}
    defs = [{"kind": "ppl", "name": "wikitext2", "dataset": "wikitext2", "text": "w.txt", "ctx": 128,
             "chunks": 10, "protocol": "llama.cpp"},
            {"kind": "tasks", "name": "tasks-piqa", "task": "piqa", "data": "p", "limit": 100,
             "shots": None, "metric": "acc"},
            {"kind": "tasks", "name": "tasks-arc_easy", "task": "arc_easy", "data": "a", "limit": 100,
             "shots": None, "metric": "acc"},
            {"kind": "bench", "name": "bench", "prompt": 64, "gen": 32, "repeat": None, "warmup": None}]
    rec = {"id": pid, "status": status, "evals": evals, "errors": [failure] if failure else [],
           "definition": {"evals": defs, "threads": 1},
           "labels": {"model": model, "method": method, "bits": bits, "family": family,
                      "target": target, "evals": {"wikitext2": "WikiText-2"}}}
    if wbytes is not None:
        rec["size"] = {"weight_bytes": wbytes, "bits_per_weight": bpw}
    if failure:
        rec["failure"] = failure
    return rec


POINTS = [
    point("m-f32", "m", "f32", 32, "f32", "x86-64 -O3", ppl=10.0, tasks={"piqa": 0.6, "arc_easy": 0.4},
          bench=2.0, wbytes=20_000_000, bpw=32.0),
    point("m-q4", "m", "Q4_K_M", 4, "mix", "x86-64 -O3", ppl=10.5, tasks={"piqa": 0.58, "arc_easy": 0.38},
          bench=0.8, wbytes=3_000_000, bpw=4.76),
    point("m-q2", "m", "Q2_K", 2, "mix", "x86-64 -O3", ppl=14.25, tasks={"piqa": 0.5, "arc_easy": None},
          bench=0.9, wbytes=1_900_000, bpw=3.04),
    point("m-awq3", "m", "AWQ w3 g128", 3, "awq", "x86-64 -O3", status="failed",
          failure={"message": "quantize: qcc-quantize exited with 1: boom"}),
]


class RenderTest(unittest.TestCase):
    def test_table(self):
        md = render.tables_md("unit", POINTS)
        lines = md.splitlines()
        self.assertIn("4 points: 3 ok, 1 failed.", md)
        self.assertIn("| method | bits | target | bits/weight | MB | PPL WikiText-2 | "
                      "zero-shot avg (acc, 2 tasks) | decode ms/token | decode tok/s | "
                      "prefill tok/s | peak RSS MB |", lines)
        self.assertIn("| f32 | 32 | x86-64 -O3 | 32.000 | 20.000 | 10.000 ± 0.500 | 0.5000 | "
                      "2.000 | 500.0 | 5000.0 | 12.5 |", lines)
        self.assertIn("| Q4_K_M | 4 | x86-64 -O3 | 4.760 | 3.000 | 10.500 ± 0.500 | 0.4800 | "
                      "0.800 | 1250.0 | 5000.0 | 12.5 |", lines)
        # A missing task: no average (the tasks differ), the other columns are kept.
        self.assertIn("| Q2_K | 2 | x86-64 -O3 | 3.040 | 1.900 | 14.250 ± 0.500 | — | 0.900 | "
                      "1111.1 | 5000.0 | 12.5 |", lines)
        self.assertIn("| AWQ w3 g128 [failed 1] | 3 | x86-64 -O3 | — | — | — | — | — | — | — | — |",
                      lines)
        self.assertIn("1. `m-awq3`: quantize: qcc-quantize exited with 1: boom", lines)
        self.assertIn("| Q2_K | 2 | x86-64 -O3 | 0.5000 ± 0.0100 (n=100) | — | — |", lines)

    def test_plots(self):
        out = os.path.join(WORK, "plots")
        shutil.rmtree(out, ignore_errors=True)
        os.makedirs(out)
        files = render.render_plots(out, POINTS)
        names = sorted(os.path.basename(f) for f in files)
        self.assertEqual(names, sorted(f"pareto-{q}-vs-{c}.{e}" for q in ("ppl_wikitext2", "zeroshot")
                                       for c in ("latency", "size") for e in ("png", "svg")))
        for f in files:
            with open(f, "rb") as fh:
                head = fh.read(4096)
            if f.endswith(".png"):
                self.assertEqual(head[:8], b"\x89PNG\r\n\x1a\n")
            else:
                self.assertIn(b"<svg", head)
        self.assertEqual([x for x in os.listdir(out) if x.startswith(".")], [])


class AtomicTest(unittest.TestCase):
    def test_failed_write_keeps_old_file(self):
        d = os.path.join(WORK, "atomic")
        shutil.rmtree(d, ignore_errors=True)
        p = os.path.join(d, "x.json")
        atomic_write_json(p, {"a": 1})
        with self.assertRaises(TypeError):
            atomic_write_json(p, {"a": object()})
        self.assertEqual(read_json(p), {"a": 1})
        self.assertEqual(os.listdir(d), ["x.json"])


class TasksMissingTest(unittest.TestCase):
    def test_clear_error(self):
        d = os.path.join(WORK, "fake")
        shutil.rmtree(d, ignore_errors=True)
        os.makedirs(d)
        exe = os.path.join(d, "model")
        with open(exe, "w") as f:
            f.write("#!/bin/sh\necho \"model: error: unknown command '$1' (ppl, logits, generate, bench)\" >&2\n"
                    "exit 1\n")
        os.chmod(exe, os.stat(exe).st_mode | stat.S_IXUSR)
        doc = copy(DOC)
        doc["evals"] = [{"tasks": ["piqa"], "limit": 5}]
        sw = parse(doc)
        p = sw.points[0]
        r = Runner(sw, d, "/data", Tools(d))
        with self.assertRaises(StepError) as cm:
            r._eval(p, [exe], p["evals"][0], os.path.join(d, "w"))
        e = cm.exception
        self.assertEqual(e.rc, 1)
        self.assertIn("has no 'tasks' command", e.message)
        self.assertEqual(e.cmd[1:], ["tasks", "--task", "piqa", "--data", "/data/tasks/piqa/piqa_validation.mosaic.jsonl",
                                     "--limit", "5", "--threads", "1", "--json"])
        self.assertIn("unknown command 'tasks'", e.stderr_tail)


if __name__ == "__main__":
    unittest.main(argv=[sys.argv[0]] + sys.argv[3:], verbosity=2)
