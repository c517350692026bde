//===- qcc.cpp - compile a qllm module into an evaluation executable --------===//
//
//   qcc model.mlir -O3 --target=x86-64|x86-64-avx2|x86-64-avx512|aarch64|cuda
//       [--act-quant=q8|q8-all|none] [--embed-weights] -o model
//   qcc model.mlir --target=... --list-kernels        the kernels the model needs
//   qcc model.mlir --target=... --kernels-only        generate them into the kernel cache
//   qcc --target=... --print-kernel-target             (benchmark scripts) kernel/runtime
//   qcc --target=... --compile-kernel-bitcode K.bc -o K.o   targets, one kernel's compilation
//
// Steps (docs/Codegen.md): the kernels the model needs (lib/Conversion/QLlmToKernels) are
// generated with qcc-kernel-gen into a cache keyed by kernel, target, -O level and generator
// hash, with one Halide runtime per target (x86 kernels come as bitcode, compiled here by qcc's
// LLVM for the target's CPU: KernelObject.h); convert-qllm-to-llvm lowers @forward to the glue,
// which LLVM compiles for the target; clang/lld link glue, kernels, the C runtime and the driver
// (lib/Codegen/Runtime, found in ../lib/qcc/<arch>/ next to this tool). Everything is built in a
// temporary folder and the executable is renamed into place at the end: a failure leaves
// nothing behind.
//
//===----------------------------------------------------------------------===//
#include "qcc/Conversion/Passes.h"
#include "qcc/Conversion/QLlmToKernels/KernelSet.h"
#include "qcc/Codegen/KernelObject.h"
#include "qcc/Conversion/QLlmToLLVM/QLlmToLLVM.h"
#include "qcc/Dialect/QLlm/QLlmAttrs.h"
#include "qcc/Dialect/QLlm/QLlmDialect.h"
#include "qcc/Exec/ReferenceExecutor.h"

#include "mlir/IR/Diagnostics.h"
#include "mlir/Pass/PassManager.h"

#include "llvm/ADT/StringExtras.h"
#include "llvm/Support/CommandLine.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/FormatVariadic.h"
#include "llvm/Support/InitLLVM.h"
#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/Path.h"
#include "llvm/Support/Process.h"
#include "llvm/Support/Program.h"
#include "llvm/Support/ThreadPool.h"
#include "llvm/Support/WithColor.h"
#include "llvm/Support/xxhash.h"

#include <atomic>
#include <mutex>

using namespace llvm;
using namespace qcc;
using mlir::FailureOr;
using mlir::ModuleOp;
using mlir::MLIRContext;

static cl::OptionCategory cat("qcc options");
static cl::opt<std::string> input(cl::Positional, cl::desc("<model.mlir>"),
                                  cl::cat(cat));
static cl::opt<std::string> output("o", cl::desc("Output executable"), cl::value_desc("file"),
                                   cl::cat(cat));
static cl::opt<std::string> target("target",
                                   cl::desc("x86-64 (host features), x86-64-avx2, x86-64-avx512, "
                                            "aarch64, cuda"),
                                   cl::init("x86-64"), cl::cat(cat));
enum OptLevel { O0, O1, O2, O3 };
static cl::opt<OptLevel> optLevel(cl::desc("Optimization level"),
                                  cl::values(clEnumVal(O0, "scalar, serial kernels"),
                                             clEnumVal(O1, "vectorised kernels"),
                                             clEnumVal(O2, "vectorised, parallel kernels"),
                                             clEnumVal(O3, "O2 + unrolling and the prefill GEMM")),
                                  cl::init(O3), cl::cat(cat));
static cl::opt<std::string> actQuant(
    "act-quant",
    cl::desc("Decode GEMV activations: q8 = quantized to int8 per block with integer dot "
             "products, as llama.cpp (q4_K, q6_K, q4_0, int4 groups on x86-64 and aarch64; "
             "default at -O2/-O3), q8-all = q8 and prefill matmuls through the same kernels "
             "(as llama.cpp: faster prefill, int8 activations in ppl and logits too), none = "
             "float, matching the reference executor to ~1e-6 (default at -O0/-O1)"),
    cl::value_desc("q8|q8-all|none"), cl::cat(cat));
