//===- CudaBackend.h - The cuda backend -------------------------*- C++ -*-===//
//
// Built with DSP_ENABLE_CUDA: createBackend("cuda") lands here. See
// docs/cuda.md.
//
//===----------------------------------------------------------------------===//

#ifndef DSP_RUNTIME_CUDA_CUDABACKEND_H
#define DSP_RUNTIME_CUDA_CUDABACKEND_H

#include "dsp/Runtime/Backend.h"
#include "dsp/Runtime/Runtime.h"

namespace dsp {
namespace runtime {

/// The cuda backend on GPU `options.device` (kDeviceOfLocalRank: see
/// findCudaDevice); an error says why there is none (no driver, no GPU, a
/// device number out of range).
Status createCudaBackend(const BackendOptions &options,
                         std::unique_ptr<Backend> &backend);

/// The GPU `requested` names: itself, or for kDeviceOfLocalRank the MPI
/// launcher's node-local rank modulo the GPUs; an error says why there is
/// none.
Status findCudaDevice(int requested, int &device);

} // namespace runtime
} // namespace dsp

#endif // DSP_RUNTIME_CUDA_CUDABACKEND_H
