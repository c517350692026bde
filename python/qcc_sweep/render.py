"""Rendering a sweep folder: DIR/tables.md and DIR/pareto-<quality>-vs-<cost>.{png,svg}."""

import math
import os

from .pareto import frontier
from .util import atomic_write_text, read_json

# ---- reading points ------------------------------------------------------------------------


def load(out_dir):
    """(sweep name, point records in sweep order). The order and the set of points come from
    DIR/sweep.json (written by each run) when present, else every DIR/points/*.json."""
    pdir = os.path.join(out_dir, "points")
    recs, name = [], os.path.basename(os.path.normpath(out_dir))
    manifest = os.path.join(out_dir, "sweep.json")
    if os.path.exists(manifest):
        m = read_json(manifest)
        name = m.get("name", name)
        for entry in m["points"]:
            path = os.path.join(pdir, entry["id"] + ".json")
            if os.path.exists(path):
                r = read_json(path)
                r["labels"] = entry.get("labels", r.get("labels"))
                recs.append(r)
            else:
                recs.append({"id": entry["id"], "labels": entry["labels"], "status": "missing",
                             "evals": {}, "errors": [], "definition": entry.get("definition")})
    elif os.path.isdir(pdir):
        for fn in sorted(os.listdir(pdir)):
            if fn.endswith(".json"):
                recs.append(read_json(os.path.join(pdir, fn)))
    return name, recs


def eval_defs(recs):
    """Every eval definition seen in the points, in first-seen order, by name."""
    out = {}
    for r in recs:
        labels = (r.get("labels") or {}).get("evals") or {}
        for e in (r.get("definition") or {}).get("evals", []):
            if e["name"] not in out:
                out[e["name"]] = dict(e, label=labels.get(e["name"], e["name"]))
    return out


def metrics(rec, defs):
    """The numbers a table row and the plots need (None where absent)."""
    ev = rec.get("evals", {})
    size = rec.get("size") or {}
    m = {"weight_mb": size["weight_bytes"] / 1e6 if "weight_bytes" in size else None,
         "bpw": size.get("bits_per_weight"), "ppl": {}, "ppl_se": {}, "tasks": {}}
    for name, e in defs.items():
        res = (ev.get(name) or {}).get("result")
        if res is None:
            continue
        if e["kind"] == "ppl":
            m["ppl"][name] = res.get("ppl")
            m["ppl_se"][name] = res.get("ppl_stderr")
        elif e["kind"] == "tasks":
            m["tasks"][name] = res.get(e.get("metric", "acc"), res.get("acc"))
    task_names = [n for n, e in defs.items() if e["kind"] == "tasks"]
    if task_names and all(m["tasks"].get(n) is not None for n in task_names):
        m["zeroshot"] = sum(m["tasks"][n] for n in task_names) / len(task_names)
    else:
        m["zeroshot"] = None
    b = (ev.get("bench") or {}).get("result")
    if b:
        m["ms_token"] = b["decode_latency_ms"]["mean"]
        m["tok_s"] = b.get("decode_tok_s")
        m["prefill_tok_s"] = b.get("prefill_tok_s")
        m["rss_mb"] = b["peak_rss_bytes"] / 1e6 if "peak_rss_bytes" in b else None
    else:
        m["ms_token"] = m["tok_s"] = m["prefill_tok_s"] = m["rss_mb"] = None
    return m


# ---- tables --------------------------------------------------------------------------------


def _f(x, nd):
    return "—" if x is None else f"{x:.{nd}f}"


def _ppl(p, se):
    if p is None:
        return "—"
    nd = 4 if p < 10 else 3 if p < 100 else 2
    return f"{p:.{nd}f}" + (f" ± {se:.{nd}f}" if se is not None else "")


def _n(k, what):
    return f"{k} {what}" + ("" if k == 1 else "s")


def _bits(b):
    return f"{b:g}" if isinstance(b, (int, float)) else str(b)


