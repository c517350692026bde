"""Checks one `bench --json` object (stdin) for keys and sane values; never for speed.

usage: check_bench_json.py --prompt N --gen N --repeat R [--batch B ...]
                           [--concurrency C ... [--requests N]]
"""
import argparse
import json
import sys


def fail(msg):
    sys.exit("check_bench_json: " + msg)


def check_latency(name, lat, samples):
    for key in ("mean", "p50", "p95", "p99", "min", "max", "stddev", "samples"):
        if key not in lat:
            fail("%s has no %r" % (name, key))
    if lat["samples"] != samples:
        fail("%s: %d samples, expected %d" % (name, lat["samples"], samples))
    for key in ("mean", "p50", "p95", "p99", "min", "max"):
        if not lat[key] > 0:
            fail("%s.%s = %r is not positive" % (name, key, lat[key]))
    if not lat["min"] <= lat["p50"] <= lat["p95"] <= lat["p99"] <= lat["max"]:
        fail("%s: min <= p50 <= p95 <= p99 <= max does not hold: %r" % (name, lat))
    if not lat["min"] <= lat["mean"] <= lat["max"]:
        fail("%s: mean outside [min, max]: %r" % (name, lat))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--prompt", type=int, required=True)
    ap.add_argument("--gen", type=int, required=True)
    ap.add_argument("--repeat", type=int, required=True)
    ap.add_argument("--batch", type=int, nargs="*", default=[])
    ap.add_argument("--concurrency", type=int, nargs="*", default=[])
    ap.add_argument("--requests", type=int, default=0)
    args = ap.parse_args()
    r = json.load(sys.stdin)
    for key in ("prefill_tok_s", "decode_tok_s", "ttft_ms", "weights_bytes", "file_bytes",
                "kv_cache_bytes", "peak_rss_bytes", "seconds"):
        if key not in r:
            fail("no %r" % key)
        if not r[key] > 0:
            fail("%s = %r is not positive" % (key, r[key]))
    if (r["prompt_tokens"], r["gen_tokens"], r["repeat"]) != (args.prompt, args.gen, args.repeat):
        fail("prompt/gen/repeat echo %r" % ((r["prompt_tokens"], r["gen_tokens"], r["repeat"]),))
    check_latency("decode_latency_ms", r["decode_latency_ms"], args.gen * args.repeat)
    if r["peak_rss_bytes"] < r["weights_bytes"]:
        fail("peak_rss_bytes %d < weights_bytes %d" % (r["peak_rss_bytes"], r["weights_bytes"]))
    if r["file_bytes"] < r["weights_bytes"]:
        fail("file_bytes %d < weights_bytes %d" % (r["file_bytes"], r["weights_bytes"]))
    # decode_tok_s is the reciprocal of the mean step latency at batch 1.
    if abs(r["decode_tok_s"] * r["decode_latency_ms"]["mean"] / 1e3 - 1) > 1e-6:
        fail("decode_tok_s %r is not 1000 / mean latency %r"
             % (r["decode_tok_s"], r["decode_latency_ms"]["mean"]))
    if [b["batch"] for b in r["batched"]] != args.batch:
        fail("batched sizes %r, expected %r" % ([b["batch"] for b in r["batched"]], args.batch))
    for b in r["batched"]:
        name = "batched[%d]" % b["batch"]
        for key in ("prefill_tok_s", "decode_tok_s", "kv_cache_bytes"):
            if not b[key] > 0:
                fail("%s.%s = %r is not positive" % (name, key, b[key]))
        check_latency(name + ".step_latency_ms", b["step_latency_ms"], args.gen * args.repeat)
        # The cache grows with the batch: B sequences of prompt + gen positions each.
        if b["kv_cache_bytes"] != b["batch"] * r["kv_cache_bytes"]:
            fail("%s.kv_cache_bytes %d is not batch x %d"
                 % (name, b["kv_cache_bytes"], r["kv_cache_bytes"]))
    check_concurrency(r, args)
    print("bench json ok")


def close(a, b):
    return abs(a - b) <= 1e-9 * max(abs(a), abs(b))


def check_concurrency(r, args):
    if [c["concurrency"] for c in r["concurrent"]] != args.concurrency:
        fail("concurrency levels %r, expected %r"
             % ([c["concurrency"] for c in r["concurrent"]], args.concurrency))
    for c in r["concurrent"]:
        C = c["concurrency"]
        name = "concurrent[%d]" % C
        n = args.requests or C * args.repeat
        per = args.gen + 1  # the first token, then one per decode step
        expect = {"requests": n, "waves": -(-n // C), "tokens_per_request": per,
                  "generated_tokens": n * per, "total_tokens": n * (args.prompt + per)}
        for key, want in expect.items():
            if c[key] != want:
                fail("%s.%s = %r, expected %r" % (name, key, c[key], want))
        for key, count in (("requests_per_s", "requests"), ("tokens_per_s", "generated_tokens"),
                           ("total_tokens_per_s", "total_tokens")):
            if not close(c[key], c[count] / c["seconds"]):
                fail("%s.%s %r is not %s / seconds" % (name, key, c[key], count))
        lat, ttft = c["request_latency_ms"], c["request_ttft_ms"]
        check_latency(name + ".request_latency_ms", lat, n)
        check_latency(name + ".request_ttft_ms", ttft, n)
        for key in ("min", "p50", "p95", "p99", "max", "mean"):
            if not ttft[key] < lat[key]:
                fail("%s: request_ttft_ms.%s %r >= request_latency_ms.%s %r"
                     % (name, key, ttft[key], key, lat[key]))
        # Every request finishes within the run.
        if not lat["max"] <= c["seconds"] * 1e3:
            fail("%s: the last request finishes at %r ms, after the run's %r s"
                 % (name, lat["max"], c["seconds"]))
        if c["kv_cache_bytes"] != C * r["kv_cache_bytes"]:
            fail("%s.kv_cache_bytes %d is not %d x %d"
                 % (name, c["kv_cache_bytes"], C, r["kv_cache_bytes"]))
    serving = ("concurrency", "requests", "requests_per_s", "tokens_per_s",
               "total_tokens_per_s", "request_latency_ms", "request_ttft_ms")
    if not r["concurrent"]:
        if any(key in r for key in serving):
            fail("serving keys at the top level without --concurrency")
        return
    top = max(r["concurrent"], key=lambda c: c["concurrency"])
    for key in serving:
        if r.get(key) != top[key]:
            fail("top-level %s %r is not the highest level's %r" % (key, r.get(key), top[key]))


if __name__ == "__main__":
    main()
