// Custom syntax survives print -> parse -> print, and so does the generic form.
// RUN: qcc-opt %s -split-input-file | qcc-opt -split-input-file | FileCheck %s
// RUN: qcc-opt %s -split-input-file --mlir-print-op-generic | qcc-opt -split-input-file | FileCheck %s
// RUN: qcc-opt %s -split-input-file --mlir-print-op-generic | qcc-opt -split-input-file --mlir-print-op-generic | FileCheck %s --check-prefix=GENERIC

// A two-layer GQA model (4 query heads over 2 kv heads of 64) with tied embeddings, LLaMA-3.1
// RoPE factors and a different weight format on nearly every matrix.

// CHECK-LABEL: module @tiny attributes {
// CHECK-SAME: qllm.config = #qllm.config<arch = "llama", name = "tiny-gqa", dim = 256, ffn_dim = 512, n_layers = 2, n_heads = 4, n_kv_heads = 2, head_dim = 64, vocab_size = 32, max_seq_len = 128, rope_theta = 5.000000e+05, rope_style = rotate_half, rope_scaling = <kind = llama3, factor = 8.000000e+00, low_freq_factor = 1.000000e+00, high_freq_factor = 4.000000e+00, original_max_position = 8192>, norm_eps = 1.000000e-05, tied_embeddings = true>
// CHECK-SAME: qllm.tokenizer = #qllm.tokenizer<path = "tiny.gguf", kind = "gguf">
// CHECK-SAME: qllm.weights = #qllm.weight_file<path = "tiny.gguf", container = "gguf", size = 1234, fingerprint = "xxh3:0123456789abcdef">
// CHECK: func.func @forward(%[[TOK:.*]]: tensor<?x?xi32>, %[[POS:.*]]: index, %[[CACHE:.*]]: !qllm.kv_cache<2x2x128x64, f32>) -> tensor<?x?x32xf32>
// CHECK: %[[EMB:.*]] = qllm.weight "token_embd.weight" : !qllm.weight<32x256, q8_0>
// CHECK: %[[X0:.*]] = qllm.embed %[[EMB]][%[[TOK]]] : !qllm.weight<32x256, q8_0>, tensor<?x?xi32> -> tensor<?x?x256xf32>
// CHECK: %[[FF:.*]] = qllm.weight "rope_freqs.weight" : !qllm.weight<32, f32>
// CHECK: %[[AN0:.*]] = qllm.weight "blk.0.attn_norm.weight" : !qllm.weight<256, f32>
// CHECK: %[[H0:.*]] = qllm.rms_norm %[[X0]], %[[AN0]] {eps = 1.000000e-05 : f64} : tensor<?x?x256xf32>, !qllm.weight<256, f32>
// CHECK: %[[WQ0:.*]] = qllm.weight "blk.0.attn_q.weight" : !qllm.weight<256x256, q4_K>
// CHECK: %[[Q0:.*]] = qllm.linear %[[H0]], %[[WQ0]] : tensor<?x?x256xf32>, !qllm.weight<256x256, q4_K> -> tensor<?x?x256xf32>
// CHECK: %[[K0:.*]] = qllm.linear %[[H0]], %{{.*}} : tensor<?x?x256xf32>, !qllm.weight<128x256, q8_0> -> tensor<?x?x128xf32>
// CHECK: %[[V0:.*]] = qllm.linear %[[H0]], %{{.*}} : tensor<?x?x256xf32>, !qllm.weight<128x256, q6_K> -> tensor<?x?x128xf32>
// CHECK: %[[QR0:.*]] = qllm.rope rotate_half %[[Q0]], %[[POS]] freq_factors(%[[FF]] : !qllm.weight<32, f32>) {head_dim = 64 : i64, theta = 5.000000e+05 : f64} : tensor<?x?x256xf32>
// CHECK: %[[KR0:.*]] = qllm.rope rotate_half %[[K0]], %[[POS]] freq_factors(%[[FF]] : !qllm.weight<32, f32>) {head_dim = 64 : i64, theta = 5.000000e+05 : f64} : tensor<?x?x128xf32>
// CHECK: %[[A0:.*]] = qllm.attention %[[QR0]], %[[KR0]], %[[V0]], %[[CACHE]], %[[POS]] {head_dim = 64 : i64, layer = 0 : i64, n_heads = 4 : i64, n_kv_heads = 2 : i64} : tensor<?x?x256xf32>, tensor<?x?x128xf32>, !qllm.kv_cache<2x2x128x64, f32>
// CHECK: %[[O0:.*]] = qllm.linear %[[A0]], %{{.*}} : tensor<?x?x256xf32>, !qllm.weight<256x256, q5_K> -> tensor<?x?x256xf32>
// CHECK: %[[R0:.*]] = qllm.add %[[X0]], %[[O0]] : tensor<?x?x256xf32>
// CHECK: qllm.weight "blk.0.ffn_gate.weight" : !qllm.weight<512x256, q4_0>
// CHECK: qllm.weight "blk.0.ffn_up.weight" : !qllm.weight<512x256, q4_1>
// CHECK: %[[G0:.*]] = qllm.linear
// CHECK: %[[U0:.*]] = qllm.linear
// CHECK: %[[S0:.*]] = qllm.swiglu %[[G0]], %[[U0]] : tensor<?x?x512xf32>
// CHECK: qllm.linear %[[S0]], %{{.*}} : tensor<?x?x512xf32>, !qllm.weight<256x512, q6_K> -> tensor<?x?x256xf32>
// CHECK: qllm.weight "blk.1.attn_q.weight" : !qllm.weight<256x256, f16>
// CHECK: qllm.weight "blk.1.attn_k.weight" : !qllm.weight<128x256, bf16>
// CHECK: qllm.weight "blk.1.attn_v.weight" : !qllm.weight<128x256, q5_0>
// CHECK: qllm.attention {{.*}} {head_dim = 64 : i64, layer = 1 : i64, n_heads = 4 : i64, n_kv_heads = 2 : i64}
// CHECK: qllm.weight "blk.1.attn_output.weight" : !qllm.weight<256x256, q5_1>
// CHECK: qllm.weight "blk.1.ffn_gate.weight" : !qllm.weight<512x256, q2_K>
// CHECK: qllm.weight "blk.1.ffn_up.weight" : !qllm.weight<512x256, q3_K>
// CHECK: qllm.weight "blk.1.ffn_down.weight" : !qllm.weight<256x512, iq4_nl>
// CHECK: %[[N:.*]] = qllm.rms_norm
// CHECK: %[[LOGITS:.*]] = qllm.linear %[[N]], %[[EMB]] : tensor<?x?x256xf32>, !qllm.weight<32x256, q8_0> -> tensor<?x?x32xf32>
// CHECK: return %[[LOGITS]] : tensor<?x?x32xf32>