def tables_md(name, recs):
    defs = eval_defs(recs)
    ppl_names = [n for n, e in defs.items() if e["kind"] == "ppl"]
    task_names = [n for n, e in defs.items() if e["kind"] == "tasks"]
    has_bench = any(e["kind"] == "bench" for e in defs.values())
    n_ok = sum(r.get("status") == "ok" for r in recs)
    n_failed = sum(r.get("status") == "failed" for r in recs)
    n_missing = len(recs) - n_ok - n_failed
    out = [f"# Sweep: {name}", "",
           f"{len(recs)} points: {n_ok} ok, {n_failed} failed" +
           (f", {n_missing} not run" if n_missing else "") +
           ". Rendered by qcc-sweep from the point files (docs/Sweep.md).", ""]
    models = []
    for r in recs:
        mname = r["labels"]["model"]
        if mname not in models:
            models.append(mname)
    notes = []
    for mname in models:
        rows = [r for r in recs if r["labels"]["model"] == mname]
        out += [f"## {mname}", ""]
        head = ["method", "bits", "target", "bits/weight", "MB"]
        head += [f"PPL {defs[n]['label']}" for n in ppl_names]
        if task_names:
            metric = defs[task_names[0]].get("metric", "acc")
            head.append(f"zero-shot avg ({metric}, {_n(len(task_names), 'task')})")
        if has_bench:
            head += ["decode ms/token", "decode tok/s", "prefill tok/s", "peak RSS MB"]
        out.append("| " + " | ".join(head) + " |")
        out.append("|" + "|".join(["---"] * 3 + ["---:"] * (len(head) - 3)) + "|")
        for r in rows:
            m = metrics(r, defs)
            lab = r["labels"]
            mark = ""
            if r.get("status") != "ok":
                notes.append((r, len(notes) + 1))
                st = r.get("status", "?")
                mark = f" [{'not run' if st == 'missing' else st} {len(notes)}]"
            cells = [lab["method"] + mark, _bits(lab["bits"]), lab["target"],
                     _f(m["bpw"], 3), _f(m["weight_mb"], 3)]
            cells += [_ppl(m["ppl"].get(n), m["ppl_se"].get(n)) for n in ppl_names]
            if task_names:
                cells.append(_f(m["zeroshot"], 4))
            if has_bench:
                cells += [_f(m["ms_token"], 3), _f(m["tok_s"], 1), _f(m["prefill_tok_s"], 1),
                          _f(m["rss_mb"], 1)]
            out.append("| " + " | ".join(cells) + " |")
        out.append("")
        if task_names:
            out += [f"### {mname}: zero-shot tasks", ""]
            head = ["method", "bits", "target"] + [defs[n]["task"] for n in task_names] + ["avg"]
            out.append("| " + " | ".join(head) + " |")
            out.append("|" + "|".join(["---"] * 3 + ["---:"] * (len(head) - 3)) + "|")
            for r in rows:
                m = metrics(r, defs)
                cells = [r["labels"]["method"], _bits(r["labels"]["bits"]), r["labels"]["target"]]
                for n in task_names:
                    res = (r.get("evals", {}).get(n) or {}).get("result") or {}
                    v = m["tasks"].get(n)
                    cells.append("—" if v is None else
                                 f"{v:.4f}" + (f" ± {res['acc_stderr']:.4f}"
                                               if res.get("acc_stderr") is not None else "") +
                                 (f" (n={res['n']})" if "n" in res else ""))
                cells.append(_f(m["zeroshot"], 4))
                out.append("| " + " | ".join(cells) + " |")
            out.append("")
    # What the columns mean, from the definitions and the results.
    out += ["Columns:", ""]
    out.append("- bits: the method's nominal bits (mix name, --bits, or the budget in bits/weight); "
               "bits/weight and MB (10^6 bytes): all weight tensors as stored (qcc-run summary: "
               "weight_bytes, bits_per_weight; embeddings and norms included).")
    for n in ppl_names:
        e = defs[n]
        scored = sorted({(r.get("evals", {}).get(n) or {}).get("result", {}).get("tokens_scored")
                         for r in recs if (r.get("evals", {}).get(n) or {}).get("result")} - {None})
        chunks = "all chunks" if not e["chunks"] else f"at most {e['chunks']} chunks"
        sc = f", {scored[0]:,} tokens scored" if len(scored) == 1 else ""
        out.append(f"- PPL {e['label']}: `{e['text']}`, {e['protocol']} protocol, ctx {e['ctx']}, "
                   f"{chunks}{sc}; ± is the tool's ppl_stderr.")
    if task_names:
        e = defs[task_names[0]]
        lim = f" --limit {e['limit']}" if e.get("limit") else ""
        out.append(f"- zero-shot: `tasks --task T --data FILE{lim}`, the mean of `{e['metric']}` "
                   f"over {', '.join(defs[n]['task'] for n in task_names)} (only when all are "
                   f"present).")
    if has_bench:
        b = defs["bench"]
        opts = ", ".join(f"--{k} {b[k]}" for k in ("prompt", "gen", "repeat", "warmup")
                         if b.get(k) is not None) or "defaults"
        threads = {(r.get("definition") or {}).get("threads") for r in recs} - {None}
        th = f"; --threads {threads.pop()}" if len(threads) == 1 else ""
        out.append(f"- bench ({opts}{th}): decode ms/token = mean decode step at batch 1; "
                   f"tok/s = decode and prefill throughput at batch 1; peak RSS of the process. "
                   f"Points may run in parallel (--jobs), so timings are indicative.")
    if notes:
        out += ["", "Failures:", ""]
        for r, i in notes:
            msg = (r.get("failure") or {}).get("message") or \
                  ("not run yet" if r.get("status") == "missing" else r.get("status"))
            out.append(f"{i}. `{r['id']}`: {msg}")
            for err in r.get("errors", [])[1:]:
                out.append(f"   also: {err.get('message')}")
    return "\n".join(out) + "\n"


