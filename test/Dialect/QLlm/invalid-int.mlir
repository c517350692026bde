// Verifier rules of the integer group format #qllm.int and of !qllm.weight over it.
// RUN: qcc-opt %s -split-input-file -verify-diagnostics

// expected-error @+1 {{integer format bits must be in [2, 8], got 1}}
func.func private @bits_1(!qllm.weight<4x128, #qllm.int<bits = 1, group = 128, sym = true>>)

// -----

// expected-error @+1 {{integer format bits must be in [2, 8], got 9}}
func.func private @bits_9(!qllm.weight<4x128, #qllm.int<bits = 9, group = 128, sym = false>>)

// -----

// expected-error @+1 {{integer format group must be 0 (per output channel) or a power of two >= 16, got 96}}
func.func private @group_not_pow2(!qllm.weight<4x192, #qllm.int<bits = 4, group = 96, sym = true>>)

// -----

// expected-error @+1 {{integer format group must be 0 (per output channel) or a power of two >= 16, got 8}}
func.func private @group_too_small(!qllm.weight<4x128, #qllm.int<bits = 4, group = 8, sym = true>>)

// -----

// expected-error @+1 {{integer format group must be 0 (per output channel) or positive, got -128}}
func.func private @group_negative(!qllm.weight<4x128, #qllm.int<bits = 4, group = -128, sym = true>>)

// -----

// expected-error @+1 {{row length 300 is not a multiple of the int4_g128_asym group size 128}}
func.func private @row_not_groups(!qllm.weight<64x300, #qllm.int<bits = 4, group = 128, sym = false>>)

// -----

// expected-error @+1 {{row length 48 is not a multiple of the int3_g32_sym group size 32}}
func.func private @vector_not_groups(!qllm.weight<48, #qllm.int<bits = 3, group = 32, sym = true>>)

// -----

// All three keys are required.
// expected-error @+1 {{expected ','}}
func.func private @missing_sym(!qllm.weight<4x128, #qllm.int<bits = 4, group = 128>>)

// -----

// expected-error @+2 {{expected 'true' or 'false'}}
// expected-error @+1 {{failed to parse QLlm_IntGroupFormatAttr parameter 'sym' which is to be a `bool`}}
func.func private @sym_not_bool(!qllm.weight<4x128, #qllm.int<bits = 4, group = 128, sym = 1>>)
