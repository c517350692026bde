//===- QuantizeRows.cpp - quantizing rows and matrices through the table ----===//
//
// ggml quantizes every row on its own (the imatrix path of several formats takes statistics
// over a whole row, and the reference paths work block by block), so rows are independent work
// items: threads change the schedule, never the bytes.
//
//===----------------------------------------------------------------------===//
#include "qcc/Quant/GGMLFormats.h"

#include "llvm/ADT/Twine.h"
#include "llvm/Support/Parallel.h"
#include "llvm/Support/ThreadPool.h"
#include "llvm/Support/Threading.h"

using namespace llvm;

namespace qcc {

static Expected<const FormatInfo *> checkQuantizable(GGMLType type, int64_t nPerRow) {
  const FormatInfo *f = lookupFormat(type);
  if (!f)
    return createStringError(inconvertibleErrorCode(),
                             "unknown GGML type id " + Twine(uint32_t(type)));
  if (!f->quantizeRow)
    return createStringError(inconvertibleErrorCode(),
                             Twine(f->name) + " has no quantizer");
  if (nPerRow < 0 || nPerRow % f->blockSize != 0)
    return createStringError(inconvertibleErrorCode(),
                             Twine(f->name) + " row of " + Twine(nPerRow) +
                                 " values: not a non-negative multiple of the block size " +
                                 Twine(f->blockSize));
  return f;
}

Error quantizeRow(GGMLType type, const float *src, void *dst, int64_t n,
                  const float *importance) {
  Expected<const FormatInfo *> f = checkQuantizable(type, n);
  if (!f)
    return f.takeError();
  if (n > 0)
    (*f)->quantizeRow(src, dst, n, importance);
  return Error::success();
}

Error quantizeRows(GGMLType type, const float *src, void *dst, int64_t nrows, int64_t nPerRow,
                   const float *importance, unsigned numThreads) {
  Expected<const FormatInfo *> f = checkQuantizable(type, nPerRow);
  if (!f)
    return f.takeError();
  if (nrows < 0)
    return createStringError(inconvertibleErrorCode(),
                             "negative row count " + Twine(nrows));
  if (nrows == 0 || nPerRow == 0)
    return Error::success();
  const QuantizeRowFn quantize = (*f)->quantizeRow;
  const int64_t dstRowBytes = nPerRow / (*f)->blockSize * (*f)->blockBytes;
  auto doRow = [&](size_t row) {
    quantize(src + int64_t(row) * nPerRow,
             static_cast<uint8_t *>(dst) + int64_t(row) * dstRowBytes, nPerRow, importance);
  };
  if (numThreads == 1 || nrows == 1) {
    for (int64_t row = 0; row < nrows; ++row)
      doRow(size_t(row));
  } else if (numThreads == 0) {
    parallelFor(0, size_t(nrows), doRow);
  } else {
    // One task per thread, each a contiguous range of rows.
    DefaultThreadPool pool(hardware_concurrency(numThreads));
    const int64_t chunk = (nrows + numThreads - 1) / numThreads;
    for (int64_t begin = 0; begin < nrows; begin += chunk) {
      const int64_t end = std::min(nrows, begin + chunk);
      pool.async([=, &doRow] {
        for (int64_t row = begin; row < end; ++row)
          doRow(size_t(row));
      });
    }
    pool.wait();
  }
  return Error::success();
}

} // namespace qcc