# ---- plots ---------------------------------------------------------------------------------

FAMILY_STYLE = {  # colour, marker
    "f32": ("#444444", "*"), "mix": ("#1f77b4", "o"), "rtn": ("#d62728", "v"),
    "gptq": ("#2ca02c", "^"), "awq": ("#9467bd", "s"), "smoothquant": ("#8c564b", "P"),
    "budget": ("#ff7f0e", "D"),
}
FAMILY_NAME = {"f32": "f32", "mix": "llama.cpp mix", "rtn": "RTN", "gptq": "GPTQ", "awq": "AWQ",
               "smoothquant": "SmoothQuant", "budget": "budget solver"}


def plot_specs(recs):
    """[(quality key, label, higher_better, getter)], [(cost key, label, getter, per_target)]:
    every ppl eval (the first one first; lower is better) and the zero-shot average (higher is
    better) against decode latency and weight size."""
    defs = eval_defs(recs)
    quals = []
    for n, e in defs.items():
        if e["kind"] == "ppl":
            quals.append((f"ppl_{n}", f"perplexity, {e['label']} (ctx {e['ctx']}; lower is better)",
                          False, lambda m, n=n: m["ppl"].get(n)))
    tasks = [n for n, e in defs.items() if e["kind"] == "tasks"]
    if tasks:
        metric = defs[tasks[0]].get("metric", "acc")
        quals.append(("zeroshot", f"zero-shot accuracy, mean {metric} over {_n(len(tasks), 'task')} "
                                  f"(higher is better)", True, lambda m: m["zeroshot"]))
    costs = [("latency", "decode latency (ms/token, batch 1)", lambda m: m["ms_token"], True),
             ("size", "weights size (MB = 10^6 bytes)", lambda m: m["weight_mb"], False)]
    return quals, costs


