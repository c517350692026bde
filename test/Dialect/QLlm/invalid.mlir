// Every verifier rule of the qllm dialect, one case each.
// RUN: qcc-opt %s -split-input-file -verify-diagnostics

//===----------------------------------------------------------------------===//
// !qllm.weight
//===----------------------------------------------------------------------===//

// expected-error @+1 {{row length 172 is not a multiple of the q4_K block size 256}}
func.func private @bad_row(!qllm.weight<64x172, q4_K>)

// -----

// expected-error @+1 {{row length 48 is not a multiple of the q8_0 block size 32}}
func.func private @bad_row_vector(!qllm.weight<48, q8_0>)

// -----

// expected-error @+1 {{weight must have rank 1 (vector) or 2 (matrix), got rank 3}}
func.func private @rank3(!qllm.weight<2x4x32, f32>)

// -----

// expected-error @+1 {{weight dimensions must be static and positive, got 0x32}}
func.func private @zero_dim(!qllm.weight<0x32, f32>)

// -----

// expected-error @+1 {{unknown weight format 'q9_K'}}
func.func private @unknown_format(!qllm.weight<4x256, q9_K>)

// -----

// expected-error @+1 {{weight format "f32" does not implement WeightFormatAttrInterface}}
func.func private @format_not_interface(!qllm.weight<4x4, "f32">)

// -----