// GENERIC: "qllm.weight"() <{name = "token_embd.weight"}> : () -> !qllm.weight<32x256, q8_0>
// GENERIC: "qllm.embed"(%{{.*}}, %arg0) : (!qllm.weight<32x256, q8_0>, tensor<?x?xi32>) -> tensor<?x?x256xf32>
// GENERIC: "qllm.rms_norm"(%{{.*}}, %{{.*}}) <{eps = 1.000000e-05 : f64}> : (tensor<?x?x256xf32>, !qllm.weight<256, f32>) -> tensor<?x?x256xf32>
// GENERIC: "qllm.rope"(%{{.*}}, %arg1, %{{.*}}) <{head_dim = 64 : i64, style = #qllm<rope_style rotate_half>, theta = 5.000000e+05 : f64}> : (tensor<?x?x256xf32>, index, !qllm.weight<32, f32>) -> tensor<?x?x256xf32>
// GENERIC: "qllm.attention"(%{{.*}}, %{{.*}}, %{{.*}}, %arg2, %arg1) <{head_dim = 64 : i64, layer = 0 : i64, n_heads = 4 : i64, n_kv_heads = 2 : i64}> : (tensor<?x?x256xf32>, tensor<?x?x128xf32>, tensor<?x?x128xf32>, !qllm.kv_cache<2x2x128x64, f32>, index) -> tensor<?x?x256xf32>
// GENERIC: "qllm.swiglu"(%{{.*}}, %{{.*}}) : (tensor<?x?x512xf32>, tensor<?x?x512xf32>) -> tensor<?x?x512xf32>
// GENERIC: "qllm.add"(%{{.*}}, %{{.*}}) : (tensor<?x?x256xf32>, tensor<?x?x256xf32>) -> tensor<?x?x256xf32>
module @tiny attributes {
  qllm.config = #qllm.config<arch = "llama", name = "tiny-gqa", dim = 256, ffn_dim = 512,
      n_layers = 2, n_heads = 4, n_kv_heads = 2, head_dim = 64, vocab_size = 32,
      max_seq_len = 128, rope_theta = 5.0e+05, rope_style = rotate_half,
      rope_scaling = #qllm.rope_scaling<kind = llama3, factor = 8.0, low_freq_factor = 1.0,
                                        high_freq_factor = 4.0, original_max_position = 8192>,
      norm_eps = 1.0e-05, tied_embeddings = true>,
  qllm.weights = #qllm.weight_file<path = "tiny.gguf", container = "gguf", size = 1234,
                                   fingerprint = "xxh3:0123456789abcdef">,
  qllm.tokenizer = #qllm.tokenizer<path = "tiny.gguf", kind = "gguf">
} {
  func.func @forward(%tokens: tensor<?x?xi32>, %pos: index,
                     %cache: !qllm.kv_cache<2x2x128x64, f32>) -> tensor<?x?x32xf32> {
    %emb = qllm.weight "token_embd.weight" : !qllm.weight<32x256, q8_0>
    %x0 = qllm.embed %emb[%tokens] : !qllm.weight<32x256, q8_0>, tensor<?x?xi32> -> tensor<?x?x256xf32>
    %ff = qllm.weight "rope_freqs.weight" : !qllm.weight<32, f32>

    %an0 = qllm.weight "blk.0.attn_norm.weight" : !qllm.weight<256, f32>
    %h0 = qllm.rms_norm %x0, %an0 {eps = 1.0e-05 : f64} : tensor<?x?x256xf32>, !qllm.weight<256, f32>
    %wq0 = qllm.weight "blk.0.attn_q.weight" : !qllm.weight<256x256, q4_K>
    %wk0 = qllm.weight "blk.0.attn_k.weight" : !qllm.weight<128x256, q8_0>
    %wv0 = qllm.weight "blk.0.attn_v.weight" : !qllm.weight<128x256, q6_K>
    %q0 = qllm.linear %h0, %wq0 : tensor<?x?x256xf32>, !qllm.weight<256x256, q4_K> -> tensor<?x?x256xf32>
    %k0 = qllm.linear %h0, %wk0 : tensor<?x?x256xf32>, !qllm.weight<128x256, q8_0> -> tensor<?x?x128xf32>
    %v0 = qllm.linear %h0, %wv0 : tensor<?x?x256xf32>, !qllm.weight<128x256, q6_K> -> tensor<?x?x128xf32>
    %qr0 = qllm.rope rotate_half %q0, %pos freq_factors(%ff : !qllm.weight<32, f32>) {head_dim = 64, theta = 5.0e+05 : f64} : tensor<?x?x256xf32>
    %kr0 = qllm.rope rotate_half %k0, %pos freq_factors(%ff : !qllm.weight<32, f32>) {head_dim = 64, theta = 5.0e+05 : f64} : tensor<?x?x128xf32>
    %a0 = qllm.attention %qr0, %kr0, %v0, %cache, %pos {layer = 0, n_heads = 4, n_kv_heads = 2, head_dim = 64} : tensor<?x?x256xf32>, tensor<?x?x128xf32>, !qllm.kv_cache<2x2x128x64, f32>
    %wo0 = qllm.weight "blk.0.attn_output.weight" : !qllm.weight<256x256, q5_K>
    %o0 = qllm.linear %a0, %wo0 : tensor<?x?x256xf32>, !qllm.weight<256x256, q5_K> -> tensor<?x?x256xf32>
    %r0 = qllm.add %x0, %o0 : tensor<?x?x256xf32>
    %fn0 = qllm.weight "blk.0.ffn_norm.weight" : !qllm.weight<256, f32>
    %m0 = qllm.rms_norm %r0, %fn0 {eps = 1.0e-05 : f64} : tensor<?x?x256xf32>, !qllm.weight<256, f32>
    %wg0 = qllm.weight "blk.0.ffn_gate.weight" : !qllm.weight<512x256, q4_0>
    %wu0 = qllm.weight "blk.0.ffn_up.weight" : !qllm.weight<512x256, q4_1>
    %wd0 = qllm.weight "blk.0.ffn_down.weight" : !qllm.weight<256x512, q6_K>
    %g0 = qllm.linear %m0, %wg0 : tensor<?x?x256xf32>, !qllm.weight<512x256, q4_0> -> tensor<?x?x512xf32>
    %u0 = qllm.linear %m0, %wu0 : tensor<?x?x256xf32>, !qllm.weight<512x256, q4_1> -> tensor<?x?x512xf32>
    %s0 = qllm.swiglu %g0, %u0 : tensor<?x?x512xf32>
    %d0 = qllm.linear %s0, %wd0 : tensor<?x?x512xf32>, !qllm.weight<256x512, q6_K> -> tensor<?x?x256xf32>
    %x1 = qllm.add %r0, %d0 : tensor<?x?x256xf32>

    %an1 = qllm.weight "blk.1.attn_norm.weight" : !qllm.weight<256, f32>
    %h1 = qllm.rms_norm %x1, %an1 {eps = 1.0e-05 : f64} : tensor<?x?x256xf32>, !qllm.weight<256, f32>
    %wq1 = qllm.weight "blk.1.attn_q.weight" : !qllm.weight<256x256, f16>
    %wk1 = qllm.weight "blk.1.attn_k.weight" : !qllm.weight<128x256, bf16>
    %wv1 = qllm.weight "blk.1.attn_v.weight" : !qllm.weight<128x256, q5_0>
    %q1 = qllm.linear %h1, %wq1 : tensor<?x?x256xf32>, !qllm.weight<256x256, f16> -> tensor<?x?x256xf32>
    %k1 = qllm.linear %h1, %wk1 : tensor<?x?x256xf32>, !qllm.weight<128x256, bf16> -> tensor<?x?x128xf32>
    %v1 = qllm.linear %h1, %wv1 : tensor<?x?x256xf32>, !qllm.weight<128x256, q5_0> -> tensor<?x?x128xf32>
    %qr1 = qllm.rope rotate_half %q1, %pos freq_factors(%ff : !qllm.weight<32, f32>) {head_dim = 64, theta = 5.0e+05 : f64} : tensor<?x?x256xf32>
    %kr1 = qllm.rope rotate_half %k1, %pos freq_factors(%ff : !qllm.weight<32, f32>) {head_dim = 64, theta = 5.0e+05 : f64} : tensor<?x?x128xf32>
    %a1 = qllm.attention %qr1, %kr1, %v1, %cache, %pos {layer = 1, n_heads = 4, n_kv_heads = 2, head_dim = 64} : tensor<?x?x256xf32>, tensor<?x?x128xf32>, !qllm.kv_cache<2x2x128x64, f32>
    %wo1 = qllm.weight "blk.1.attn_output.weight" : !qllm.weight<256x256, q5_1>
    %o1 = qllm.linear %a1, %wo1 : tensor<?x?x256xf32>, !qllm.weight<256x256, q5_1> -> tensor<?x?x256xf32>
    %r1 = qllm.add %x1, %o1 : tensor<?x?x256xf32>
    %fn1 = qllm.weight "blk.1.ffn_norm.weight" : !qllm.weight<256, f32>
    %m1 = qllm.rms_norm %r1, %fn1 {eps = 1.0e-05 : f64} : tensor<?x?x256xf32>, !qllm.weight<256, f32>
    %wg1 = qllm.weight "blk.1.ffn_gate.weight" : !qllm.weight<512x256, q2_K>
    %wu1 = qllm.weight "blk.1.ffn_up.weight" : !qllm.weight<512x256, q3_K>
    %wd1 = qllm.weight "blk.1.ffn_down.weight" : !qllm.weight<256x512, iq4_nl>
    %g1 = qllm.linear %m1, %wg1 : tensor<?x?x256xf32>, !qllm.weight<512x256, q2_K> -> tensor<?x?x512xf32>
    %u1 = qllm.linear %m1, %wu1 : tensor<?x?x256xf32>, !qllm.weight<512x256, q3_K> -> tensor<?x?x512xf32>
    %s1 = qllm.swiglu %g1, %u1 : tensor<?x?x512xf32>
    %d1 = qllm.linear %s1, %wd1 : tensor<?x?x512xf32>, !qllm.weight<256x512, iq4_nl> -> tensor<?x?x256xf32>
    %x2 = qllm.add %r1, %d1 : tensor<?x?x256xf32>

    %on = qllm.weight "output_norm.weight" : !qllm.weight<256, f32>
    %n = qllm.rms_norm %x2, %on {eps = 1.0e-05 : f64} : tensor<?x?x256xf32>, !qllm.weight<256, f32>
    %logits = qllm.linear %n, %emb : tensor<?x?x256xf32>, !qllm.weight<32x256, q8_0> -> tensor<?x?x32xf32>
    return %logits : tensor<?x?x32xf32>
  }
}

