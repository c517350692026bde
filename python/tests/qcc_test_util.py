"""Shared set-up of the Python tests: the data folder (required: a missing one fails the tests,
it does not skip them), the tools, a scratch folder."""

import os
import subprocess
import tempfile
import json

import qcc


def data_path(*parts):
    """A file under QCC_DATA_DIR; raises (failing the test module) when it is missing."""
    root = qcc.data_dir()
    if not root or not os.path.isdir(root):
        raise RuntimeError("QCC_DATA_DIR '%s' does not exist: the tests need the shared data "
                           "(configure with -DQCC_DATA_DIR=... or set QCC_DATA_DIR)" % root)
    p = os.path.join(root, *parts)
    if not os.path.exists(p):
        raise RuntimeError("%s: missing from the data folder" % p)
    return p


STORIES = ("models", "llama2c", "stories260K", "stories260K.bin")
STORIES_TOK = ("models", "llama2c", "stories260K", "tok512.bin")
TEXT = ("text", "tinystories", "TinyStories-valid.first22.txt")


def scratch_dir(prefix):
    """A fresh folder under QCC_TEST_TMPDIR (the build's python/tests), else the system's."""
    base = os.environ.get("QCC_TEST_TMPDIR") or None
    if base:
        os.makedirs(base, exist_ok=True)
    return tempfile.TemporaryDirectory(prefix=prefix, dir=base)


def run_tool_json(*argv):
    """Runs a qcc tool with --json and returns its object (the reference for comparisons)."""
    argv = [qcc.tool_path(argv[0])] + [str(a) for a in argv[1:]] + ["--json"]
    out = subprocess.run(argv, check=True, stdout=subprocess.PIPE, text=True).stdout
    return json.loads(out)


def import_stories(out_mlir):
    """stories260K (llama2.c) with its tokenizer, imported in process."""
    return qcc.import_model(data_path(*STORIES), out_mlir, tokenizer=data_path(*STORIES_TOK))
