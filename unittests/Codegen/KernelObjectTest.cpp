//===- KernelObjectTest.cpp - kernel bitcode compiled by qcc's LLVM ---------===//
//
// x86 kernels: qcc-kernel-gen emits bitcode, KernelObject compiles it for one CPU. Checked
// here by disassembling the objects (llvm-objdump), so they need not run on this machine: a
// Zen 4 object of a q8 kernel generated with Halide's avx512_sapphirerapids feature uses the
// EVEX (AVX512-VNNI) vpdpbusd and no VEX-encoded AVX-VNNI; the runtime-linked end-to-end runs
// are test/Tools/qcc-exe*.test. f16 matmuls generated with half_extern=true call
// qcc_f16_to_f32, which the compilation replaces with F16C conversions.
//
//===----------------------------------------------------------------------===//
#include "qcc/Codegen/HalfToFloat.h"
#include "qcc/Codegen/KernelKey.h"
#include "qcc/Codegen/KernelObject.h"
#include "qcc/Quant/Float16.h"

#include "llvm/Bitcode/BitcodeWriter.h"
#include "llvm/IR/IRBuilder.h"
#include "llvm/IR/LLVMContext.h"
#include "llvm/IR/Module.h"
#include "llvm/Support/raw_ostream.h"

#include "TestFiles.h"

#include "gtest/gtest.h"

#include <cstdlib>
#include <dlfcn.h>
#include <filesystem>
#include <fstream>
#include <functional>
#include <regex>
#include <string>

using namespace qcc::codegen;
namespace fs = std::filesystem;
using qcc::test::freshDir;
using qcc::test::readFile;

namespace {

/// qcc-kernel-gen -e bitcode for `target`; returns the .bc path ("" on failure, log in dir).
fs::path bitcode(const fs::path &dir, const std::string &target, const std::string &params) {
  std::string cmd = std::string(QCC_KERNEL_GEN) + " -g qcc_matmul -f k -o " + dir.string() +
                    " -e bitcode target=" + target + "-no_runtime " + params + " > " +
                    (dir / "log.txt").string() + " 2>&1";
  return std::system(cmd.c_str()) == 0 ? dir / "k.bc" : fs::path();
}

std::string disassemble(const fs::path &object) {
  const fs::path out = object.string() + ".dis";
  // With relocations: a call of an undefined function shows its name.
  std::string cmd = std::string(QCC_LLVM_OBJDUMP) + " -dr " + object.string() + " > " +
                    out.string() + " 2>&1";
  EXPECT_EQ(std::system(cmd.c_str()), 0) << readFile(out);
  return readFile(out);
}

std::string message(llvm::Error e) { return llvm::toString(std::move(e)); }

const std::string kAvx512 = "x86-64-linux-sse41-avx-avx2-fma-f16c-avx512-avx512_skylake-"
                            "avx512_cannonlake";

} // namespace

TEST(KernelObject, CpuPerTarget) {
  EXPECT_EQ(kernelCpuFor("x86-64-avx2")->name, "x86-64-v3");
  EXPECT_EQ(kernelCpuFor("x86-64-avx512")->name, "x86-64-v4");
  EXPECT_EQ(kernelCpuFor("x86-64-avx512")->cacheTag(), "x86-64-v4");
  EXPECT_FALSE(kernelCpuFor("aarch64").has_value());
  EXPECT_FALSE(kernelCpuFor("cuda").has_value());
  // The host: a CPU name, its features, and a tag that is stable and names the CPU.
  std::optional<KernelCpu> host = kernelCpuFor("x86-64");
  ASSERT_TRUE(host.has_value());
  EXPECT_FALSE(host->name.empty());
  EXPECT_EQ(host->cacheTag(), kernelCpuFor("x86-64")->cacheTag());
  EXPECT_EQ(host->cacheTag().rfind(host->name + "-", 0), 0u) << host->cacheTag();
}

