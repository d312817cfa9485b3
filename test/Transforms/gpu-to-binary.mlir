// REQUIRES: cuda-toolkit
// RUN: dsp-opt %s --dsp-lower-fused-to-gpu --dsp-gpu-to-binary="format=isa" | FileCheck %s --check-prefix=PTX
// RUN: dsp-opt %s --dsp-lower-fused-to-gpu --dsp-gpu-to-binary="chip=sm_100 format=isa" | FileCheck %s --check-prefix=SM100
// RUN: dsp-opt %s --dsp-lower-fused-to-gpu --dsp-gpu-to-binary | FileCheck %s --check-prefix=FATBIN

// The kernel becomes PTX for sm_90 with one pointer parameter per tensor
// (bare pointers), and erf comes from libdevice, linked in.
// PTX:      dsp.launch @fused_0_kernel::@fused_0_kernel
// PTX:      gpu.binary @fused_0_kernel [#gpu.object<#nvvm.target<O = 3, chip = "sm_90", features = "+ptx80">
// PTX-SAME: assembly = "
// PTX-SAME: .target sm_90
// PTX-SAME: .entry fused_0_kernel(
// PTX-SAME: .param .u64 .ptr .align 1 fused_0_kernel_param_0,
// PTX-SAME: .param .u64 .ptr .align 1 fused_0_kernel_param_1,
// PTX-SAME: .param .u64 .ptr .align 1 fused_0_kernel_param_2
// PTX-NOT:  __nv_erff
// SM100:    features = "+ptx86"
// SM100-SAME: .target sm_100
// The fatbin (the default) holds the cubin and the PTX; it starts with the
// fatbin magic 0xBA55ED50.
// FATBIN:   gpu.binary @fused_0_kernel [#gpu.object<#nvvm.target<O = 3, chip = "sm_90", features = "+ptx80">
// FATBIN-SAME: "P\EDU\BA
func.func @bias_gelu(%x: tensor<64x1152xbf16>, %b: tensor<1152xbf16>) -> tensor<64x1152xbf16> {
  %0 = dsp.fused(%x, %b) : (tensor<64x1152xbf16>, tensor<1152xbf16>) -> tensor<64x1152xbf16> {
  ^bb0(%a0: tensor<64x1152xbf16>, %a1: tensor<1152xbf16>):
    %1 = dsp.add %a0, %a1 : tensor<64x1152xbf16>, tensor<1152xbf16> -> tensor<64x1152xbf16>
    %2 = dsp.gelu %1 : tensor<64x1152xbf16>
    dsp.yield %2 : tensor<64x1152xbf16>
  }
  return %0 : tensor<64x1152xbf16>
}
