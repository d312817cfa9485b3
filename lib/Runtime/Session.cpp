//===- Session.cpp - The executor -----------------------------------------===//
//
// Runs a validated program's instructions in order on one backend. All
// memory is allocated at creation: the arena in which the compiler's buffer
// plan places every non-weight tensor, the largest kernel workspace and the
// copies of the inputs. A run copies the bound inputs into the arena (the
// plan may reuse an input's bytes once it is dead), then runs each kernel.
//
//===----------------------------------------------------------------------===//

#include "dsp/Runtime/Runtime.h"

#include "dsp/Format/Checked.h"
#include "dsp/Format/Float16.h"
#include "dsp/Format/Layout.h"
#include "dsp/Format/Npy.h"
#include "dsp/Format/OpRegistry.h"
#include "dsp/Runtime/Backend.h"
#include "dsp/Runtime/Communicator.h"

#include <algorithm>
#include <cctype>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <map>
#include <new>
#include <system_error>
#include <thread>

using dsp::program::Instruction;
using dsp::program::Program;
using dsp::program::Tensor;

namespace dsp {
namespace runtime {

namespace {

TensorInfo describe(const Tensor &tensor) {
  TensorInfo info;
  info.name = tensor.name();
  info.dtype = tensor.dtype();
  info.shape = format::tensorShape(tensor);
  info.bytes = tensor.bytes();
  info.layout.assign(tensor.layout().begin(), tensor.layout().end());
  info.globalShape.assign(tensor.global_shape().begin(),
                          tensor.global_shape().end());
  if (info.globalShape.empty())
    info.globalShape = info.shape;
  info.keepsLayoutOf = tensor.keeps_layout_of();
  return info;
}

/// How the ranks hold a graph input or output, for an error.
std::string layoutText(const TensorInfo &info) {
  format::Layout layout;
  if (info.layout.size() != 6 ||
      !format::Layout::decode(info.layout, layout).empty())
    return info.layout.empty() ? "replicated" : "a mesh layout";
  return layout.str();
}

std::string location(size_t index, const Instruction &instruction) {
  return "instruction " + std::to_string(index) + " (" + instruction.op() +
         (instruction.location().empty()
              ? std::string()
              : " at '" + instruction.location() + "'") +
         ")";
}

} // namespace

std::unique_ptr<Session>
Session::create(std::shared_ptr<const format::ProgramFile> program,
                const SessionOptions &options, std::string &error) {
  std::unique_ptr<Session> session(new Session());
  session->file_ = std::move(program);
  // The runtime never throws: a refused allocation or thread is an error.
  Status status;
  try {
    status = session->initialize(options);
  } catch (const std::bad_alloc &) {
    status = Status::error("out of memory while creating the session");
  } catch (const std::system_error &exception) {
    status = Status::error(std::string("cannot create the session: ") +
                           exception.what());
  }
  if (!status) {
    error = session->file_->path() + ": " + status.message();
    return nullptr;
  }
  return session;
}

std::unique_ptr<Session> Session::open(const std::string &path,
                                       const SessionOptions &options,
                                       std::string &error) {
  std::shared_ptr<const format::ProgramFile> file =
      format::ProgramFile::open(path, error);
  if (!file)
    return nullptr;
  return create(std::move(file), options, error);
}

Status Session::initialize(const SessionOptions &options) {
  const Program &program = file_->program();
  communicator_ = options.communicator;
  tracing_ = options.trace;
  if (!options.dumpFolder.empty()) {
    dumpFolder_ = options.dumpFolder + "/rank" +
                  std::to_string(communicator_ ? communicator_->rank() : 0);
    std::error_code error;
    std::filesystem::create_directories(dumpFolder_, error);
    if (error)
      return Status::error("cannot create the dump folder '" + dumpFolder_ +
                           "': " + error.message());
  }
  if (!communicator_) {
    if (program.ranks() != 1)
      return Status::error(
          "the program runs on " + std::to_string(program.ranks()) +
          " ranks; give the session a communicator of that size (dsp-run "
          "--comm=local or --comm=mpi)");
    std::vector<std::shared_ptr<Communicator>> group;
    Status status = createLocalCommunicators(1, CommunicatorOptions(), group);
    if (!status)
      return status;
    communicator_ = group[0];
  }
  if (static_cast<uint32_t>(communicator_->size()) != program.ranks())
    return Status::error("the program runs on " +
                         std::to_string(program.ranks()) +
                         " ranks, the communicator has " +
                         std::to_string(communicator_->size()));
  if (options.threads > kMaxThreads)
    return Status::error("threads is " + std::to_string(options.threads) +
                         ", more than the limit of " +
                         std::to_string(kMaxThreads));
  BackendOptions backendOptions;
  backendOptions.communicator = communicator_.get();
  backendOptions.device = options.device;
  backendOptions.threads =
      options.threads
          ? options.threads
          : std::clamp(std::thread::hardware_concurrency(), 1u, kMaxThreads);
  Status status = createBackend(options.backend, backendOptions, backend_);
  if (!status)
    return status;
  if (!(status = backend_->importWeights(*file_, &weights_)))
    return status;
  // Validated: at most kMaxBufferBytes. At least one byte, so that every
  // tensor address is a valid pointer.
  if (!(status = backend_->allocate(
            std::max<uint64_t>(program.arena_bytes(), 1), &arena_)))
    return Status::error("the arena: " + status.message());

  bool hasAsync =
      std::any_of(program.instructions().begin(), program.instructions().end(),
                  format::startsAsync);
  // The collective each async step's output tensor comes from.
  std::map<uint32_t, int> asyncWriter;
  size_t workspaceBytes = 0, laneWorkspaceBytes = 0;
  for (int i = 0; i < program.instructions_size(); ++i) {
    const Instruction &instruction = program.instructions(i);
    std::optional<format::Op> op = format::findOp(instruction.op());
    Step step;
    if (op == format::Op::Wait) {
      // The session's own: no kernel. Validated: an async step wrote it.
      step.completes = asyncWriter.at(instruction.inputs(0));
      step.opKind = opKindIndex(instruction.op());
      step.collective = -1;
      steps_.push_back(std::move(step));
      continue;
    }
    status = backend_->createKernel(program, instruction, step.kernel);
    if (!status)
      return Status::error(location(i, instruction) + ": " + status.message());
    if (step.kernel->workspaceBytes() > format::kMaxBufferBytes)
      return Status::error(location(i, instruction) + ": needs " +
                           std::to_string(step.kernel->workspaceBytes()) +
                           " bytes of workspace, more than the limit of 2^56");
    bool onLane = hasAsync && op && format::communicates(*op);
    size_t &largest = onLane ? laneWorkspaceBytes : workspaceBytes;
    largest = std::max(largest, step.kernel->workspaceBytes());
    step.async = format::startsAsync(instruction);
    if (step.async)
      asyncWriter[instruction.outputs(0)] = i;
    std::string implementation = step.kernel->implementation();
    if (!implementation.empty())
      ++statistics_.implementations[instruction.op()][implementation];
    for (uint32_t input : instruction.inputs())
      step.inputs.push_back(tensorAddress(input));
    for (uint32_t output : instruction.outputs())
      step.outputs.push_back(const_cast<void *>(tensorAddress(output)));
    step.opKind = opKindIndex(instruction.op());
    step.collective = -1;
    if (op && format::communicates(*op)) {
      step.collective = static_cast<int>(statistics_.collectives.size());
      statistics_.collectives.push_back(
          {instruction.op(), instruction.location(), 0});
    }
    steps_.push_back(std::move(step));
  }
  opStatistics_.resize(opKinds_.size());
  if (workspaceBytes &&
      !(status = backend_->allocate(workspaceBytes, &workspace_)))
    return Status::error("the workspace: " + status.message());
  if (hasAsync) {
    if (!(status = backend_->createCommunicationLane(steps_.size(), lane_)))
      return status;
    if (laneWorkspaceBytes &&
        !(status = backend_->allocate(laneWorkspaceBytes, &laneWorkspace_)))
      return Status::error("the communication lane's workspace: " +
                           status.message());
  }

  for (uint32_t index : program.inputs())
    inputs_.push_back(describe(program.tensors(index)));
  for (uint32_t index : program.outputs())
    outputs_.push_back(describe(program.tensors(index)));
  boundInputs_.resize(inputs_.size());
  inputBound_.assign(inputs_.size(), false);
  // Graph inputs are all live at the start, so the validated buffer plan
  // keeps their bytes apart in the arena: they add up to at most
  // arena_bytes, and the peak to at most three times 2^56.
  uint64_t inputBytes = 0;
  for (size_t i = 0; i < inputs_.size(); ++i) {
    boundInputs_[i].resize(inputs_[i].bytes);
    inputBytes += inputs_[i].bytes;
  }
  if (!backend_->buffersAreHostMemory()) {
    deviceInputs_.assign(inputs_.size(), nullptr);
    for (size_t i = 0; i < inputs_.size(); ++i)
      if (inputs_[i].bytes &&
          !(status = backend_->allocate(inputs_[i].bytes, &deviceInputs_[i])))
        return Status::error("input '" + inputs_[i].name +
                             "': " + status.message());
  }
  statistics_.arenaBytes = program.arena_bytes();
  statistics_.workspaceBytes = workspaceBytes + laneWorkspaceBytes;
  statistics_.inputBytes = inputBytes;
  statistics_.peakMemoryBytes =
      statistics_.arenaBytes + statistics_.workspaceBytes + inputBytes;
  return Status::success();
}

Session::~Session() {
  if (!backend_)
    return;
  // The lane's tasks finish before the memory they use goes.
  lane_.reset();
  if (arena_)
    backend_->deallocate(arena_);
  if (workspace_)
    backend_->deallocate(workspace_);
  if (laneWorkspace_)
    backend_->deallocate(laneWorkspace_);
  for (void *input : deviceInputs_)
    if (input)
      backend_->deallocate(input);
}

const void *Session::tensorAddress(uint32_t tensor) const {
  const Tensor &info = file_->program().tensors(tensor);
  const uint8_t *base = info.kind() == dsp::program::WEIGHT
                            ? static_cast<const uint8_t *>(weights_)
                            : static_cast<const uint8_t *>(arena_);
  return base + info.offset();
}

int Session::findInput(const std::string &name) const {
  for (size_t i = 0; i < inputs_.size(); ++i)
    if (inputs_[i].name == name)
      return static_cast<int>(i);
  return -1;
}

int Session::findOutput(const std::string &name) const {
  for (size_t i = 0; i < outputs_.size(); ++i)
    if (outputs_[i].name == name)
      return static_cast<int>(i);
  return -1;
}

bool bindsTo(dsp::program::DType given, dsp::program::DType input) {
  return given == input ||
         (given == dsp::program::F32 && format::isFloat16(input));
}

Status Session::bindInput(size_t index, dsp::program::DType dtype,
                          const std::vector<int64_t> &shape, const void *data,
                          size_t bytes) {
  if (index >= inputs_.size())
    return Status::error("input index " + std::to_string(index) +
                         " is out of range: the program has " +
                         std::to_string(inputs_.size()) + " inputs");
  const TensorInfo &input = inputs_[index];
  std::string what =
      "input " + std::to_string(index) + " ('" + input.name + "')";
  if (!bindsTo(dtype, input.dtype))
    return Status::error(what + " expects dtype " +
                         format::dtypeName(input.dtype) + ", got " +
                         format::dtypeName(dtype));
  if (shape != input.shape)
    return Status::error(what + " expects shape " +
                         format::shapeString(input.shape) + ", got " +
                         format::shapeString(shape));
  size_t count = input.bytes / format::elementSize(input.dtype);
  size_t expected = count * format::elementSize(dtype);
  if (bytes != expected || (!data && bytes))
    return Status::error(what + " expects " + std::to_string(expected) +
                         " bytes of data, got " + std::to_string(bytes));
  // Kernels read bool elements as C++ bool, for which only 0 and 1 are
  // valid.
  if (dtype == dsp::program::BOOL)
    for (size_t i = 0; i < bytes; ++i)
      if (static_cast<const uint8_t *>(data)[i] > 1)
        return Status::error(
            what + " element " + std::to_string(i) + " is " +
            std::to_string(static_cast<const uint8_t *>(data)[i]) +
            ", expected 0 or 1 for bool");
  if (dtype != input.dtype)
    format::narrowFromFloat(input.dtype, static_cast<const float *>(data),
                            boundInputs_[index].data(), count);
  else if (bytes)
    std::copy_n(static_cast<const uint8_t *>(data), bytes,
                boundInputs_[index].data());
  if (!deviceInputs_.empty()) {
    Status status = backend_->copyToDevice(
        deviceInputs_[index], boundInputs_[index].data(), input.bytes);
    if (!status)
      return status;
  }
  inputBound_[index] = true;
  return Status::success();
}

Status Session::bindInput(const std::string &name, dsp::program::DType dtype,
                          const std::vector<int64_t> &shape, const void *data,
                          size_t bytes) {
  int index = findInput(name);
  if (index < 0) {
    std::string names;
    for (const TensorInfo &input : inputs_)
      names += (names.empty() ? "'" : ", '") + input.name + "'";
    return Status::error("the program has no input named '" + name +
                         "' (inputs: " + (names.empty() ? "none" : names) +
                         ")");
  }
  return bindInput(static_cast<size_t>(index), dtype, shape, data, bytes);
}

size_t Session::opKindIndex(const std::string &op) {
  size_t index =
      std::find(opKinds_.begin(), opKinds_.end(), op) - opKinds_.begin();
  if (index == opKinds_.size())
    opKinds_.push_back(op);
  return index;
}

Status Session::run() {
  const Program &program = file_->program();
  for (size_t i = 0; i < inputs_.size(); ++i) {
    if (!inputBound_[i])
      return Status::error("input " + std::to_string(i) + " ('" +
                           inputs_[i].name + "') is not bound");
    void *destination = const_cast<void *>(tensorAddress(program.inputs(i)));
    Status status =
        deviceInputs_.empty()
            ? backend_->copyToDevice(destination, boundInputs_[i].data(),
                                     inputs_[i].bytes)
            : backend_->copyOnDevice(destination, deviceInputs_[i],
                                     inputs_[i].bytes);
    if (!status)
      return status;
  }
  // Reserved up front, so that recording never allocates.
  if (tracing_) {
    try {
      trace_.reserve(trace_.size() + steps_.size());
    } catch (const std::exception &) {
      return Status::error("out of memory while recording the trace");
    }
  }
  bool replayed = false;
  Status status = backend_->beginRun(replayed);
  if (!status)
    return status;
  if (!replayed)
    status = runSteps();
  Status ended = backend_->endRun(!status);
  if (!status)
    return status;
  if (!ended)
    return ended;
  if (replayed)
    for (const Step &step : steps_)
      opStatistics_[step.opKind].count += 1;
  if (!(status = backend_->synchronize()))
    return status;
  statistics_.runs += 1;
  statistics_.bytesPerRank = 0;
  for (const CollectiveStatistics &collective : statistics_.collectives)
    statistics_.bytesPerRank += collective.bytesPerRank;
  for (size_t kind = 0; kind < opKinds_.size(); ++kind)
    statistics_.ops[opKinds_[kind]] = opStatistics_[kind];
  return Status::success();
}

namespace {
int64_t nanosecondsNow() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}
} // namespace

void Session::record(size_t index, int64_t start, int64_t end,
                     uint64_t bytesSent) {
  const Step &step = steps_[index];
  if (step.collective >= 0)
    statistics_.collectives[step.collective].bytesPerRank = bytesSent;
  OpStatistics &stats = opStatistics_[step.opKind];
  stats.count += 1;
  stats.totalMilliseconds += (end - start) / 1e6;
  if (tracing_)
    trace_.push_back({static_cast<uint32_t>(index), statistics_.runs, start,
                      end, step.collective >= 0,
                      step.collective >= 0 ? bytesSent : 0});
}

Status Session::startOnLane(size_t index) {
  Step &step = steps_[index];
  Status status = lane_->start(index, [this, &step] {
    KernelArgs args{step.inputs.data(), step.outputs[0], step.outputs.data(),
                    laneWorkspace_};
    // Collectives reach the communicator on the lane only, so its count
    // moves for this step alone.
    uint64_t bytesBefore = communicator_->bytesSent();
    step.laneStart = nanosecondsNow();
    Status ran = step.kernel->run(args);
    step.laneEnd = nanosecondsNow();
    step.laneBytes = communicator_->bytesSent() - bytesBefore;
    return ran;
  });
  if (!status)
    return status;
  inFlight_.push_back(index);
  return step.async ? Status::success() : finishOnLane(index);
}

Status Session::finishOnLane(size_t index) {
  inFlight_.erase(std::find(inFlight_.begin(), inFlight_.end(), index));
  Status status = lane_->wait(index);
  if (!status)
    return Status::error(location(index, file_->program().instructions(index)) +
                         ": " + status.message());
  const Step &step = steps_[index];
  record(index, step.laneStart, step.laneEnd, step.laneBytes);
  if (!dumpFolder_.empty() && statistics_.runs == 0)
    return dumpOutputs(index);
  return Status::success();
}

Status Session::dumpOutputs(size_t index) {
  const Program &program = file_->program();
  const Instruction &instruction = program.instructions(index);
  Status status = backend_->synchronize();
  if (!status)
    return status;
  // Names keep to letters, digits, '.', '_' and '-'.
  std::string name = instruction.op() + "-" + instruction.location();
  for (char &c : name)
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '.' && c != '_' &&
        c != '-')
      c = '_';
  char prefix[16];
  std::snprintf(prefix, sizeof prefix, "%05zu-", index);
  for (int k = 0; k < instruction.outputs_size(); ++k) {
    const Tensor &tensor = program.tensors(instruction.outputs(k));
    std::vector<uint8_t> bytes(tensor.bytes());
    if (!(status = backend_->copyToHost(bytes.data(),
                                        tensorAddress(instruction.outputs(k)),
                                        bytes.size())))
      return status;
    dsp::program::DType dtype = tensor.dtype();
    if (format::isFloat16(dtype)) {
      std::vector<uint8_t> widened(bytes.size() * 2);
      format::widenToFloat(dtype, bytes.data(),
                           reinterpret_cast<float *>(widened.data()),
                           bytes.size() / 2);
      bytes.swap(widened);
      dtype = dsp::program::F32;
    }
    std::string path =
        dumpFolder_ + "/" + prefix + name + "-" + std::to_string(k) + ".npy";
    std::vector<int64_t> shape(tensor.shape().begin(), tensor.shape().end());
    std::string error =
        npy::write(path, dtype, shape, bytes.data(), bytes.size());
    if (!error.empty())
      return Status::error(error);
  }
  return Status::success();
}

