//===- dsp-run.cpp - Run a DSP program on .npy inputs ---------------------===//
//
// A thin client of the runtime API: bind inputs from .npy files, run, write
// or check outputs, report statistics. Every failure prints one line on
// stderr and exits with status 1, leaving no output file: outputs are
// written only once every check passed, and a failed run removes older
// files at the output paths, so none is taken for this run's.
//
// Every program runs as a rank group (dsp/Runtime/RankGroup.h): its N ranks
// are threads of this process (--comm=local) or one per MPI process
// (--comm=mpi or --comm=nccl under mpirun). Each rank binds its own block of
// every input; rank 0's copy of the (replicated) outputs is written and
// checked, and the blocks of an output kept sharded are put together.
// --steps=K runs the program K times, --carry making an output each step's
// input of the next on every rank.
//
//===----------------------------------------------------------------------===//

#include "dsp/Format/Checked.h"
#include "dsp/Format/FileIO.h"
#include "dsp/Format/Float16.h"
#include "dsp/Format/Npy.h"
#include "dsp/Format/ProgramFile.h"
#include "dsp/GitRevision.h"
#include "dsp/Runtime/RankGroup.h"

#include <algorithm>
#include <climits>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <iostream>
#include <limits>
#include <new>
#include <sstream>
#include <sys/stat.h>
#include <vector>

using dsp::program::DType;
using dsp::runtime::GroupStatistics;
using dsp::runtime::RankGroup;
using dsp::runtime::RankGroupOptions;
using dsp::runtime::Status;
using dsp::runtime::TensorInfo;

