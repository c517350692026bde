//===- QLlmInterfaces.td - qllm interfaces -----------------*- tablegen -*-===//
#ifndef QCC_DIALECT_QLLM_QLLMINTERFACES_TD
#define QCC_DIALECT_QLLM_QLLMINTERFACES_TD

include "mlir/IR/OpBase.td"

def QLlm_WeightFormatAttrInterface : AttrInterface<"WeightFormatAttrInterface"> {
  let cppNamespace = "::qcc::qllm";
  let description = [{
    A storage format for weights: how a row of a weight matrix is cut into blocks and how many
    bytes each block takes. Blocks run along the last (contiguous) dimension, so a row's length
    must be a multiple of the block size. Every weight format (llama.cpp's block formats
    `#qllm.ggml`, the generic integer group formats `#qllm.int` with their bits, group size and
    symmetry) is an attribute implementing this interface; `!qllm.weight` only relies on it.
  }];
  let methods = [
    InterfaceMethod<"Number of elements per block along the row.", "int64_t", "getBlockSize">,
    InterfaceMethod<"Number of bytes per block.", "int64_t", "getBlockBytes">,
    InterfaceMethod<[{
        Bytes needed to store a tensor of logical shape `shape` (row-major, last dim the row):
        rows × row_len / block_size × block_bytes. The row length must be a multiple of the
        block size. The interface provides this from getBlockSize and getBlockBytes; a format
        with per-tensor overhead (e.g. a global scale) overrides it.
      }], "int64_t", "getStorageBytes", (ins "::llvm::ArrayRef<int64_t>":$shape), [{}], [{
        if (shape.empty() || $_attr.getBlockSize() <= 0)
          return 0;
        int64_t rows = 1;
        for (int64_t d : shape.drop_back())
          rows *= d;
        return rows * (shape.back() / $_attr.getBlockSize()) * $_attr.getBlockBytes();
      }]>,
    InterfaceMethod<[{
        Short name of the format, unique per distinct format, as llama.cpp spells its own
        (`q4_K`); summaries group tensors by it.
      }], "::llvm::StringRef", "getFormatName">,
    InterfaceMethod<"True for unquantized float formats (f32, f16, bf16).", "bool",
                    "isFloatFormat">,
  ];
}

#endif // QCC_DIALECT_QLLM_QLLMINTERFACES_TD