TEST(KernelObject, HostTargetWithOwnLlvmSelectsVnni) {
  // Zen 4 / Cooper Lake: with qcc's LLVM compiling for the real CPU, Halide's
  // avx512_sapphirerapids only selects the AVX512-VNNI / -BF16 patterns: given.
  const std::string zen4 = "fpu sse4_1 avx avx2 fma f16c avx512f avx512dq avx512ifma avx512cd "
                           "avx512bw avx512vl avx512_bf16 avx512vbmi avx512_vnni";
  EXPECT_EQ(x86KernelTargetFromFlags(zen4, /*ownLlvm=*/true), kAvx512 + "-avx512_sapphirerapids");
  // Ice Lake server: VNNI without BF16: not given.
  const std::string iceLake = "sse4_1 avx avx2 fma f16c avx512f avx512dq avx512ifma avx512cd "
                              "avx512bw avx512vl avx512vbmi avx512_vnni";
  EXPECT_EQ(x86KernelTargetFromFlags(iceLake, /*ownLlvm=*/true), kAvx512);
  // The runtime stays Halide's own object: never for a Sapphire Rapids CPU here.
  EXPECT_EQ(runtimeTargetForOwnLlvm(kAvx512 + "-avx512_sapphirerapids"), kAvx512);
  EXPECT_EQ(runtimeTargetForOwnLlvm("x86-64-linux-sse41-avx-avx2-fma-f16c"),
            "x86-64-linux-sse41-avx-avx2-fma-f16c");
}

TEST(KernelObject, Zen4GetsEvexVnniFromSapphireRapidsBitcode) {
  fs::path dir = freshDir("kernelobj", "zen4");
  fs::path bc = bitcode(dir, kAvx512 + "-avx512_sapphirerapids",
                        "format=int4_g128_sym rows=64 cols=512 batch=1 act_quant=q8_block");
  ASSERT_FALSE(bc.empty()) << readFile(dir / "log.txt");
  const fs::path obj = dir / "k.o", lib = dir / "k.a";
  llvm::Error e = compileKernelBitcode(bc.string(), obj.string(), KernelCpu{"znver4", ""});
  ASSERT_FALSE(e) << message(std::move(e));
  const std::string dis = disassemble(obj);
  EXPECT_NE(dis.find("vpdpbusd"), std::string::npos);
  EXPECT_NE(dis.find("zmm"), std::string::npos);
  EXPECT_EQ(dis.find("{vex}"), std::string::npos); // AVX-VNNI: Zen 4 has none
  EXPECT_EQ(dis.find("vpmaddubsw"), std::string::npos);
  // No temporary file left next to the object.
  for (const auto &entry : fs::directory_iterator(dir))
    EXPECT_EQ(entry.path().filename().string().find(".tmp-"), std::string::npos) << entry.path();
  // The cache keeps a one-member static library; the linker finds the kernel's symbol in it.
  e = writeSingleObjectArchive(obj.string(), lib.string());
  ASSERT_FALSE(e) << message(std::move(e));
  const std::string ar = readFile(lib);
  EXPECT_EQ(ar.substr(0, 8), "!<arch>\n");
  EXPECT_NE(ar.find("k.o"), std::string::npos);
}

TEST(KernelObject, PortableCpuWithoutVnni) {
  // The x86-64-avx512 target: Halide's avx512_skylake bitcode for x86-64-v4: pmaddubsw pairs.
  fs::path dir = freshDir("kernelobj", "v4");
  fs::path bc = bitcode(dir, "x86-64-linux-sse41-avx-avx2-fma-f16c-avx512-avx512_skylake",
                        "format=q4_K rows=64 cols=512 batch=1 act_quant=q8_block");
  ASSERT_FALSE(bc.empty()) << readFile(dir / "log.txt");
  const fs::path obj = dir / "k.o";
  llvm::Error e = compileKernelBitcode(bc.string(), obj.string(), *kernelCpuFor("x86-64-avx512"));
  ASSERT_FALSE(e) << message(std::move(e));
  const std::string dis = disassemble(obj);
  EXPECT_NE(dis.find("vpmaddubsw"), std::string::npos);
  EXPECT_EQ(dis.find("vpdpbusd"), std::string::npos);
}