static cl::opt<bool> embedWeights("embed-weights", cl::desc("Put the weights in the executable"),
                                  cl::cat(cat));
static cl::opt<bool> listKernels("list-kernels", cl::desc("Print the kernels the model needs"),
                                 cl::cat(cat));
static cl::opt<bool> kernelsOnly("kernels-only",
                                 cl::desc("Generate the kernels into the cache and stop"),
                                 cl::cat(cat));
// For benchmarks of single kernels (bench/kernels/gemv-shape.sh): the same targets and
// compilation as the kernels qcc builds.
static cl::opt<bool> printKernelTarget(
    "print-kernel-target",
    cl::desc("Print the Halide target of --target's kernels and, where qcc's LLVM compiles them "
             "(x86), the runtime's target and the CPU, one per line, and stop"),
    cl::cat(cat));
static cl::opt<std::string> kernelBitcode(
    "compile-kernel-bitcode",
    cl::desc("Compile a kernel's Halide bitcode for --target's CPU into the object -o, and stop"),
    cl::value_desc("file.bc"), cl::cat(cat));
static cl::opt<std::string> cacheDir("kernel-cache",
                                     cl::desc("Kernel cache folder (default $QCC_CACHE_DIR or "
                                              "~/.cache/qcc/kernels)"),
                                     cl::cat(cat));

[[noreturn]] static void die(const Twine &msg) {
  WithColor::error(errs(), "qcc") << msg << "\n";
  exit(1);
}

static std::string defaultCacheDir() {
  if (!cacheDir.empty())
    return cacheDir;
  if (std::optional<std::string> env = sys::Process::GetEnv("QCC_CACHE_DIR"))
    return *env;
  SmallString<256> home;
  if (!sys::path::home_directory(home))
    die("no home folder for the kernel cache: give --kernel-cache DIR");
  sys::path::append(home, ".cache", "qcc", "kernels");
  return home.str().str();
}

static cl::opt<bool> saveTemps("save-temps",
                               cl::desc("Keep the build folder (glue object, weight blob, logs)"),
                               cl::cat(cat));

/// A program qcc runs: $QCC_CLANG for clang, else clang-19 on PATH, else LLVM 19's own.
static std::string findClang() {
  if (std::optional<std::string> env = sys::Process::GetEnv("QCC_CLANG"))
    return *env;
  if (ErrorOr<std::string> p = sys::findProgramByName("clang-19"))
    return *p;
  return "/usr/lib/llvm-19/bin/clang";
}

/// Kernels with q8 activations (KernelKey::q8Activations) in this build.
static int q8Kernels = 0;

/// --act-quant, or its default for the -O level: q8 at -O2/-O3, none below.
static bool q8Activations() {
  if (actQuant.getNumOccurrences())
    return actQuant != "none";
  return optLevel >= O2;
}

/// Runs `cmd` with its output in `log`; on failure prints what failed and the log's end.
static bool runStep(const std::vector<std::string> &cmd, StringRef what, StringRef log) {
  std::vector<StringRef> args(cmd.begin(), cmd.end());
  std::optional<StringRef> redirects[] = {std::nullopt, log, log};
  std::string err;
  int rc = sys::ExecuteAndWait(cmd.front(), args, std::nullopt, redirects, 0, 0, &err);
  if (rc == 0)
    return true;
  auto text = MemoryBuffer::getFile(log);
  StringRef body = text ? (*text)->getBuffer().trim() : StringRef(err);
  if (body.size() > 4000)
    body = body.take_back(4000);
  WithColor::error(errs(), "qcc") << what << " failed (" << join(cmd, " ") << "):\n"
                                  << body << "\n";
  return false;
}

