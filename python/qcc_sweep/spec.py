"""Sweep files: loading, validation, normalisation and expansion into points (docs/Sweep.md).

A point is one model x method x target with every eval of the sweep. Its definition is normalised
(defaults filled in, names lower-cased, data paths as written) so that the id -- a readable slug
plus a hash of the definition -- is stable: the same definition always gives the same id, however
it is spelled, and any change that can change a result gives a new one.
"""

import json
import os

from . import SCHEMA_VERSION
from .util import short_hash, slug

# qcc-quantize --mix names (docs/Quantization.md).
MIXES = ["q2_k", "q2_k_s", "q3_k_s", "q3_k_m", "q3_k_l", "q4_0", "q4_1", "q5_0", "q5_1", "iq4_nl",
         "q4_k_s", "q4_k_m", "q5_k_s", "q5_k_m", "q6_k", "q8_0", "f16", "bf16", "f32"]
INT_METHODS = ["rtn", "gptq", "awq"]
TARGETS = ["reference", "x86-64", "x86-64-avx2", "x86-64-avx512", "aarch64", "cuda"]

# Data-folder paths of the named models and eval sets ($QCC_DATA_DIR, docs/../shared/data).
MODELS = {
    "student4m": ("student4M", "models/student4M/student4M-f32.gguf"),
    "stories260k": ("stories260K", "models/gguf/stories260K-f32.gguf"),
}
PPL_DATASETS = {
    "wikitext2": ("text/wikitext-2-raw/wiki.test.raw", "WikiText-2"),
    "ptb": ("text/ptb/ptb.test.txt", "PTB"),
    "tinystories": ("text/tinystories/TinyStories-valid.first22.txt", "TinyStories"),
}
TASKS = {
    "piqa": "tasks/piqa/piqa_validation.mosaic.jsonl",
    "arc_easy": "tasks/arc_easy/arc_easy_test.mosaic.jsonl",
    "arc_challenge": "tasks/arc_challenge/arc_challenge_test.mosaic.jsonl",
    "hellaswag": "tasks/hellaswag/hellaswag_val_full.txt",
    "winogrande": "tasks/winogrande/winogrande_dev.mosaic.jsonl",
    "lambada": "tasks/lambada/lambada_openai_test.mosaic.jsonl",
    "mmlu": "tasks/mmlu",
}
TOP_KEYS = ["name", "description", "models", "methods", "targets", "evals", "threads", "calib",
            "timeout"]


class SpecError(Exception):
    """A bad sweep file: printed as one line `FILE: KEY: message`."""

    def __init__(self, file, key, msg):
        super().__init__(f"{file}: {key}: {msg}" if key else f"{file}: {msg}")


class _Ctx:
    def __init__(self, file, data_dir, check_files):
        self.file = file
        self.data_dir = data_dir
        self.check_files = check_files

    def err(self, key, msg):
        return SpecError(self.file, key, msg)

    def path(self, key, p):
        """A data path as written (relative: to the data folder); checked to exist."""
        if not isinstance(p, str) or not p:
            raise self.err(key, "expected a file path")
        if self.check_files and not os.path.exists(resolve_data(p, self.data_dir)):
            raise self.err(key, f"'{p}' not found (relative paths are in the data folder "
                                f"{self.data_dir}; set QCC_DATA_DIR or --data)")
        return p


def resolve_data(p, data_dir):
    return p if os.path.isabs(p) else os.path.join(data_dir, p)


def _keys(ctx, key, d, allowed):
    if not isinstance(d, dict):
        raise ctx.err(key, f"expected a mapping, got {type(d).__name__}")
    for k in d:
        if k not in allowed:
            raise ctx.err(f"{key}.{k}" if key else k,
                          f"unknown key (expected one of: {', '.join(allowed)})")


def _int(ctx, key, v, lo=None, hi=None):
    if isinstance(v, bool) or not isinstance(v, int):
        raise ctx.err(key, f"expected an integer, got {v!r}")
    if (lo is not None and v < lo) or (hi is not None and v > hi):
        rng = f"{lo}..{hi}" if hi is not None else f">= {lo}"
        raise ctx.err(key, f"{v} out of range ({rng})")
    return v


def _num(ctx, key, v, positive=True):
    if isinstance(v, bool) or not isinstance(v, (int, float)):
        raise ctx.err(key, f"expected a number, got {v!r}")
    if positive and not v > 0:
        raise ctx.err(key, f"expected a positive number, got {v!r}")
    return float(v)