namespace {

const char kUsage[] =
    "usage: dsp-run MODEL.dspx [options]\n"
    "\n"
    "Runs a DSP program on inputs read from .npy files.\n"
    "\n"
    "  --input=@FILE | --input=NAME=@FILE\n"
    "        bind an input; positional ones bind in graph-input order;\n"
    "        an f32 file binds to an f16 or bf16 input, rounded\n"
    "  --output=@FILE | --output=NAME=@FILE\n"
    "        write an output (positional: graph-output order); a bf16\n"
    "        output is written as f32 (numpy has no bf16)\n"
    "  --expected-output=@FILE | --expected-output=NAME=@FILE\n"
    "        compare an output with a reference, in f32 for an f16 or\n"
    "        bf16 output (the reference may be f32); exit 1 on mismatch\n"
    "  --atol=X          absolute tolerance (default 1e-4)\n"
    "  --rtol=X          relative tolerance (default 0)\n"
    "  --repeat=N        run N times, 1 to 1000000 (default 1)\n"
    "  --steps=K         run K steps, 1 to 1000000, each output named by\n"
    "                    --carry becoming an input of the next step; the\n"
    "                    outputs of the last step are written and checked\n"
    "  --carry=OUTPUT:INPUT  after each step, every rank binds its block of\n"
    "                    OUTPUT as its block of INPUT, moving nothing\n"
    "                    between ranks (compile with\n"
    "                    keep-sharded=OUTPUT:INPUT); repeatable\n"
    "  --threads=N       threads per rank, 1 to 1024 (default: the cores\n"
    "                    divided by the ranks on this host, at least 1)\n"
    "  --backend=NAME    backend: cpu (default), or cuda when built in\n"
    "  --device=K        the GPU of --backend=cuda; every rank of this\n"
    "                    process runs on it (default: under mpirun the\n"
    "                    node-local rank modulo the GPUs, else 0)\n"
    "  --comm=local|mpi|nccl  how the ranks of a multi-rank program\n"
    "                    communicate: threads of this process (default),\n"
    "                    MPI processes (mpirun -np N dsp-run ... --comm=mpi)\n"
    "                    or MPI processes with one GPU each, exchanging\n"
    "                    through NCCL (--backend=cuda --comm=nccl)\n"
    "  --comm-timeout=SECONDS  the longest a rank waits for another,\n"
    "                    0.01 to 1e6 (default 60); then every rank stops\n"
    "  --print-statistics  print time per op kind, peak memory, run count\n"
    "                      and the wall time of the runs\n"
    "  --stats-json=FILE   write the statistics as JSON\n"
    "  --trace=FILE      write every rank's instructions with their start\n"
    "                    and end times (Chrome trace JSON, for Perfetto)\n"
    "  --dump-tensors=DIR  write every instruction's outputs of the first\n"
    "                    run to DIR/rankR/INDEX-OP-NODE-K.npy (f16 and bf16\n"
    "                    as f32), to find where two programs part (slow)\n"
    "  --version         print the version and git revision of dsp-run\n"
    "                    and the version of the program format it reads\n"
    "  --help            show this help\n";

/// A FILE or NAME=FILE argument; positional ones have an empty name.
struct FileArgument {
  std::string name;
  std::string path;
};

constexpr uint64_t kMaxRepeat = 1000000;

struct Options {
  std::string model;
  std::vector<FileArgument> inputs, outputs, expected;
  double atol = 1e-4, rtol = 0;
  uint64_t repeat = 1;
  uint64_t steps = 1;
  /// OUTPUT:INPUT names of --carry.
  std::vector<std::pair<std::string, std::string>> carries;
  unsigned threads = 0;
  std::string backend = "cpu";
  int device = dsp::runtime::kDeviceOfLocalRank;
  std::string comm = "local";
  double commTimeout = 60;
  bool printStatistics = false;
  std::string statsJson;
  std::string trace;
  std::string dumpTensors;
};

/// Under mpi and nccl, this process's rank: a failure names it and ends the
/// job.
RankGroup *mpiGroup = nullptr;

/// What this run reads and writes. On failure the outputs are removed, but
/// never one that is also an input (an output path naming an input file).
std::vector<std::string> outputPaths, inputPaths;

bool sameFile(const std::string &a, const std::string &b) {
  struct stat first, second;
  return ::stat(a.c_str(), &first) == 0 && ::stat(b.c_str(), &second) == 0 &&
         first.st_dev == second.st_dev && first.st_ino == second.st_ino;
}

/// `text` with control characters (a newline in a tensor name or a path)
/// written as \xNN, so that an error stays on one line.
std::string oneLine(const std::string &text) {
  std::string line;
  for (char c : text) {
    if (static_cast<unsigned char>(c) >= 0x20 && c != 0x7f) {
      line += c;
      continue;
    }
    char escaped[8];
    std::snprintf(escaped, sizeof(escaped), "\\x%02x",
                  static_cast<unsigned char>(c));
    line += escaped;
  }
  return line;
}

/// Reports `message` as it is and stops.
[[noreturn]] void fail(const std::string &message) {
  for (const std::string &output : outputPaths)
    if (std::none_of(
            inputPaths.begin(), inputPaths.end(),
            [&](const std::string &input) { return sameFile(output, input); }))
      dsp::format::removeStaleOutput(output);
  // One write, so that the lines of processes sharing the terminal (under
  // mpirun) do not interleave.
  std::string line = "dsp-run: error: " + oneLine(message) + "\n";
  std::cerr.write(line.data(), static_cast<std::streamsize>(line.size()));
  std::cerr.flush();
  if (mpiGroup)
    mpiGroup->abort(message);
  // Rank threads may still run (a stalled rank is never joined): leave
  // without running destructors under them.
  std::cout.flush();
  std::_Exit(1);
}

/// Reports `message`, naming this process's rank under mpi, and stops.
[[noreturn]] void die(const std::string &message) {
  fail(mpiGroup ? "rank " + std::to_string(mpiGroup->rank(0)) + ": " + message
                : message);
}

/// The first problem with the command line. Parsing goes on after one, so
/// that every output path is known (and removed) when dsp-run fails.
std::string optionProblem;

void reject(const std::string &problem) {
  if (optionProblem.empty())
    optionProblem = problem;
}

FileArgument parseFileArgument(const std::string &flag,
                               const std::string &value) {
  FileArgument argument;
  size_t split = value.find("=@");
  if (!value.empty() && value[0] == '@')
    argument = {"", value.substr(1)};
  else if (split != std::string::npos && split > 0)
    argument = {value.substr(0, split), value.substr(split + 2)};
  if (argument.path.empty())
    reject(flag + " expects @FILE or NAME=@FILE, got '" + value + "'");
  return argument;
}

double parseNumber(const std::string &flag, const std::string &value,
                   double minimum = 0,
                   double maximum = std::numeric_limits<double>::max()) {
  char *end = nullptr;
  double number = std::strtod(value.c_str(), &end);
  if (value.empty() || *end != '\0' || !(number >= minimum) ||
      !(number <= maximum)) {
    std::ostringstream problem;
    if (maximum == std::numeric_limits<double>::max())
      problem << flag << " expects a number >= " << minimum;
    else
      problem << flag << " expects a number from " << minimum << " to "
              << maximum;
    problem << ", got '" << value << "'";
    reject(problem.str());
  }
  return number;
}

uint64_t parseCount(const std::string &flag, const std::string &value,
                    uint64_t maximum) {
  std::optional<uint64_t> number = dsp::format::parseDecimal(value, maximum);
  if (!number || *number < 1)
    reject(flag + " expects an integer from 1 to " + std::to_string(maximum) +
           ", got '" + value + "'");
  return number.value_or(1);
}

Options parseOptions(int argc, char **argv) {
  Options options;
  for (int i = 1; i < argc; ++i) {
    std::string argument = argv[i];
    if (argument == "--help" || argument == "-h" || argument == "--version") {
      if (argument == "--version")
        std::cout << "dsp-run " DSP_VERSION " (git " DSP_GIT_REVISION
                     "), program format "
                  << dsp::format::kMajorVersion << "."
                  << dsp::format::kMinorVersion << "\n";
      else
        std::cout << kUsage;
      std::cout << std::flush;
      if (!std::cout)
        std::cerr << "dsp-run: error: cannot write to the standard output\n";
      std::exit(std::cout ? 0 : 1);
    }
    if (argument.rfind("--", 0) != 0) {
      if (!options.model.empty())
        reject("more than one program given ('" + options.model + "' and '" +
               argument + "')");
      options.model = argument;
      continue;
    }
    size_t equals = argument.find('=');
    std::string flag = argument.substr(0, equals);
    std::string value =
        equals == std::string::npos ? "" : argument.substr(equals + 1);
    bool hasValue = equals != std::string::npos;
    if (flag == "--print-statistics" && !hasValue) {
      options.printStatistics = true;
      continue;
    }
    if (!hasValue)
      reject("unknown option '" + argument + "' (see --help)");
    else if (flag == "--input")
      options.inputs.push_back(parseFileArgument(flag, value));
    else if (flag == "--output")
      options.outputs.push_back(parseFileArgument(flag, value));
    else if (flag == "--expected-output")
      options.expected.push_back(parseFileArgument(flag, value));
    else if (flag == "--atol")
      options.atol = parseNumber(flag, value);
    else if (flag == "--rtol")
      options.rtol = parseNumber(flag, value);
    else if (flag == "--repeat")
      options.repeat = parseCount(flag, value, kMaxRepeat);
    else if (flag == "--steps")
      options.steps = parseCount(flag, value, kMaxRepeat);
    else if (flag == "--carry" && value.find(':') != std::string::npos &&
             value.front() != ':' && value.back() != ':')
      options.carries.push_back({value.substr(0, value.find(':')),
                                 value.substr(value.find(':') + 1)});
    else if (flag == "--carry")
      reject("--carry expects OUTPUT:INPUT, got '" + value + "'");
    else if (flag == "--threads")
      options.threads = static_cast<unsigned>(
          parseCount(flag, value, dsp::runtime::kMaxThreads));
    else if (flag == "--backend")
      options.backend = value;
    else if (flag == "--device" && dsp::format::parseDecimal(value, INT_MAX))
      options.device = static_cast<int>(*dsp::format::parseDecimal(value));
    else if (flag == "--device")
      reject("--device expects a GPU number from 0, got '" + value + "'");
    else if (flag == "--comm" &&
             (value == "local" || value == "mpi" || value == "nccl"))
      options.comm = value;
    else if (flag == "--comm")
      reject("--comm expects local, mpi or nccl, got '" + value + "'");
    else if (flag == "--comm-timeout")
      options.commTimeout =
          parseNumber(flag, value, dsp::runtime::kMinTimeoutSeconds,
                      dsp::runtime::kMaxTimeoutSeconds);
    else if (flag == "--stats-json" && !value.empty())
      options.statsJson = value;
    else if (flag == "--stats-json")
      reject("--stats-json expects a file name");
    else if (flag == "--trace" && !value.empty())
      options.trace = value;
    else if (flag == "--trace")
      reject("--trace expects a file name");
    else if (flag == "--dump-tensors" && !value.empty())
      options.dumpTensors = value;
    else if (flag == "--dump-tensors")
      reject("--dump-tensors expects a folder");
    else
      reject("unknown option '" + argument + "' (see --help)");
  }
  if (options.model.empty())
    reject("no program given (usage: dsp-run MODEL.dspx [options], see "
           "--help)");
  if (options.steps > 1 && options.repeat > 1)
    reject("--steps and --repeat exclude each other: each step runs once");
  if (!options.carries.empty() && options.steps < 2)
    reject("--carry feeds one step's output to the next: give --steps=K "
           "with K >= 2");
  return options;
}

/// Resolves FILE / NAME=FILE arguments to graph indices: positional ones in
/// order, named ones by name. `kind` is "input" or "output".
std::vector<size_t> resolve(const std::vector<FileArgument> &arguments,
                            const RankGroup &group, bool inputs,
                            const std::string &flag) {
  size_t count = inputs ? group.numInputs() : group.numOutputs();
  const char *kind = inputs ? "input" : "output";
  std::vector<size_t> indices;
  size_t positional = 0;
  for (const FileArgument &argument : arguments) {
    if (argument.name.empty()) {
      if (positional >= count)
        die(flag + " @" + argument.path + ": the program has only " +
            std::to_string(count) + " " + kind + (count == 1 ? "" : "s"));
      indices.push_back(positional++);
      continue;
    }
    int index = inputs ? group.findInput(argument.name)
                       : group.findOutput(argument.name);
    if (index < 0) {
      std::string names;
      for (size_t i = 0; i < count; ++i)
        names += (i ? ", '" : "'") +
                 (inputs ? group.inputInfo(i) : group.outputInfo(i)).name + "'";
      die(flag + ": the program has no " + kind + " named '" + argument.name +
          "' (" + kind + "s: " + (names.empty() ? "none" : names) + ")");
    }
    indices.push_back(static_cast<size_t>(index));
  }
  return indices;
}

std::string describe(const char *kind, size_t index, const TensorInfo &info) {
  return std::string(kind) + " " + std::to_string(index) + " ('" + info.name +
         "')";
}

/// Element `i` of `data`, an array of `dtype`.
double element(const std::vector<uint8_t> &data, DType dtype, size_t i) {
  auto load = [&](auto value) {
    std::memcpy(&value, data.data() + sizeof(value) * i, sizeof(value));
    return value;
  };
  switch (dtype) {
  case dsp::program::F32:
    return load(float());
  case dsp::program::F16:
    return dsp::format::halfToFloat(load(uint16_t()));
  case dsp::program::BF16:
    return dsp::format::bfloat16ToFloat(load(uint16_t()));
  case dsp::program::I64:
    return static_cast<double>(load(int64_t()));
  case dsp::program::I32:
    return load(int32_t());
  default:
    return data[i];
  }
}

/// The dtype a .npy file holds a tensor of `dtype` in: numpy has no bf16, so
/// bf16 tensors are read from and written as f32 (f16 ones may be either).
DType npyDtype(DType dtype) {
  return dtype == dsp::program::BF16 ? dsp::program::F32 : dtype;
}

std::string indexString(size_t flat, const std::vector<int64_t> &shape) {
  std::vector<int64_t> coordinates(shape.size());
  for (size_t d = shape.size(); d-- > 0;) {
    coordinates[d] = static_cast<int64_t>(flat % shape[d]);
    flat /= shape[d];
  }
  return dsp::format::shapeString(coordinates);
}

/// Compares output `index` with the reference in `path`; exits 1 on any
/// difference beyond tolerance, otherwise prints the max abs error.
void checkOutput(const RankGroup &group, size_t index,
                 const std::vector<uint8_t> &got, const std::string &path,
                 const Options &options) {
  const TensorInfo &info = group.outputInfo(index);
  std::string what = describe("output", index, info);
  dsp::npy::Array expected;
  std::string error = dsp::npy::read(path, expected);
  if (!error.empty())
    die(error);
  bool comparable = expected.dtype == npyDtype(info.dtype) ||
                    (dsp::format::isFloat16(info.dtype) &&
                     expected.dtype == dsp::program::F32);
  if (!comparable || expected.shape != info.shape)
    die(what + " is " + dsp::format::dtypeName(info.dtype) + " " +
        dsp::format::shapeString(info.shape) + " but the reference " + path +
        " is " + dsp::format::dtypeName(expected.dtype) + " " +
        dsp::format::shapeString(expected.shape));
  size_t count =
      got.size() / std::max<size_t>(dsp::format::elementSize(info.dtype), 1);
  double maxError = 0;
  double worstExcess = -std::numeric_limits<double>::infinity();
  size_t worst = 0;
  for (size_t i = 0; i < count; ++i) {
    double value = element(got, info.dtype, i);
    double reference = element(expected.data, expected.dtype, i);
    // Equal values (infinities included) and NaN against NaN match; NaN
    // against a number is an infinite error.
    double difference = 0;
    if (value != reference && !(std::isnan(value) && std::isnan(reference)))
      difference = std::isnan(value) || std::isnan(reference)
                       ? std::numeric_limits<double>::infinity()
                       : std::fabs(value - reference);
    double excess =
        difference - (options.atol + options.rtol * std::fabs(reference));
    maxError = std::max(maxError, difference);
    if (excess > worstExcess) {
      worstExcess = excess;
      worst = i;
    }
  }
  if (worstExcess > 0) {
    double value = element(got, info.dtype, worst);
    double reference = element(expected.data, expected.dtype, worst);
    std::ostringstream message;
    message.precision(9);
    message << what << " does not match " << path << ": worst element "
            << indexString(worst, info.shape) << " got " << value
            << ", expected " << reference << " (abs error "
            << std::fabs(value - reference) << ", atol " << options.atol
            << ", rtol " << options.rtol << ")";
    die(message.str());
  }
  std::cout << what << ": max abs error " << maxError << " (atol "
            << options.atol << ", rtol " << options.rtol << ")\n";
}

void printStatistics(const GroupStatistics &statistics) {
  const dsp::runtime::Statistics &stats = statistics.statistics;
  const std::vector<double> &runMilliseconds = statistics.runMilliseconds;
  std::printf("runs: %llu\n", static_cast<unsigned long long>(stats.runs));
  if (!runMilliseconds.empty()) {
    std::vector<double> sorted = runMilliseconds;
    std::sort(sorted.begin(), sorted.end());
    size_t n = sorted.size();
    double median =
        n % 2 ? sorted[n / 2] : (sorted[n / 2 - 1] + sorted[n / 2]) / 2;
    std::printf("run time: median %.3f ms, min %.3f ms, first %.3f ms\n",
                median, sorted.front(), runMilliseconds.front());
  }
  std::printf("peak memory: %llu bytes (arena %llu, workspace %llu, inputs "
              "%llu)\n",
              static_cast<unsigned long long>(stats.peakMemoryBytes),
              static_cast<unsigned long long>(stats.arenaBytes),
              static_cast<unsigned long long>(stats.workspaceBytes),
              static_cast<unsigned long long>(stats.inputBytes));
  if (stats.carries)
    std::printf("carries: %llu (%llu bytes copied per rank, none between "
                "ranks); %llu bytes per rank sent per step\n",
                static_cast<unsigned long long>(stats.carries),
                static_cast<unsigned long long>(stats.carriedBytes),
                static_cast<unsigned long long>(stats.bytesPerRank));
  std::printf("%-16s %10s %14s %14s\n", "op", "count", "total ms",
              "ms per run");
  for (const auto &[op, opStats] : stats.ops)
    std::printf("%-16s %10llu %14.3f %14.3f\n", op.c_str(),
                static_cast<unsigned long long>(opStats.count),
                opStats.totalMilliseconds,
                stats.runs ? opStats.totalMilliseconds / stats.runs : 0.0);
  if (stats.implementations.empty())
    return;
  std::printf("%-16s %10s %s\n", "op", "count", "implementation");
  for (const auto &[op, counts] : stats.implementations)
    for (const auto &[implementation, count] : counts)
      std::printf("%-16s %10llu %s\n", op.c_str(),
                  static_cast<unsigned long long>(count),
                  implementation.c_str());
}

/// Everything but the parsing of the command line; dies on any failure.
void run(const Options &options) {
  // Under a launcher, --comm=local would run every rank in every process,
  // each writing the same outputs.
  int launched = dsp::runtime::launchedProcessCount();
  if (options.comm == "local" && launched > 1)
    die("an MPI launcher started " + std::to_string(launched) +
        " processes, but with --comm=local each would run all the ranks; "
        "add --comm=mpi to make them the ranks");
  std::string error;
  std::shared_ptr<const dsp::format::ProgramFile> file =
      dsp::format::ProgramFile::open(options.model, error);
  if (!file)
    die(error);
  if (file->hasGeneratedWeights())
    std::cerr << "dsp-run: note: " << options.model
              << " was compiled with --no-weights: its weights are seeded "
                 "random values made at load, so its outputs are not the "
                 "model's\n";

  RankGroupOptions groupOptions;
  groupOptions.backend = options.backend;
  groupOptions.device = options.device;
  groupOptions.threads = options.threads;
  groupOptions.comm = options.comm;
  groupOptions.communicator.timeoutSeconds = options.commTimeout;
  groupOptions.trace = !options.trace.empty();
  groupOptions.dumpFolder = options.dumpTensors;
  const char *fault = std::getenv("DSP_FAULT");
  error = dsp::runtime::FaultPlan::parse(fault ? fault : "",
                                         groupOptions.communicator.fault);
  if (!error.empty())
    die("DSP_FAULT: " + error);
  // Its errors name the failing rank where it matters.
  std::unique_ptr<RankGroup> group =
      RankGroup::create(file, groupOptions, error);
  if (!group)
    fail(error);
  if (options.comm != "local")
    mpiGroup = group.get();
  std::vector<std::pair<size_t, size_t>> carries;
  for (const auto &[output, input] : options.carries)
    carries.push_back({resolve({{output, ""}}, *group, false, "--carry")[0],
                       resolve({{input, ""}}, *group, true, "--carry")[0]});

  std::vector<size_t> inputIndices =
      resolve(options.inputs, *group, true, "--input");
  std::vector<bool> bound(group->numInputs(), false);
  for (size_t i = 0; i < inputIndices.size(); ++i) {
    size_t index = inputIndices[i];
    if (bound[index])
      die(describe("input", index, group->inputInfo(index)) +
          " is bound twice");
    const std::string &path = options.inputs[i].path;
    dsp::npy::Array array;
    error = dsp::npy::read(path, array);
    if (!error.empty())
      die(error);
    Status status = group->bindInput(index, array.dtype, array.shape,
                                     array.data.data(), array.data.size());
    if (!status)
      die(path + ": " + status.message());
    bound[index] = true;
  }
  for (size_t i = 0; i < bound.size(); ++i)
    if (!bound[i])
      die("the program has " + std::to_string(group->numInputs()) +
          " inputs but " + std::to_string(inputIndices.size()) +
          " were given; " + describe("input", i, group->inputInfo(i)) +
          " is missing (add --input=" + group->inputInfo(i).name + "=@FILE)");

  std::vector<size_t> outputIndices =
      resolve(options.outputs, *group, false, "--output");
  std::vector<size_t> expectedIndices =
      resolve(options.expected, *group, false, "--expected-output");

  Status status;
  for (uint64_t step = 0; step < options.steps && status; ++step) {
    for (const auto &[output, input] : carries)
      if (step > 0 && !(status = group->carry(output, input)))
        die("--carry: " + status.message());
    status = group->run(options.repeat);
  }
  if (!status)
    fail(status.message());

  // Under mpi every process takes part in the gathering; rank 0's reports.
  GroupStatistics statistics;
  status = group->gatherStatistics(statistics);
  if (!status)
    die(status.message());
  std::string trace;
  if (groupOptions.trace && !(status = group->gatherTrace(trace)))
    die(status.message());
  if (group->rank(0) != 0)
    return;

  auto readOutput = [&](size_t index) {
    std::vector<uint8_t> data(group->outputInfo(index).bytes);
    Status status = group->readOutput(index, data.data(), data.size());
    if (!status)
      die(status.message());
    return data;
  };
  // Every check and report comes before any output file is written.
  for (size_t i = 0; i < expectedIndices.size(); ++i)
    checkOutput(*group, expectedIndices[i], readOutput(expectedIndices[i]),
                options.expected[i].path, options);
  if (options.printStatistics)
    printStatistics(statistics);
  std::cout.flush();
  if (!std::cout || std::fflush(stdout) != 0 || std::ferror(stdout))
    die("cannot write to the standard output");

  for (size_t i = 0; i < outputIndices.size(); ++i) {
    const TensorInfo &info = group->outputInfo(outputIndices[i]);
    DType dtype = npyDtype(info.dtype);
    std::vector<uint8_t> data = readOutput(outputIndices[i]);
    if (dtype != info.dtype) {
      std::vector<uint8_t> wide(data.size() * 2);
      dsp::format::widenToFloat(info.dtype, data.data(),
                                reinterpret_cast<float *>(wide.data()),
                                data.size() / 2);
      data = std::move(wide);
    }
    error = dsp::npy::write(options.outputs[i].path, dtype, info.shape,
                            data.data(), data.size());
    if (!error.empty())
      die(error);
  }
  if (!options.statsJson.empty()) {
    error = dsp::format::writeOutputFile(options.statsJson,
                                         statisticsJson(statistics));
    if (!error.empty())
      die(error);
  }
  if (!options.trace.empty()) {
    error = dsp::format::writeOutputFile(options.trace, trace);
    if (!error.empty())
      die(error);
  }
}
} // namespace

int main(int argc, char **argv) {
  Options options = parseOptions(argc, argv);
  for (const FileArgument &output : options.outputs)
    outputPaths.push_back(output.path);
  for (const std::string *path : {&options.statsJson, &options.trace})
    if (!path->empty())
      outputPaths.push_back(*path);
  inputPaths.push_back(options.model);
  for (const auto *files : {&options.inputs, &options.expected})
    for (const FileArgument &input : *files)
      inputPaths.push_back(input.path);
  if (!optionProblem.empty())
    die(optionProblem);
  // The runtime reports its failures as errors; what is left to throw here
  // is memory (the arrays of large inputs and outputs).
  try {
    run(options);
  } catch (const std::bad_alloc &) {
    die("out of memory");
  } catch (const std::exception &exception) {
    die(exception.what());
  }
  return 0;
}
