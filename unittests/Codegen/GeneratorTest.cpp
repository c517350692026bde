//===- GeneratorTest.cpp - qcc-kernel-gen for other targets, and kernel keys -===//
//
// Cross targets are only generated (objects are not run): an AArch64 ELF object for arm-64-linux
// and, for CUDA, a host object that embeds the PTX module (Halide keeps the kernel source in the
// object, so its ".target sm_86" line is checked). Kernel keys and names are checked here too.
//
//===----------------------------------------------------------------------===//
#include "qcc/Codegen/KernelKey.h"

#include "TestFiles.h"

#include "gtest/gtest.h"

#include <algorithm>
#include <cctype>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>

using namespace qcc;
using namespace qcc::codegen;
namespace fs = std::filesystem;
using qcc::test::freshDir;
using qcc::test::readFile;
using qcc::test::shellCommand;

namespace {

/// Runs qcc-kernel-gen; returns its exit status.
int generate(const fs::path &dir, const std::string &function, const std::string &args,
             const std::string &generator = "qcc_matmul") {
  std::string cmd = std::string(QCC_KERNEL_GEN) + " -g " + generator + " -f " + function + " -o " +
                    dir.string() + " -e object,c_header " + args + " > " +
                    (dir / "log.txt").string() + " 2>&1";
  return std::system(cmd.c_str());
}

TEST(Generator, EmitsAArch64Object) {
  fs::path dir = freshDir("codegen", "arm");
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
  fs::path dir = freshDir("codegen", "cuda");
  ASSERT_EQ(generate(dir, "k_cuda", "target=host-cuda-cuda_capability_86 format=int4_g128_asym"), 0)
      << readFile(dir / "log.txt");
  std::string obj = readFile(dir / "k_cuda.o");
  ASSERT_FALSE(obj.empty());
  EXPECT_NE(obj.find(".target sm_86"), std::string::npos) << "no embedded sm_86 PTX";
}

// The W8A8 variant lowers its int8 dot products to sdot with arm_dot_prod (and to vpdpbusd on
// x86 with avx512_sapphirerapids; the x86 encoding is checked by hand, see MatMulW8A8.cpp).
TEST(Generator, W8A8UsesArmDotProduct) {
  fs::path dir = freshDir("codegen", "w8a8");
  ASSERT_EQ(generate(dir, "k_w8", "target=arm-64-linux-arm_dot_prod format=int8_g0_sym "
                                  "act_quant=int8_per_token batch=1 -e assembly"),
            0)
      << readFile(dir / "log.txt");
  EXPECT_NE(readFile(dir / "k_w8.s").find("sdot"), std::string::npos);
}

// q8 activations (MatMulQ8Act.cpp): integer dot products, no gathers: pmaddubsw + pmaddwd on
// x86 without AVX512-VNNI, vpdpbusd with Halide's avx512_sapphirerapids, sdot on arm.
TEST(Generator, Q8ActUsesIntegerDotProducts) {
  fs::path dir = freshDir("codegen", "q8act");
  const std::string avx512 = "x86-64-linux-sse41-avx-avx2-fma-f16c-avx512-avx512_skylake-"
                             "avx512_cannonlake";
  const std::string vnni = avx512 + "-avx512_sapphirerapids";
  // q4_K: x86 pairs everywhere, with AVX512-VNNI the scales in one vpdpwssd chain; q6_K:
  // vpdpbusd with AVX512-VNNI. The other formats: one target (generation takes seconds).
  struct {
    std::string format, target;
    std::vector<std::string> instructions;
  } cases[] = {{"q4_K", avx512, {"vpmaddubsw", "vpmaddwd"}},
               {"q4_K", "x86-64-linux-sse41-avx-avx2-fma-f16c", {"vpmaddubsw", "vpmaddwd"}},
               {"q4_K", vnni, {"vpmaddubsw", "vpdpwssd"}},
               {"q4_K", "arm-64-linux-arm_dot_prod", {"sdot"}},
               {"q6_K", avx512, {"vpmaddubsw", "vpmaddwd"}},
               {"q6_K", vnni, {"vpdpbusd"}},
               {"q4_0", avx512, {"vpmaddubsw", "vpmaddwd"}},
               {"int4_g128_asym", avx512, {"vpmaddubsw", "vpmaddwd"}}};
  for (const auto &c : cases) {
    // Without the runtime, whose code is not under test.
    ASSERT_EQ(generate(dir, "k_q8", "target=" + c.target + "-no_runtime format=" + c.format +
                                        " rows=64 cols=512 batch=1 act_quant=q8_block "
                                        "-e assembly"),
              0)
        << readFile(dir / "log.txt");
    const std::string s = readFile(dir / "k_q8.s");
    for (const std::string &instruction : c.instructions)
      EXPECT_NE(s.find(instruction), std::string::npos)
          << c.format << " " << c.target << " " << instruction;
    EXPECT_EQ(s.find("gather"), std::string::npos) << c.format << " " << c.target;
  }
}

// f32 / f16 / bf16 weights come as typed buffers (float32, uint16 bits; WeightDecoders.h), so
// the GEMV loads whole vectors of values: no byte inserts, byte widenings or word-to-byte
// truncations (what rebuilding each value from a uint8 buffer compiled to, at 2-4x the time).
TEST(Generator, FloatWeightsUseTypedVectorLoads) {
  fs::path dir = freshDir("codegen", "floatw");
  const std::string avx512 = "x86-64-linux-sse41-avx-avx2-fma-f16c-avx512-avx512_skylake-"
                             "avx512_cannonlake";
  for (const char *format : {"f32", "f16", "bf16"}) {
    ASSERT_EQ(generate(dir, "k_float", "target=" + avx512 + "-no_runtime format=" + format +
                                           " rows=64 cols=512 batch=1 -e assembly"),
              0)
        << readFile(dir / "log.txt");
    const std::string s = readFile(dir / "k_float.s");
    for (const char *bytewise : {"vpinsrb", "vpinsrw", "vpmovzxb", "vpmovwb", "vpmovdb"})
      EXPECT_EQ(s.find(bytewise), std::string::npos) << format << ": " << bytewise;
    EXPECT_NE(s.find("vfmadd"), std::string::npos) << format;
    if (std::string(format) != "f32")
      EXPECT_NE(s.find("vpmovzxwd"), std::string::npos) << format; // 16-bit lanes widened
    else
      EXPECT_EQ(s.find("vpmovzx"), std::string::npos) << format;
  }
}

// Decode GEMVs with fixed rows run about 32 parallel tasks of at least 256 KiB of weights each
// (MatMulGenerator.cpp, autoRowTile); prefill and dynamic rows keep tiles of 16 rows, and an
// explicit row_tile wins. Read off the parallel loop's extent in the lowered statement.
TEST(Generator, DecodeTasksAreLongRunsOfRows) {
  fs::path dir = freshDir("codegen", "tiles");
  const std::string base = "target=x86-64-linux-sse41-avx-avx2-fma-f16c-no_runtime ";
  struct {
    std::string params;
    int tasks; // halide_do_par_for extent of the row tiles
  } cases[] = {
      // 14336 rows / 32 = 448 rows (946 KB of int4 g128): 32 tasks.
      {"format=int4_g128_sym rows=14336 cols=4096 batch=1 act_quant=q8_block", 32},
      // 1024 rows of 2112 bytes: 1024/32 = 32 rows would be 68 KB; 128 rows (270 KB): 8 tasks.
      {"format=int4_g128_sym rows=1024 cols=4096 batch=1 act_quant=q8_block", 8},
      // Small: 256 KiB of 144-byte q4_K rows is 1821 -> 1824 rows, more than all 1000: one
      // task (the tile is capped at the rows, rounded up to 16).
      {"format=q4_K rows=1000 cols=256 batch=1 act_quant=q8_block", 1},
      // The float GEMV: 4096 rows of 8 KB f16: 128 rows (1 MB), 32 tasks.
      {"format=f16 rows=4096 cols=4096 batch=1", 32},
      // An explicit tile.
      {"format=f16 rows=4096 cols=4096 batch=1 row_tile=16", 256},
      // Dynamic rows: 16-row tiles of whatever comes (the extent is computed, not a constant).
      {"format=f16 cols=4096 batch=1", -1},
  };
  for (const auto &c : cases) {
    ASSERT_EQ(generate(dir, "k_tiles", base + c.params + " -e stmt"), 0)
        << readFile(dir / "log.txt");
    const std::string stmt = readFile(dir / "k_tiles.stmt");
    const std::string call = "par_for_y_s0_r_ro, 0, ";
    const size_t at = stmt.find(call);
    if (c.tasks == 1) {
      EXPECT_EQ(at, std::string::npos) << c.params; // a single tile: no parallel loop
      continue;
    }
    ASSERT_NE(at, std::string::npos) << c.params << "\n" << stmt.substr(0, 2000);
    const std::string extent = stmt.substr(at + call.size(), 12);
    if (c.tasks > 0)
      EXPECT_EQ(std::atoi(extent.c_str()), c.tasks) << c.params << ": " << extent;
    else
      EXPECT_FALSE(std::isdigit(static_cast<unsigned char>(extent[0]))) << c.params;
  }
}

// Which decode kernels prefetch their rows in software (measured per format, docs/Codegen.md):
// q4_0, int4 g64 and q6_K do; int4 g128 / g32, q8_0 and q4_K leave it to the hardware.
TEST(Generator, DecodeSoftwarePrefetchPerFormat) {
  fs::path dir = freshDir("codegen", "prefetch");
  const std::string base = "target=x86-64-linux-sse41-avx-avx2-fma-f16c-avx512-avx512_skylake-"
                           "avx512_cannonlake-avx512_sapphirerapids-no_runtime act_quant=q8_block "
                           "rows=256 cols=4096 batch=1 ";
  const std::pair<const char *, bool> cases[] = {
      {"q4_0", true},           {"int4_g64_sym", true},   {"q6_K", true},
      {"int4_g128_sym", false}, {"int4_g32_asym", false}, {"q8_0", false},
      {"q4_K", false},
  };
  for (const auto &[format, prefetches] : cases) {
    ASSERT_EQ(generate(dir, "k_pf", base + "format=" + format + " -e stmt"), 0)
        << readFile(dir / "log.txt");
    const std::string stmt = readFile(dir / "k_pf.stmt");
    ASSERT_NE(stmt.find("par_for_y_s0_r_ro"), std::string::npos) << format; // the row loop
    EXPECT_EQ(stmt.find("prefetch") != std::string::npos, prefetches) << format;
  }
}

TEST(Generator, Q8ActRejectsWhatItCannotDo) {
  fs::path dir = freshDir("codegen", "q8bad");
  const std::string q8 = "target=host act_quant=q8_block ";
  EXPECT_NE(generate(dir, "k_bad", q8 + "format=q5_K batch=1"), 0);          // no q8 path
  EXPECT_NE(generate(dir, "k_bad", q8 + "format=q4_K"), 0);                  // dynamic batch
  EXPECT_NE(generate(dir, "k_bad", q8 + "format=q4_K batch=9"), 0);          // batch > 8
  EXPECT_NE(generate(dir, "k_bad", q8 + "format=q4_0 batch=1 cols=96"), 0);  // not 128·k
  EXPECT_NE(generate(dir, "k_bad", q8 + "format=int4_g16_sym batch=1"), 0);  // group < 32
  EXPECT_NE(generate(dir, "k_bad", q8 + "format=int3_g128_sym batch=1"), 0); // not 4-bit
  // Format names are case-insensitive here too (the q4_K / q6_K kernel included).
  EXPECT_EQ(generate(dir, "k_ok", q8 + "format=Q4_K batch=1 rows=32 cols=256"), 0)
      << readFile(dir / "log.txt");
  EXPECT_EQ(generate(dir, "k_ok", q8 + "format=Q6_K batch=1 rows=32 cols=256"), 0)
      << readFile(dir / "log.txt");
  // Row blocks need whole tiles of fixed rows.
  EXPECT_NE(generate(dir, "k_bad", q8 + "format=q4_K batch=1 row_block=4"), 0); // dynamic rows
  EXPECT_NE(generate(dir, "k_bad", q8 + "format=q4_K batch=1 rows=40 row_block=4"), 0);
  EXPECT_NE(readFile(dir / "log.txt").find("row_block=4 needs fixed rows"), std::string::npos)
      << readFile(dir / "log.txt");
  EXPECT_NE(generate(dir, "k_bad", q8 + "format=q4_K batch=1 rows=48 row_tile=16 row_block=3"),
            0);
  // The automatic tile of 48 rows holds blocks of 3.
  EXPECT_EQ(generate(dir, "k_ok", q8 + "format=q4_K batch=1 rows=48 cols=256 row_block=3"), 0)
      << readFile(dir / "log.txt");
  EXPECT_NE(generate(dir, "k_bad", q8 + "format=q4_K batch=1 rows=48 row_tile=-1"), 0);
  EXPECT_NE(readFile(dir / "log.txt").find("row_tile must be >= 0"), std::string::npos)
      << readFile(dir / "log.txt");
  EXPECT_NE(generate(dir, "k_bad", "target=host-cuda-cuda_capability_86 act_quant=q8_block "
                                   "format=q4_K batch=1"),
            0);
  EXPECT_NE(generate(dir, "k_bad", "target=host act_quant=q8 format=q4_K batch=1"), 0);
}

TEST(Generator, NewOpsGenerateForCuda) {
  fs::path dir = freshDir("codegen", "cuda-ops");
  const std::string cuda = "target=host-cuda-cuda_capability_86 ";
  EXPECT_EQ(generate(dir, "k1", cuda + "format=q3_K"), 0) << readFile(dir / "log.txt");
  EXPECT_EQ(generate(dir, "k2", cuda + "format=int5_g0_asym"), 0) << readFile(dir / "log.txt");
  EXPECT_EQ(generate(dir, "k3", cuda + "format=q5_K", "qcc_embed"), 0) << readFile(dir / "log.txt");
  EXPECT_EQ(generate(dir, "k4", cuda + "style=rotate_half freq_factors=true", "qcc_rope"), 0)
      << readFile(dir / "log.txt");
  EXPECT_EQ(generate(dir, "k5", cuda, "qcc_add"), 0) << readFile(dir / "log.txt");
  EXPECT_EQ(generate(dir, "k6", cuda, "qcc_attention"), 0) << readFile(dir / "log.txt");
  EXPECT_EQ(generate(dir, "k7", cuda + "opt=0", "qcc_rms_norm"), 0) << readFile(dir / "log.txt");
}

TEST(Generator, RejectsBadOptLevel) {
  fs::path dir = freshDir("codegen", "badopt");
  EXPECT_NE(generate(dir, "k_bad", "target=host format=q4_0 opt=4"), 0);
  EXPECT_NE(generate(dir, "k_bad", "target=host opt=-1", "qcc_attention"), 0);
  EXPECT_NE(generate(dir, "k_bad", "target=host opt=7", "qcc_add"), 0);
}

TEST(Generator, RejectsUnknownFormat) {
  fs::path dir = freshDir("codegen", "bad");
  EXPECT_NE(generate(dir, "k_bad", "target=host format=q9_9"), 0);
  EXPECT_NE(generate(dir, "k_bad", "target=host format=q4_K cols=100"), 0);
  EXPECT_NE(generate(dir, "k_bad", "target=host format=int4_g24_sym"), 0); // not a power of 2
  EXPECT_NE(generate(dir, "k_bad", "target=host format=int9_g0_sym"), 0);
  EXPECT_NE(generate(dir, "k_bad", "target=host format=q4_0 act_quant=int8_per_token"), 0);
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
  // Kernels carry no Halide runtime: one per target comes from runtimeCommand.
  EXPECT_NE(std::find(cmd.begin(), cmd.end(), "target=x86-64-linux-avx2-no_runtime"), cmd.end());
  EXPECT_EQ(runtimeCommand("gen", "out", k.target),
            (std::vector<std::string>{"gen", "-r", "qcc_halide_runtime", "-o", "out", "-e",
                                      "static_library", "target=x86-64-linux-avx2"}));

  // -O levels: opt=N in the params and the key unless 3; the function name stays.
  k.optLevel = 0;
  EXPECT_EQ(k.cacheKey(),
            "qcc_matmul:format=q4_K:rows=4096:cols=11008:opt=0@x86-64-linux-avx2");
  EXPECT_EQ(k.functionName(), "qcc_matmul_q4_K_r4096_c11008_bd_x86_64_linux_avx2");
  EXPECT_EQ(k.generatorCommand("gen", "out").back(), "opt=0");
  k.optLevel = 3;

  KernelKey norm;
  norm.op = KernelOp::RmsNorm;
  norm.cols = 4096;
  EXPECT_EQ(norm.cacheKey(), "qcc_rms_norm:dim=4096@host");

  KernelKey w8;
  w8.format = "int8_g0_sym";
  w8.batch = 1;
  w8.int8Activations = true;
  EXPECT_EQ(w8.cacheKey(), "qcc_matmul:format=int8_g0_sym:batch=1:act_quant=int8_per_token@host");
  EXPECT_EQ(w8.functionName(), "qcc_matmul_int8_g0_sym_a8_rd_cd_b1_host");

  KernelKey q8 = k;
  q8.batch = 1;
  q8.cols = 4096;
  q8.q8Activations = true;
  EXPECT_EQ(q8.cacheKey(),
            "qcc_matmul:format=q4_K:rows=4096:cols=4096:batch=1:act_quant=q8_block@"
            "x86-64-linux-avx2");
  EXPECT_EQ(q8.functionName(), "qcc_matmul_q4_K_q8a_r4096_c4096_b1_x86_64_linux_avx2");
  q8.q8Activations = false;
  EXPECT_EQ(q8.functionName(), "qcc_matmul_q4_K_r4096_c4096_b1_x86_64_linux_avx2");

  KernelKey emb;
  emb.op = KernelOp::Embed;
  emb.format = "q6_K";
  emb.cols = 4096;
  EXPECT_EQ(emb.cacheKey(), "qcc_embed:format=q6_K:cols=4096@host");
  EXPECT_EQ(emb.functionName(), "qcc_embed_q6_K_c4096_host");

  KernelKey rope;
  rope.op = KernelOp::Rope;
  rope.ropeStyle = RopeKernelStyle::RotateHalf;
  rope.ropeFreqFactors = true;
  EXPECT_EQ(rope.cacheKey(), "qcc_rope:style=rotate_half:freq_factors=true@host");
  EXPECT_EQ(rope.functionName(), "qcc_rope_rotate_half_ff_host");
  rope.ropeStyle = RopeKernelStyle::Interleaved;
  rope.ropeFreqFactors = false;
  EXPECT_EQ(rope.functionName(), "qcc_rope_interleaved_host");

  KernelKey att;
  att.op = KernelOp::Attention;
  EXPECT_EQ(att.cacheKey(), "qcc_attention@host");
  att.optLevel = 1;
  EXPECT_EQ(att.cacheKey(), "qcc_attention:opt=1@host");
  EXPECT_EQ(att.functionName(), "qcc_attention_host");
  KernelKey add;
  add.op = KernelOp::Add;
  EXPECT_EQ(add.functionName(), "qcc_add_host");
}

TEST(KernelKey, Q8ActivationsSupported) {
  const std::string x86 = "x86-64-linux-avx2";
  EXPECT_TRUE(q8ActivationsSupported("q4_K", 4096, 1, x86));
  EXPECT_TRUE(q8ActivationsSupported("q4_K", 14336, 8, x86));
  EXPECT_FALSE(q8ActivationsSupported("q4_K", 4096 + 128, 1, x86)); // whole super-blocks
  EXPECT_FALSE(q8ActivationsSupported("q4_K", 4096, 0, x86));       // prefill
  EXPECT_FALSE(q8ActivationsSupported("q4_K", 4096, 9, x86));
  EXPECT_TRUE(q8ActivationsSupported("q4_0", 384, 1, x86));
  EXPECT_FALSE(q8ActivationsSupported("q4_0", 96, 1, x86));
  EXPECT_TRUE(q8ActivationsSupported("int4_g128_sym", 4096, 1, x86));
  EXPECT_TRUE(q8ActivationsSupported("int4_g32_asym", 128, 1, x86));
  EXPECT_TRUE(q8ActivationsSupported("int4_g256_asym", 512, 1, x86));
  EXPECT_FALSE(q8ActivationsSupported("int4_g256_asym", 384, 1, x86));
  EXPECT_FALSE(q8ActivationsSupported("int4_g16_sym", 4096, 1, x86));
  EXPECT_FALSE(q8ActivationsSupported("int4_g0_sym", 4096, 1, x86));
  EXPECT_FALSE(q8ActivationsSupported("int4_g128_symx", 4096, 1, x86));
  EXPECT_TRUE(q8ActivationsSupported("q6_K", 4096, 1, x86));
  EXPECT_FALSE(q8ActivationsSupported("q6_K", 4096 + 128, 1, x86));
  EXPECT_FALSE(q8ActivationsSupported("q5_K", 4096, 1, x86));
  EXPECT_FALSE(q8ActivationsSupported("f16", 4096, 1, x86));
  // q8_0: vpdpbusd only (AVX512-VNNI, Halide's avx512_sapphirerapids).
  const std::string vnni = "x86-64-linux-avx512-avx512_skylake-avx512_sapphirerapids";
  EXPECT_TRUE(q8ActivationsSupported("q8_0", 4096, 1, vnni));
  EXPECT_FALSE(q8ActivationsSupported("q8_0", 4096 + 32, 1, vnni));
  EXPECT_FALSE(q8ActivationsSupported("q8_0", 4096, 1, x86));
  EXPECT_FALSE(q8ActivationsSupported("q8_0", 4096, 1, "arm-64-linux-arm_dot_prod"));
  EXPECT_TRUE(q8ActivationsSupported("q4_K", 4096, 1, "arm-64-linux-arm_dot_prod"));
  EXPECT_TRUE(q8ActivationsSupported("int4_g128_sym", 4096, 1, "arm-64-linux"));
  EXPECT_FALSE(q8ActivationsSupported("q4_K", 4096, 1, "arm-32-linux"));
  EXPECT_FALSE(q8ActivationsSupported("q4_K", 4096, 1, "x86-64-linux-cuda-cuda_capability_86"));
}

TEST(KernelKey, FormatNames) {
  EXPECT_EQ(matmulFormatName(GGMLType::Q6_K, std::nullopt), "q6_K");
  EXPECT_EQ(matmulFormatName(GGMLType::Q2_K, std::nullopt), "q2_K");
  EXPECT_EQ(matmulFormatName(GGMLType::Q3_K, std::nullopt), "q3_K");
  EXPECT_EQ(matmulFormatName(GGMLType::Q5_K, std::nullopt), "q5_K");
  EXPECT_EQ(matmulFormatName(GGMLType::IQ4_NL, std::nullopt), "iq4_nl");
  EXPECT_EQ(matmulFormatName(GGMLType::Q8_K, std::nullopt), std::nullopt); // activations only
  quantalgo::IntGroupFormat f;
  f.bits = 4;
  f.groupSize = 128;
  f.symmetric = false;
  EXPECT_EQ(matmulFormatName(GGMLType::I8, f), "int4_g128_asym");
  f.bits = 3;
  EXPECT_EQ(matmulFormatName(GGMLType::I8, f), "int3_g128_asym");
  f.bits = 7;
  f.groupSize = 0;
  f.symmetric = true;
  EXPECT_EQ(matmulFormatName(GGMLType::I8, f), "int7_g0_sym");
  f.groupSize = 48;
  EXPECT_EQ(matmulFormatName(GGMLType::I8, f), std::nullopt);
}

// Every format qcc-quantize can write has a kernel: each ggml type with a quantizer (except
// q8_K, an activation format, and plain i8 storage) and every legal #qllm.int.
TEST(KernelKey, EveryWritableFormatHasAKernel) {
  for (const FormatInfo &info : allFormats()) {
    if (info.type == GGMLType::Q8_K || info.type == GGMLType::Q8_1 || info.type == GGMLType::I8)
      continue;
    EXPECT_TRUE(matmulFormatName(info.type, std::nullopt).has_value()) << info.name;
  }
  for (int bits = 2; bits <= 8; ++bits)
    for (int64_t group : {0, 16, 32, 64, 128, 256})
      for (bool sym : {false, true}) {
        quantalgo::IntGroupFormat f;
        f.bits = bits;
        f.groupSize = group;
        f.symmetric = sym;
        EXPECT_TRUE(matmulFormatName(GGMLType::I8, f).has_value()) << bits << " " << group;
      }
}

TEST(KernelKey, HostTargetAvoidsHalidesSapphireRapidsGuess) {
  // Zen 4 / Cooper Lake: AVX512-VNNI and -BF16, but no AVX512-FP16 or AVX-VNNI.
  std::string zen4 = "fpu sse4_1 avx avx2 fma f16c avx512f avx512dq avx512ifma avx512cd avx512bw "
                     "avx512vl avx512_bf16 avx512vbmi avx512_vnni";
  EXPECT_EQ(x86KernelTargetFromFlags(zen4), "x86-64-linux-sse41-avx-avx2-fma-f16c-avx512-"
                                            "avx512_skylake-avx512_cannonlake");
  EXPECT_EQ(x86KernelTargetFromFlags(zen4 + " avx512_fp16 avx_vnni"),
            "x86-64-linux-sse41-avx-avx2-fma-f16c-avx512-avx512_skylake-avx512_cannonlake-"
            "avx512_sapphirerapids");
  EXPECT_EQ(x86KernelTargetFromFlags("sse4_1 avx avx2 fma f16c"),
            "x86-64-linux-sse41-avx-avx2-fma-f16c");
  EXPECT_FALSE(hostKernelTarget().empty());
}

// The generated KernelKey command line is accepted by the generator.
TEST(KernelKey, CommandRuns) {
  fs::path dir = freshDir("codegen", "key");
  KernelKey k;
  k.format = "q8_0";
  k.rows = 64;
  k.cols = 256;
  k.batch = 2;
  k.optLevel = 1;
  std::string cmd = shellCommand(k.generatorCommand(QCC_KERNEL_GEN, dir.string()));
  ASSERT_EQ(std::system((cmd + "> /dev/null 2>&1").c_str()), 0) << cmd;
  EXPECT_TRUE(fs::exists(dir / (k.functionName() + ".a")));
  EXPECT_TRUE(fs::exists(dir / (k.functionName() + ".h")));
}

// Two runtime-less kernels and the one shared runtime link into a program that runs: an RMSNorm
// (mean square 1 afterwards) feeding a q8_0 matmul whose weights are all zero (output 0).
TEST(KernelKey, KernelsLinkWithOneSharedRuntime) {
  fs::path dir = freshDir("codegen", "link");
  const std::string target = hostKernelTarget();
  KernelKey mm;
  mm.format = "q8_0";
  mm.target = target;
  KernelKey norm;
  norm.op = KernelOp::RmsNorm;
  norm.cols = 64;
  norm.optLevel = 0;
  norm.target = target;
  for (const auto &args : {mm.generatorCommand(QCC_KERNEL_GEN, dir.string()),
                           norm.generatorCommand(QCC_KERNEL_GEN, dir.string()),
                           runtimeCommand(QCC_KERNEL_GEN, dir.string(), target)}) {
    std::string cmd = shellCommand(args);
    ASSERT_EQ(std::system((cmd + "> " + (dir / "log.txt").string() + " 2>&1").c_str()), 0)
        << cmd << "\n" << readFile(dir / "log.txt");
  }
  ASSERT_TRUE(fs::exists(dir / kHalideRuntimeLibrary));
  std::ofstream(dir / "main.cpp") << "#include \"" << mm.functionName() << ".h\"\n"
                                  << "#include \"" << norm.functionName() << ".h\"\n"
                                  << R"(#include "HalideBuffer.h"
#include <cmath>
#include <vector>
int main() {
  std::vector<float> x(64 * 2), y(64 * 2), g(64, 1.0f), out(16 * 2, -1.0f);
  for (size_t i = 0; i < x.size(); ++i)
    x[i] = float(i % 7) - 3.0f;
  Halide::Runtime::Buffer<float> xb(x.data(), 64, 2), gb(g.data(), 64), yb(y.data(), 64, 2);
  if (NORM(xb, gb, 1e-5f, yb) != 0)
    return 1;
  double ss = 0;
  for (int k = 0; k < 64; ++k)
    ss += double(y[k]) * y[k];
  std::vector<uint8_t> w(16 * 68, 0); // 16 rows of two q8_0 blocks, scale 0
  Halide::Runtime::Buffer<uint8_t> wb(w.data(), 68, 16);
  Halide::Runtime::Buffer<float> ob(out.data(), 16, 2);
  if (MATMUL(yb, wb, ob) != 0)
    return 2;
  return std::fabs(ss / 64 - 1.0) < 1e-3 && out[0] == 0.0f && out[31] == 0.0f ? 0 : 3;
}
)";
  const std::string exe = (dir / "prog").string();
  std::string link = std::string(QCC_CXX_COMPILER) + " -std=c++17 -O1 -I" + dir.string() +
                     " -I" QCC_HALIDE_INCLUDE " -DNORM=" + norm.functionName() +
                     " -DMATMUL=" + mm.functionName() + " " + (dir / "main.cpp").string() + " " +
                     (dir / (mm.functionName() + ".a")).string() + " " +
                     (dir / (norm.functionName() + ".a")).string() + " " +
                     (dir / kHalideRuntimeLibrary).string() + " -lpthread -ldl -o " + exe;
  ASSERT_EQ(std::system((link + " > " + (dir / "log.txt").string() + " 2>&1").c_str()), 0)
      << link << "\n" << readFile(dir / "log.txt");
  EXPECT_EQ(std::system(exe.c_str()), 0);
}

} // namespace
