// Integer group formats (#qllm.int) inside !qllm.weight survive print -> parse -> print, in the
// custom and the generic form; the order of the struct keys does not matter when parsing.
// RUN: qcc-opt %s -split-input-file | qcc-opt -split-input-file | FileCheck %s
// RUN: qcc-opt %s -split-input-file --mlir-print-op-generic | qcc-opt -split-input-file | FileCheck %s

// CHECK-LABEL: func.func @int_linears
// CHECK: %[[WQ:.*]] = qllm.weight "blk.0.attn_q.weight" : !qllm.weight<256x512, #qllm.int<bits = 4, group = 128, sym = true>>
// CHECK: qllm.linear %{{.*}}, %[[WQ]] : tensor<?x?x512xf32>, !qllm.weight<256x512, #qllm.int<bits = 4, group = 128, sym = true>> -> tensor<?x?x256xf32>
// CHECK: %[[WK:.*]] = qllm.weight "blk.0.attn_k.weight" : !qllm.weight<128x512, #qllm.int<bits = 3, group = 128, sym = false>>
// CHECK: qllm.linear %{{.*}}, %[[WK]] : tensor<?x?x512xf32>, !qllm.weight<128x512, #qllm.int<bits = 3, group = 128, sym = false>> -> tensor<?x?x128xf32>
// CHECK: %[[WV:.*]] = qllm.weight "blk.0.attn_v.weight" : !qllm.weight<128x512, #qllm.int<bits = 2, group = 16, sym = false>>
// CHECK: %[[WO:.*]] = qllm.weight "blk.0.attn_output.weight" : !qllm.weight<512x300, #qllm.int<bits = 8, group = 0, sym = true>>
// CHECK: qllm.linear %{{.*}}, %[[WO]] : tensor<?x?x300xf32>, !qllm.weight<512x300, #qllm.int<bits = 8, group = 0, sym = true>> -> tensor<?x?x512xf32>
// CHECK: %[[WU:.*]] = qllm.weight "blk.0.ffn_up.weight" : !qllm.weight<64x512, q4_K>
func.func @int_linears(%x: tensor<?x?x512xf32>, %y: tensor<?x?x300xf32>) {
  %wq = qllm.weight "blk.0.attn_q.weight" : !qllm.weight<256x512, #qllm.int<bits = 4, group = 128, sym = true>>
  %q = qllm.linear %x, %wq : tensor<?x?x512xf32>, !qllm.weight<256x512, #qllm.int<bits = 4, group = 128, sym = true>> -> tensor<?x?x256xf32>
  %wk = qllm.weight "blk.0.attn_k.weight" : !qllm.weight<128x512, #qllm.int<sym = false, group = 128, bits = 3>>
  %k = qllm.linear %x, %wk : tensor<?x?x512xf32>, !qllm.weight<128x512, #qllm.int<bits = 3, group = 128, sym = false>> -> tensor<?x?x128xf32>
  %wv = qllm.weight "blk.0.attn_v.weight" : !qllm.weight<128x512, #qllm.int<bits = 2, group = 16, sym = false>>
  %v = qllm.linear %x, %wv : tensor<?x?x512xf32>, !qllm.weight<128x512, #qllm.int<bits = 2, group = 16, sym = false>> -> tensor<?x?x128xf32>
  // Per output channel: one group per row, so a row of 300 is fine.
  %wo = qllm.weight "blk.0.attn_output.weight" : !qllm.weight<512x300, #qllm.int<bits = 8, group = 0, sym = true>>
  %o = qllm.linear %y, %wo : tensor<?x?x300xf32>, !qllm.weight<512x300, #qllm.int<bits = 8, group = 0, sym = true>> -> tensor<?x?x512xf32>
  %wu = qllm.weight "blk.0.ffn_up.weight" : !qllm.weight<64x512, q4_K>
  %u = qllm.linear %x, %wu : tensor<?x?x512xf32>, !qllm.weight<64x512, q4_K> -> tensor<?x?x64xf32>
  return
}

// -----

// A format can stand alone as an attribute too.
// CHECK-LABEL: func.func private @format_attr()
// CHECK-SAME: format = #qllm.int<bits = 5, group = 64, sym = false>
func.func private @format_attr() attributes {format = #qllm.int<bits = 5, group = 64, sym = false>}

// -----

// W8A8: int8 per-channel weights with per-token int8 activations.
// CHECK-LABEL: func.func @w8a8
// CHECK: qllm.linear %{{.*}}, %{{.*}} {act_quant = "int8_per_token"} : tensor<?x?x256xf32>, !qllm.weight<64x256, #qllm.int<bits = 8, group = 0, sym = true>> -> tensor<?x?x64xf32>
func.func @w8a8(%x: tensor<?x?x256xf32>) -> tensor<?x?x64xf32> {
  %w = qllm.weight "w" : !qllm.weight<64x256, #qllm.int<bits = 8, group = 0, sym = true>>
  %y = qllm.linear %x, %w {act_quant = "int8_per_token"} : tensor<?x?x256xf32>, !qllm.weight<64x256, #qllm.int<bits = 8, group = 0, sym = true>> -> tensor<?x?x64xf32>
  return %y : tensor<?x?x64xf32>
}