TEST(KernelObject, BadInputIsAnError) {
  fs::path dir = freshDir("kernelobj", "bad");
  const KernelCpu cpu{"x86-64-v3", ""};
  llvm::Error e = compileKernelBitcode((dir / "missing.bc").string(), (dir / "k.o").string(), cpu);
  ASSERT_TRUE(bool(e));
  EXPECT_NE(message(std::move(e)).find("missing.bc"), std::string::npos);
  {
    std::ofstream(dir / "junk.bc") << "not bitcode";
  }
  e = compileKernelBitcode((dir / "junk.bc").string(), (dir / "k.o").string(), cpu);
  ASSERT_TRUE(bool(e));
  EXPECT_NE(message(std::move(e)).find("junk.bc"), std::string::npos);
  EXPECT_FALSE(fs::exists(dir / "k.o"));
  e = writeSingleObjectArchive((dir / "missing.o").string(), (dir / "k.a").string());
  ASSERT_TRUE(bool(e));
  llvm::consumeError(std::move(e));
  EXPECT_FALSE(fs::exists(dir / "k.a"));
}

TEST(KernelObject, HalfToFloatCallsBecomeF16C) {
  // f16 GEMV rows of 172 columns: 5 whole 32-lane steps (vector calls) and a scalar tail.
  const std::string params = "format=f16 rows=64 cols=172 batch=1";
  for (const char *cpu : {"znver4", "x86-64-v3"}) {
    fs::path dir = freshDir("kernelobj", std::string("f16-") + cpu);
    fs::path bc = bitcode(dir, kAvx512, params + " half_extern=true");
    ASSERT_FALSE(bc.empty()) << readFile(dir / "log.txt");
    llvm::Error e = compileKernelBitcode(bc.string(), (dir / "k.o").string(), KernelCpu{cpu, ""});
    ASSERT_FALSE(e) << message(std::move(e));
    const std::string dis = disassemble(dir / "k.o");
    EXPECT_NE(dis.find("vcvtph2ps"), std::string::npos) << cpu;
    EXPECT_NE(dis.find("vcvtph2ps\t("), std::string::npos) << cpu; // vectors, from memory
    EXPECT_EQ(dis.find(kHalfToFloatExtern), std::string::npos) << cpu;
  }
  // Without the param the generator converts with its own bit arithmetic.
  fs::path dir = freshDir("kernelobj", "f16-bits");
  fs::path bc = bitcode(dir, kAvx512, params);
  ASSERT_FALSE(bc.empty()) << readFile(dir / "log.txt");
  llvm::Error e =
      compileKernelBitcode(bc.string(), (dir / "k.o").string(), KernelCpu{"znver4", ""});
  ASSERT_FALSE(e) << message(std::move(e));
  EXPECT_EQ(disassemble(dir / "k.o").find("vcvtph2ps"), std::string::npos);
  // qcc asks for the param exactly where it compiles the bitcode itself, for every matmul.
  KernelKey k;
  k.format = "f16";
  k.rows = 64;
  k.cols = 172;
  k.batch = 1;
  EXPECT_EQ(k.generatorCommand("gen", "out", /*bitcode=*/true).back(), "half_extern=true");
  EXPECT_EQ(k.generatorCommand("gen", "out").back(), "batch=1");
  k.op = KernelOp::RmsNorm;
  EXPECT_EQ(k.generatorCommand("gen", "out", /*bitcode=*/true).back(), "dim=172");
}

namespace {

/// Bitcode of `void f(ptr in, ptr out)` with the calls of qcc_f16_to_f32 that `body` makes
/// (declared with `argBits`-bit argument).
fs::path handWritten(const fs::path &dir, unsigned argBits,
                     const std::function<void(llvm::IRBuilder<> &, llvm::Function *,
                                              llvm::Value *, llvm::Value *)> &body) {
  llvm::LLVMContext ctx;
  llvm::Module m("hand", ctx);
  llvm::IRBuilder<> b(ctx);
  llvm::Function *convert = llvm::Function::Create(
      llvm::FunctionType::get(b.getFloatTy(), {b.getIntNTy(argBits)}, false),
      llvm::Function::ExternalLinkage, kHalfToFloatExtern, m);
  llvm::Function *f = llvm::Function::Create(
      llvm::FunctionType::get(b.getVoidTy(), {b.getPtrTy(), b.getPtrTy()}, false),
      llvm::Function::ExternalLinkage, "f", m);
  b.SetInsertPoint(llvm::BasicBlock::Create(ctx, "entry", f));
  body(b, convert, f->getArg(0), f->getArg(1));
  b.CreateRetVoid();
  const fs::path path = dir / "hand.bc";
  std::error_code ec;
  llvm::raw_fd_ostream os(path.string(), ec);
  EXPECT_FALSE(ec) << ec.message();
  llvm::WriteBitcodeToFile(m, os);
  return path;
}

/// `lanes` calls on lanes 0.. of `v`, inserted lane by lane (Halide's scalarised extern call).
llvm::Value *laneByLane(llvm::IRBuilder<> &b, llvm::Function *convert, llvm::Value *v,
                        unsigned lanes) {
  llvm::Value *out = llvm::PoisonValue::get(llvm::FixedVectorType::get(b.getFloatTy(), lanes));
  for (unsigned k = 0; k < lanes; ++k)
    out = b.CreateInsertElement(out, b.CreateCall(convert, {b.CreateExtractElement(v, k)}), k);
  return out;
}

} // namespace

