//===- Bindings.cpp - qcc._qcc, the extension module (pybind11) -------------===//
//
// Compiled with exceptions and RTTI (pybind11 needs both); it includes nothing from LLVM or MLIR
// and calls only Core.h, whose functions report errors as strings. Those become qcc.Error (a
// RuntimeError) here. Every call into the C++ layer runs with the GIL released.
//
// The Python-facing API is documented in docs/Python.md; python/qcc/__init__.py adds the parts
// that run the tools (compile, Executable) and re-exports everything.
//
//===----------------------------------------------------------------------===//
#include "Core.h"

#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include <stdexcept>

namespace py = pybind11;
using namespace qcc::python;

namespace {

struct QccError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

void check(bool ok, const std::string &err) {
  if (!ok)
    throw QccError(err.empty() ? std::string("unknown error") : err);
}

/// A path argument: str, bytes or os.PathLike.
std::string fspath(const py::handle &h) {
  py::object p = py::module_::import("os").attr("fspath")(h);
  if (py::isinstance<py::bytes>(p))
    return p.cast<std::string>();
  return py::str(p).cast<std::string>();
}
std::string fspathOr(const py::object &h, const std::string &dflt = "") {
  return h.is_none() ? dflt : fspath(h);
}

py::object fromJSON(const std::string &text) {
  return py::module_::import("json").attr("loads")(text);
}

/// Runs `f` without the GIL.
template <typename F> auto unlocked(F &&f) {
  py::gil_scoped_release release;
  return f();
}

/// A list of ints, or an int meaning [int] (bench's batch sizes).
std::vector<int64_t> intList(const py::object &o) {
  if (o.is_none())
    return {};
  if (py::isinstance<py::int_>(o))
    return {o.cast<int64_t>()};
  return o.cast<std::vector<int64_t>>();
}

} // namespace

