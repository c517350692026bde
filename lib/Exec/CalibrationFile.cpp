//===- CalibrationFile.cpp - calibration statistics on disk -----------------===//
#include "qcc/Exec/CalibrationFile.h"
#include "qcc/Import/GGUF.h"

#include "llvm/ADT/Twine.h"
#include "llvm/Support/raw_ostream.h"

using namespace llvm;

namespace qcc {

namespace {
template <typename T> Error writeF32(raw_ostream &os, ArrayRef<T> v) {
  for (T x : v) {
    float f = float(x);
    os.write(reinterpret_cast<const char *>(&f), sizeof f);
  }
  return Error::success();
}
} // namespace

Error saveCalibration(const Calibration &cal, StringRef path, const CalibrationFileInfo &info) {
  gguf::Writer w;
  w.setString("general.type", "imatrix");
  w.setUInt32("imatrix.chunk_count", uint32_t(info.samples));
  w.setUInt32("imatrix.chunk_size", uint32_t(info.seqlen));
  w.setStringArray("imatrix.datasets", {info.dataset});
  w.setString("qcc.calibration.weights_fingerprint", info.weightsFingerprint);
  const std::vector<LinearInputStats> &records = cal.records();
  // Weights in record order, then by name: deterministic files.
  std::vector<std::pair<size_t, std::string>> order;
  for (const auto &e : cal.recordOfWeight())
    order.push_back({e.second, e.first().str()});
  llvm::sort(order);
  std::vector<std::string> names;
  std::vector<int32_t> recordIds;
  std::vector<bool> written(records.size(), false);
  std::unique_ptr<MappedFile> spill;
  if (!info.xtxSpillPath.empty()) {
    auto f = MappedFile::open(info.xtxSpillPath);
    if (!f)
      return f.takeError();
    spill = std::move(*f);
  }
  for (const auto &[rec, name] : order) {
    const LinearInputStats &st = records[rec];
    names.push_back(name);
    recordIds.push_back(int32_t(rec));
    w.addTensor(name + ".in_sum2", {st.cols}, GGMLType::F32,
                [&st](raw_ostream &os) { return writeF32<double>(os, st.sumSq); });
    w.addTensor(name + ".counts", {1}, GGMLType::F32, [&st](raw_ostream &os) {
      return writeF32<int64_t>(os, ArrayRef<int64_t>(st.tokens));
    });
    if (written[rec])
      continue;
    written[rec] = true;
    w.addTensor(name + ".in_sum_abs", {st.cols}, GGMLType::F32,
                [&st](raw_ostream &os) { return writeF32<double>(os, st.sumAbs); });
    w.addTensor(name + ".in_abs_max", {st.cols}, GGMLType::F32,
                [&st](raw_ostream &os) { return writeF32<float>(os, st.absMax); });
    if (!st.xtx.empty()) {
      w.addTensor(name + ".xtx", {st.cols, st.cols}, GGMLType::F32,
                  [&st](raw_ostream &os) { return writeF32<double>(os, st.xtx); });
    } else if (auto it = info.xtxSpillOffset.find(rec); spill && it != info.xtxSpillOffset.end()) {
      const uint64_t bytes = uint64_t(st.cols * st.cols) * sizeof(float), at = it->second;
      if (at + bytes > spill->size())
        return createStringError(inconvertibleErrorCode(), "%s: truncated XᵀX spill",
                                 info.xtxSpillPath.c_str());
      const char *data = reinterpret_cast<const char *>(spill->data()) + at;
      w.addTensor(name + ".xtx", {st.cols, st.cols}, GGMLType::F32,
                  [data, bytes](raw_ostream &os) {
                    os.write(data, bytes);
                    return Error::success();
                  });
    }
    if (st.sampleRows > 0)
      w.addTensor(name + ".samples", {st.cols, st.sampleRows}, GGMLType::F32,
                  [&st](raw_ostream &os) { return writeF32<float>(os, st.samples); });
  }
  w.setStringArray("qcc.calibration.weights", names);
  w.setInt32Array("qcc.calibration.records", recordIds);
  w.setUInt64("qcc.calibration.tokens", uint64_t(cal.tokensSeen()));
  return w.write(path);
}

Expected<std::unique_ptr<Calibration>> loadCalibration(StringRef path, CalibrationFileInfo *info) {
  auto r = gguf::Reader::open(path);
  if (!r)
    return r.takeError();
  gguf::Reader &g = **r;
  auto fail = [&](const Twine &m) {
    return createStringError(inconvertibleErrorCode(), "%s: %s", path.str().c_str(),
                             m.str().c_str());
  };
  const gguf::Value *names = g.get("qcc.calibration.weights");
  const gguf::Value *recs = g.get("qcc.calibration.records");
  if (!names || !recs || names->strings.size() != recs->ints.size())
    return fail("not a qcc calibration file (qcc.calibration.weights/records missing)");
  // A float tensor of exactly `n` elements, or an error naming it.
  auto floats = [&](StringRef name, int64_t n, bool optional,
                    const float **out) -> Error {
    *out = nullptr;
    const gguf::TensorInfo *t = g.findTensor(name);
    if (!t) {
      if (optional)
        return Error::success();
      return fail("tensor '" + name + "' is missing");
    }
    if (t->type != GGMLType::F32 || (n >= 0 && t->numElements() != n))
      return fail("tensor '" + name + "' has the wrong type or size");
    *out = reinterpret_cast<const float *>(g.tensorData(*t));
    return Error::success();
  };
  size_t numRecords = 0;
  for (int64_t id : recs->ints) {
    if (id < 0 || id >= int64_t(names->strings.size()))
      return fail("record id " + Twine(id) + " out of range");
    numRecords = std::max(numRecords, size_t(id) + 1);
  }
  std::vector<LinearInputStats> records(numRecords);
  StringMap<size_t> byWeight;
  for (size_t i = 0; i < names->strings.size(); ++i) {
    const std::string &name = names->strings[i];
    const size_t rec = size_t(recs->ints[i]);
    byWeight[name] = rec;
    LinearInputStats &st = records[rec];
    if (st.cols != 0)
      continue; // filled from the record's first weight
    const gguf::TensorInfo *sum2 = g.findTensor(name + ".in_sum2");
    if (!sum2)
      return fail("tensor '" + name + ".in_sum2' is missing");
    const int64_t cols = sum2->numElements();
    const float *sumSq, *counts, *sumAbs, *absMax, *xtx, *samples;
    if (Error e = floats(name + ".in_sum2", cols, false, &sumSq))
      return std::move(e);
    if (Error e = floats(name + ".counts", 1, false, &counts))
      return std::move(e);
    if (Error e = floats(name + ".in_sum_abs", cols, false, &sumAbs))
      return std::move(e);
    if (Error e = floats(name + ".in_abs_max", cols, false, &absMax))
      return std::move(e);
    if (Error e = floats(name + ".xtx", cols * cols, true, &xtx))
      return std::move(e);
    if (Error e = floats(name + ".samples", -1, true, &samples))
      return std::move(e);
    st.cols = cols;
    st.tokens = int64_t(counts[0]);
    st.sumSq.assign(sumSq, sumSq + cols);
    st.sumAbs.assign(sumAbs, sumAbs + cols);
    st.absMax.assign(absMax, absMax + cols);
    if (xtx)
      st.xtx.assign(xtx, xtx + cols * cols);
    if (samples) {
      const int64_t n = g.findTensor(name + ".samples")->numElements();
      if (n % cols != 0)
        return fail("tensor '" + name + ".samples' is not a whole number of rows");
      st.samples.assign(samples, samples + n);
      st.sampleRows = n / cols;
    }
  }
  for (size_t i = 0; i < records.size(); ++i)
    if (records[i].cols == 0)
      return fail("record " + Twine(i) + " has no weight");
  if (info) {
    info->weightsFingerprint = g.getString("qcc.calibration.weights_fingerprint").value_or("");
    const gguf::Value *ds = g.get("imatrix.datasets");
    info->dataset = ds && !ds->strings.empty() ? ds->strings[0] : "";
    info->samples = g.getInt("imatrix.chunk_count").value_or(0);
    info->seqlen = g.getInt("imatrix.chunk_size").value_or(0);
  }
  return Calibration::fromRecords(std::move(records), std::move(byWeight),
                                  g.getInt("qcc.calibration.tokens").value_or(0));
}

} // namespace qcc