// -----
// Variants outside the model: RoPE styles and scalings, static shapes, rank-2 activations, an
// f16 cache, the long form of a format, and q8_K.

// CHECK-LABEL: module @variants
module @variants {
  // CHECK-LABEL: func.func @rope_and_cache
  func.func @rope_and_cache(%x: tensor<2x3x32xf32>, %kv: tensor<2x3x16xf32>, %pos: index,
                            %cache: !qllm.kv_cache<1x2x64x8, f16>) -> tensor<2x3x32xf32> {
    // CHECK: qllm.rope interleaved %{{.*}}, %{{.*}} {head_dim = 8 : i64, theta = 1.000000e+04 : f64} : tensor<2x3x32xf32>
    %q = qllm.rope interleaved %x, %pos {head_dim = 8, theta = 1.0e4 : f64} : tensor<2x3x32xf32>
    // CHECK: qllm.rope rotate_half %{{.*}}, %{{.*}} {head_dim = 8 : i64, scaling = #qllm.rope_scaling<kind = linear, factor = 2.000000e+00, low_freq_factor = 1.000000e+00, high_freq_factor = 4.000000e+00, original_max_position = 4096>, theta = 1.000000e+04 : f64} : tensor<2x3x16xf32>
    %k = qllm.rope rotate_half %kv, %pos {head_dim = 8, theta = 1.0e4 : f64,
        scaling = #qllm.rope_scaling<kind = linear, factor = 2.0, low_freq_factor = 1.0,
                                     high_freq_factor = 4.0, original_max_position = 4096>}
        : tensor<2x3x16xf32>
    // CHECK: qllm.attention {{.*}} : tensor<2x3x32xf32>, tensor<2x3x16xf32>, !qllm.kv_cache<1x2x64x8, f16>
    %o = qllm.attention %q, %k, %kv, %cache, %pos {layer = 0, n_heads = 4, n_kv_heads = 2, head_dim = 8}
        : tensor<2x3x32xf32>, tensor<2x3x16xf32>, !qllm.kv_cache<1x2x64x8, f16>
    return %o : tensor<2x3x32xf32>
  }

  // CHECK-LABEL: func.func @formats
  func.func @formats(%x: tensor<5x256xf32>) -> tensor<5x512xf32> {
    // CHECK: qllm.weight "a" : !qllm.weight<512x256, q8_K>
    %a = qllm.weight "a" : !qllm.weight<512x256, #qllm.ggml<q8_K>>
    // CHECK: qllm.linear %{{.*}}, %{{.*}} : tensor<5x256xf32>, !qllm.weight<512x256, q8_K> -> tensor<5x512xf32>
    %y = qllm.linear %x, %a : tensor<5x256xf32>, !qllm.weight<512x256, q8_K> -> tensor<5x512xf32>
    return %y : tensor<5x512xf32>
  }
}