def render_plots(out_dir, recs):
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    defs = eval_defs(recs)
    quals, costs = plot_specs(recs)
    models = []
    for r in recs:
        if r["labels"]["model"] not in models:
            models.append(r["labels"]["model"])
    written = []
    for mname in models:
        rows = [r for r in recs if r["labels"]["model"] == mname]
        for qkey, qlabel, higher, qget in quals:
            for ckey, clabel, cget, per_target in costs:
                series = _series(rows, defs, qget, cget, per_target)
                if not any(len(pts) for _, pts in series):
                    continue
                base = f"pareto-{qkey}-vs-{ckey}" if len(models) == 1 else \
                       f"pareto-{_fslug(mname)}-{qkey}-vs-{ckey}"
                fig = _plot(plt, mname, series, qlabel, clabel, higher, ckey)
                for ext in ("png", "svg"):
                    path = os.path.join(out_dir, f"{base}.{ext}")
                    tmp = os.path.join(out_dir, f".{base}.tmp.{ext}")
                    fig.savefig(tmp, format=ext, dpi=130,
                                metadata={"Date": None} if ext == "svg" else None)
                    os.replace(tmp, path)
                    written.append(path)
                plt.close(fig)
    return written


def _fslug(s):
    import re
    return re.sub(r"[^A-Za-z0-9._-]+", "-", s).strip("-") or "model"


def _series(rows, defs, qget, cget, per_target):
    """[(series label, [(cost, quality, method label, family)])]: latency per target (each target
    has its own speed); size once per method (the first target that has the quality)."""
    out = {}
    seen = set()
    for r in rows:
        m = metrics(r, defs)
        c, q = cget(m), qget(m)
        if c is None or q is None or (isinstance(q, float) and math.isnan(q)):
            continue
        lab = r["labels"]
        key = lab["target"] if per_target else "all"
        if not per_target:
            if lab["method"] in seen:
                continue
            seen.add(lab["method"])
        out.setdefault(key, []).append((c, q, lab["method"], lab.get("family", "mix")))
    return list(out.items())


def _plot(plt, model, series, qlabel, clabel, higher, ckey):
    from matplotlib.lines import Line2D

    fig = plt.figure(figsize=(9.6, 5.8))
    ax = fig.add_axes([0.085, 0.1, 0.67, 0.82])
    line_styles = ["-", "--", ":", "-."]
    families, handles, labels = [], [], []
    marks = []  # (cost, quality, text, on frontier)
    all_c = []
    for si, (sname, pts) in enumerate(series):
        front = frontier([(c, q) for c, q, _, _ in pts], higher)
        fset = set(front)
        for i, (c, q, lab, fam) in enumerate(pts):
            col, mk = FAMILY_STYLE.get(fam, ("#7f7f7f", "o"))
            on = i in fset
            ax.scatter([c], [q], s=80 if on else 32, marker=mk, color=col,
                       edgecolors="black" if on else "none", linewidths=1.3 if on else 0,
                       alpha=1.0 if on else 0.8, zorder=3 if on else 2)
            if fam not in families:
                families.append(fam)
                handles.append(Line2D([], [], linestyle="none", marker=mk, color=col, markersize=6))
                labels.append(FAMILY_NAME.get(fam, fam))
            marks.append((c, q, lab if len(series) == 1 else f"{lab} ({sname})", on))
            all_c.append(c)
        fx = [pts[i][0] for i in front]
        fy = [pts[i][1] for i in front]
        ls = line_styles[si % len(line_styles)]
        ax.plot(fx, fy, ls, color="black", linewidth=1.2, zorder=1, drawstyle="steps-post")
        handles.append(Line2D([], [], linestyle=ls, color="black", marker="o", markersize=7,
                              markerfacecolor="white", markeredgecolor="black", markeredgewidth=1.3))
        labels.append("Pareto frontier" + (f" ({sname})" if len(series) > 1 else ""))
    if all_c and min(all_c) > 0 and max(all_c) / min(all_c) > 8:
        from matplotlib.ticker import FuncFormatter, LogLocator, NullFormatter
        ax.set_xscale("log")
        ax.xaxis.set_major_locator(LogLocator(subs=(1.0, 2.0, 5.0)))
        ax.xaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:g}"))
        ax.xaxis.set_minor_formatter(NullFormatter())
    ax.set_xlabel(clabel)
    ax.set_ylabel(qlabel)
    what = "decode latency" if ckey == "latency" else "size"
    ax.set_title(f"{model}: quality vs {what}" +
                 (f" ({series[0][0]})" if len(series) == 1 and series[0][0] != "all" else ""))
    ax.grid(True, linewidth=0.4, alpha=0.5)
    ax.margins(x=0.08, y=0.08)
    ax.legend(handles, labels, fontsize=8, loc="upper left", bbox_to_anchor=(1.02, 1.0),
              borderaxespad=0.0, framealpha=0.9)
    _place_labels(fig, ax, marks)
    return fig


