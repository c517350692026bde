"""qcc: a quantizing compiler for LLaMA-family models, from Python (docs/Python.md).

In process (C++ API through the extension module ``qcc._qcc``):

* :func:`import_model` -- a checkpoint (GGUF, safetensors, llama2.c) or a synthetic model into a
  qllm module file (qcc-import);
* :class:`Module` -- a module in memory: ``load``, ``run_passes("pipeline")``, ``save``, ``str()``,
  ``summary()`` (qcc-opt);
* :func:`quantize` -- mixes, methods and budgets (qcc-quantize);
* :class:`ReferenceModel` -- the float32 reference executor: ``perplexity``, ``logits``,
  ``bench``, ``generate`` (qcc-run), with the tools' JSON keys.

Over the tools (subprocesses): :func:`compile` (the ``qcc`` compiler) and :class:`Executable`
(``ppl``, ``bench``, ``tasks``, ``logits``, ``generate`` of a compiled model).

Every failure raises :class:`Error` (a RuntimeError) with the tool's one-line message.
"""

from . import _qcc
from ._qcc import Error, Module, import_model, quantize, synthetic_presets
from ._tools import Executable, ReferenceRun, compile, data_dir, tool_path, tools_dir
from .results import load_results

Error.__module__ = Module.__module__ = __name__  # tracebacks say qcc.Error, not qcc._qcc.Error

__all__ = [
    "Error", "Module", "ReferenceModel", "Executable", "ReferenceRun", "import_model", "quantize",
    "compile", "load_results", "synthetic_presets", "tools_dir", "tool_path", "data_dir",
]


class ReferenceModel(_qcc.ReferenceModel):
    """A module file run by the reference executor (what ``qcc-run`` runs), in process.

    ``perplexity`` (alias ``ppl``), ``logits``, ``bench``, ``generate``, ``encode`` and
    ``decode`` run here with the GIL released; their dicts have the keys of
    ``qcc-run model.mlir CMD --json``. ``tasks`` and ``run`` go through the qcc-run tool."""

    ppl = _qcc.ReferenceModel.perplexity

    def tasks(self, task, data, *, shots=None, limit=None, batch=None, threads=0):
        """Zero-/few-shot task accuracy through ``qcc-run model.mlir tasks --json``."""
        return ReferenceRun(self.path).tasks(task, data, shots=shots, limit=limit, batch=batch,
                                             threads=threads)

    def run(self, command, *args, **options):
        """Any qcc-run command through the tool, as :meth:`Executable.run`."""
        return ReferenceRun(self.path).run(command, *args, **options)

    def __repr__(self):
        return "qcc.ReferenceModel(%r)" % self.path
