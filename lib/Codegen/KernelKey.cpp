//===- KernelKey.cpp - names and cache keys of the generated Halide kernels -===//
#include "qcc/Codegen/KernelKey.h"

#include <algorithm>
#include <cctype>
#include <cstdio>
#include <fstream>
#include <set>
#include <sstream>

namespace qcc::codegen {

std::string KernelKey::generatorName() const {
  switch (op) {
  case KernelOp::MatMul:
    return "qcc_matmul";
  case KernelOp::Embed:
    return "qcc_embed";
  case KernelOp::RmsNorm:
    return "qcc_rms_norm";
  case KernelOp::SwiGlu:
    return "qcc_swiglu";
  case KernelOp::Add:
    return "qcc_add";
  case KernelOp::Rope:
    return "qcc_rope";
  case KernelOp::Attention:
    return "qcc_attention";
  }
  return "";
}

std::vector<std::string> KernelKey::generatorParams() const {
  std::vector<std::string> params;
  auto add = [&](const char *name, int64_t v) {
    if (v > 0)
      params.push_back(std::string(name) + "=" + std::to_string(v));
  };
  switch (op) {
  case KernelOp::MatMul:
    params.push_back("format=" + format);
    add("rows", rows);
    add("cols", cols);
    add("batch", batch);
    if (int8Activations)
      params.push_back("act_quant=int8_per_token");
    else if (q8Activations)
      params.push_back("act_quant=q8_block");
    break;
  case KernelOp::Embed:
    params.push_back("format=" + format);
    add("cols", cols);
    break;
  case KernelOp::RmsNorm:
    add("dim", cols);
    break;
  case KernelOp::Rope:
    params.push_back(std::string("style=") +
                     (ropeStyle == RopeKernelStyle::Interleaved ? "interleaved" : "rotate_half"));
    if (ropeFreqFactors)
      params.push_back("freq_factors=true");
    break;
  case KernelOp::SwiGlu:
  case KernelOp::Add:
  case KernelOp::Attention:
    break;
  }
  if (optLevel != 3)
    params.push_back("opt=" + std::to_string(optLevel));
  return params;
}

std::string KernelKey::cacheKey() const {
  std::string key = generatorName();
  for (const std::string &p : generatorParams())
    key += ":" + p;
  return key + "@" + target;
}

std::string KernelKey::functionName() const {
  std::string name = generatorName();
  auto extent = [](int64_t v) { return v > 0 ? std::to_string(v) : std::string("d"); };
  switch (op) {
  case KernelOp::MatMul:
    name += "_" + format + (int8Activations ? "_a8" : q8Activations ? "_q8a" : "") + "_r" + extent(rows) + "_c" +
            extent(cols) + "_b" + extent(batch);
    break;
  case KernelOp::Embed:
    name += "_" + format + "_c" + extent(cols);
    break;
  case KernelOp::RmsNorm:
    name += "_c" + extent(cols);
    break;
  case KernelOp::Rope:
    name += ropeStyle == RopeKernelStyle::Interleaved ? "_interleaved" : "_rotate_half";
    if (ropeFreqFactors)
      name += "_ff";
    break;
  case KernelOp::SwiGlu:
  case KernelOp::Add:
  case KernelOp::Attention:
    break;
  }
  name += "_" + target;
  for (char &c : name)
    if (!std::isalnum(static_cast<unsigned char>(c)))
      c = '_';
  return name;
}

std::vector<std::string> KernelKey::generatorCommand(const std::string &generatorPath,
                                                     const std::string &outDir,
                                                     bool bitcode) const {
  // No runtime in the kernel: one qcc_halide_runtime.a per target (runtimeCommand).
  std::vector<std::string> cmd = {generatorPath, "-g", generatorName(), "-f", functionName(),
                                  "-o", outDir, "-e",
                                  bitcode ? "bitcode,c_header" : "static_library,c_header",
                                  "target=" + target + "-no_runtime"};
  for (const std::string &p : generatorParams())
    cmd.push_back(p);
  // Bitcode is compiled by qcc's LLVM, which turns the f16 conversions (f16 weights, the
  // block formats' scales) into F16C instructions (HalfToFloat.h).
  if (bitcode && op == KernelOp::MatMul)
    cmd.push_back("half_extern=true");
  return cmd;
}

std::vector<std::string> runtimeCommand(const std::string &generatorPath,
                                        const std::string &outDir, const std::string &target) {
  return {generatorPath, "-r", "qcc_halide_runtime", "-o", outDir, "-e", "static_library",
          "target=" + target};
}

std::optional<std::string>
matmulFormatName(GGMLType type, const std::optional<quantalgo::IntGroupFormat> &intFormat) {
  if (intFormat) {
    // IntGroupDecoder.cpp: bits 2..8, group 0 (per channel) or a power of two >= 16.
    const int64_t g = intFormat->groupSize;
    if (intFormat->bits < 2 || intFormat->bits > 8 || g < 0 ||
        (g != 0 && (g < 16 || (g & (g - 1)) != 0)))
      return std::nullopt;
    return "int" + std::to_string(intFormat->bits) + "_g" + std::to_string(g) +
           (intFormat->symmetric ? "_sym" : "_asym");
  }
  switch (type) {
  case GGMLType::F32:
  case GGMLType::F16:
  case GGMLType::BF16:
  case GGMLType::Q8_0:
  case GGMLType::Q4_0:
  case GGMLType::Q4_1:
  case GGMLType::Q5_0:
  case GGMLType::Q5_1:
  case GGMLType::Q2_K:
  case GGMLType::Q3_K:
  case GGMLType::Q4_K:
  case GGMLType::Q5_K:
  case GGMLType::Q6_K:
  case GGMLType::IQ4_NL:
    return std::string(lookupFormat(type)->name);
  default:
    return std::nullopt;
  }
}

bool q8ActivationsSupported(const std::string &format, int64_t cols, int64_t batch,
                            const std::string &target) {
  // CPUs: x86-64 (pmaddubsw / vpdpbusd) and arm-64 (sdot with arm_dot_prod); no GPU schedule.
  const bool cpu = target.rfind("x86-64", 0) == 0 || target.rfind("arm-64", 0) == 0;
  if (batch < 1 || batch > 8 || cols <= 0 || !cpu || target.find("cuda") != std::string::npos)
    return false;
  if (format == "q4_K" || format == "q6_K")
    return cols % 256 == 0;
  if (format == "q4_0")
    return cols % 128 == 0;
  // q8_0's unsigned 8-bit codes × int8 activations: vpdpbusd only (AVX512-VNNI, which Halide's
  // avx512_sapphirerapids means); pmaddubsw pairs would saturate, arm's sdot is signed × signed.
  if (format == "q8_0")
    return cols % 128 == 0 && target.rfind("x86-64", 0) == 0 &&
           target.find("avx512_sapphirerapids") != std::string::npos;
  int group = 0, consumed = 0;
  char sym[8] = {0};
  if (std::sscanf(format.c_str(), "int4_g%d_%4[a-z]%n", &group, sym, &consumed) == 2 &&
      consumed == int(format.size()) && group >= 32 && (group & (group - 1)) == 0 &&
      (std::string(sym) == "sym" || std::string(sym) == "asym"))
    return cols % std::max<int64_t>(group, 128) == 0;
  return false;
}

std::string x86KernelTargetFromFlags(const std::string &flags, bool ownLlvm) {
  std::set<std::string> has;
  std::istringstream in(flags);
  for (std::string f; in >> f;)
    has.insert(f);
  auto all = [&](std::initializer_list<const char *> names) {
    for (const char *n : names)
      if (!has.count(n))
        return false;
    return true;
  };
  // The same rules as QCC_KERNEL_TARGET in lib/Codegen/Kernels/CMakeLists.txt.
  std::string target = "x86-64-linux";
  const std::pair<const char *, const char *> simple[] = {
      {"sse4_1", "sse41"}, {"avx", "avx"}, {"avx2", "avx2"}, {"fma", "fma"}, {"f16c", "f16c"}};
  for (const auto &[flag, feature] : simple)
    if (has.count(flag))
      target += std::string("-") + feature;
  if (all({"avx512f", "avx512cd", "avx512bw", "avx512dq", "avx512vl"})) {
    target += "-avx512-avx512_skylake";
    if (all({"avx512ifma", "avx512vbmi"})) {
      target += "-avx512_cannonlake";
      if (ownLlvm ? all({"avx512_vnni", "avx512_bf16"})
                  : all({"avx512_vnni", "avx512_bf16", "avx512_fp16", "avx_vnni"}))
        target += "-avx512_sapphirerapids";
    }
  }
  return target;
}

std::string hostKernelTarget(bool ownLlvm) {
#if defined(__x86_64__) && defined(__linux__)
  std::ifstream cpuinfo("/proc/cpuinfo");
  for (std::string line; std::getline(cpuinfo, line);)
    if (line.rfind("flags", 0) == 0) {
      size_t colon = line.find(':');
      if (colon != std::string::npos)
        return x86KernelTargetFromFlags(line.substr(colon + 1), ownLlvm);
    }
#endif
  return "host";
}

std::string runtimeTargetForOwnLlvm(const std::string &kernelTarget) {
  std::string t = kernelTarget;
  const std::string spr = "-avx512_sapphirerapids";
  for (size_t at; (at = t.find(spr)) != std::string::npos;)
    t.erase(at, spr.size());
  return t;
}

} // namespace qcc::codegen