def _bool(ctx, key, v):
    if not isinstance(v, bool):
        raise ctx.err(key, f"expected true or false, got {v!r}")
    return v


def _str(ctx, key, v):
    if not isinstance(v, str) or not v:
        raise ctx.err(key, f"expected a string, got {v!r}")
    return v


def _calib(ctx, key, v):
    """calib: FILE | {text: FILE, samples: N, seqlen: N}."""
    if v is None:
        return None
    if isinstance(v, str):
        v = {"text": v}
    _keys(ctx, key, v, ["text", "samples", "seqlen"])
    if "text" not in v:
        raise ctx.err(f"{key}.text", "missing")
    return {"text": ctx.path(f"{key}.text", v["text"]),
            "samples": _int(ctx, f"{key}.samples", v["samples"], 1) if "samples" in v else None,
            "seqlen": _int(ctx, f"{key}.seqlen", v["seqlen"], 1) if "seqlen" in v else None}


def _model(ctx, key, v, top_calib):
    if isinstance(v, str):
        v = {"name": v}
    _keys(ctx, key, v, ["name", "source", "tokenizer", "calib"])
    if "name" not in v:
        raise ctx.err(f"{key}.name", "missing")
    name = _str(ctx, f"{key}.name", v["name"])
    source = v.get("source")
    if source is None:
        if name.lower() not in MODELS:
            raise ctx.err(f"{key}.source", f"missing (no built-in model named '{name}'; "
                                           f"known: {', '.join(m[0] for m in MODELS.values())})")
        name, source = MODELS[name.lower()]
    m = {"name": name, "source": ctx.path(f"{key}.source", source)}
    if "tokenizer" in v:
        m["tokenizer"] = ctx.path(f"{key}.tokenizer", v["tokenizer"])
    calib = _calib(ctx, f"{key}.calib", v["calib"]) if "calib" in v else top_calib
    return m, calib


def nominal_bits(method):
    k = method["kind"]
    if k == "f32":
        return 32
    if k == "mix":
        mix = method["mix"]
        if mix in ("f16", "bf16"):
            return 16
        if mix == "f32":
            return 32
        return int(mix[2] if mix.startswith("iq") else mix[1])
    if k == "int":
        return method["bits"]
    if k == "smoothquant":
        return 8
    return method["budget"]


def method_label(method):
    k = method["kind"]
    if method.get("label"):
        return method["label"]
    if k == "f32":
        return "f32"
    if k == "mix":
        return method["mix"].upper() + (" imatrix" if method["imatrix"] else "")
    if k == "int":
        s = f"{method['method'].upper()} w{method['bits']} g{method['group']}"
        return s + (" act-order" if method["act_order"] else "")
    if k == "smoothquant":
        return "W8A8 SmoothQuant"
    return f"budget {method['budget']:g} bpw"


def method_family(method):
    k = method["kind"]
    return method["method"] if k == "int" else k


