// Programs are refused, with the reason, where they cannot be emitted.
// RUN: not dsp-opt %s -split-input-file --emit=program -o %t.dspx 2>&1 | FileCheck %s --check-prefix=SPLIT
// RUN: not dsp-opt %s --emit=program 2>&1 | FileCheck %s --check-prefix=STDOUT
// RUN: sed -n '/^\/\/ GROUP-BEGIN/,/^\/\/ GROUP-END/p' %s > %t.group.mlir
// RUN: not dsp-opt %t.group.mlir --emit=program -o %t.dspx 2>&1 | FileCheck %s --check-prefix=GROUP

// SPLIT: dsp-opt: --emit=program takes one module, not split input
// STDOUT: dsp-opt: --emit=program needs an output file (-o)

// GROUP-BEGIN
module attributes {dsp.group = #dsp.group<ranks = 4>} {
  func.func @main(%x: tensor<8x4xf32>) -> tensor<8x4xf32> {
    %0 = dsp.exp %x : tensor<8x4xf32>
    return %0 : tensor<8x4xf32>
  }
}
// GROUP-END
// GROUP: error: a multi-rank program needs every op sharded; run --dsp-propagate-sharding and --dsp-insert-reshards (or --dsp-pipeline) first