TEST(KernelObject, HalfToFloatCallsInAnyShape) {
  fs::path dir = freshDir("kernelobj", "f16-hand");
  // A whole 8-lane vector, a vector built from half of a wider one, a lone scalar call.
  fs::path bc = handWritten(dir, 16, [](llvm::IRBuilder<> &b, llvm::Function *convert,
                                        llvm::Value *in, llvm::Value *out) {
    llvm::Value *v = b.CreateLoad(llvm::FixedVectorType::get(b.getInt16Ty(), 8), in);
    b.CreateStore(laneByLane(b, convert, v, 8), out);
    llvm::Value *half4 = laneByLane(b, convert, v, 4);
    b.CreateStore(half4, b.CreateConstGEP1_64(b.getInt8Ty(), out, 32));
    llvm::Value *one = b.CreateCall(convert, {b.getInt16(0x3c00)});
    b.CreateStore(one, b.CreateConstGEP1_64(b.getInt8Ty(), out, 48));
  });
  llvm::Error e =
      compileKernelBitcode(bc.string(), (dir / "k.o").string(), KernelCpu{"x86-64-v3", ""});
  ASSERT_FALSE(e) << message(std::move(e));
  const std::string dis = disassemble(dir / "k.o");
  // The 8 lanes: one conversion xmm -> ymm; the half-built vector lane by lane; the constant
  // 0x3c00 folded to 1.0f (0x3f800000).
  EXPECT_TRUE(std::regex_search(dis, std::regex("vcvtph2ps\t%xmm[0-9]+, %ymm"))) << dis;
  EXPECT_NE(dis.find("0x3f800000"), std::string::npos) << dis;
  EXPECT_EQ(dis.find(kHalfToFloatExtern), std::string::npos) << dis;

  // A declaration qcc does not know how to replace is an error, and no object is written.
  fs::path wrong = handWritten(dir, 32, [](llvm::IRBuilder<> &b, llvm::Function *convert,
                                           llvm::Value *, llvm::Value *out) {
    b.CreateStore(b.CreateCall(convert, {b.getInt32(1)}), out);
  });
  e = compileKernelBitcode(wrong.string(), (dir / "wrong.o").string(), KernelCpu{"x86-64-v3", ""});
  ASSERT_TRUE(bool(e));
  EXPECT_NE(message(std::move(e)).find("not a declaration float(i16)"), std::string::npos);
  EXPECT_FALSE(fs::exists(dir / "wrong.o"));
}

