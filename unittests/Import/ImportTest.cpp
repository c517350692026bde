//===- ImportTest.cpp - GGUF, safetensors, llama2.c readers -----------------===//
#include "../TestData.h"
#include "qcc/Import/GGUF.h"
#include "qcc/Import/ModelSource.h"
#include "qcc/Quant/GGMLFormats.h"

#include "llvm/Support/FileSystem.h"
#include "llvm/Support/raw_ostream.h"

#include <cmath>
#include <fstream>

using namespace qcc;
using namespace qcc::test;

namespace {

std::unique_ptr<ModelSource> open(const std::string &path) {
  auto src = openModelSource(path);
  if (!src) {
    ADD_FAILURE() << llvm::toString(src.takeError());
    return nullptr;
  }
  return std::move(*src);
}

std::string tempPath(const char *suffix) {
  llvm::SmallString<128> p;
  llvm::sys::fs::createTemporaryFile("qcc-test", suffix, p);
  return p.str().str();
}

TEST(Llama2c, Stories260KHeader) {
  auto src = open(dataPath("models/llama2c/stories260K/stories260K.bin"));
  ASSERT_TRUE(src);
  const ModelConfig &c = src->config;
  EXPECT_EQ(c.dim, 64);
  EXPECT_EQ(c.ffnDim, 172);
  EXPECT_EQ(c.nLayers, 5);
  EXPECT_EQ(c.nHeads, 8);
  EXPECT_EQ(c.nKVHeads, 4);
  EXPECT_EQ(c.headDim, 8);
  EXPECT_EQ(c.vocabSize, 512);
  EXPECT_EQ(c.maxSeqLen, 512);
  EXPECT_TRUE(c.tiedEmbeddings);
  EXPECT_EQ(c.ropeStyle, RopeStyle::Interleaved);
  EXPECT_EQ(src->output, src->tokEmbd);
  // 1 embedding + 9 per layer + final norm.
  EXPECT_EQ(src->tensors.size(), 1u + 9u * 5u + 1u);
  // The tokenizer beside the checkpoint is picked up.
  EXPECT_EQ(src->tokenizer.kind, "llama2c");
  // Layer 1's wk starts after tok_emb, rms_att[5], wq[5], wk[0].
  const TensorRef *wk1 = src->find("blk.1.attn_k.weight");
  ASSERT_TRUE(wk1);
  EXPECT_EQ(wk1->offset, 28u + 4u * (512 * 64 + 5 * 64 + 5 * 64 * 64 + 32 * 64));
}

// Writes `src` (a v0 checkpoint) in export.py's version-1 (f32) or version-2 (int8, group gs)
// layout so the v1/v2 readers are tested on the same real weights.
std::string exportLlama2c(const ModelSource &src, int version, int gs) {
  std::string path = tempPath(".bin");
  std::ofstream f(path, std::ios::binary);
  const ModelConfig &c = src.config;
  auto i32 = [&](int32_t v) { f.write(reinterpret_cast<const char *>(&v), 4); };
  i32(0x616b3432);
  i32(version);
  for (int64_t v : {c.dim, c.ffnDim, c.nLayers, c.nHeads, c.nKVHeads, c.vocabSize, c.maxSeqLen})
    i32(int32_t(v));
  f.put(1); // shared classifier
  if (version == 2)
    i32(gs);
  while (f.tellp() < 256)
    f.put(0);
  auto floats = [&](const std::string &name) {
    const TensorRef *t = src.find(name);
    const float *p = reinterpret_cast<const float *>(src.data(*t));
    return std::vector<float>(p, p + t->numElements());
  };
  auto writeF32 = [&](const std::string &name) {
    auto v = floats(name);
    f.write(reinterpret_cast<const char *>(v.data()), v.size() * 4);
  };
  auto writeQ = [&](const std::string &name) {
    if (version == 1)
      return writeF32(name);
    auto v = floats(name);
    std::vector<int8_t> q(v.size());
    std::vector<float> s(v.size() / gs);
    for (size_t g = 0; g < s.size(); ++g) {
      float mx = 0;
      for (int j = 0; j < gs; ++j)
        mx = std::max(mx, std::fabs(v[g * gs + j]));
      s[g] = mx / 127.0f;
      for (int j = 0; j < gs; ++j)
        q[g * gs + j] = int8_t(std::lround(s[g] ? v[g * gs + j] / s[g] : 0));
    }
    f.write(reinterpret_cast<const char *>(q.data()), q.size());
    f.write(reinterpret_cast<const char *>(s.data()), s.size() * 4);
  };
  auto layers = [&](const char *what, auto fn) {
    for (int64_t l = 0; l < c.nLayers; ++l)
      fn("blk." + std::to_string(l) + "." + what + ".weight");
  };
  layers("attn_norm", writeF32);
  layers("ffn_norm", writeF32);
  writeF32("output_norm.weight");
  writeQ("token_embd.weight");
  for (const char *w : {"attn_q", "attn_k", "attn_v", "attn_output", "ffn_gate", "ffn_down", "ffn_up"})
    layers(w, writeQ);
  return path;
}

TEST(Llama2c, Version1SameWeightsAsLegacy) {
  auto v0 = open(dataPath("models/llama2c/stories260K/stories260K.bin"));
  ASSERT_TRUE(v0);
  std::string path = exportLlama2c(*v0, 1, 0);
  auto v1 = open(path);
  ASSERT_TRUE(v1);
  EXPECT_FALSE(v1->materialize);
  for (const TensorRef &t : v0->tensors) {
    const TensorRef *u = v1->find(t.name);
    ASSERT_TRUE(u) << t.name;
    EXPECT_EQ(u->shape, t.shape);
    EXPECT_EQ(0, std::memcmp(v0->data(t), v1->data(*u), t.bytes)) << t.name;
  }
  llvm::sys::fs::remove(path);
}

TEST(Llama2c, Version2Int8IsMaterialisedNearTheOriginal) {
  auto v0 = open(dataPath("models/llama2c/stories260K/stories260K.bin"));
  ASSERT_TRUE(v0);
  // Rows of 64 and 172: group 4 divides every tensor size.
  std::string path = exportLlama2c(*v0, 2, 4);
  auto v2 = open(path);
  ASSERT_TRUE(v2);
  ASSERT_TRUE(bool(v2->materialize));
  const TensorRef *t = v0->find("blk.2.ffn_down.weight");
  std::string bytes;
  llvm::raw_string_ostream os(bytes);
  ASSERT_FALSE(bool(v2->materialize(*v2->find(t->name), os)));
  os.flush();
  ASSERT_EQ(bytes.size(), t->bytes);
  const float *a = reinterpret_cast<const float *>(v0->data(*t));
  const float *b = reinterpret_cast<const float *>(bytes.data());
  float maxAbs = 0, maxErr = 0;
  for (int64_t i = 0; i < t->numElements(); ++i) {
    maxAbs = std::max(maxAbs, std::fabs(a[i]));
    maxErr = std::max(maxErr, std::fabs(a[i] - b[i]));
  }
  EXPECT_GT(maxErr, 0.0f);                  // really quantized
  EXPECT_LE(maxErr, maxAbs / 127.0f * 0.51f); // within half a step of the largest group scale
  llvm::sys::fs::remove(path);
}

TEST(GGUF, Student4MF32MatchesLlama2c) {
  auto g = open(dataPath("models/student4M/student4M-f32.gguf"));
  auto b = open(dataPath("models/student4M/student4M.bin"));
  ASSERT_TRUE(g && b);
  EXPECT_EQ(g->config.dim, 256);
  EXPECT_EQ(g->config.ffnDim, 768);
  EXPECT_EQ(g->config.nLayers, 6);
  EXPECT_EQ(g->config.nKVHeads, 4);
  EXPECT_EQ(g->tokenizer.kind, "gguf");
  // llama.cpp's converter stores output.weight separately: not tied in the GGUF.
  EXPECT_FALSE(g->config.tiedEmbeddings);
  for (const TensorRef &t : b->tensors) {
    const TensorRef *u = g->find(t.name);
    ASSERT_TRUE(u) << t.name;
    EXPECT_EQ(u->shape, t.shape) << t.name;
    EXPECT_EQ(0, std::memcmp(b->data(t), g->data(*u), t.bytes)) << t.name;
  }
}

TEST(GGUF, QuantizedTypesAreRecorded) {
  auto g = open(dataPath("models/student4M/student4M-Q4_K_M.gguf"));
  ASSERT_TRUE(g);
  std::map<std::string, int> count;
  for (const TensorRef &t : g->tensors)
    count[lookupFormat(t.type)->name]++;
  EXPECT_GT(count["q4_K"], 0);
  EXPECT_GT(count["f32"], 0);
}

TEST(GGUF, Version2IsRead) {
  // v2 and v3 differ only in v3's big-endian support: a little-endian v3 file relabelled v2 must
  // read the same.
  std::string src = dataPath("models/gguf/stories260K-f32.gguf");
  auto bytes = readBinary<char>(src);
  ASSERT_GT(bytes.size(), 8u);
  bytes[4] = 2;
  std::string path = tempPath(".gguf");
  std::ofstream(path, std::ios::binary).write(bytes.data(), bytes.size());
  auto v2 = gguf::Reader::open(path);
  ASSERT_TRUE(bool(v2)) << llvm::toString(v2.takeError());
  auto v3 = gguf::Reader::open(src);
  ASSERT_TRUE(bool(v3));
  EXPECT_EQ((*v2)->version(), 2u);
  ASSERT_EQ((*v2)->tensors().size(), (*v3)->tensors().size());
  for (size_t i = 0; i < (*v3)->tensors().size(); ++i)
    EXPECT_EQ((*v2)->tensors()[i].offset, (*v3)->tensors()[i].offset);
  llvm::sys::fs::remove(path);
}

TEST(GGUF, WriterRoundTrip) {
  gguf::Writer w;
  w.setString("general.architecture", "llama");
  w.setUInt32("u32", 7);
  w.setFloat32("f32", 0.5f);
  w.setBool("flag", true);
  w.setStringArray("strs", {"a", "bc", ""});
  w.setFloat32Array("floats", {1.0f, -2.0f});
  w.setInt32Array("ints", {3, -4});
  std::vector<float> data(64 * 3);
  for (size_t i = 0; i < data.size(); ++i)
    data[i] = float(i) * 0.25f;
  w.addTensor("t", {64, 3}, GGMLType::F32, [&](llvm::raw_ostream &os) {
    os.write(reinterpret_cast<const char *>(data.data()), data.size() * 4);
    return llvm::Error::success();
  });
  w.addTensor("odd", {32}, GGMLType::F16, [&](llvm::raw_ostream &os) {
    os.write(std::string(64, '\x01').data(), 64);
    return llvm::Error::success();
  });
  std::string path = tempPath(".gguf");
  ASSERT_FALSE(bool(w.write(path)));
  auto r = gguf::Reader::open(path);
  ASSERT_TRUE(bool(r)) << llvm::toString(r.takeError());
  EXPECT_EQ((*r)->version(), 3u);
  EXPECT_EQ(*(*r)->getInt("u32"), 7);
  EXPECT_EQ(*(*r)->getFloat("f32"), 0.5);
  EXPECT_EQ(*(*r)->getBool("flag"), true);
  EXPECT_EQ((*r)->get("strs")->strings, (std::vector<std::string>{"a", "bc", ""}));
  EXPECT_EQ((*r)->get("floats")->floats, (std::vector<double>{1.0, -2.0}));
  EXPECT_EQ((*r)->get("ints")->ints, (std::vector<int64_t>{3, -4}));
  const gguf::TensorInfo *t = (*r)->findTensor("t");
  ASSERT_TRUE(t);
  EXPECT_EQ(t->shape(), (std::vector<int64_t>{3, 64}));
  EXPECT_EQ(0, std::memcmp((*r)->tensorData(*t), data.data(), data.size() * 4));
  EXPECT_EQ((*r)->findTensor("odd")->offset % 32, 0u);
  llvm::sys::fs::remove(path);
}

TEST(GGUF, WriterFailureLeavesNothing) {
  gguf::Writer w;
  w.addTensor("t", {32}, GGMLType::F32, [](llvm::raw_ostream &os) {
    os << "short";
    return llvm::Error::success();
  });
  std::string path = tempPath(".gguf");
  llvm::sys::fs::remove(path);
  llvm::Error e = w.write(path);
  EXPECT_TRUE(bool(e));
  EXPECT_NE(llvm::toString(std::move(e)).find("wrote 5 bytes"), std::string::npos);
  EXPECT_FALSE(llvm::sys::fs::exists(path));
}

TEST(Safetensors, Student4MHF) {
  auto hf = open(dataPath("models/student4M/student4M-hf"));
  auto b = open(dataPath("models/student4M/student4M.bin"));
  ASSERT_TRUE(hf && b);
  EXPECT_EQ(hf->config.ropeStyle, RopeStyle::RotateHalf);
  EXPECT_TRUE(hf->config.tiedEmbeddings);
  EXPECT_EQ(hf->config.nKVHeads, 4);
  // Norms and the MLP are not permuted: byte-identical to the llama2.c file.
  const TensorRef *x = hf->find("model.layers.3.mlp.down_proj.weight");
  const TensorRef *y = b->find("blk.3.ffn_down.weight");
  ASSERT_TRUE(x && y);
  EXPECT_EQ(0, std::memcmp(hf->data(*x), b->data(*y), x->bytes));
  auto bf = open(dataPath("models/student4M/student4M-hf-bf16"));
  ASSERT_TRUE(bf);
  EXPECT_EQ(bf->find("model.embed_tokens.weight")->type, GGMLType::BF16);
}

TEST(Safetensors, ShardedIndex) {
  // Split student4M into two shards with an index, as transformers does for big models.
  std::string src = dataPath("models/student4M/student4M-hf");
  auto one = open(src);
  ASSERT_TRUE(one);
  llvm::SmallString<128> dir;
  ASSERT_FALSE(llvm::sys::fs::createUniqueDirectory("qcc-shards", dir));
  std::string cfgIn = src + "/config.json", cfgOut = (dir + "/config.json").str();
  ASSERT_FALSE(llvm::sys::fs::copy_file(cfgIn, cfgOut));
  std::string index = "{\"metadata\": {}, \"weight_map\": {";
  for (int shard = 0; shard < 2; ++shard) {
    std::string header = "{";
    uint64_t off = 0;
    std::vector<const TensorRef *> mine;
    for (size_t i = 0; i < one->tensors.size(); ++i)
      if (int(i % 2) == shard)
        mine.push_back(&one->tensors[i]);
    std::string name = "model-0000" + std::to_string(shard + 1) + "-of-00002.safetensors";
    for (const TensorRef *t : mine) {
      header += (header.size() > 1 ? "," : "") + ("\"" + t->name + "\":{\"dtype\":\"F32\",\"shape\":[");
      for (size_t d = 0; d < t->shape.size(); ++d)
        header += (d ? "," : "") + std::to_string(t->shape[d]);
      header += "],\"data_offsets\":[" + std::to_string(off) + "," + std::to_string(off + t->bytes) + "]}";
      off += t->bytes;
      index += (index.back() == '{' ? "" : ",") + ("\"" + t->name + "\":\"" + name + "\"");
    }
    header += "}";
    std::ofstream f((dir + "/" + name).str(), std::ios::binary);
    uint64_t n = header.size();
    f.write(reinterpret_cast<const char *>(&n), 8);
    f << header;
    for (const TensorRef *t : mine)
      f.write(reinterpret_cast<const char *>(one->data(*t)), t->bytes);
  }
  index += "}}";
  std::ofstream((dir + "/model.safetensors.index.json").str()) << index;
  auto sharded = open(dir.str().str());
  ASSERT_TRUE(sharded);
  EXPECT_EQ(sharded->files.size(), 2u);
  for (const TensorRef &t : one->tensors)
    EXPECT_EQ(0, std::memcmp(one->data(t), sharded->data(*sharded->find(t.name)), t.bytes));
  llvm::sys::fs::remove_directories(dir);
}

TEST(WeightFile, FingerprintMismatchIsDetected) {
  std::string path = dataPath("models/llama2c/stories260K/stories260K.bin");
  auto src = open(path);
  ASSERT_TRUE(src);
  auto ok = openWeightFile(path, ContainerKind::Llama2c, src->size, src->fingerprint);
  EXPECT_TRUE(bool(ok)) << llvm::toString(ok.takeError());
  auto bad = openWeightFile(path, ContainerKind::Llama2c, src->size, "xxh3:0000000000000000");
  ASSERT_FALSE(bool(bad));
  EXPECT_NE(llvm::toString(bad.takeError()).find("changed since import"), std::string::npos);
  auto size = openWeightFile(path, ContainerKind::Llama2c, src->size + 1, src->fingerprint);
  EXPECT_FALSE(bool(size));
  llvm::consumeError(size.takeError());
}

TEST(Synthetic, DeterministicAtRealShapes) {
  auto a = makeSyntheticModel("smollm-135m", GGMLType::F16, 1);
  ASSERT_TRUE(bool(a)) << llvm::toString(a.takeError());
  EXPECT_EQ((*a)->config.dim, 576);
  EXPECT_EQ((*a)->config.nKVHeads, 3);
  EXPECT_TRUE((*a)->config.tiedEmbeddings);
  auto bytes = [](ModelSource &s, const char *name) {
    std::string out;
    llvm::raw_string_ostream os(out);
    EXPECT_FALSE(bool(s.materialize(*s.find(name), os)));
    return os.str();
  };
  auto b = makeSyntheticModel("smollm-135m", GGMLType::F16, 1);
  auto c = makeSyntheticModel("smollm-135m", GGMLType::F16, 2);
  std::string x = bytes(**a, "blk.3.attn_q.weight");
  EXPECT_EQ(x.size(), 576u * 576u * 2u);
  EXPECT_EQ(x, bytes(**b, "blk.3.attn_q.weight"));
  EXPECT_NE(x, bytes(**c, "blk.3.attn_q.weight"));
  auto l3 = makeSyntheticModel("llama3-8b", GGMLType::BF16);
  ASSERT_TRUE(bool(l3));
  int64_t params = 0;
  for (const TensorRef &t : (*l3)->tensors)
    params += t.numElements();
  EXPECT_EQ(params, 8030261248); // Meta-Llama-3-8B's published parameter count
  auto unknown = makeSyntheticModel("gpt-5", GGMLType::F16);
  EXPECT_FALSE(bool(unknown));
  llvm::consumeError(unknown.takeError());
}

} // namespace
