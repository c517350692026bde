"""Reading the JSON result files qcc's tools write (``--json`` output saved to a file, quantization
reports, sweep results)."""

import json
import os

from . import _qcc


def _load_file(path):
    with open(path, encoding="utf-8") as f:
        text = f.read()
    try:
        return json.loads(text)
    except ValueError as e:
        error = e
    # JSON Lines: one value per line.
    lines = [l for l in text.splitlines() if l.strip()]
    if len(lines) > 1:
        try:
            return [json.loads(l) for l in lines]
        except ValueError:
            pass
    raise _qcc.Error("%s: not JSON: %s" % (path, error))


def load_results(path):
    """Loads result files.

    A file gives its JSON value (a dict for the tools' ``--json`` objects; a list of values for
    a JSON Lines file). A folder gives ``{relative path: value}`` for every ``*.json`` and
    ``*.jsonl`` file under it, sorted by path. Raises qcc.Error for a missing path or a file
    that is not JSON."""
    path = os.fspath(path)
    if os.path.isdir(path):
        out = {}
        for root, dirs, files in os.walk(path):
            dirs.sort()
            for name in sorted(files):
                if name.endswith((".json", ".jsonl")):
                    full = os.path.join(root, name)
                    out[os.path.relpath(full, path)] = _load_file(full)
        return dict(sorted(out.items()))
    if not os.path.exists(path):
        raise _qcc.Error("%s: No such file or directory" % path)
    return _load_file(path)
