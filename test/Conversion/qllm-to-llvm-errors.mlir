// RUN: qcc-opt --convert-qllm-to-llvm --verify-diagnostics --split-input-file %s

// expected-error @+1 {{expected a qllm model: func.func @forward, qllm.config and qllm.weights}}
module {
}

// -----

// expected-error @+1 {{/nonexistent/w.gguf}}
module attributes {qllm.config = #qllm.config<arch = "llama", name = "m", dim = 8, ffn_dim = 8, n_layers = 1, n_heads = 1, n_kv_heads = 1, head_dim = 8, vocab_size = 4, max_seq_len = 4, rope_theta = 1.000000e+04, rope_style = interleaved, norm_eps = 1.000000e-05, tied_embeddings = true>, qllm.weights = #qllm.weight_file<path = "/nonexistent/w.gguf", container = "gguf", size = 10, fingerprint = "xxh3:0">} {
  func.func @forward(%arg0: tensor<?x?xi32>, %arg1: index, %arg2: !qllm.kv_cache<1x1x4x8, f32>) -> tensor<?x?x4xf32> {
    %w = qllm.weight "token_embd.weight" : !qllm.weight<4x8, f32>
    %0 = qllm.embed %w[%arg0] : !qllm.weight<4x8, f32>, tensor<?x?xi32> -> tensor<?x?x8xf32>
    %1 = qllm.linear %0, %w : tensor<?x?x8xf32>, !qllm.weight<4x8, f32> -> tensor<?x?x4xf32>
    return %1 : tensor<?x?x4xf32>
  }
}
