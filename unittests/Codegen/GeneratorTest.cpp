//===- GeneratorTest.cpp - qcc-kernel-gen for other targets, and kernel keys -===//
//
// Cross targets are only generated (objects are not run): an AArch64 ELF object for arm-64-linux
// and, for CUDA, a host object that embeds the PTX module (Halide keeps the kernel source in the
// object, so its ".target sm_86" line is checked). Kernel keys and names are checked here too.
//
//===----------------------------------------------------------------------===//
#include "qcc/Codegen/KernelKey.h"

#include "gtest/gtest.h"

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>

using namespace qcc;
using namespace qcc::codegen;
namespace fs = std::filesystem;

namespace {

fs::path freshDir(const std::string &name) {
  fs::path dir = fs::path(::testing::TempDir()) / ("qcc-codegen-" + name);
  fs::remove_all(dir);
  fs::create_directories(dir);
  return dir;
}

/// Runs qcc-kernel-gen; returns its exit status.
int generate(const fs::path &dir, const std::string &function, const std::string &args) {
  std::string cmd = std::string(QCC_KERNEL_GEN) + " -g qcc_matmul -f " + function + " -o " +
                    dir.string() + " -e object,c_header " + args + " > " +
                    (dir / "log.txt").string() + " 2>&1";
  return std::system(cmd.c_str());
}

std::string readFile(const fs::path &path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

TEST(Generator, EmitsAArch64Object) {
  fs::path dir = freshDir("arm");
  ASSERT_EQ(generate(dir, "k_arm", "target=arm-64-linux-arm_dot_prod format=q4_K rows=256 cols=512"),
            0)
      << readFile(dir / "log.txt");
  std::string obj = readFile(dir / "k_arm.o");
  ASSERT_GT(obj.size(), 64u);
  EXPECT_EQ(obj.substr(0, 4), "\x7f"
                              "ELF");
  // e_machine (offset 18, little endian) = EM_AARCH64 (183).
  EXPECT_EQ(uint8_t(obj[18]) | (uint8_t(obj[19]) << 8), 183);
  EXPECT_TRUE(fs::exists(dir / "k_arm.h"));
}

TEST(Generator, EmitsCudaObjectWithPtx) {
  fs::path dir = freshDir("cuda");
  ASSERT_EQ(generate(dir, "k_cuda", "target=host-cuda-cuda_capability_86 format=int4_g128_asym"), 0)
      << readFile(dir / "log.txt");
  std::string obj = readFile(dir / "k_cuda.o");
  ASSERT_FALSE(obj.empty());
  EXPECT_NE(obj.find(".target sm_86"), std::string::npos) << "no embedded sm_86 PTX";
}

TEST(Generator, RejectsUnknownFormat) {
  fs::path dir = freshDir("bad");
  EXPECT_NE(generate(dir, "k_bad", "target=host format=q9_9"), 0);
  EXPECT_NE(generate(dir, "k_bad", "target=host format=q4_K cols=100"), 0);
}

TEST(KernelKey, NamesAndParams) {
  KernelKey k;
  k.format = "q4_K";
  k.rows = 4096;
  k.cols = 11008;
  k.batch = 1;
  k.target = "x86-64-linux-avx2";
  EXPECT_EQ(k.generatorName(), "qcc_matmul");
  EXPECT_EQ(k.cacheKey(), "qcc_matmul:format=q4_K:rows=4096:cols=11008:batch=1@x86-64-linux-avx2");
  EXPECT_EQ(k.functionName(), "qcc_matmul_q4_K_r4096_c11008_b1_x86_64_linux_avx2");
  k.batch = 0;
  EXPECT_EQ(k.functionName(), "qcc_matmul_q4_K_r4096_c11008_bd_x86_64_linux_avx2");
  auto cmd = k.generatorCommand("gen", "out");
  EXPECT_EQ(cmd.back(), "cols=11008");

  KernelKey norm;
  norm.op = KernelOp::RmsNorm;
  norm.cols = 4096;
  EXPECT_EQ(norm.cacheKey(), "qcc_rms_norm:dim=4096@host");
}

TEST(KernelKey, FormatNames) {
  EXPECT_EQ(matmulFormatName(GGMLType::Q6_K, std::nullopt), "q6_K");
  EXPECT_EQ(matmulFormatName(GGMLType::Q2_K, std::nullopt), std::nullopt);
  quantalgo::IntGroupFormat f;
  f.bits = 4;
  f.groupSize = 128;
  f.symmetric = false;
  EXPECT_EQ(matmulFormatName(GGMLType::I8, f), "int4_g128_asym");
  f.bits = 3;
  EXPECT_EQ(matmulFormatName(GGMLType::I8, f), std::nullopt);
}

// The generated KernelKey command line is accepted by the generator.
TEST(KernelKey, CommandRuns) {
  fs::path dir = freshDir("key");
  KernelKey k;
  k.format = "q8_0";
  k.rows = 64;
  k.cols = 256;
  k.batch = 2;
  std::string cmd;
  for (const std::string &a : k.generatorCommand(QCC_KERNEL_GEN, dir.string()))
    cmd += "'" + a + "' ";
  ASSERT_EQ(std::system((cmd + "> /dev/null 2>&1").c_str()), 0) << cmd;
  EXPECT_TRUE(fs::exists(dir / (k.functionName() + ".a")));
  EXPECT_TRUE(fs::exists(dir / (k.functionName() + ".h")));
}

} // namespace
