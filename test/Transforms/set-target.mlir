// RUN: dsp-opt %s --dsp-set-target | FileCheck %s --check-prefix=CPU
// RUN: dsp-opt %s --dsp-set-target="target=cuda" | FileCheck %s --check-prefix=CUDA
// RUN: dsp-opt %s --dsp-set-target="target=cuda chip=sm_100a" | FileCheck %s --check-prefix=CHIP
// RUN: not dsp-opt %s --dsp-set-target="target=rocm" 2>&1 | FileCheck %s --check-prefix=UNKNOWN
// RUN: not dsp-opt %s --dsp-set-target="target=cuda chip=gfx942" 2>&1 | FileCheck %s --check-prefix=BADCHIP
// RUN: not dsp-opt %s --dsp-set-target="target=cuda" --dsp-set-target="target=cuda chip=sm_80" 2>&1 | FileCheck %s --check-prefix=TWICE
// RUN: dsp-opt %s --dsp-set-target="overlap-chunks=2" | FileCheck %s --check-prefix=OVERLAP
// RUN: not dsp-opt %s --dsp-set-target="overlap-chunks=0" 2>&1 | FileCheck %s --check-prefix=NO-CHUNKS

// CPU: module attributes {dsp.target = #dsp.target<cpu>} {
// CUDA: module attributes {dsp.target = #dsp.target<cuda, chip = "sm_90">}
// CHIP: module attributes {dsp.target = #dsp.target<cuda, chip = "sm_100a">}
// UNKNOWN: error: unknown target 'rocm', expected cpu or cuda
// BADCHIP: error: target cuda needs a chip such as "sm_90", got gfx942
// TWICE: error: the module is compiled for #dsp.target<cuda, chip = "sm_90"> already, not #dsp.target<cuda, chip = "sm_80">
// OVERLAP: module attributes {dsp.overlap_chunks = 2 : i64, dsp.target = #dsp.target<cpu>}
// NO-CHUNKS: error: overlap-chunks is 0, expected 1 or more
module {
  func.func @f(%x: tensor<2xf32>) -> tensor<2xf32> {
    return %x : tensor<2xf32>
  }
}
