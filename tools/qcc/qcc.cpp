//===- qcc.cpp - compile a qllm module into an evaluation executable --------===//
//
//   qcc model.mlir -O3 --target=x86-64|x86-64-avx2|x86-64-avx512|aarch64|cuda
//       [--embed-weights] -o model
//   qcc model.mlir --target=... --list-kernels        the kernels the model needs
//   qcc model.mlir --target=... --kernels-only        generate them into the kernel cache
//
// Status (docs/Codegen.md): kernel selection and generation (Halide AOT, cached by key) are
// implemented; the glue lowering, runtime and link steps are not yet, so building an executable
// stops with an error after the kernels and writes nothing.
//
//===----------------------------------------------------------------------===//
#include "qcc/Conversion/QLlmToKernels/KernelSet.h"
#include "qcc/Exec/ReferenceExecutor.h"

#include "mlir/IR/Diagnostics.h"

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

static cl::OptionCategory cat("qcc options");
static cl::opt<std::string> input(cl::Positional, cl::Required, cl::desc("<model.mlir>"),
                                  cl::cat(cat));
static cl::opt<std::string> output("o", cl::desc("Output executable"), cl::value_desc("file"),
                                   cl::cat(cat));
static cl::opt<std::string> target("target",
                                   cl::desc("x86-64 (host features), x86-64-avx2, x86-64-avx512, "
                                            "aarch64, cuda"),
                                   cl::init("x86-64"), cl::cat(cat));
enum OptLevel { O0, O1, O2, O3 };
static cl::opt<OptLevel> optLevel(cl::desc("Optimization level"),
                                  cl::values(clEnumVal(O0, "no vectorisation or threads"),
                                             clEnumVal(O1, "vectorised"),
                                             clEnumVal(O2, "vectorised, parallel"),
                                             clEnumVal(O3, "O2 + decode-specialised shapes")),
                                  cl::init(O3), cl::cat(cat));
static cl::opt<bool> embedWeights("embed-weights", cl::desc("Put the weights in the executable"),
                                  cl::cat(cat));
static cl::opt<bool> listKernels("list-kernels", cl::desc("Print the kernels the model needs"),
                                 cl::cat(cat));
static cl::opt<bool> kernelsOnly("kernels-only",
                                 cl::desc("Generate the kernels into the cache and stop"),
                                 cl::cat(cat));
static cl::opt<std::string> cacheDir("kernel-cache",
                                     cl::desc("Kernel cache folder (default $QCC_CACHE_DIR or "
                                              "~/.cache/qcc/kernels)"),
                                     cl::cat(cat));

[[noreturn]] static void die(const Twine &msg) {
  WithColor::error(errs(), "qcc") << msg << "\n";
  exit(1);
}

/// The Halide target string for a qcc --target.
static std::optional<std::string> halideTarget(StringRef t) {
  if (t == "x86-64")
    return codegen::hostKernelTarget() == "host" ? std::string("x86-64-linux")
                                                 : codegen::hostKernelTarget();
  if (t == "x86-64-avx2")
    return std::string("x86-64-linux-sse41-avx-avx2-fma-f16c");
  if (t == "x86-64-avx512")
    return std::string("x86-64-linux-sse41-avx-avx2-fma-f16c-avx512-avx512_skylake");
  if (t == "aarch64")
    return std::string("arm-64-linux-arm_dot_prod");
  if (t == "cuda")
    return std::string("x86-64-linux-cuda-cuda_capability_86");
  return std::nullopt;
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

int main(int argc, char **argv) {
  InitLLVM init(argc, argv);
  cl::HideUnrelatedOptions(cat);
  cl::ParseCommandLineOptions(argc, argv, "qcc: compile a qllm module into an executable\n");
  std::optional<std::string> htarget = halideTarget(target);
  if (!htarget)
    die("unknown --target '" + target + "' (x86-64, x86-64-avx2, x86-64-avx512, aarch64, cuda)");
  if (!listKernels && !kernelsOnly && output.empty())
    die("give -o FILE (or --list-kernels / --kernels-only)");

  auto loaded = loadModel(input, /*withTokenizer=*/false);
  if (!loaded)
    die(toString(loaded.takeError()));
  FailureOr<std::vector<KernelUse>> kernels = collectKernels(*loaded->module, *htarget);
  if (mlir::failed(kernels))
    return 1; // the diagnostics name the ops
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
  SmallString<256> dir(defaultCacheDir());
  sys::path::append(dir, *htarget + "-O" + std::to_string(int(optLevel.getValue())), genHash);
  if (std::error_code ec = sys::fs::create_directories(dir))
    die(dir + ": " + ec.message());

  // Generate what the cache lacks, in parallel; each kernel is made in a fresh temporary folder
  // and renamed into place, so an interrupted run never leaves a half-written entry.
  std::atomic<int> made{0}, cached{0};
  std::mutex errMutex;
  std::string firstError;
  {
    DefaultThreadPool pool(hardware_concurrency());
    for (const KernelUse &k : *kernels) {
      pool.async([&, key = k.key] {
        const std::string name = key.functionName();
        SmallString<256> lib(dir);
        sys::path::append(lib, name + ".a");
        if (sys::fs::exists(lib)) {
          ++cached;
          return;
        }
        auto fail = [&](const std::string &msg) {
          std::lock_guard<std::mutex> lock(errMutex);
          if (firstError.empty())
            firstError = key.cacheKey() + ": " + msg;
        };
        SmallString<256> tmp;
        if (std::error_code ec = sys::fs::createUniqueDirectory(Twine(dir) + "/tmp-" + name, tmp))
          return fail("cannot create a folder in " + dir.str().str() + ": " + ec.message());
        std::vector<std::string> cmd = key.generatorCommand(gen.str().str(), tmp.str().str());
        std::vector<StringRef> args(cmd.begin(), cmd.end());
        std::string err;
        SmallString<256> log(tmp);
        sys::path::append(log, "gen.log");
        std::optional<StringRef> redirects[] = {std::nullopt, StringRef(log), StringRef(log)};
        int rc = sys::ExecuteAndWait(gen, args, std::nullopt, redirects, 0, 0, &err);
        if (rc != 0) {
          auto text = MemoryBuffer::getFile(log);
          fail(text ? (*text)->getBuffer().trim().str() : err);
        } else {
          for (StringRef ext : {".h", ".a"}) {
            SmallString<256> from(tmp), to(dir);
            sys::path::append(from, name + ext.str());
            sys::path::append(to, name + ext.str());
            // The header first: a present .a means a complete entry.
            if (std::error_code ec = sys::fs::rename(from, to))
              fail("cannot move " + from.str().str() + ": " + ec.message());
          }
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
  die("lowering the glue to an executable is not implemented yet (docs/Codegen.md); the kernels "
      "are in " + dir + ", nothing else was written");
}