Status Session::runSteps() {
  const Program &program = file_->program();
  Status status;
  for (size_t i = 0; i < steps_.size() && status; ++i) {
    Step &step = steps_[i];
    if (step.completes >= 0) {
      int64_t start = nanosecondsNow();
      status = finishOnLane(step.completes);
      record(i, start, nanosecondsNow(), 0);
      continue;
    }
    if (lane_ && step.collective >= 0) {
      status = startOnLane(i);
      continue;
    }
    KernelArgs args{step.inputs.data(), step.outputs[0], step.outputs.data(),
                    workspace_};
    int64_t start = nanosecondsNow();
    uint64_t bytesBefore = communicator_->bytesSent();
    status = step.kernel->run(args);
    if (!status)
      status = Status::error(location(i, program.instructions(i)) + ": " +
                             status.message());
    else
      record(i, start, nanosecondsNow(),
             communicator_->bytesSent() - bytesBefore);
    if (status && !dumpFolder_.empty() && statistics_.runs == 0)
      status = dumpOutputs(i);
  }
  // After a failure, the lane's transfers in flight end before their
  // buffers may be used again.
  while (!inFlight_.empty()) {
    size_t index = inFlight_.front();
    inFlight_.erase(inFlight_.begin());
    static_cast<void>(lane_->wait(index));
  }
  return status;
}