/// Module paths made absolute (the glue records them; the executable runs from anywhere).
static void absolutizePaths(LoadedModel &m, StringRef modelPath) {
  using namespace qcc::qllm;
  ModuleOp mod = *m.module;
  SmallString<256> base(modelPath);
  sys::fs::make_absolute(base);
  sys::path::remove_filename(base);
  auto abs = [&](StringRef p) {
    SmallString<256> r(p);
    if (sys::path::is_relative(r)) {
      r = base;
      sys::path::append(r, p);
    }
    sys::path::remove_dots(r, /*remove_dot_dot=*/true);
    return r.str().str();
  };
  MLIRContext *ctx = mod.getContext();
  if (auto wf = mod->getAttrOfType<WeightFileAttr>(QLlmDialect::kWeightsAttrName))
    mod->setAttr(QLlmDialect::kWeightsAttrName,
                 WeightFileAttr::get(ctx, abs(wf.getPath()), wf.getContainer(), wf.getSize(),
                                     wf.getFingerprint()));
  if (auto tk = mod->getAttrOfType<TokenizerAttr>("qllm.tokenizer"))
    mod->setAttr("qllm.tokenizer", TokenizerAttr::get(ctx, abs(tk.getPath()), tk.getKind()));
}

/// Lowers, compiles and links the executable into `output` (atomically). `archives`: the kernel
/// libraries and the Halide runtime.
static bool buildExecutable(LoadedModel &m, const std::vector<std::string> &archives,
                            const char *argv0) {
  const bool aarch64 = target == "aarch64";
  // The runtime pieces built with qcc (lib/Codegen/Runtime): ../lib/qcc/<arch>/.
  SmallString<256> rtDir(sys::fs::getMainExecutable(argv0, (void *)&findClang));
  sys::path::remove_filename(rtDir);
  sys::path::append(rtDir, "..", "lib", "qcc", aarch64 ? "aarch64" : "x86_64");
  sys::path::remove_dots(rtDir, true);
  auto rtFile = [&](StringRef name) {
    SmallString<256> p(rtDir);
    sys::path::append(p, name);
    if (!sys::fs::exists(p))
      die(p + " is missing: qcc's runtime for --target=" + target +
          " was not built (aarch64 needs libc6-dev-arm64-cross at qcc's build time)");
    return p.str().str();
  };
  // The C runtime's objects, then the driver (the C main, or the host driver's libraries).
  const std::vector<std::string> runtime = {rtFile("qcc_rt.o"), rtFile("qcc_rt_model.o")};
  const std::string driver =
      aarch64 ? rtFile("qcc_cmain.o") : "@" + rtFile("host-driver.rsp");

  // The build folder.
  SmallString<256> tmp;
  if (std::error_code ec = sys::fs::createUniqueDirectory("qcc-build", tmp))
    die("cannot create a temporary folder: " + ec.message());
  struct Cleanup {
    SmallString<256> &dir;
    ~Cleanup() {
      if (saveTemps)
        errs() << "qcc: build folder kept: " << dir << "\n";
      else
        sys::fs::remove_directories(dir);
    }
  } cleanup{tmp};
  auto inTmp = [&](StringRef name) {
    SmallString<256> p(tmp);
    sys::path::append(p, name);
    return p.str().str();
  };

  // Glue: convert-qllm-to-llvm, then LLVM for the target.
  absolutizePaths(m, input);
  ModuleOp mod = *m.module;
  FailureOr<std::vector<std::string>> weightNames = forwardWeightNames(mod);
  if (mlir::failed(weightNames))
    return false;
  mlir::PassManager pm(mod.getContext());
  ConvertQLlmToLLVMOptions passOptions;
  passOptions.target = target;
  passOptions.embedWeights = embedWeights;
  passOptions.actQuant = !q8Activations() ? "none" : actQuant == "q8-all" ? "q8-all" : "q8";
  pm.addPass(createConvertQLlmToLLVM(passOptions));
  if (mlir::failed(pm.run(mod)))
    return false; // diagnosed
  const std::string glue = inTmp("glue.o");
  if (Error err = emitObjectFile(mod, target, int(optLevel.getValue()), glue))
    die(toString(std::move(err)));

  const std::string clang = findClang();
  const std::string triple = llvmTripleFor(target);
  std::vector<std::string> objects = {glue};
  if (embedWeights) {
    // The weights as one object: the blob file pulled in by the assembler's .incbin.
    const std::string blob = inTmp("weights.bin"), asmFile = inTmp("weights.S"),
                      obj = inTmp("weights.o");
    {
      std::error_code ec;
      raw_fd_ostream os(blob, ec);
      if (ec)
        die(blob + ": " + ec.message());
      if (Error err = writeWeightBlob(*m.weights, *weightNames, os))
        die(toString(std::move(err)));
      os.close();
      if (os.has_error())
        die(blob + ": " + os.error().message());
    }
    std::error_code ec;
    raw_fd_ostream as(asmFile, ec);
    if (ec)
      die(asmFile + ": " + ec.message());
    as << "  .section .lrodata.qcc_weights,\"a\",%progbits\n  .globl qcc_weight_blob\n"
       << "  .type qcc_weight_blob,%object\n  .balign " << kWeightBlobAlign << "\n"
       << "qcc_weight_blob:\n  .incbin \"" << blob << "\"\n";
    as.close();
    if (!runStep({clang, "--target=" + triple, "-c", asmFile, "-o", obj}, "assembling the weights",
                 inTmp("weights.log")))
      return false;
    objects.push_back(obj);
  }

  // Link into a temporary file beside the output, then rename it into place.
  SmallString<256> outTmp;
  if (std::error_code ec = sys::fs::createUniqueFile(output + ".tmp-%%%%%%", outTmp))
    die("cannot write next to " + output + ": " + ec.message());
  std::vector<std::string> cmd = {clang, "-fuse-ld=lld", "-o", outTmp.str().str()};
  const std::string sysroot = "/usr/aarch64-linux-gnu/lib/";
  if (aarch64) {
    cmd.insert(cmd.begin() + 1, {"--target=aarch64-linux-gnu", "-nostdlib"});
    cmd.push_back(sysroot + "crt1.o");
    cmd.push_back(sysroot + "crti.o");
  } else {
    // The C++ driver links with the C++ compiler driver: clang-19 -> clang++-19 (or clang++
    // in the same folder, as in /usr/lib/llvm-19/bin).
    size_t at = StringRef(clang).rfind("clang");
    if (at != StringRef::npos)
      cmd[0] = clang.substr(0, at + 5) + "++" + clang.substr(at + 5);
    if (!sys::fs::can_execute(cmd[0])) {
      SmallString<256> sibling(clang);
      sys::path::remove_filename(sibling);
      sys::path::append(sibling, "clang++");
      cmd[0] = sibling.str().str();
    }
  }
  cmd.insert(cmd.end(), objects.begin(), objects.end());
  cmd.insert(cmd.end(), runtime.begin(), runtime.end());
  if (aarch64)
    cmd.push_back(driver);
  cmd.push_back("-Wl,--start-group");
  cmd.insert(cmd.end(), archives.begin(), archives.end());
  cmd.push_back("-Wl,--end-group");
  if (aarch64) {
    for (const char *lib : {"libc.so.6", "libc_nonshared.a", "libm.so.6", "ld-linux-aarch64.so.1",
                            "crtn.o"})
      cmd.push_back(sysroot + lib);
    cmd.push_back("-Wl,-dynamic-linker,/lib/ld-linux-aarch64.so.1");
  } else {
    cmd.push_back(driver);
    cmd.insert(cmd.end(), {"-lpthread", "-ldl", "-lm"});
  }
  if (!runStep(cmd, "linking", inTmp("link.log"))) {
    sys::fs::remove(outTmp);
    return false;
  }
  if (std::error_code ec = sys::fs::rename(outTmp, output)) {
    sys::fs::remove(outTmp);
    die("cannot write " + output + ": " + ec.message());
  }
  uint64_t size = 0;
  sys::fs::file_size(output, size);
  errs() << formatv("qcc: wrote {0} ({1} bytes, --target={2} -O{3}{4}{5})\n", output, size,
                    target, int(optLevel.getValue()),
                    q8Kernels ? formatv(", {0} decode GEMVs with q8 activations (batch 1, 2, 4){1}",
                                        q8Kernels,
                                        actQuant == "q8-all" ? ", prefill through them" : "")
                                    .str()
                              : std::string(),
                    embedWeights ? ", weights embedded" : "");
  return true;
}