def _method(ctx, key, v, calib):
    """f32 | MIX | {mix, imatrix} | {method: rtn|gptq|awq, bits, group, asym, act_order} |
    {method: smoothquant, alpha} | {budget, sensitivity_tokens}; all forms take calib, args, label."""
    if isinstance(v, str):
        s = v.lower()
        if s == "f32":
            v = {"f32": True}
        elif s in MIXES:
            v = {"mix": s}
        else:
            raise ctx.err(key, f"unknown method '{v}' (f32, a llama.cpp mix: {', '.join(MIXES)}; "
                               f"or a mapping with method:, mix: or budget:)")
    if not isinstance(v, dict):
        raise ctx.err(key, f"expected a string or a mapping, got {type(v).__name__}")
    common = ["label", "args", "calib"]
    kinds = [k for k in ("f32", "mix", "method", "budget") if k in v]
    if len(kinds) != 1:
        raise ctx.err(key, "needs exactly one of f32, mix, method, budget")
    kind = kinds[0]
    m = {}
    if kind == "f32":
        _keys(ctx, key, v, ["f32", "label"])
        m = {"kind": "f32"}
    elif kind == "mix":
        _keys(ctx, key, v, ["mix", "imatrix"] + common)
        mix = _str(ctx, f"{key}.mix", v["mix"]).lower()
        if mix not in MIXES:
            raise ctx.err(f"{key}.mix", f"unknown mix '{v['mix']}' (known: {', '.join(MIXES)})")
        m = {"kind": "mix", "mix": mix, "imatrix": _bool(ctx, f"{key}.imatrix", v.get("imatrix", False))}
    elif kind == "method":
        meth = _str(ctx, f"{key}.method", v["method"]).lower()
        if meth in INT_METHODS:
            _keys(ctx, key, v, ["method", "bits", "group", "asym", "act_order"] + common)
            for req in ("bits", "group"):
                if req not in v:
                    raise ctx.err(f"{key}.{req}", f"missing (needed by method {meth})")
            m = {"kind": "int", "method": meth, "bits": _int(ctx, f"{key}.bits", v["bits"], 2, 8),
                 "group": _int(ctx, f"{key}.group", v["group"], 0),
                 "asym": _bool(ctx, f"{key}.asym", v.get("asym", False)),
                 "act_order": _bool(ctx, f"{key}.act_order", v.get("act_order", False))}
            if m["act_order"] and meth != "gptq":
                raise ctx.err(f"{key}.act_order", "only for method gptq")
        elif meth == "smoothquant":
            _keys(ctx, key, v, ["method", "alpha"] + common)
            m = {"kind": "smoothquant",
                 "alpha": _num(ctx, f"{key}.alpha", v["alpha"], False) if "alpha" in v else None}
        else:
            raise ctx.err(f"{key}.method", f"unknown method '{v['method']}' "
                                           f"(rtn, gptq, awq, smoothquant)")
    else:
        _keys(ctx, key, v, ["budget", "sensitivity_tokens"] + common)
        m = {"kind": "budget", "budget": _num(ctx, f"{key}.budget", v["budget"]),
             "sensitivity_tokens": _int(ctx, f"{key}.sensitivity_tokens", v["sensitivity_tokens"], 1)
             if "sensitivity_tokens" in v else None}
    if kind != "f32":
        args = v.get("args", [])
        if not isinstance(args, list) or not all(isinstance(a, str) for a in args):
            raise ctx.err(f"{key}.args", "expected a list of strings (extra qcc-quantize arguments)")
        m["args"] = args
        own = _calib(ctx, f"{key}.calib", v["calib"]) if "calib" in v else None
        needs = (m["kind"] in ("smoothquant", "int") and m.get("method") != "rtn") or \
                (kind == "mix" and m["imatrix"])
        c = own or calib
        if needs and c is None:
            raise ctx.err(f"{key}.calib", "missing: this method calibrates (give calib: here, in "
                                          "the model or at the top level)")
        # The budget solver uses a calibration text when there is one (KL sensitivities).
        m["calib"] = c if (needs or kind == "budget") else None
    if v.get("label") is not None:
        m["label"] = _str(ctx, f"{key}.label", v["label"])
    return m


def _target(ctx, key, v):
    if isinstance(v, str):
        v = {"target": v}
    _keys(ctx, key, v, ["target", "opt", "embed_weights", "args", "label"])
    t = _str(ctx, f"{key}.target", v.get("target"))
    if t not in TARGETS:
        raise ctx.err(f"{key}.target", f"unknown target '{t}' (known: {', '.join(TARGETS)})")
    if t == "reference":
        for k in ("opt", "embed_weights", "args"):
            if k in v:
                raise ctx.err(f"{key}.{k}", "not for target reference (qcc-run, nothing compiled)")
        r = {"target": "reference"}
    else:
        r = {"target": t, "opt": _int(ctx, f"{key}.opt", v.get("opt", 3), 0, 3),
             "embed_weights": _bool(ctx, f"{key}.embed_weights", v.get("embed_weights", False))}
        args = v.get("args", [])
        if not isinstance(args, list) or not all(isinstance(a, str) for a in args):
            raise ctx.err(f"{key}.args", "expected a list of strings (extra qcc arguments)")
        if args:  # only when given: the ids of targets without args stay as they were
            r["args"] = args
    if v.get("label") is not None:
        r["label"] = _str(ctx, f"{key}.label", v["label"])
    return r


def target_label(t):
    if t.get("label"):
        return t["label"]
    if t["target"] == "reference":
        return "reference"
    return f"{t['target']} -O{t['opt']}" + (" embed" if t["embed_weights"] else "") + \
        "".join(" " + a for a in t.get("args", []))