// expected-error @+1 {{expected '>'}}
func.func private @bad_ggml_attr(!qllm.weight<4x4, #qllm.ggml<q4_K, f32>>)

// -----

//===----------------------------------------------------------------------===//
// !qllm.kv_cache
//===----------------------------------------------------------------------===//

// expected-error @+1 {{kv cache shape must be layers x kv_heads x max_seq x head_dim, got rank 3}}
func.func private @cache_rank(!qllm.kv_cache<2x4x8, f32>)

// -----

// expected-error @+1 {{kv cache element type must be f32 or f16, got 'i8'}}
func.func private @cache_elt(!qllm.kv_cache<2x4x8x8, i8>)

// -----

// expected-error @+1 {{kv cache dimensions must be static and positive, got 2x0x8x8}}
func.func private @cache_zero(!qllm.kv_cache<2x0x8x8, f32>)

// -----

//===----------------------------------------------------------------------===//
// qllm.weight
//===----------------------------------------------------------------------===//

func.func @empty_name() {
  // expected-error @+1 {{'qllm.weight' op needs a non-empty tensor name}}
  %w = qllm.weight "" : !qllm.weight<4, f32>
  return
}

// -----

//===----------------------------------------------------------------------===//
// qllm.embed
//===----------------------------------------------------------------------===//

func.func @embed_rank(%t: tensor<?x?xi32>, %w: !qllm.weight<64, f32>) {
  // expected-error @+1 {{table must be a matrix [vocab, dim], got rank 1}}
  %x = qllm.embed %w[%t] : !qllm.weight<64, f32>, tensor<?x?xi32> -> tensor<?x?x64xf32>
  return
}

// -----

func.func @embed_dim(%t: tensor<?x?xi32>, %w: !qllm.weight<512x64, f32>) {
  // expected-error @+1 {{result feature dimension 32 does not match the table's row length 64}}
  %x = qllm.embed %w[%t] : !qllm.weight<512x64, f32>, tensor<?x?xi32> -> tensor<?x?x32xf32>
  return
}

// -----

func.func @embed_tokens(%t: tensor<2x3xi32>, %w: !qllm.weight<512x64, f32>) {
  // expected-error @+1 {{result batch and sequence dimensions 2x4 do not match the tokens' 2x3}}
  %x = qllm.embed %w[%t] : !qllm.weight<512x64, f32>, tensor<2x3xi32> -> tensor<2x4x64xf32>
  return
}

// -----

func.func @embed_token_type(%t: tensor<?x?xi64>, %w: !qllm.weight<512x64, f32>) {
  // expected-error @+1 {{operand #1 must be 2D tensor of 32-bit signless integer values}}
  %x = qllm.embed %w[%t] : !qllm.weight<512x64, f32>, tensor<?x?xi64> -> tensor<?x?x64xf32>
  return
}

// -----

//===----------------------------------------------------------------------===//
// qllm.rms_norm
//===----------------------------------------------------------------------===//

func.func @norm_len(%x: tensor<?x?x64xf32>, %g: !qllm.weight<32, f32>) {
  // expected-error @+1 {{gamma must be a vector of the feature dimension 64, got '!qllm.weight<32, f32>'}}
  %y = qllm.rms_norm %x, %g {eps = 1.0e-05 : f64} : tensor<?x?x64xf32>, !qllm.weight<32, f32>
  return
}

// -----

func.func @norm_eps(%x: tensor<?x?x64xf32>, %g: !qllm.weight<64, f32>) {
  // expected-error @+1 {{eps must be positive, got 0}}
  %y = qllm.rms_norm %x, %g {eps = 0.0 : f64} : tensor<?x?x64xf32>, !qllm.weight<64, f32>
  return
}

// -----

func.func @norm_dynamic(%x: tensor<?x?x?xf32>, %g: !qllm.weight<64, f32>) {
  // expected-error @+1 {{input feature dimension must be static}}
  %y = qllm.rms_norm %x, %g {eps = 1.0e-05 : f64} : tensor<?x?x?xf32>, !qllm.weight<64, f32>
  return
}

// -----

//===----------------------------------------------------------------------===//
// qllm.linear
//===----------------------------------------------------------------------===//

func.func @linear_in(%x: tensor<?x?x64xf32>, %w: !qllm.weight<172x96, f32>) {
  // expected-error @+1 {{input feature dimension 64 does not match the weight's in_features 96 (weight is [out, in] = [172, 96])}}
  %y = qllm.linear %x, %w : tensor<?x?x64xf32>, !qllm.weight<172x96, f32> -> tensor<?x?x172xf32>
  return
}

// -----

func.func @linear_out(%x: tensor<?x?x64xf32>, %w: !qllm.weight<172x64, q8_0>) {
  // expected-error @+1 {{result feature dimension 64 does not match the weight's out_features 172}}
  %y = qllm.linear %x, %w : tensor<?x?x64xf32>, !qllm.weight<172x64, q8_0> -> tensor<?x?x64xf32>
  return
}

// -----

func.func @linear_transposed(%x: tensor<?x?x64xf32>, %w: !qllm.weight<64x172, f32>) {
  // expected-error @+1 {{input feature dimension 64 does not match the weight's in_features 172}}
  %y = qllm.linear %x, %w : tensor<?x?x64xf32>, !qllm.weight<64x172, f32> -> tensor<?x?x172xf32>
  return
}

// -----

func.func @linear_leading(%x: tensor<2x3x64xf32>, %w: !qllm.weight<172x64, f32>) {
  // expected-error @+1 {{leading dimensions of input 2x3 and result 2x4 differ}}
  %y = qllm.linear %x, %w : tensor<2x3x64xf32>, !qllm.weight<172x64, f32> -> tensor<2x4x172xf32>
  return
}

// -----

func.func @linear_rank(%x: tensor<?x?x64xf32>, %w: !qllm.weight<172x64, f32>) {
  // expected-error @+1 {{input and result must have the same rank of at least 1, got 3 and 2}}
  %y = qllm.linear %x, %w : tensor<?x?x64xf32>, !qllm.weight<172x64, f32> -> tensor<?x172xf32>
  return
}

// -----

func.func @linear_vector(%x: tensor<?x?x64xf32>, %w: !qllm.weight<64, f32>) {
  // expected-error @+1 {{weight must be a matrix [out_features, in_features], got '!qllm.weight<64, f32>'}}
  %y = qllm.linear %x, %w : tensor<?x?x64xf32>, !qllm.weight<64, f32> -> tensor<?x?x64xf32>
  return
}

// -----

func.func @linear_act_quant(%x: tensor<?x?x64xf32>, %w: !qllm.weight<172x64, f32>) {
  // expected-error @+1 {{unknown act_quant 'fp8' (int8_per_token is supported)}}
  %y = qllm.linear %x, %w {act_quant = "fp8"} : tensor<?x?x64xf32>, !qllm.weight<172x64, f32> -> tensor<?x?x172xf32>
  return
}

// -----

//===----------------------------------------------------------------------===//
// qllm.rope
//===----------------------------------------------------------------------===//

func.func @rope_odd(%x: tensor<?x?x63xf32>, %pos: index) {
  // expected-error @+1 {{head_dim must be positive and even, got 7}}
  %y = qllm.rope interleaved %x, %pos {head_dim = 7, theta = 1.0e4 : f64} : tensor<?x?x63xf32>
  return
}

// -----

func.func @rope_heads(%x: tensor<?x?x60xf32>, %pos: index) {
  // expected-error @+1 {{feature dimension 60 is not a multiple of head_dim 8}}
  %y = qllm.rope interleaved %x, %pos {head_dim = 8, theta = 1.0e4 : f64} : tensor<?x?x60xf32>
  return
}

// -----

func.func @rope_theta(%x: tensor<?x?x64xf32>, %pos: index) {
  // expected-error @+1 {{theta must be positive, got -1}}
  %y = qllm.rope interleaved %x, %pos {head_dim = 8, theta = -1.0 : f64} : tensor<?x?x64xf32>
  return
}

// -----

func.func @rope_factors_len(%x: tensor<?x?x64xf32>, %pos: index, %ff: !qllm.weight<8, f32>) {
  // expected-error @+1 {{freq_factors must be a vector of head_dim/2 = 4 factors, got '!qllm.weight<8, f32>'}}
  %y = qllm.rope interleaved %x, %pos freq_factors(%ff : !qllm.weight<8, f32>) {head_dim = 8, theta = 1.0e4 : f64} : tensor<?x?x64xf32>
  return
}

// -----

func.func @rope_factors_quant(%x: tensor<?x?x512xf32>, %pos: index, %ff: !qllm.weight<64, q8_0>) {
  // expected-error @+1 {{freq_factors must be stored as floats, got '!qllm.weight<64, q8_0>'}}
  %y = qllm.rope interleaved %x, %pos freq_factors(%ff : !qllm.weight<64, q8_0>) {head_dim = 128, theta = 1.0e4 : f64} : tensor<?x?x512xf32>
  return
}

// -----

func.func @rope_factors_and_llama3(%x: tensor<?x?x64xf32>, %pos: index, %ff: !qllm.weight<4, f32>) {
  // expected-error @+1 {{has both freq_factors and llama3 scaling}}
  %y = qllm.rope interleaved %x, %pos freq_factors(%ff : !qllm.weight<4, f32>) {head_dim = 8, theta = 1.0e4 : f64, scaling = #qllm.rope_scaling<kind = llama3, factor = 8.0, low_freq_factor = 1.0, high_freq_factor = 4.0, original_max_position = 8192>} : tensor<?x?x64xf32>
  return
}

// -----

func.func @rope_type(%x: tensor<?x?x64xf32>, %pos: index) {
  // expected-error @+2 {{expected ::qcc::qllm::RopeStyle to be one of: interleaved, rotate_half}}
  // expected-error @+1 {{failed to parse QLlm_RopeStyleAttr parameter 'value'}}
  %y = qllm.rope sideways %x, %pos {head_dim = 8, theta = 1.0e4 : f64} : tensor<?x?x64xf32>
  return
}

// -----

//===----------------------------------------------------------------------===//
// qllm.attention
//===----------------------------------------------------------------------===//

func.func @gqa(%q: tensor<?x?x64xf32>, %k: tensor<?x?x24xf32>, %c: !qllm.kv_cache<2x3x16x8, f32>, %pos: index) {
  // expected-error @+1 {{n_heads (8) must be a multiple of n_kv_heads (3)}}
  %o = qllm.attention %q, %k, %k, %c, %pos {layer = 0, n_heads = 8, n_kv_heads = 3, head_dim = 8} : tensor<?x?x64xf32>, tensor<?x?x24xf32>, !qllm.kv_cache<2x3x16x8, f32>
  return
}

// -----

func.func @layer_range(%q: tensor<?x?x64xf32>, %k: tensor<?x?x32xf32>, %c: !qllm.kv_cache<2x4x16x8, f32>, %pos: index) {
  // expected-error @+1 {{layer 2 is out of range for a cache of 2 layers}}
  %o = qllm.attention %q, %k, %k, %c, %pos {layer = 2, n_heads = 8, n_kv_heads = 4, head_dim = 8} : tensor<?x?x64xf32>, tensor<?x?x32xf32>, !qllm.kv_cache<2x4x16x8, f32>
  return
}

// -----

func.func @layer_negative(%q: tensor<?x?x64xf32>, %k: tensor<?x?x32xf32>, %c: !qllm.kv_cache<2x4x16x8, f32>, %pos: index) {
  // expected-error @+1 {{layer -1 is out of range for a cache of 2 layers}}
  %o = qllm.attention %q, %k, %k, %c, %pos {layer = -1, n_heads = 8, n_kv_heads = 4, head_dim = 8} : tensor<?x?x64xf32>, tensor<?x?x32xf32>, !qllm.kv_cache<2x4x16x8, f32>
  return
}

// -----

func.func @cache_heads(%q: tensor<?x?x64xf32>, %k: tensor<?x?x32xf32>, %c: !qllm.kv_cache<2x2x16x8, f32>, %pos: index) {
  // expected-error @+1 {{n_kv_heads 4 does not match the cache's 2 kv heads}}
  %o = qllm.attention %q, %k, %k, %c, %pos {layer = 0, n_heads = 8, n_kv_heads = 4, head_dim = 8} : tensor<?x?x64xf32>, tensor<?x?x32xf32>, !qllm.kv_cache<2x2x16x8, f32>
  return
}

// -----

func.func @cache_head_dim(%q: tensor<?x?x64xf32>, %k: tensor<?x?x32xf32>, %c: !qllm.kv_cache<2x4x16x16, f32>, %pos: index) {
  // expected-error @+1 {{head_dim 8 does not match the cache's head_dim 16}}
  %o = qllm.attention %q, %k, %k, %c, %pos {layer = 0, n_heads = 8, n_kv_heads = 4, head_dim = 8} : tensor<?x?x64xf32>, tensor<?x?x32xf32>, !qllm.kv_cache<2x4x16x16, f32>
  return
}

// -----

func.func @q_features(%q: tensor<?x?x48xf32>, %k: tensor<?x?x32xf32>, %c: !qllm.kv_cache<2x4x16x8, f32>, %pos: index) {
  // expected-error @+1 {{q feature dimension 48 must be n_heads x head_dim = 64}}
  %o = qllm.attention %q, %k, %k, %c, %pos {layer = 0, n_heads = 8, n_kv_heads = 4, head_dim = 8} : tensor<?x?x48xf32>, tensor<?x?x32xf32>, !qllm.kv_cache<2x4x16x8, f32>
  return
}

// -----

func.func @kv_features(%q: tensor<?x?x64xf32>, %k: tensor<?x?x64xf32>, %c: !qllm.kv_cache<2x4x16x8, f32>, %pos: index) {
  // expected-error @+1 {{k and v feature dimension 64 must be n_kv_heads x head_dim = 32}}
  %o = qllm.attention %q, %k, %k, %c, %pos {layer = 0, n_heads = 8, n_kv_heads = 4, head_dim = 8} : tensor<?x?x64xf32>, tensor<?x?x64xf32>, !qllm.kv_cache<2x4x16x8, f32>
  return
}

// -----

func.func @qk_tokens(%q: tensor<1x3x64xf32>, %k: tensor<1x4x32xf32>, %c: !qllm.kv_cache<2x4x16x8, f32>, %pos: index) {
  // expected-error @+1 {{batch and sequence dimensions of q 1x3 and k 1x4 differ}}
  %o = qllm.attention %q, %k, %k, %c, %pos {layer = 0, n_heads = 8, n_kv_heads = 4, head_dim = 8} : tensor<1x3x64xf32>, tensor<1x4x32xf32>, !qllm.kv_cache<2x4x16x8, f32>
  return
}

// -----

func.func @zero_heads(%q: tensor<?x?x64xf32>, %k: tensor<?x?x32xf32>, %c: !qllm.kv_cache<2x4x16x8, f32>, %pos: index) {
  // expected-error @+1 {{n_heads, n_kv_heads and head_dim must be positive, got 8, 0, 8}}
  %o = qllm.attention %q, %k, %k, %c, %pos {layer = 0, n_heads = 8, n_kv_heads = 0, head_dim = 8} : tensor<?x?x64xf32>, tensor<?x?x32xf32>, !qllm.kv_cache<2x4x16x8, f32>
  return
}

// -----

//===----------------------------------------------------------------------===//
// qllm.swiglu, qllm.add
//===----------------------------------------------------------------------===//

func.func @swiglu_types(%a: tensor<?x?x64xf32>, %b: tensor<?x?x32xf32>) {
  // expected-error @+1 {{'qllm.swiglu' op requires the same type for all operands and results}}
  %y = "qllm.swiglu"(%a, %b) : (tensor<?x?x64xf32>, tensor<?x?x32xf32>) -> tensor<?x?x64xf32>
  return
}

// -----

func.func @add_element(%a: tensor<?x?x64xf16>) {
  // expected-error @+1 {{'qllm.add' op operand #0 must be ranked tensor of 32-bit float values}}
  %y = qllm.add %a, %a : tensor<?x?x64xf16>
  return
}

// -----

//===----------------------------------------------------------------------===//
// Attributes
//===----------------------------------------------------------------------===//

// expected-error @+1 {{model config n_heads (8) must be a multiple of n_kv_heads (3)}}
module attributes {qllm.config = #qllm.config<arch = "llama", name = "m", dim = 64, ffn_dim = 172, n_layers = 5, n_heads = 8, n_kv_heads = 3, head_dim = 8, vocab_size = 512, max_seq_len = 512, rope_theta = 1.0e+04, rope_style = interleaved, norm_eps = 1.0e-05, tied_embeddings = true>} {}

// -----

// expected-error @+1 {{model config head_dim must be even for RoPE, got 7}}
module attributes {qllm.config = #qllm.config<arch = "llama", name = "m", dim = 56, ffn_dim = 172, n_layers = 5, n_heads = 8, n_kv_heads = 4, head_dim = 7, vocab_size = 512, max_seq_len = 512, rope_theta = 1.0e+04, rope_style = interleaved, norm_eps = 1.0e-05, tied_embeddings = true>} {}

// -----

// expected-error @+1 {{model config vocab_size must be positive, got 0}}
module attributes {qllm.config = #qllm.config<arch = "llama", name = "m", dim = 64, ffn_dim = 172, n_layers = 5, n_heads = 8, n_kv_heads = 4, head_dim = 8, vocab_size = 0, max_seq_len = 512, rope_theta = 1.0e+04, rope_style = interleaved, norm_eps = 1.0e-05, tied_embeddings = true>} {}

// -----

// expected-error @+1 {{model config rope_theta must be positive, got 0}}
module attributes {qllm.config = #qllm.config<arch = "llama", name = "m", dim = 64, ffn_dim = 172, n_layers = 5, n_heads = 8, n_kv_heads = 4, head_dim = 8, vocab_size = 512, max_seq_len = 512, rope_theta = 0.0, rope_style = interleaved, norm_eps = 1.0e-05, tied_embeddings = true>} {}

// -----

// expected-error @+1 {{model config norm_eps must be positive, got -1}}
module attributes {qllm.config = #qllm.config<arch = "llama", name = "m", dim = 64, ffn_dim = 172, n_layers = 5, n_heads = 8, n_kv_heads = 4, head_dim = 8, vocab_size = 512, max_seq_len = 512, rope_theta = 1.0e+04, rope_style = interleaved, norm_eps = -1.0, tied_embeddings = true>} {}

// -----

// expected-error @+1 {{model config needs a non-empty arch}}
module attributes {qllm.config = #qllm.config<arch = "", name = "m", dim = 64, ffn_dim = 172, n_layers = 5, n_heads = 8, n_kv_heads = 4, head_dim = 8, vocab_size = 512, max_seq_len = 512, rope_theta = 1.0e+04, rope_style = interleaved, norm_eps = 1.0e-05, tied_embeddings = true>} {}

// -----

// expected-error @+1 {{struct is missing required parameter: tied_embeddings}}
module attributes {qllm.config = #qllm.config<arch = "llama", name = "m", dim = 64, ffn_dim = 172, n_layers = 5, n_heads = 8, n_kv_heads = 4, head_dim = 8, vocab_size = 512, max_seq_len = 512, rope_theta = 1.0e+04, rope_style = interleaved, norm_eps = 1.0e-05>} {}

// -----

// expected-error @+2 {{expected 'true' or 'false'}}
// expected-error @+1 {{failed to parse QLlm_ModelConfigAttr parameter 'tied_embeddings'}}
module attributes {qllm.config = #qllm.config<arch = "llama", name = "m", dim = 64, ffn_dim = 172, n_layers = 5, n_heads = 8, n_kv_heads = 4, head_dim = 8, vocab_size = 512, max_seq_len = 512, rope_theta = 1.0e+04, rope_style = interleaved, norm_eps = 1.0e-05, tied_embeddings = 1>} {}

// -----

// expected-error @+1 {{rope scaling factor must be positive, got 0}}
module attributes {qllm.s = #qllm.rope_scaling<kind = linear, factor = 0.0, low_freq_factor = 1.0, high_freq_factor = 4.0, original_max_position = 8192>} {}

// -----

// expected-error @+1 {{llama3 rope scaling needs high_freq_factor (1) > low_freq_factor (4)}}
module attributes {qllm.s = #qllm.rope_scaling<kind = llama3, factor = 8.0, low_freq_factor = 4.0, high_freq_factor = 1.0, original_max_position = 8192>} {}

// -----

// expected-error @+1 {{llama3 rope scaling needs a positive original_max_position, got 0}}
module attributes {qllm.s = #qllm.rope_scaling<kind = llama3, factor = 8.0, low_freq_factor = 1.0, high_freq_factor = 4.0, original_max_position = 0>} {}

// -----

// expected-error @+1 {{weight file container must be gguf, safetensors or llama2c, got 'onnx'}}
module attributes {qllm.weights = #qllm.weight_file<path = "m.onnx", container = "onnx", size = 1, fingerprint = "xxh3:00">} {}

// -----

// expected-error @+1 {{weight file size must not be negative, got -1}}
module attributes {qllm.weights = #qllm.weight_file<path = "m.gguf", container = "gguf", size = -1, fingerprint = "xxh3:00">} {}

// -----

// expected-error @+1 {{weight file needs a non-empty path}}
module attributes {qllm.weights = #qllm.weight_file<path = "", container = "gguf", size = 1, fingerprint = "xxh3:00">} {}

// -----

// expected-error @+1 {{tokenizer kind must be gguf, llama2c, sentencepiece or tiktoken, got 'wordpiece'}}
module attributes {qllm.tokenizer = #qllm.tokenizer<path = "t.bin", kind = "wordpiece">} {}

// -----

// expected-error @+1 {{tokenizer needs a non-empty path}}
module attributes {qllm.tokenizer = #qllm.tokenizer<path = "", kind = "llama2c">} {}

// -----

//===----------------------------------------------------------------------===//
// Module attributes (QLlmDialect::verifyOperationAttribute)
//===----------------------------------------------------------------------===//

// expected-error @+1 {{'builtin.module' op 'qllm.config' must be a #qllm.config, got #qllm.tokenizer<path = "t.bin", kind = "llama2c">}}
module attributes {qllm.config = #qllm.tokenizer<path = "t.bin", kind = "llama2c">} {}

// -----

// expected-error @+1 {{'qllm.weights' must be a #qllm.weight_file, got "m.gguf"}}
module attributes {qllm.weights = "m.gguf"} {}

// -----

// expected-error @+1 {{'qllm.tokenizer' must be a #qllm.tokenizer}}
module attributes {qllm.tokenizer = 3 : i32} {}

// -----

// expected-error @+1 {{'func.func' op 'qllm.tokenizer' is a module attribute; only builtin.module may carry it}}
func.func private @f() attributes {qllm.tokenizer = #qllm.tokenizer<path = "t.bin", kind = "llama2c">}

// -----

// expected-error @+1 {{has unknown qllm attribute 'qllm.conifg'}}
module attributes {qllm.conifg = 1} {}

// -----

// A planned format must fit the tensor's rows.
func.func @quantize_to_row() {
  // expected-error @+1 {{'qllm.weight' op quantize_to: row length 96 is not a multiple of the q4_K block size 256}}
  %w = qllm.weight "w" {quantize_to = #qllm.ggml<q4_K>} : !qllm.weight<4x96, f32>
  return
}

// -----

func.func @quantize_to_group() {
  // expected-error @+1 {{'qllm.weight' op quantize_to: row length 96 is not a multiple of the int4_g64_sym group size 64}}
  %w = qllm.weight "w" {quantize_to = #qllm.int<bits = 4, group = 64, sym = true>} : !qllm.weight<4x96, f32>
  return
}

// -----

func.func @quantize_to_not_a_format() {
  // expected-error @+1 {{attribute 'quantize_to' failed to satisfy constraint}}
  %w = qllm.weight "w" {quantize_to = 4 : i32} : !qllm.weight<4x96, f32>
  return
}

// -----

// expected-error @+1 {{'qllm.scales_folded' must be a string "awq" or "smoothquant"}}
module attributes {qllm.scales_folded = "gptq"} {}

// -----

// expected-error @+1 {{'qllm.calibration' must be a #qllm.calibration}}
module attributes {qllm.calibration = "m.calib.gguf"} {}
