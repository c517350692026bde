// qllm-summary: one remark per model with totals and a per-format breakdown; distinct tensor
// names count once (the tied output head and a second reference to a norm do not add).
// RUN: qcc-opt %s -split-input-file -verify-diagnostics -qllm-summary
// RUN: rm -rf %t && mkdir -p %t
// RUN: qcc-opt %s -split-input-file -verify-diagnostics -qllm-summary="json-file=%t/summary.json"
// Each model's run rewrites the file; the last one, "tiny", is checked.
// RUN: FileCheck %s --check-prefix=JSON --input-file %t/summary.json
// RUN: not qcc-opt %s -split-input-file -qllm-summary="json-file=%t/missing/summary.json" 2>&1 | FileCheck %s --check-prefix=NOWRITE

// Every ggml format on one 256-wide row: the bytes are the block table of the dialect docs
// (256 / block size x block bytes), e.g. q4_K 144, q6_K 210, q8_0 8 x 34.
// expected-remark @+1 {{model every-format: 15 tensors, 3840 weights, 4152 bytes, 8.650 bits/weight; bf16: 1 tensors, 256 weights, 512 bytes, 16.000 bits/weight; f16: 1 tensors, 256 weights, 512 bytes, 16.000 bits/weight; f32: 1 tensors, 256 weights, 1024 bytes, 32.000 bits/weight; iq4_nl: 1 tensors, 256 weights, 144 bytes, 4.500 bits/weight; q2_K: 1 tensors, 256 weights, 84 bytes, 2.625 bits/weight; q3_K: 1 tensors, 256 weights, 110 bytes, 3.438 bits/weight; q4_0: 1 tensors, 256 weights, 144 bytes, 4.500 bits/weight; q4_1: 1 tensors, 256 weights, 160 bytes, 5.000 bits/weight; q4_K: 1 tensors, 256 weights, 144 bytes, 4.500 bits/weight; q5_0: 1 tensors, 256 weights, 176 bytes, 5.500 bits/weight; q5_1: 1 tensors, 256 weights, 192 bytes, 6.000 bits/weight; q5_K: 1 tensors, 256 weights, 176 bytes, 5.500 bits/weight; q6_K: 1 tensors, 256 weights, 210 bytes, 6.562 bits/weight; q8_0: 1 tensors, 256 weights, 272 bytes, 8.500 bits/weight; q8_K: 1 tensors, 256 weights, 292 bytes, 9.125 bits/weight}}
module attributes {qllm.config = #qllm.config<arch = "llama", name = "every-format", dim = 256, ffn_dim = 512, n_layers = 1, n_heads = 4, n_kv_heads = 4, head_dim = 64, vocab_size = 32, max_seq_len = 64, rope_theta = 1.0e+04, rope_style = interleaved, norm_eps = 1.0e-05, tied_embeddings = false>} {
  func.func @weights() {
    %f32w = qllm.weight "f32" : !qllm.weight<1x256, f32>
    %f16w = qllm.weight "f16" : !qllm.weight<1x256, f16>
    %bf16w = qllm.weight "bf16" : !qllm.weight<1x256, bf16>
    %q40w = qllm.weight "q4_0" : !qllm.weight<1x256, q4_0>
    %q41w = qllm.weight "q4_1" : !qllm.weight<1x256, q4_1>
    %q50w = qllm.weight "q5_0" : !qllm.weight<1x256, q5_0>
    %q51w = qllm.weight "q5_1" : !qllm.weight<1x256, q5_1>
    %q80w = qllm.weight "q8_0" : !qllm.weight<1x256, q8_0>
    %q2Kw = qllm.weight "q2_K" : !qllm.weight<1x256, q2_K>
    %q3Kw = qllm.weight "q3_K" : !qllm.weight<1x256, q3_K>
    %q4Kw = qllm.weight "q4_K" : !qllm.weight<1x256, q4_K>
    %q5Kw = qllm.weight "q5_K" : !qllm.weight<1x256, q5_K>
    %q6Kw = qllm.weight "q6_K" : !qllm.weight<1x256, q6_K>
    %q8Kw = qllm.weight "q8_K" : !qllm.weight<1x256, q8_K>
    %iq4nlw = qllm.weight "iq4_nl" : !qllm.weight<1x256, iq4_nl>
    return
  }
}

// -----

// Integer group formats (#qllm.int) count rows x IntGroup.h's row bytes: per group an f16
// scale (+ an f16 zero if asymmetric), then ceil(row_len x bits / 8) code bytes.
// 256x512 int4 g128 asym: 4 groups x 4 + 256 = 272 bytes/row, 69632 bytes, 4.250 bits/weight
// 256x512 int3 g128 sym:  4 groups x 2 + 192 = 200 bytes/row, 51200 bytes, 3.125 bits/weight
// 64x300  int8 per-channel sym: 2 + 300 = 302 bytes/row, 19328 bytes
// 256x512 q4_K beside them: 2 blocks x 144 = 288 bytes/row, 73728 bytes

