// Bad options and a module planned for another group size are errors that
// name the offending value.

// RUN: not dsp-opt %s -split-input-file --dsp-propagate-sharding="ranks=4 strategy=fsdp" -o /dev/null 2>&1 | FileCheck %s --check-prefix=STRATEGY
// RUN: not dsp-opt %s -split-input-file --dsp-pipeline="ranks=4 strategy=fsdp" -o /dev/null 2>&1 | FileCheck %s --check-prefix=STRATEGY
// STRATEGY: error: unknown strategy 'fsdp'; use auto, dsp, ulysses, megatron-sp, ring, usp or none

// RUN: not dsp-opt %s -split-input-file --dsp-propagate-sharding="ranks=4 preset=ethernet" -o /dev/null 2>&1 | FileCheck %s --check-prefix=PRESET
// PRESET: error: unknown link preset 'ethernet'; use nvlink or infiniband

// RUN: not dsp-opt %s -split-input-file --dsp-propagate-sharding="ranks=4 mesh=3x2" -o /dev/null 2>&1 | FileCheck %s --check-prefix=MESH
// RUN: not dsp-opt %s -split-input-file --dsp-pipeline="ranks=4 mesh=2" -o /dev/null 2>&1 | FileCheck %s --check-prefix=MESH-ONE
// MESH: error: mesh '3x2' is not sizes such as 2x4 that multiply to the 4 ranks
// MESH-ONE: error: mesh '2' is not sizes such as 2x4 that multiply to the 4 ranks

// RUN: not dsp-opt %s -split-input-file --dsp-propagate-sharding="ranks=0" -o /dev/null 2>&1 | FileCheck %s --check-prefix=ZERO
// ZERO: error: ranks must be between 1 and 65536, got 0{{$}}

// RUN: not dsp-opt %s -split-input-file --dsp-propagate-sharding="ranks=-2" -o /dev/null 2>&1 | FileCheck %s --check-prefix=NEGATIVE
// NEGATIVE: error: ranks must be between 1 and 65536, got -2{{$}}

// Up to 65536 ranks plan (no division by a wrapped rank count); beyond is
// an error.
// RUN: not dsp-opt %s -split-input-file --dsp-propagate-sharding="ranks=4294967296" -o /dev/null 2>&1 | FileCheck %s --check-prefix=HUGE
// HUGE: error: ranks must be between 1 and 65536, got 4294967296{{$}}
// RUN: dsp-opt %dsp_src/examples/stdit_tiny.onnx --no-weights --dsp-pipeline="ranks=4096" -o /dev/null

// RUN: not dsp-opt %s -split-input-file --dsp-pipeline="ranks=4 mesh-pricing-limit=-1" -o /dev/null 2>&1 | FileCheck %s --check-prefix=PRICING
// PRICING: error: mesh-pricing-limit must be at least 0, got -1{{$}}

// RUN: not dsp-opt %s -split-input-file --dsp-propagate-sharding="ranks=4 tflops=0" -o /dev/null 2>&1 | FileCheck %s --check-prefix=TFLOPS
// TFLOPS: error: tflops must be positive

// The second module was planned for 2 ranks already; the first has no
// group and is planned. The error shows the module's first line, not the
// module.
// RUN: not dsp-opt %s -split-input-file --dsp-propagate-sharding="ranks=4" 2>&1 >/dev/null | FileCheck %s --check-prefix=GROUP --implicit-check-not=func.func
// RUN: not dsp-opt %s -split-input-file --dsp-propagate-sharding="ranks=4" 2>/dev/null | FileCheck %s --check-prefix=PLANNED
// GROUP:      error: the module already has a device group of 2 ranks; cannot plan it for 4{{$}}
// GROUP-NEXT: module attributes {dsp.group = #dsp.group<ranks = 2>}
// GROUP-NOT:  error:
// PLANNED:     module attributes {{{.*}}dsp.group = #dsp.group<ranks = 4>}
// PLANNED:     func.func @f
// PLANNED-NOT: func.func @planned

// A planned module is not planned again, whatever its group: the error
// says what to plan instead, and prints none of the planned IR.
// RUN: dsp-opt %dsp_src/examples/stdit_tiny.onnx --no-weights --dsp-propagate-sharding="ranks=4" -o %t.planned.mlir
// RUN: not dsp-opt %t.planned.mlir --dsp-propagate-sharding="ranks=4" 2>&1 | FileCheck %s --check-prefix=REPLAN --implicit-check-not=func.func
// RUN: not dsp-opt %t.planned.mlir --dsp-propagate-sharding="ranks=2" 2>&1 | FileCheck %s --check-prefix=REPLAN --implicit-check-not=func.func
// REPLAN: error: this module is planned already (it has shardings and collectives); plan the imported model instead, such as `dsp-opt model.onnx --dsp-pipeline=ranks=N`

// The same group size is accepted.
// RUN: dsp-opt %s -split-input-file --dsp-propagate-sharding="ranks=2" | FileCheck %s --check-prefix=SAME
// SAME-COUNT-2: dsp.group = #dsp.group<ranks = 2>
// SAME-NOT:     error

func.func @f(%x: tensor<4x8xf32>) -> tensor<4x8xf32> {
  %0 = dsp.neg %x : tensor<4x8xf32>
  return %0 : tensor<4x8xf32>
}

// -----

module attributes {dsp.group = #dsp.group<ranks = 2>} {
  func.func @planned(%x: tensor<4x8xf32>) -> tensor<4x8xf32> {
    %0 = dsp.neg %x : tensor<4x8xf32>
    return %0 : tensor<4x8xf32>
  }
}
