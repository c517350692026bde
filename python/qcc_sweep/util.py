"""Small helpers: atomic writes, stable hashing, slugs."""

import hashlib
import json
import os
import re
import tempfile


def canonical_json(obj):
    """The JSON text hashed for ids: sorted keys, no whitespace, floats as Python prints them."""
    return json.dumps(obj, sort_keys=True, separators=(",", ":"), ensure_ascii=True)


def short_hash(obj, n=10):
    return hashlib.sha256(canonical_json(obj).encode("ascii")).hexdigest()[:n]


def slug(text):
    """Lower-case letters, digits, '.', '_' and '-' only; runs of anything else become '-'."""
    s = re.sub(r"[^A-Za-z0-9._-]+", "-", str(text)).strip("-._")
    return s.lower() or "x"


_UMASK = os.umask(0)
os.umask(_UMASK)


def atomic_write_text(path, text):
    """Write PATH via a temporary file in the same folder and rename it into place: readers (and a
    run killed half-way) see either the old file or the whole new one, never a partial file. The
    temporary name does not end in .json, so it is never mistaken for a result."""
    d = os.path.dirname(os.path.abspath(path))
    os.makedirs(d, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix="." + os.path.basename(path) + ".", suffix=".tmp", dir=d)
    try:
        os.fchmod(fd, 0o666 & ~_UMASK)  # mkstemp makes 0600 files; give the usual mode
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(text)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise


def atomic_write_json(path, obj):
    atomic_write_text(path, json.dumps(obj, indent=2, sort_keys=True) + "\n")


def read_json(path):
    with open(path, encoding="utf-8") as f:
        return json.load(f)


def remove_stale_temps(folder):
    """Temporary files left by a run that was killed (SIGKILL) before it could clean up."""
    if not os.path.isdir(folder):
        return
    for name in os.listdir(folder):
        if name.startswith(".") and name.endswith(".tmp"):
            try:
                os.unlink(os.path.join(folder, name))
            except OSError:
                pass
