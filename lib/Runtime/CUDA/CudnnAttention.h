//===- CudnnAttention.h - Attention through cuDNN's fused SDPA --*- C++ -*-===//
//
// f16 and bf16 attention without a mask runs cuDNN's fused scaled dot
// product attention (flash attention), built through the header-only
// cudnn-frontend when the build found it (DSP_HAVE_CUDNN). Everything else,
// and everything cuDNN refuses, runs the own kernel (Attention.cu).
//
//===----------------------------------------------------------------------===//

#ifndef DSP_RUNTIME_CUDA_CUDNNATTENTION_H
#define DSP_RUNTIME_CUDA_CUDNNATTENTION_H

#include "Kernels.h"

namespace dsp {
namespace runtime {
namespace cuda {

/// The attention kernel for `context` through cuDNN's SDPA. An error says
/// why cuDNN does not run this instruction (the dtype, a mask, the build,
/// or the cuDNN or frontend call that failed, with the instruction's
/// shapes); the caller falls back to the own kernel.
Status createCudnnAttentionKernel(const KernelContext &context,
                                  std::unique_ptr<Kernel> &kernel);

} // namespace cuda
} // namespace runtime
} // namespace dsp

#endif // DSP_RUNTIME_CUDA_CUDNNATTENTION_H