PYBIND11_MODULE(_qcc, m) {
  m.doc() = "qcc's C++ API (import, passes, quantization, the reference executor); "
            "use the `qcc` package, which re-exports it (docs/Python.md)";
  py::register_exception<QccError>(m, "Error", PyExc_RuntimeError);

  m.def(
      "import_model",
      [](const py::object &src, const py::object &out, const py::object &tokenizer,
         const py::object &synthetic, const std::string &syntheticType, uint64_t seed) {
        ImportOptions o;
        o.source = fspathOr(src);
        o.output = fspath(out);
        o.tokenizer = fspathOr(tokenizer);
        o.synthetic = synthetic.is_none() ? "" : synthetic.cast<std::string>();
        o.syntheticType = syntheticType;
        o.seed = seed;
        std::string err;
        check(unlocked([&] { return importModel(o, err); }), err);
        return o.output;
      },
      py::arg("src"), py::arg("out"), py::kw_only(), py::arg("tokenizer") = py::none(),
      py::arg("synthetic") = py::none(), py::arg("synthetic_type") = "f16",
      py::arg("seed") = 0,
      "Imports a checkpoint (.gguf, safetensors file or folder, llama2.c .bin) or, with src=None "
      "and synthetic=PRESET, a synthetic model, into a qllm module written to `out` (what "
      "qcc-import does). Returns `out`.");
  m.def("synthetic_presets", &syntheticPresets,
        "Names of the synthetic presets (real shapes, random weights).");

  m.def(
      "quantize",
      [](const py::object &model, const py::object &out, const py::object &mix,
         const py::object &method, double budget, int bits, int64_t group, bool asym,
         bool actOrder, float alpha, bool simulate, bool foldOnly, bool imatrix,
         const py::object &calib, int64_t calibSamples, int64_t calibSeqlen,
         int64_t sensitivityTokens, const py::object &gguf, const py::object &report,
         const py::object &outputType) {
        QuantizeOptions o;
        o.input = fspath(model);
        o.output = fspath(out);
        o.gguf = fspathOr(gguf);
        o.report = fspathOr(report);
        o.mix = mix.is_none() ? "" : mix.cast<std::string>();
        o.method = method.is_none() ? "" : method.cast<std::string>();
        o.outputType = outputType.is_none() ? "" : outputType.cast<std::string>();
        o.budget = budget;
        o.bits = bits;
        o.group = group;
        o.asym = asym;
        o.actOrder = actOrder;
        o.alpha = alpha;
        o.simulate = simulate;
        o.foldOnly = foldOnly;
        o.imatrix = imatrix;
        o.calib = fspathOr(calib);
        o.calibSamples = calibSamples;
        o.calibSeqlen = calibSeqlen;
        o.sensitivityTokens = sensitivityTokens;
        std::string json, err;
        check(unlocked([&] { return quantize(o, json, err); }), err);
        return fromJSON(json);
      },
      py::arg("model"), py::arg("out"), py::kw_only(), py::arg("mix") = py::none(),
      py::arg("method") = py::none(), py::arg("budget") = 0.0, py::arg("bits") = 4,
      py::arg("group") = 128, py::arg("asym") = false, py::arg("act_order") = false,
      py::arg("alpha") = 0.5f, py::arg("simulate") = false, py::arg("fold_only") = false,
      py::arg("imatrix") = false, py::arg("calib") = py::none(), py::arg("calib_samples") = 128,
      py::arg("calib_seqlen") = 256, py::arg("sensitivity_tokens") = 512,
      py::arg("gguf") = py::none(), py::arg("report") = py::none(),
      py::arg("output_type") = py::none(),
      "Quantizes a module's weights (what qcc-quantize does): exactly one of mix=, method= or "
      "budget=; output_type= the LM head's llama.cpp type (--output-type). Writes `out` and its "
      "GGUF (default: out minus .mlir, plus .gguf); returns the report (the --report JSON) as a "
      "dict.");

  py::class_<Module>(m, "Module", "A qllm module in memory, with qcc's passes (qcc-opt).")
      .def_static(
          "load",
          [](const py::object &path) {
            std::string p = fspath(path), err;
            std::unique_ptr<Module> mod = unlocked([&] { return Module::load(p, err); });
            check(mod != nullptr, err);
            return mod;
          },
          py::arg("path"), "Parses and verifies a module file.")
      .def_static(
          "parse",
          [](const std::string &text, const std::string &name) {
            std::string err;
            std::unique_ptr<Module> mod = unlocked([&] { return Module::parse(text, name, err); });
            check(mod != nullptr, err);
            return mod;
          },
          py::arg("text"), py::arg("name") = "<string>",
          "Parses and verifies module text; `name` is the file name in diagnostics.")
      .def(
          "run_passes",
          [](Module &self, const std::string &pipeline) {
            std::string err;
            std::vector<std::string> messages;
            check(unlocked([&] { return self.runPasses(pipeline, err, &messages); }), err);
            return messages;
          },
          py::arg("pipeline"),
          "Runs a textual pass pipeline, e.g. 'qllm-quantize{mix=q8_0 weights-out=q.gguf}' or "
          "'builtin.module(canonicalize,cse)'. Returns the remarks and warnings the passes "
          "emitted. On failure raises qcc.Error and leaves the module unchanged.")
      .def(
          "verify",
          [](Module &self) {
            std::string err;
            check(unlocked([&] { return self.verify(err); }), err);
          },
          "Raises qcc.Error if the module does not verify.")
      .def(
          "save",
          [](Module &self, const py::object &path) {
            std::string p = fspath(path), err;
            check(unlocked([&] { return self.save(p, err); }), err);
            return p;
          },
          py::arg("path"), "Writes the module text (atomically). Returns the path.")
      .def(
          "clone",
          [](Module &self) {
            std::string err;
            std::unique_ptr<Module> mod = unlocked([&] { return self.clone(err); });
            check(mod != nullptr, err);
            return mod;
          },
          "An independent copy.")
      .def(
          "summary",
          [](Module &self) {
            std::string json, err;
            check(unlocked([&] { return self.summaryJSON(json, err); }), err);
            return fromJSON(json);
          },
          "Hyper-parameters, formats and bits/weight: the object of `qcc-run model.mlir summary "
          "--json` (read from the IR; the weight file is not opened).")
      .def("__str__", [](Module &self) { return unlocked([&] { return self.str(); }); });

  py::class_<Model>(m, "ReferenceModel",
                    "A module file run by the reference executor (what qcc-run runs).")
      .def(py::init([](const py::object &path) {
             std::string p = fspath(path), err;
             std::unique_ptr<Model> model = unlocked([&] { return Model::load(p, err); });
             check(model != nullptr, err);
             return model;
           }),
           py::arg("path"))
      .def_property_readonly("name", &Model::name, "The model's name (qllm.config).")
      .def_property_readonly("path", &Model::path)
      .def_property_readonly("vocab_size", &Model::vocabSize)
      .def_property_readonly("max_seq_len", &Model::maxSeqLen)
      .def_property_readonly("has_tokenizer", &Model::hasTokenizer)
      .def(
          "perplexity",
          [](Model &self, const py::object &text, int64_t ctx, const std::string &protocol,
             int64_t chunks, int64_t batch, int threads) {
            PerplexityOptions o;
            o.text = fspath(text);
            o.ctx = ctx;
            o.protocol = protocol;
            o.chunks = chunks;
            o.batch = batch;
            o.threads = threads;
            std::string json, err;
            check(unlocked([&] { return self.perplexity(o, json, err); }), err);
            return fromJSON(json);
          },
          py::arg("text"), py::kw_only(), py::arg("ctx") = 512, py::arg("protocol") = "llama.cpp",
          py::arg("chunks") = 0, py::arg("batch") = 4, py::arg("threads") = 0,
          "Perplexity of a text file; the object of `qcc-run model.mlir ppl --json`.")
      .def(
          "logits",
          [](Model &self, const py::object &tokens, int threads) {
            using IntArray = py::array_t<int32_t, py::array::c_style | py::array::forcecast>;
            IntArray a = IntArray::ensure(tokens);
            if (!a)
              throw py::type_error("tokens must be a sequence of ints or a 2-D array of them");
            if (a.ndim() != 1 && a.ndim() != 2)
              throw py::value_error("tokens must be 1-D [T] or 2-D [B, T]");
            const bool flat = a.ndim() == 1;
            const int64_t B = flat ? 1 : a.shape(0), T = flat ? a.shape(0) : a.shape(1);
            std::vector<int32_t> ids(a.data(), a.data() + a.size());
            auto *out = new std::vector<float>();
            py::capsule owner(out, [](void *p) { delete static_cast<std::vector<float> *>(p); });
            std::string err;
            check(unlocked([&] { return self.logits(ids, B, T, threads, *out, err); }), err);
            const int64_t V = (B * T) ? int64_t(out->size()) / (B * T) : 0;
            std::vector<py::ssize_t> shape =
                flat ? std::vector<py::ssize_t>{T, V} : std::vector<py::ssize_t>{B, T, V};
            return py::array_t<float>(shape, out->data(), owner);
          },
          py::arg("tokens"), py::kw_only(), py::arg("threads") = 0,
          "Logits of token ids from position 0: [T] -> array [T, vocab]; [B, T] -> [B, T, vocab] "
          "(numpy float32).")
      .def(
          "bench",
          [](Model &self, int64_t prompt, int64_t gen, const py::object &batch, int64_t repeat,
             int64_t warmup, uint64_t seed, const py::object &text, int threads) {
            BenchOptions o;
            o.prompt = prompt;
            o.gen = gen;
            o.batches = intList(batch);
            o.repeat = repeat;
            o.warmup = warmup;
            o.seed = seed;
            o.text = fspathOr(text);
            o.threads = threads;
            std::string json, err;
            check(unlocked([&] { return self.bench(o, json, err); }), err);
            return fromJSON(json);
          },
          py::kw_only(), py::arg("prompt") = 0, py::arg("gen") = 0,
          py::arg("batch") = py::none(), py::arg("repeat") = 3, py::arg("warmup") = 1,
          py::arg("seed") = 0, py::arg("text") = py::none(), py::arg("threads") = 0,
          "Latency and throughput; the object of `qcc-run model.mlir bench --json` (0 for "
          "prompt/gen: the driver's defaults; batch: an int or a list of batch sizes).")
      .def(
          "generate",
          [](Model &self, const std::string &prompt, int64_t n, float temp, float topP,
             uint64_t seed, int threads) {
            GenerateOptions o;
            o.prompt = prompt;
            o.n = n;
            o.temperature = temp;
            o.topP = topP;
            o.seed = seed;
            o.threads = threads;
            std::string json, err;
            check(unlocked([&] { return self.generate(o, json, err); }), err);
            return fromJSON(json);
          },
          py::arg("prompt"), py::kw_only(), py::arg("n") = 64, py::arg("temp") = 0.0f,
          py::arg("top_p") = 1.0f, py::arg("seed") = 0, py::arg("threads") = 0,
          "Generates up to n tokens; the object of `qcc-run model.mlir generate --json`.")
      .def(
          "encode",
          [](Model &self, const std::string &text, bool bos) {
            std::vector<int32_t> ids;
            std::string err;
            check(unlocked([&] { return self.encode(text, bos, ids, err); }), err);
            return ids;
          },
          py::arg("text"), py::kw_only(), py::arg("bos") = true,
          "Token ids of a text (with the model's tokenizer).")
      .def(
          "decode",
          [](Model &self, const std::vector<int32_t> &ids) {
            std::string text, err;
            check(unlocked([&] { return self.decode(ids, text, err); }), err);
            return py::bytes(text).attr("decode")("utf-8", "replace");
          },
          py::arg("ids"), "The text of token ids.");
}