#if defined(__x86_64__)
namespace {

/// Halide's reading of an f16 at byte b of a uint8 buffer, vectorised over 16 lanes k:
/// zext(w[b0 + s·k]) | zext(w[b0 + s·k + 1]) << 8, the even and the odd bytes as shuffles of
/// two byte loads of `loBytes` and `hiBytes` from `in` (the int4 groups' parameter tables),
/// aligned to 1 as Halide's are (LLVM cannot widen them to whole vectors itself).
llvm::Value *bytePairs(llvm::IRBuilder<> &b, llvm::Value *in, unsigned b0, unsigned s,
                       unsigned loBytes, unsigned hiBytes) {
  llvm::SmallVector<int, 16> lo, hi;
  for (int k = 0; k < 16; ++k) {
    lo.push_back(int(b0 + s * k));
    hi.push_back(int(b0 + s * k + 1));
  }
  auto half = [&](unsigned bytes, llvm::ArrayRef<int> mask) {
    llvm::Value *v =
        b.CreateAlignedLoad(llvm::FixedVectorType::get(b.getInt8Ty(), bytes), in, llvm::Align(1));
    return b.CreateZExt(b.CreateShuffleVector(v, mask),
                        llvm::FixedVectorType::get(b.getInt16Ty(), 16));
  };
  llvm::Value *l = half(loBytes, lo);
  llvm::Value *h = half(hiBytes, hi);
  return b.CreateOr(b.CreateShl(h, 8), l);
}

/// Compiles `bc` for x86-64-v3 (AVX2, F16C), links it as a shared library and runs
/// f(in, out); returns the disassembly.
std::string runHand(const fs::path &dir, const fs::path &bc, const uint8_t *in, float *out) {
  const fs::path obj = dir / (bc.stem().string() + ".o"), lib = dir / (bc.stem().string() + ".so");
  llvm::Error e = compileKernelBitcode(bc.string(), obj.string(), KernelCpu{"x86-64-v3", ""});
  EXPECT_FALSE(e) << message(std::move(e));
  const std::string link = std::string(QCC_CXX_COMPILER) + " -shared -o " + lib.string() + " " +
                           obj.string() + " > " + (dir / "link.txt").string() + " 2>&1";
  EXPECT_EQ(std::system(link.c_str()), 0) << readFile(dir / "link.txt");
  void *handle = dlopen(lib.c_str(), RTLD_NOW | RTLD_LOCAL);
  EXPECT_NE(handle, nullptr) << dlerror();
  if (handle) {
    auto *f = reinterpret_cast<void (*)(const uint8_t *, float *)>(dlsym(handle, "f"));
    EXPECT_NE(f, nullptr);
    if (f)
      f(in, out);
    dlclose(handle);
  }
  return disassemble(obj);
}

} // namespace