// -----

// Calibration statistics, folded scales and planned formats (qllm-calibrate, qllm-fold-scales,
// qllm-choose-bits) round-trip.
// CHECK-LABEL: module @planned attributes {
// CHECK-SAME: qllm.calibration = #qllm.calibration<path = "m.calib.gguf", size = 100, fingerprint = "xxh3:01", weights = "xxh3:02", tokens = 4096>
// CHECK-SAME: qllm.scales_folded = "awq"
// CHECK: qllm.weight "a" {quantize_to = #qllm.ggml<q4_K>} : !qllm.weight<4x256, f32>
// CHECK: qllm.weight "b" {quantize_to = #qllm.int<bits = 3, group = 128, sym = false>} : !qllm.weight<4x256, f32>
// GENERIC-LABEL: "builtin.module"() <{sym_name = "planned"}>
// GENERIC: "qllm.weight"() <{name = "a", quantize_to = #qllm.ggml<q4_K>}>
module @planned attributes {
  qllm.calibration = #qllm.calibration<path = "m.calib.gguf", size = 100, fingerprint = "xxh3:01",
                                       weights = "xxh3:02", tokens = 4096>,
  qllm.scales_folded = "awq"
} {
  func.func @f() {
    %a = qllm.weight "a" {quantize_to = #qllm.ggml<q4_K>} : !qllm.weight<4x256, f32>
    %b = qllm.weight "b" {quantize_to = #qllm.int<bits = 3, group = 128, sym = false>} : !qllm.weight<4x256, f32>
    return
  }
}