# Label positions tried around a point, in points: (dx, dy, horizontal, vertical alignment);
# near the point first, then on rings farther out (drawn with a leader line).
_OFFSETS = [(5, 3, "left", "bottom"), (5, -3, "left", "top"), (-5, 3, "right", "bottom"),
            (-5, -3, "right", "top"), (0, 7, "center", "bottom"), (0, -7, "center", "top")]
for _r in (14, 24, 36, 50):
    _OFFSETS += [(_r, _r, "left", "bottom"), (_r, -_r, "left", "top"), (-_r, _r, "right", "bottom"),
                 (-_r, -_r, "right", "top"), (0, _r + 4, "center", "bottom"),
                 (0, -_r - 4, "center", "top"), (_r + 6, 0, "left", "center"),
                 (-_r - 6, 0, "right", "center")]


def _text_box(t, r):
    """The box of an annotation's text alone (not its leader line)."""
    from matplotlib.text import Text
    t.update_positions(r)
    return Text.get_window_extent(t, r)


def _place_labels(fig, ax, marks):
    """Label every point where the text overlaps no other label, no marker and stays inside the
    axes (frontier points first); the first position when none is free."""
    fig.canvas.draw()
    r = fig.canvas.get_renderer()
    axbox = ax.get_window_extent(r)
    pts = [ax.transData.transform((c, q)) for c, q, _, _ in marks]
    # Markers as (box, 0) and placed labels as (box, 2): the second is the gap in pixels kept
    # around them.
    taken = [((x - 5, y - 5, x + 5, y + 5), 0) for x, y in pts]

    def free(b):
        if b.x0 < axbox.x0 or b.x1 > axbox.x1 or b.y0 < axbox.y0 or b.y1 > axbox.y1:
            return False
        return not any(b.x0 - g < x1 and x0 < b.x1 + g and b.y0 - g < y1 and y0 < b.y1 + g
                       for (x0, y0, x1, y1), g in taken)
    order = sorted(range(len(marks)), key=lambda i: not marks[i][3])
    for i in order:
        c, q, text, on = marks[i]
        kw = dict(textcoords="offset points", fontsize=7, color="black" if on else "#444444",
                  fontweight="bold" if on else "normal", zorder=4)
        for k, (dx, dy, ha, va) in enumerate(_OFFSETS):
            arrow = dict(arrowstyle="-", color="#888888", linewidth=0.6, shrinkA=0, shrinkB=4) \
                if abs(dx) + abs(dy) > 12 else None
            t = ax.annotate(text, (c, q), xytext=(dx, dy), ha=ha, va=va, arrowprops=arrow, **kw)
            b = _text_box(t, r)
            if free(b) or k == len(_OFFSETS) - 1:
                if not free(b):
                    t.remove()
                    dx, dy, ha, va = _OFFSETS[0]
                    t = ax.annotate(text, (c, q), xytext=(dx, dy), ha=ha, va=va, **kw)
                    b = _text_box(t, r)
                taken.append(((b.x0, b.y0, b.x1, b.y1), 2))
                break
            t.remove()


def render(out_dir):
    """Write DIR/tables.md and the plots; returns the files written."""
    name, recs = load(out_dir)
    if not recs:
        raise FileNotFoundError(f"{out_dir}: no points (expected {out_dir}/points/*.json)")
    atomic_write_text(os.path.join(out_dir, "tables.md"), tables_md(name, recs))
    files = [os.path.join(out_dir, "tables.md")]
    files += render_plots(out_dir, recs)
    return files