int main(int argc, char **argv) {
  InitLLVM init(argc, argv);
  cl::HideUnrelatedOptions(cat);
  cl::ParseCommandLineOptions(argc, argv, "qcc: compile a qllm module into an executable\n");
  std::optional<std::string> htarget = halideTargetFor(target);
  if (!htarget)
    die("unknown --target '" + target + "' (x86-64, x86-64-avx2, x86-64-avx512, aarch64, cuda)");
  if (actQuant.getNumOccurrences() && actQuant != "q8" && actQuant != "q8-all" &&
      actQuant != "none")
    die("unknown --act-quant '" + actQuant + "' (q8, q8-all, none)");
  const std::optional<codegen::KernelCpu> cpu = codegen::kernelCpuFor(target);
  if (printKernelTarget) {
    outs() << *htarget << "\n";
    if (cpu)
      outs() << codegen::runtimeTargetForOwnLlvm(*htarget) << "\n" << cpu->name << "\n";
    return 0;
  }
  if (!kernelBitcode.empty()) {
    if (!cpu)
      die("--compile-kernel-bitcode: --target=" + target + " kernels are not compiled by qcc");
    if (output.empty())
      die("--compile-kernel-bitcode: give -o FILE");
    if (Error e = codegen::compileKernelBitcode(kernelBitcode, output, *cpu))
      die(toString(std::move(e)));
    return 0;
  }
  if (input.empty())
    die("no input model (qcc model.mlir --target=... -o FILE)");
  if (!listKernels && !kernelsOnly && output.empty())
    die("give -o FILE (or --list-kernels / --kernels-only)");
  if (!output.empty() && !listKernels && !kernelsOnly) {
    // Check the output can be written before any work.
    SmallString<256> outDir(output.getValue());
    sys::fs::make_absolute(outDir);
    sys::path::remove_filename(outDir);
    if (!sys::fs::is_directory(outDir))
      die("cannot write " + output + ": no folder " + outDir);
    if (sys::fs::access(outDir, sys::fs::AccessMode::Write))
      die("cannot write " + output + ": folder " + outDir + " is not writable");
    if (sys::fs::is_directory(output.getValue()))
      die("cannot write " + output + ": it is a folder");
  }

  auto loaded = loadModel(input, /*withTokenizer=*/false);
  if (!loaded)
    die(toString(loaded.takeError()));
  FailureOr<std::vector<KernelUse>> kernels = collectKernels(*loaded->module, *htarget, q8Activations());
  if (mlir::failed(kernels))
    return 1; // the diagnostics name the ops
  for (const KernelUse &k : *kernels) // batch 1; each has batch-2 and -4 siblings (kernelsOf)
    q8Kernels += k.key.q8Activations && k.key.batch == 1 ? 1 : 0;
  if (listKernels) {
    for (const KernelUse &k : *kernels)
      outs() << formatv("{0} x{1} {2}\n", k.key.functionName(), k.uses, k.key.cacheKey());
    return 0;
  }

  // The generator next to this executable; its content hash is part of every cache entry, so a
  // rebuilt generator never reuses stale kernels.
  SmallString<256> gen(sys::fs::getMainExecutable(argv[0], (void *)&defaultCacheDir));
  sys::path::remove_filename(gen);
  sys::path::append(gen, "qcc-kernel-gen");
  auto genBuf = MemoryBuffer::getFile(gen);
  if (!genBuf)
    die(gen + ": " + genBuf.getError().message() + " (qcc needs its kernel generator)");
  const std::string genHash = utohexstr(xxh3_64bits((*genBuf)->getBuffer()), true);
  // x86: the kernels' bitcode is compiled here for this CPU; the cache folder names it.
  const std::string runtimeTarget =
      cpu ? codegen::runtimeTargetForOwnLlvm(*htarget) : *htarget;
  SmallString<256> dir(defaultCacheDir());
  // Absolute: createUniqueDirectory below takes a relative prefix as relative to /tmp.
  if (std::error_code ec = sys::fs::make_absolute(dir))
    die(dir + ": " + ec.message());
  sys::path::append(dir,
                    *htarget + "-O" + std::to_string(int(optLevel.getValue())) +
                        (cpu ? "-" + cpu->cacheTag() + "-k" +
                                   std::to_string(codegen::kKernelObjectRevision)
                             : std::string()),
                    genHash);
  if (std::error_code ec = sys::fs::create_directories(dir))
    die(dir + ": " + ec.message());

  // Generate what the cache lacks, in parallel: every kernel (without a Halide runtime) and the
  // one runtime of the target. Each entry is made in a fresh temporary folder and renamed into
  // place, the library last, so an interrupted run never leaves a half-written entry.
  struct Job {
    std::string label, name; // cache-key text for messages; file stem in the cache
    std::vector<std::string> cmd;
  };
  std::vector<Job> jobs;
  for (KernelUse &k : *kernels) {
    k.key.optLevel = int(optLevel.getValue());
    jobs.push_back({k.key.cacheKey(), k.key.functionName(), {}});
  }
  jobs.push_back({"halide runtime@" + runtimeTarget, "qcc_halide_runtime", {}});
  std::atomic<int> made{0}, cached{0};
  std::mutex errMutex;
  std::string firstError;
  {
    DefaultThreadPool pool(hardware_concurrency());
    for (size_t j = 0; j < jobs.size(); ++j) {
      pool.async([&, j] {
        const Job &job = jobs[j];
        SmallString<256> lib(dir);
        sys::path::append(lib, job.name + ".a");
        const bool isRuntime = j + 1 == jobs.size();
        if (sys::fs::exists(lib)) {
          if (!isRuntime)
            ++cached;
          return;
        }
        auto fail = [&](const std::string &msg) {
          std::lock_guard<std::mutex> lock(errMutex);
          if (firstError.empty())
            firstError = job.label + ": " + msg;
        };
        SmallString<256> tmp;
        if (std::error_code ec =
                sys::fs::createUniqueDirectory(Twine(dir) + "/tmp-" + job.name, tmp))
          return fail("cannot create a folder in " + dir.str().str() + ": " + ec.message());
        const std::string out = tmp.str().str();
        const bool bitcode = cpu && !isRuntime;
        std::vector<std::string> cmd =
            isRuntime ? codegen::runtimeCommand(gen.str().str(), out, runtimeTarget)
                      : (*kernels)[j].key.generatorCommand(gen.str().str(), out, bitcode);
        std::vector<StringRef> args(cmd.begin(), cmd.end());
        std::string err;
        SmallString<256> log(tmp);
        sys::path::append(log, "gen.log");
        std::optional<StringRef> redirects[] = {std::nullopt, StringRef(log), StringRef(log)};
        bool ok = sys::ExecuteAndWait(gen, args, std::nullopt, redirects, 0, 0, &err) == 0;
        if (!ok) {
          auto text = MemoryBuffer::getFile(log);
          fail(text ? (*text)->getBuffer().trim().str() : err);
        } else if (bitcode) {
          // Bitcode -> an object for the CPU -> the library the cache keeps.
          SmallString<256> bc(tmp), obj(tmp), lib(tmp);
          sys::path::append(bc, job.name + ".bc");
          sys::path::append(obj, job.name + ".o");
          sys::path::append(lib, job.name + ".a");
          Error e = codegen::compileKernelBitcode(bc, obj, *cpu);
          if (!e)
            e = codegen::writeSingleObjectArchive(obj, lib);
          if (e) {
            fail(toString(std::move(e)));
            ok = false;
          }
        }
        if (ok) {
          for (StringRef ext : {".h", ".a"}) {
            SmallString<256> from(tmp), to(dir);
            sys::path::append(from, job.name + ext.str());
            sys::path::append(to, job.name + ext.str());
            if (ext == ".h" && !sys::fs::exists(from))
              continue; // the runtime has no header
            // The header first: a present .a means a complete entry.
            if (std::error_code ec = sys::fs::rename(from, to))
              fail("cannot move " + from.str().str() + ": " + ec.message());
          }
          if (!isRuntime)
            ++made;
        }
        sys::fs::remove_directories(tmp);
      });
    }
  }
  if (!firstError.empty())
    die("kernel generation failed: " + firstError);
  errs() << formatv("qcc: {0} kernels for {1} ({2} generated, {3} cached) in {4}\n",
                    kernels->size(), *htarget, made.load(), cached.load(), dir);
  if (kernelsOnly)
    return 0;

  std::vector<std::string> archives;
  for (const Job &job : jobs) {
    SmallString<256> lib(dir);
    sys::path::append(lib, job.name + ".a");
    archives.push_back(lib.str().str());
  }
  return buildExecutable(*loaded, archives, argv[0]) ? 0 : 1;
}