def _evals(ctx, key, lst):
    if not isinstance(lst, list) or not lst:
        raise ctx.err(key, "expected a non-empty list")
    out = []
    for i, v in enumerate(lst):
        k = f"{key}[{i}]"
        if not isinstance(v, dict):
            raise ctx.err(k, "expected a mapping with one of ppl, tasks, bench")
        kinds = [x for x in ("ppl", "tasks", "bench") if x in v]
        if len(kinds) != 1:
            raise ctx.err(k, "needs exactly one of ppl, tasks, bench")
        kind = kinds[0]
        if kind == "ppl":
            _keys(ctx, k, v, ["ppl", "text", "name", "label", "ctx", "chunks", "protocol", "batch"])
            ds = v["ppl"]
            if not isinstance(ds, str):
                raise ctx.err(f"{k}.ppl", "expected a dataset name "
                                          f"({', '.join(PPL_DATASETS)}) or 'text' with text: FILE")
            if "text" in v:
                text, label = v["text"], v.get("label") or ds
            else:
                if ds not in PPL_DATASETS:
                    raise ctx.err(f"{k}.ppl", f"unknown dataset '{ds}' ({', '.join(PPL_DATASETS)}; "
                                              f"or give text: FILE)")
                text, label = PPL_DATASETS[ds]
            proto = v.get("protocol", "llama.cpp")
            if proto not in ("llama.cpp", "gptq"):
                raise ctx.err(f"{k}.protocol", f"unknown protocol '{proto}' (llama.cpp, gptq)")
            if "ctx" not in v:
                raise ctx.err(f"{k}.ctx", "missing (context / chunk length in tokens)")
            e = {"kind": "ppl", "name": slug(v.get("name", ds)), "dataset": ds,
                 "label": v.get("label") or label, "text": ctx.path(f"{k}.text", text),
                 "ctx": _int(ctx, f"{k}.ctx", v["ctx"], 2),
                 "chunks": _int(ctx, f"{k}.chunks", v.get("chunks", 0), 0), "protocol": proto}
            if "batch" in v:
                e["batch"] = _int(ctx, f"{k}.batch", v["batch"], 1)
            out.append(e)
        elif kind == "tasks":
            _keys(ctx, k, v, ["tasks", "limit", "metric", "shots"])
            tl = v["tasks"]
            if isinstance(tl, str):
                tl = [tl]
            if not isinstance(tl, list) or not tl:
                raise ctx.err(f"{k}.tasks", "expected a task name or a list of them")
            metric = v.get("metric", "acc")
            if metric not in ("acc", "acc_norm"):
                raise ctx.err(f"{k}.metric", f"unknown metric '{metric}' (acc, acc_norm)")
            limit = _int(ctx, f"{k}.limit", v["limit"], 1) if "limit" in v else None
            shots = _int(ctx, f"{k}.shots", v["shots"], 0) if "shots" in v else None
            for j, t in enumerate(tl):
                tk = f"{k}.tasks[{j}]"
                if isinstance(t, str):
                    t = {"task": t}
                _keys(ctx, tk, t, ["task", "data"])
                name = _str(ctx, f"{tk}.task", t.get("task"))
                if "data" in t:
                    data = t["data"]
                elif name in TASKS:
                    data = TASKS[name]
                else:
                    raise ctx.err(tk, f"unknown task '{name}' ({', '.join(TASKS)}; or give data: FILE)")
                out.append({"kind": "tasks", "name": "tasks-" + slug(name), "task": name,
                            "data": ctx.path(f"{tk}.data", data), "limit": limit, "shots": shots,
                            "metric": metric})
        else:
            _keys(ctx, k, v, ["bench"])
            b = v["bench"]
            if b is True or b is None:
                b = {}
            _keys(ctx, f"{k}.bench", b, ["prompt", "gen", "repeat", "warmup"])
            out.append({"kind": "bench", "name": "bench",
                        **{x: _int(ctx, f"{k}.bench.{x}", b[x], 0 if x == "warmup" else 1)
                           if x in b else None for x in ("prompt", "gen", "repeat", "warmup")}})
    seen = set()
    for i, e in enumerate(out):
        if e["name"] in seen:
            raise ctx.err(key, f"two evals named '{e['name']}' (give one a name:)")
        seen.add(e["name"])
    return out


def load_file(path):
    """The sweep file as Python data (YAML or JSON); SpecError on syntax errors."""
    try:
        with open(path, encoding="utf-8") as f:
            text = f.read()
    except OSError as e:
        raise SpecError(path, None, e.strerror or str(e))
    if path.endswith(".json"):
        try:
            return json.loads(text)
        except json.JSONDecodeError as e:
            raise SpecError(path, None, f"not valid JSON: {e}")
    import yaml
    try:
        return yaml.safe_load(text)
    except yaml.YAMLError as e:
        raise SpecError(path, None, "not valid YAML: " + " ".join(str(e).split()))


class Sweep:
    def __init__(self, name, points, threads, timeout, file):
        self.name = name
        self.points = points
        self.threads = threads
        self.timeout = timeout
        self.file = file