TEST(KernelObject, HalvesReadAsBytePairsBecomeLoads) {
  if (!__builtin_cpu_supports("avx2") || !__builtin_cpu_supports("f16c"))
    GTEST_SKIP() << "the objects are for x86-64-v3 (AVX2, F16C)";
  fs::path dir = freshDir("kernelobj", "f16-pairs");
  // 64 halves: value i at bytes 2i, 2i + 1.
  alignas(64) uint8_t in[128];
  auto value = [](int i) { return 0.25f * float(i) - 3.0f; };
  for (int i = 0; i < 64; ++i) {
    const uint16_t h = qcc::fp32ToFp16(value(i));
    in[2 * i] = uint8_t(h & 0xff);
    in[2 * i + 1] = uint8_t(h >> 8);
  }
  // 1. An int4 g128 symmetric table: 16 scales 2 bytes apart (loads of 31 and 32 bytes).
  // 2. An asymmetric one: 16 scales and 16 zero points, 4 bytes apart; the scales stored into
  //    a stack table between their loads and the zero points' (loads of 61..64 bytes): the
  //    zero points, whose own loads end 2 bytes short of 16 whole 4-byte lanes, are read as
  //    the upper halves of the lanes the last load covers.
  fs::path bc = handWritten(dir, 16, [](llvm::IRBuilder<> &b, llvm::Function *convert,
                                        llvm::Value *in, llvm::Value *out) {
    llvm::Type *f16x = llvm::FixedVectorType::get(b.getFloatTy(), 16);
    b.CreateStore(laneByLane(b, convert, bytePairs(b, in, 0, 2, 31, 32), 16), out);
    llvm::Value *table = b.CreateAlloca(f16x);
    b.CreateStore(laneByLane(b, convert, bytePairs(b, in, 0, 4, 61, 62), 16), table);
    llvm::Value *zeros = laneByLane(b, convert, bytePairs(b, in, 2, 4, 63, 64), 16);
    b.CreateStore(zeros, b.CreateConstGEP1_64(b.getInt8Ty(), out, 128));
    b.CreateStore(b.CreateLoad(f16x, table), b.CreateConstGEP1_64(b.getInt8Ty(), out, 64));
  });
  alignas(64) float out[48] = {0};
  std::string dis = runHand(dir, bc, in, out);
  for (int k = 0; k < 16; ++k) {
    EXPECT_EQ(out[k], value(k)) << k;
    EXPECT_EQ(out[16 + k], value(2 * k)) << k;
    EXPECT_EQ(out[32 + k], value(2 * k + 1)) << k;
  }
  EXPECT_EQ(dis.find(kHalfToFloatExtern), std::string::npos) << dis;
  // For Zen 4 (the kernels' AVX512 code, which lowered the byte shuffles to a dozen inserts
  // and extracts per vector): the symmetric table converted straight from memory, the
  // asymmetric one from 4-byte lanes truncated (the zero points shifted first), no byte or
  // word inserted or extracted lane by lane.
  llvm::Error e =
      compileKernelBitcode(bc.string(), (dir / "zen4.o").string(), KernelCpu{"znver4", ""});
  ASSERT_FALSE(e) << message(std::move(e));
  dis = disassemble(dir / "zen4.o");
  EXPECT_FALSE(std::regex_search(dis, std::regex("pinsr|pextr"))) << dis;
  EXPECT_NE(dis.find("vcvtph2ps\t("), std::string::npos) << dis;
  EXPECT_NE(dis.find("vpsrld\t$0x10"), std::string::npos) << dis;
  EXPECT_NE(dis.find("vpmovdw"), std::string::npos) << dis;

  // A store that may write the bytes (to `out`) between the scales' loads and the zero points':
  // the zero points are not read with the scales' lanes; the values stay exact.
  fs::path aliased = handWritten(dir, 16, [](llvm::IRBuilder<> &b, llvm::Function *convert,
                                             llvm::Value *in, llvm::Value *out) {
    b.CreateStore(laneByLane(b, convert, bytePairs(b, in, 0, 4, 61, 62), 16), out);
    llvm::Value *zeros = laneByLane(b, convert, bytePairs(b, in, 2, 4, 63, 64), 16);
    b.CreateStore(zeros, b.CreateConstGEP1_64(b.getInt8Ty(), out, 64));
  });
  fs::rename(aliased, dir / "aliased.bc");
  alignas(64) float out2[32] = {0};
  runHand(dir, dir / "aliased.bc", in, out2);
  for (int k = 0; k < 16; ++k) {
    EXPECT_EQ(out2[k], value(2 * k)) << k;
    EXPECT_EQ(out2[16 + k], value(2 * k + 1)) << k;
  }
}

namespace {

/// f(in, out): acc (16 floats) = Σ_{i < 8} sitofp(v_i) · (i + 1), v_i = the 4 i32 at in + 16 i
/// padded with zeros to 16 lanes (Halide's form of q4_K's 4-lane mins sum in a 16-lane
/// accumulator); out = acc. `fastMath`: the flags Halide puts on the multiply and the add.
fs::path zeroTailLoop(const fs::path &dir, const std::string &name, bool fastMath) {
  fs::path bc = handWritten(dir, 16, [fastMath](llvm::IRBuilder<> &b, llvm::Function *,
                                                llvm::Value *in, llvm::Value *out) {
    llvm::Function *f = b.GetInsertBlock()->getParent();
    llvm::BasicBlock *entry = b.GetInsertBlock();
    llvm::BasicBlock *loop = llvm::BasicBlock::Create(b.getContext(), "loop", f);
    llvm::BasicBlock *exit = llvm::BasicBlock::Create(b.getContext(), "exit", f);
    b.CreateBr(loop);
    b.SetInsertPoint(loop);
    auto *f16 = llvm::FixedVectorType::get(b.getFloatTy(), 16);
    auto *i4 = llvm::FixedVectorType::get(b.getInt32Ty(), 4);
    llvm::PHINode *i = b.CreatePHI(b.getInt64Ty(), 2);
    llvm::PHINode *acc = b.CreatePHI(f16, 2);
    llvm::Value *v = b.CreateAlignedLoad(i4, b.CreateGEP(i4, in, i), llvm::Align(4));
    llvm::SmallVector<int, 16> pad;
    for (int k = 0; k < 16; ++k)
      pad.push_back(k < 4 ? k : 4);
    llvm::Value *wide = b.CreateShuffleVector(v, llvm::Constant::getNullValue(i4), pad);
    llvm::Value *scale = b.CreateVectorSplat(
        16, b.CreateSIToFP(b.CreateAdd(i, b.getInt64(1)), b.getFloatTy()));
    llvm::FastMathFlags fm;
    if (fastMath)
      fm.setFast();
    b.setFastMathFlags(fm);
    llvm::Value *next = b.CreateFAdd(acc, b.CreateFMul(b.CreateSIToFP(wide, f16), scale));
    llvm::Value *inext = b.CreateAdd(i, b.getInt64(1));
    i->addIncoming(b.getInt64(0), entry);
    i->addIncoming(inext, loop);
    acc->addIncoming(llvm::Constant::getNullValue(f16), entry);
    acc->addIncoming(next, loop);
    b.CreateCondBr(b.CreateICmpEQ(inext, b.getInt64(8)), exit, loop);
    b.SetInsertPoint(exit);
    b.CreateStore(next, out);
  });
  fs::rename(bc, dir / (name + ".bc"));
  return dir / (name + ".bc");
}

} // namespace

