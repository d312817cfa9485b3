//===- FusedSteps.h - A fused body, one kernel per step ---------*- C++ -*-===//
//
// A backend without a one-pass kernel of `fused` bodies (the cuda backend,
// whose bodies the compiler turns into generated kernels for target cuda)
// still runs programs compiled for target cpu: each step of the body runs
// as an instruction of its own, through the backend's kernel of its op, on
// the step's own shapes. The values between steps are stored in the
// workspace in their dtypes, so 16-bit floats are rounded after every step,
// as they are when the ops are not fused.
//
//===----------------------------------------------------------------------===//

#ifndef DSP_RUNTIME_FUSEDSTEPS_H
#define DSP_RUNTIME_FUSEDSTEPS_H

#include "dsp/Format/ProgramFile.h"
#include "dsp/Runtime/Backend.h"

#include <memory>

namespace dsp {
namespace runtime {

/// The kernel of the validated `fused` instruction `instruction` of
/// `program` as `backend`'s kernels of its steps; the backend outlives it.
Status createFusedStepsKernel(Backend &backend,
                              const dsp::program::Program &program,
                              const dsp::program::Instruction &instruction,
                              std::unique_ptr<Kernel> &kernel);

} // namespace runtime
} // namespace dsp

#endif // DSP_RUNTIME_FUSEDSTEPS_H