Status Session::readOutput(size_t index, void *data, size_t bytes) const {
  if (index >= outputs_.size())
    return Status::error("output index " + std::to_string(index) +
                         " is out of range: the program has " +
                         std::to_string(outputs_.size()) + " outputs");
  if (bytes != outputs_[index].bytes)
    return Status::error("output " + std::to_string(index) + " ('" +
                         outputs_[index].name + "') has " +
                         std::to_string(outputs_[index].bytes) +
                         " bytes, the buffer " + std::to_string(bytes));
  if (statistics_.runs == 0)
    return Status::error("no output to read: the program has not run");
  return backend_->copyToHost(
      data, tensorAddress(file_->program().outputs(index)), bytes);
}

Status Session::carry(size_t output, size_t input) {
  if (output >= outputs_.size() || input >= inputs_.size())
    return Status::error("cannot carry output " + std::to_string(output) +
                         " into input " + std::to_string(input) +
                         ": the program has " +
                         std::to_string(outputs_.size()) + " outputs and " +
                         std::to_string(inputs_.size()) + " inputs");
  const TensorInfo &from = outputs_[output];
  const TensorInfo &to = inputs_[input];
  if (from.dtype != to.dtype || from.shape != to.shape ||
      from.layout != to.layout || from.globalShape != to.globalShape)
    return Status::error(
        "output '" + from.name + "' (" + format::dtypeName(from.dtype) + " " +
        format::shapeString(from.globalShape) + ", " + layoutText(from) +
        ") cannot become input '" + to.name + "' (" +
        format::dtypeName(to.dtype) + " " +
        format::shapeString(to.globalShape) + ", " + layoutText(to) +
        ") on every rank: compile with keep-sharded=" + from.name + ":" +
        to.name);
  if (statistics_.runs == 0)
    return Status::error("no output to carry: the program has not run");
  const void *source = tensorAddress(file_->program().outputs(output));
  // The program leaves what it likes in an output's pad; an input's pad is
  // zero, as binding makes it.
  format::Layout layout;
  bool padded = to.layout.size() == 6 &&
                format::Layout::decode(to.layout, layout).empty() &&
                layout.kind == format::Layout::Split && layout.pad > 0;
  void *bound = boundInputs_[input].data();
  Status status =
      deviceInputs_.empty() || padded
          ? backend_->copyToHost(bound, source, to.bytes)
          : backend_->copyOnDevice(deviceInputs_[input], source, to.bytes);
  if (status && padded) {
    format::zeroBlockPad(bound, to.globalShape, format::elementSize(to.dtype),
                         layout, communicator_->size(), communicator_->rank());
    if (!deviceInputs_.empty())
      status = backend_->copyToDevice(deviceInputs_[input], bound, to.bytes);
  }
  if (!status)
    return status;
  inputBound_[input] = true;
  statistics_.carries += 1;
  statistics_.carriedBytes += to.bytes;
  return Status::success();
}

} // namespace runtime
} // namespace dsp