TEST(KernelObject, ZeroTailAccumulatorsNarrowed) {
  if (!__builtin_cpu_supports("avx2") || !__builtin_cpu_supports("f16c"))
    GTEST_SKIP() << "the objects are for x86-64-v3 (AVX2, F16C)";
  fs::path dir = freshDir("kernelobj", "zero-tail");
  alignas(64) int32_t ints[32];
  for (int k = 0; k < 32; ++k)
    ints[k] = (k * 37) % 23 - 11;
  float expect[16] = {0};
  for (int i = 0; i < 8; ++i)
    for (int k = 0; k < 4; ++k)
      expect[k] += float(ints[4 * i + k]) * float(i + 1);
  // With Halide's fast-math flags the accumulator is 4 lanes (one xmm conversion, no ymm
  // one); without them (a NaN or infinity in the multiplier would reach lanes 4..15) it stays.
  for (bool fastMath : {true, false}) {
    fs::path bc = zeroTailLoop(dir, fastMath ? "fast" : "strict", fastMath);
    alignas(64) float out[16];
    std::fill(out, out + 16, -1.0f);
    const std::string dis = runHand(dir, bc, reinterpret_cast<const uint8_t *>(ints), out);
    for (int k = 0; k < 16; ++k)
      EXPECT_EQ(out[k], expect[k]) << k << (fastMath ? " fast" : " strict");
    // (The conversion may read its operand from memory.)
    EXPECT_EQ(std::regex_search(dis, std::regex("vcvtdq2ps\t[^\n]*%ymm")), !fastMath) << dis;
    EXPECT_EQ(std::regex_search(dis, std::regex("vcvtdq2ps\t[^\n]*%xmm[0-9]+\n")), fastMath)
        << dis;
  }
}

TEST(KernelObject, Q4KMinsInXmm) {
  // q4_K's mins: 4 pmaddwd lanes, converted and multiplied by dmin · dx in 128-bit registers
  // once qcc's LLVM has narrowed Halide's 16-lane accumulator (docs/Codegen.md). 16
  // super-blocks per row: the block loop is a loop (2 would be unrolled, no accumulator phi).
  fs::path dir = freshDir("kernelobj", "q4k-mins");
  fs::path bc = bitcode(dir, kAvx512,
                        "format=q4_K rows=64 cols=4096 batch=1 act_quant=q8_block "
                        "half_extern=true");
  ASSERT_FALSE(bc.empty()) << readFile(dir / "log.txt");
  llvm::Error e =
      compileKernelBitcode(bc.string(), (dir / "k.o").string(), KernelCpu{"znver4", ""});
  ASSERT_FALSE(e) << message(std::move(e));
  const std::string dis = disassemble(dir / "k.o");
  EXPECT_TRUE(std::regex_search(dis, std::regex("vcvtdq2ps\t[^\n]*%xmm[0-9]+\n"))) << dis;
  EXPECT_TRUE(std::regex_search(dis, std::regex("vfmadd231ps\t%xmm[0-9]+, %xmm[0-9]+, %xmm")))
      << dis;
}
#endif
