"""Checks one `tasks --json` object (stdin): keys, n, and consistency of the numbers.

usage: check_tasks_json.py --task NAME --n N [--shots K] [--limit L] [--subjects S]
                           [--same-as OTHER.json]

--same-as: another run of the same items (another batch size, or a compiled executable): n and
the accuracies must agree (to one item: float32 kernels may break a near-tie differently).
Prints "tasks json ok".
"""
import argparse
import json
import math
import sys


def fail(msg):
    sys.exit("check_tasks_json: " + msg)


def need(o, key, kind=(int, float)):
    if key not in o:
        fail("no %r in %s" % (key, sorted(o)))
    if not isinstance(o[key], kind) or isinstance(o[key], bool) and kind != bool:
        fail("%r is %r" % (key, o[key]))
    return o[key]


def check_fraction(o, key, n):
    v = need(o, key)
    if not 0 <= v <= 1:
        fail("%s = %r is not in [0, 1]" % (key, v))
    if abs(v * n - round(v * n)) > 1e-6:
        fail("%s = %r is not a count over n = %d" % (key, v, n))
    se = need(o, key + "_stderr")
    want = math.sqrt(v * (1 - v) / (n - 1)) if n > 1 else 0.0
    if abs(se - want) > 1e-9:
        fail("%s_stderr = %r, expected sqrt(p(1-p)/(n-1)) = %r" % (key, se, want))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--task", required=True)
    ap.add_argument("--n", type=int, required=True)
    ap.add_argument("--shots", type=int, default=0)
    ap.add_argument("--limit", type=int, default=0)
    ap.add_argument("--subjects", type=int, default=0)
    ap.add_argument("--same-as")
    a = ap.parse_args()
    o = json.load(sys.stdin)
    if need(o, "task", str) != a.task:
        fail("task %r, expected %r" % (o["task"], a.task))
    n = need(o, "n", int)
    if n != a.n:
        fail("n = %d, expected %d" % (n, a.n))
    if need(o, "shots", int) != a.shots or need(o, "limit", int) != a.limit:
        fail("shots/limit %r/%r" % (o["shots"], o["limit"]))
    for key in ("seconds", "tokenize_seconds", "requests", "rows", "forward_calls",
                "tokens_forwarded", "tokens_padding", "truncated", "continuations_cut", "batch", "threads",
                "max_seq_len"):
        if need(o, key) < 0:
            fail("%s is negative" % key)
    need(o, "model", str)
    need(o, "data", str)
    if not 0 < o["rows"] <= o["requests"]:
        fail("rows %d, requests %d" % (o["rows"], o["requests"]))
    check_fraction(o, "acc", n)
    has_norm = a.task in ("hellaswag", "piqa", "arc_easy", "arc_challenge")
    if has_norm:
        check_fraction(o, "acc_norm", n)
    elif "acc_norm" in o:
        fail("acc_norm reported for %s" % a.task)
    if a.task == "lambada":
        if o["requests"] != n:
            fail("lambada: %d requests for %d items" % (o["requests"], n))
        if not need(o, "ppl") > 1 or not need(o, "ppl_per_item") >= o["ppl"]:
            fail("lambada: ppl %r, ppl_per_item %r" % (o["ppl"], o["ppl_per_item"]))
        if need(o, "continuation_tokens", int) < n:
            fail("lambada: fewer continuation tokens than items")
    if a.task == "mmlu":
        subj = need(o, "subjects", dict)
        if a.subjects and len(subj) != a.subjects:
            fail("%d subjects, expected %d" % (len(subj), a.subjects))
        total = sum(s["n"] for s in subj.values())
        if total != n:
            fail("subjects' n sum to %d, not %d" % (total, n))
        if a.limit and any(s["n"] > a.limit for s in subj.values()):
            fail("a subject has more than --limit questions")
        right = sum(s["acc"] * s["n"] for s in subj.values())
        if abs(right / n - o["acc"]) > 1e-9 or o["acc_questions_avg"] != o["acc"]:
            fail("acc is not the mean over questions")
        avg = sum(s["acc"] for s in subj.values()) / len(subj)
        if abs(avg - need(o, "acc_subjects_avg")) > 1e-9:
            fail("acc_subjects_avg %r, expected %r" % (o["acc_subjects_avg"], avg))
    if a.same_as:
        with open(a.same_as) as f:
            p = json.load(f)
        if p["n"] != n:
            fail("--same-as: n %d vs %d" % (p["n"], n))
        for key in ("acc", "acc_norm"):
            if key in o and abs(o[key] - p[key]) * n > 1.0001:
                fail("--same-as: %s %r vs %r (more than one item apart)" % (key, o[key], p[key]))
    print("tasks json ok")


if __name__ == "__main__":
    main()