// expected-remark @+1 {{model int-formats: 4 tensors, 412416 weights, 213888 bytes, 4.149 bits/weight; int3_g128_sym: 1 tensors, 131072 weights, 51200 bytes, 3.125 bits/weight; int4_g128_asym: 1 tensors, 131072 weights, 69632 bytes, 4.250 bits/weight; int8_ch_sym: 1 tensors, 19200 weights, 19328 bytes, 8.053 bits/weight; q4_K: 1 tensors, 131072 weights, 73728 bytes, 4.500 bits/weight}}
module attributes {qllm.config = #qllm.config<arch = "llama", name = "int-formats", dim = 512, ffn_dim = 512, n_layers = 1, n_heads = 4, n_kv_heads = 4, head_dim = 64, vocab_size = 32, max_seq_len = 64, rope_theta = 1.0e+04, rope_style = interleaved, norm_eps = 1.0e-05, tied_embeddings = false>} {
  func.func @weights() {
    %a = qllm.weight "g128_asym" : !qllm.weight<256x512, #qllm.int<bits = 4, group = 128, sym = false>>
    %b = qllm.weight "g128_sym" : !qllm.weight<256x512, #qllm.int<bits = 3, group = 128, sym = true>>
    %c = qllm.weight "ch_sym" : !qllm.weight<64x300, #qllm.int<bits = 8, group = 0, sym = true>>
    %d = qllm.weight "q4K" : !qllm.weight<256x512, q4_K>
    return
  }
}

// -----

// 32x256 q8_0: 8192 weights, 32 rows x 8 blocks x 34 bytes = 8704 bytes
// 256 f32:     256 weights, 1024 bytes
// 256x256 q4_K: 65536 weights, 256 rows x 1 block x 144 bytes = 36864 bytes
// Total: 73984 weights, 46592 bytes, 8 x 46592 / 73984 = 5.038 bits/weight.

// expected-remark @+1 {{model tiny: 3 tensors, 73984 weights, 46592 bytes, 5.038 bits/weight; f32: 1 tensors, 256 weights, 1024 bytes, 32.000 bits/weight; q4_K: 1 tensors, 65536 weights, 36864 bytes, 4.500 bits/weight; q8_0: 1 tensors, 8192 weights, 8704 bytes, 8.500 bits/weight}}
module attributes {qllm.config = #qllm.config<arch = "llama", name = "tiny", dim = 256, ffn_dim = 512, n_layers = 1, n_heads = 4, n_kv_heads = 4, head_dim = 64, vocab_size = 32, max_seq_len = 64, rope_theta = 1.0e+04, rope_style = interleaved, norm_eps = 1.0e-05, tied_embeddings = true>} {
  func.func @forward(%tokens: tensor<?x?xi32>) -> tensor<?x?x32xf32> {
    %emb = qllm.weight "token_embd.weight" : !qllm.weight<32x256, q8_0>
    %x = qllm.embed %emb[%tokens] : !qllm.weight<32x256, q8_0>, tensor<?x?xi32> -> tensor<?x?x256xf32>
    %g = qllm.weight "output_norm.weight" : !qllm.weight<256, f32>
    %n = qllm.rms_norm %x, %g {eps = 1.0e-05 : f64} : tensor<?x?x256xf32>, !qllm.weight<256, f32>
    %wq = qllm.weight "blk.0.attn_q.weight" : !qllm.weight<256x256, q4_K>
    %q = qllm.linear %n, %wq : tensor<?x?x256xf32>, !qllm.weight<256x256, q4_K> -> tensor<?x?x256xf32>
    %g2 = qllm.weight "output_norm.weight" : !qllm.weight<256, f32>
    %n2 = qllm.rms_norm %q, %g2 {eps = 1.0e-05 : f64} : tensor<?x?x256xf32>, !qllm.weight<256, f32>
    %head = qllm.weight "token_embd.weight" : !qllm.weight<32x256, q8_0>
    %logits = qllm.linear %n2, %head : tensor<?x?x256xf32>, !qllm.weight<32x256, q8_0> -> tensor<?x?x32xf32>
    return %logits : tensor<?x?x32xf32>
  }
}

// JSON:      "bits_per_weight": 5.03806{{[0-9]*}},
// JSON-NEXT: "bytes": 46592,
// JSON-NEXT: "formats": {
// JSON-NEXT:   "f32": {
// JSON-NEXT:     "bits_per_weight": 32,
// JSON-NEXT:     "bytes": 1024,
// JSON-NEXT:     "tensors": 1,
// JSON-NEXT:     "weights": 256
// JSON-NEXT:   },
// JSON-NEXT:   "q4_K": {
// JSON-NEXT:     "bits_per_weight": 4.5,
// JSON-NEXT:     "bytes": 36864,
// JSON-NEXT:     "tensors": 1,
// JSON-NEXT:     "weights": 65536
// JSON-NEXT:   },
// JSON-NEXT:   "q8_0": {
// JSON-NEXT:     "bits_per_weight": 8.5,
// JSON-NEXT:     "bytes": 8704,
// JSON-NEXT:     "tensors": 1,
// JSON-NEXT:     "weights": 8192
// JSON-NEXT:   }
// JSON-NEXT: },
// JSON-NEXT: "model": "tiny",
// JSON-NEXT: "tensors": 3,
// JSON-NEXT: "weights": 73984

// NOWRITE: error: cannot write the summary: '{{.*}}missing/summary.json': {{.+}}

// -----

// A module that is not a model has nothing to summarize.
// expected-error @+1 {{expected a #qllm.config in module attribute 'qllm.config'}}
module {
  func.func @f() {
    return
  }
}