def parse(doc, file, data_dir, check_files=True):
    """Validate a loaded sweep document and expand it into points (a list of dicts)."""
    ctx = _Ctx(file, data_dir, check_files)
    if not isinstance(doc, dict):
        raise ctx.err(None, "expected a mapping at the top level (models, methods, evals, ...)")
    _keys(ctx, None, doc, TOP_KEYS)
    for req in ("models", "methods", "evals"):
        if req not in doc:
            raise ctx.err(req, "missing")
    name = doc.get("name") or os.path.splitext(os.path.basename(file))[0]
    threads = _int(ctx, "threads", doc.get("threads", 1), 0)
    timeout = _num(ctx, "timeout", doc["timeout"]) if "timeout" in doc else None
    top_calib = _calib(ctx, "calib", doc["calib"]) if "calib" in doc else None
    models = doc["models"]
    if not isinstance(models, list) or not models:
        raise ctx.err("models", "expected a non-empty list")
    methods = doc["methods"]
    if not isinstance(methods, list) or not methods:
        raise ctx.err("methods", "expected a non-empty list")
    targets = doc.get("targets", ["x86-64"])
    if not isinstance(targets, list) or not targets:
        raise ctx.err("targets", "expected a non-empty list")
    tgts = [_target(ctx, f"targets[{i}]", t) for i, t in enumerate(targets)]
    evals = _evals(ctx, "evals", doc["evals"])
    points, ids = [], {}
    model_names = set()
    for mi, mv in enumerate(models):
        model, mcalib = _model(ctx, f"models[{mi}]", mv, top_calib)
        if model["name"] in model_names:
            raise ctx.err(f"models[{mi}].name", f"duplicate model name '{model['name']}'")
        model_names.add(model["name"])
        for qi, qv in enumerate(methods):
            method = _method(ctx, f"methods[{qi}]", qv, mcalib)
            for ti, tgt in enumerate(tgts):
                p = make_point(model, method, tgt, evals, threads)
                p["order"] = [mi, qi, ti]
                if p["id"] in ids:
                    raise ctx.err(f"methods[{qi}]", f"the same point as methods[{ids[p['id']][1]}] "
                                                    f"(model {model['name']}, target "
                                                    f"{target_label(tgt)})")
                ids[p["id"]] = p["order"]
                points.append(p)
    return Sweep(name, points, threads, timeout, file)


def _strip_labels(d):
    return {k: v for k, v in d.items() if k != "label"}


def definition(model, method, target, evals, threads):
    """What a point's results depend on (labels are cosmetic and left out)."""
    return {"schema": SCHEMA_VERSION, "model": model, "method": _strip_labels(method),
            "target": _strip_labels(target),
            "evals": [_strip_labels(e) for e in evals], "threads": threads}


def method_slug(method):
    k = method["kind"]
    if k == "f32":
        return "f32"
    if k == "mix":
        return method["mix"] + ("-imat" if method["imatrix"] else "")
    if k == "int":
        return f"{method['method']}-w{method['bits']}g{method['group']}" + \
               ("-asym" if method["asym"] else "") + ("-ao" if method["act_order"] else "")
    if k == "smoothquant":
        return "w8a8"
    return f"budget{method['budget']:g}"


def target_slug(target):
    if target["target"] == "reference":
        return "ref"
    return f"{target['target']}-O{target['opt']}" + ("-emb" if target["embed_weights"] else "") + \
        "".join("-" + a.lstrip("-").replace("=", "-") for a in target.get("args", []))


def make_point(model, method, target, evals, threads):
    d = definition(model, method, target, evals, threads)
    pid = "-".join([slug(model["name"]), slug(method_slug(method)), slug(target_slug(target)),
                    short_hash(d, 8)])
    return {"id": pid, "definition": d, "model": model, "method": method, "target": target,
            "evals": evals, "threads": threads,
            "labels": {"model": model["name"], "method": method_label(method),
                       "target": target_label(target), "family": method_family(method),
                       "bits": nominal_bits(method),
                       "evals": {e["name"]: e.get("label", e["name"]) for e in evals}},
            # Shared intermediates: the imported model, the quantized model, the executable.
            "import_key": slug(model["name"]) + "-" + short_hash(model, 8),
            "quant_key": slug(model["name"]) + "-" + slug(method_slug(method)) + "-" +
                         short_hash([model, d["method"]], 8),
            "build_key": slug(model["name"]) + "-" + slug(method_slug(method)) + "-" +
                         slug(target_slug(target)) + "-" +
                         short_hash([model, d["method"], d["target"]], 8)}
