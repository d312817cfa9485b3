//===- MpiCommunicator.h - Ranks as Open MPI processes ----------*- C++ -*-===//
//
// The mpi communicator, which the nccl communicator extends: it
// bootstraps over MPI and moves host memory through it.
//
//===----------------------------------------------------------------------===//

#ifndef DSP_RUNTIME_MPICOMMUNICATOR_H
#define DSP_RUNTIME_MPICOMMUNICATOR_H

#include "dsp/Runtime/Communicator.h"

namespace dsp {
namespace runtime {

/// This process's place in MPI_COMM_WORLD.
struct MpiWorld {
  int rank = 0, size = 0;
  /// Ranks on this node.
  int ranksOnHost = 0;
};

/// Initializes MPI (once per process) and checks `options` for the world's
/// size; on failure MPI is finalized again.
Status initializeMpi(const CommunicatorOptions &options, MpiWorld &world);

/// Moves host memory between the processes of MPI_COMM_WORLD; finalizes MPI
/// when destroyed.
class MpiCommunicator : public Communicator {
public:
  MpiCommunicator(const MpiWorld &world, const CommunicatorOptions &options)
      : Communicator(world.rank, world.size, options),
        ranksOnHost_(world.ranksOnHost) {}
  ~MpiCommunicator() override;

  const char *name() const override { return "mpi"; }
  int ranksOnHost() const override { return ranksOnHost_; }
  /// Ends the whole job (MPI_Abort).
  void abort(const std::string &message) override;

protected:
  /// Device buffers arrive staged (Communicator::setHostStaging): MPI moves
  /// host memory only.
  Status transfer(const std::vector<SendBuffer> &sends,
                  const std::vector<ReceiveBuffer> &receives,
                  bool backendMemory) override;
  void exitRank() override;

private:
  int ranksOnHost_;
};

} // namespace runtime
} // namespace dsp

#endif // DSP_RUNTIME_MPICOMMUNICATOR_H
