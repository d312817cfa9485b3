//===- dsp-run.cpp - Run a DSP program on .npy inputs ---------------------===//
//
// A thin client of the runtime API: bind inputs from .npy files, run, write
// or check outputs, report statistics. Every failure prints one line on
// stderr and exits with status 1, leaving no output file: outputs are
// written only once every check passed, and a failed run removes older
// files at the output paths, so none is taken for this run's.
//
// A program compiled for N > 1 ranks runs as N sessions: threads of this
// process (--comm=local) or one per MPI process (--comm=mpi under mpirun).
// Each rank binds its own block of every input; rank 0's copy of the
// (replicated) outputs is written and checked.
//
//===----------------------------------------------------------------------===//

#include "dsp/Format/Checked.h"
#include "dsp/Format/FileIO.h"
#include "dsp/Format/Layout.h"
#include "dsp/Runtime/Communicator.h"
#include "dsp/Runtime/Npy.h"
#include "dsp/Runtime/Runtime.h"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <condition_variable>
#include <cstdio>
#include <cstring>
#include <iostream>
#include <limits>
#include <mutex>
#include <new>
#include <sstream>
#include <sys/stat.h>
#include <thread>
#include <vector>

using dsp::runtime::Communicator;
using dsp::runtime::Session;
using dsp::runtime::Status;
using dsp::runtime::TensorInfo;

namespace {

const char kUsage[] =
    "usage: dsp-run MODEL.dspx [options]\n"
    "\n"
    "Runs a DSP program on inputs read from .npy files.\n"
    "\n"
    "  --input=@FILE | --input=NAME=@FILE\n"
    "        bind an input; positional ones bind in graph-input order\n"
    "  --output=@FILE | --output=NAME=@FILE\n"
    "        write an output (positional: graph-output order)\n"
    "  --expected-output=@FILE | --expected-output=NAME=@FILE\n"
    "        compare an output with a reference; exit 1 on mismatch\n"
    "  --atol=X          absolute tolerance (default 1e-4)\n"
    "  --rtol=X          relative tolerance (default 0)\n"
    "  --repeat=N        run N times, 1 to 1000000 (default 1)\n"
    "  --threads=N       threads per rank, 1 to 1024 (default: the cores\n"
    "                    divided by the ranks on this host, at least 1)\n"
    "  --backend=NAME    backend (default cpu)\n"
    "  --comm=local|mpi  how the ranks of a multi-rank program communicate:\n"
    "                    threads of this process (default) or MPI processes\n"
    "                    (mpirun -np N dsp-run ... --comm=mpi)\n"
    "  --comm-timeout=SECONDS  the longest a rank waits for another,\n"
    "                    0.01 to 1e6 (default 60); then every rank stops\n"
    "  --print-statistics  print time per op kind, peak memory, run count\n"
    "                      and the wall time of the runs\n"
    "  --stats-json=FILE   write the statistics as JSON\n"
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
  unsigned threads = 0;
  std::string backend = "cpu";
  std::string comm = "local";
  double commTimeout = 60;
  bool printStatistics = false;
  std::string statsJson;
};

/// Under mpi, this process's rank: a failure names it and ends the job.
Communicator *mpiCommunicator = nullptr;

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

[[noreturn]] void die(const std::string &message) {
  for (const std::string &output : outputPaths)
    if (std::none_of(
            inputPaths.begin(), inputPaths.end(),
            [&](const std::string &input) { return sameFile(output, input); }))
      dsp::format::removeStaleOutput(output);
  std::string rank =
      mpiCommunicator ? "rank " + std::to_string(mpiCommunicator->rank()) + ": "
                      : "";
  std::cerr << "dsp-run: error: " << rank << oneLine(message) << std::endl;
  if (mpiCommunicator)
    mpiCommunicator->abort(message);
  // Rank threads may still run (a stalled rank is never joined): leave
  // without running destructors under them.
  std::cout.flush();
  std::_Exit(1);
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
    if (argument == "--help" || argument == "-h") {
      std::cout << kUsage << std::flush;
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
    else if (flag == "--threads")
      options.threads = static_cast<unsigned>(
          parseCount(flag, value, dsp::runtime::kMaxThreads));
    else if (flag == "--backend")
      options.backend = value;
    else if (flag == "--comm" && (value == "local" || value == "mpi"))
      options.comm = value;
    else if (flag == "--comm")
      reject("--comm expects local or mpi, got '" + value + "'");
    else if (flag == "--comm-timeout")
      options.commTimeout =
          parseNumber(flag, value, dsp::runtime::kMinTimeoutSeconds,
                      dsp::runtime::kMaxTimeoutSeconds);
    else if (flag == "--stats-json" && !value.empty())
      options.statsJson = value;
    else if (flag == "--stats-json")
      reject("--stats-json expects a file name");
    else
      reject("unknown option '" + argument + "' (see --help)");
  }
  if (options.model.empty())
    reject("no program given (usage: dsp-run MODEL.dspx [options], see "
           "--help)");
  return options;
}

/// Resolves FILE / NAME=FILE arguments to graph indices: positional ones in
/// order, named ones by name. `kind` is "input" or "output".
std::vector<size_t> resolve(const std::vector<FileArgument> &arguments,
                            const Session &session, bool inputs,
                            const std::string &flag) {
  size_t count = inputs ? session.numInputs() : session.numOutputs();
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
    int index = inputs ? session.findInput(argument.name)
                       : session.findOutput(argument.name);
    if (index < 0) {
      std::string names;
      for (size_t i = 0; i < count; ++i)
        names += (i ? ", '" : "'") +
                 (inputs ? session.inputInfo(i) : session.outputInfo(i)).name +
                 "'";
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

double element(const std::vector<uint8_t> &data, dsp::program::DType dtype,
               size_t i) {
  switch (dtype) {
  case dsp::program::F32: {
    float value;
    std::memcpy(&value, data.data() + 4 * i, 4);
    return value;
  }
  case dsp::program::I64: {
    int64_t value;
    std::memcpy(&value, data.data() + 8 * i, 8);
    return static_cast<double>(value);
  }
  default:
    return data[i];
  }
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
void checkOutput(const Session &session, size_t index,
                 const std::vector<uint8_t> &got, const std::string &path,
                 const Options &options) {
  const TensorInfo &info = session.outputInfo(index);
  std::string what = describe("output", index, info);
  dsp::npy::Array expected;
  std::string error = dsp::npy::read(path, expected);
  if (!error.empty())
    die(error);
  if (expected.dtype != info.dtype || expected.shape != info.shape)
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
    double reference = element(expected.data, info.dtype, i);
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
    double reference = element(expected.data, info.dtype, worst);
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

std::string jsonString(const std::string &text) {
  std::string quoted = "\"";
  for (char c : text) {
    if (c == '"' || c == '\\')
      quoted += '\\';
    if (static_cast<unsigned char>(c) < 0x20) {
      char escaped[8];
      std::snprintf(escaped, sizeof(escaped), "\\u%04x", c);
      quoted += escaped;
      continue;
    }
    quoted += c;
  }
  return quoted + "\"";
}

/// What rank 0 reports about every rank.
struct RankSummary {
  uint64_t peakMemoryBytes = 0;
  std::vector<uint64_t> collectiveBytes;
};

RankSummary summarize(const Session &session) {
  RankSummary summary;
  summary.peakMemoryBytes = session.statistics().peakMemoryBytes;
  for (const auto &collective : session.statistics().collectives)
    summary.collectiveBytes.push_back(collective.bytesPerRank);
  return summary;
}

/// Rank 0's statistics plus every rank's peak memory; a collective's
/// bytes_per_rank is the most any rank sent, as the compiler's report has it.
std::string statsJson(const Session &session,
                      const std::vector<RankSummary> &ranks,
                      const std::string &comm, const Options &options,
                      const std::vector<double> &runMilliseconds) {
  const dsp::runtime::Statistics &stats = session.statistics();
  std::ostringstream json;
  json << "{\n  \"backend\": " << jsonString(options.backend)
       << ",\n  \"comm\": " << jsonString(comm)
       << ",\n  \"ranks\": " << ranks.size() << ",\n  \"runs\": " << stats.runs
       << ",\n  \"run_ms\": [";
  for (size_t i = 0; i < runMilliseconds.size(); ++i)
    json << (i ? ", " : "") << runMilliseconds[i];
  json << "],\n  \"ops\": {";
  bool first = true;
  for (const auto &[op, opStats] : stats.ops) {
    json << (first ? "\n" : ",\n") << "    " << jsonString(op)
         << ": {\"count\": " << opStats.count
         << ", \"total_ms\": " << opStats.totalMilliseconds << "}";
    first = false;
  }
  json << (first ? "" : "\n  ") << "},\n  \"peak_memory_bytes\": [";
  for (size_t rank = 0; rank < ranks.size(); ++rank)
    json << (rank ? ", " : "") << ranks[rank].peakMemoryBytes;
  json << "],\n  \"arena_bytes\": " << stats.arenaBytes
       << ",\n  \"workspace_bytes\": " << stats.workspaceBytes
       << ",\n  \"input_bytes\": " << stats.inputBytes
       << ",\n  \"collectives\": [";
  uint64_t total = 0;
  for (size_t i = 0; i < stats.collectives.size(); ++i) {
    uint64_t bytes = 0;
    for (const RankSummary &rank : ranks)
      bytes = std::max(bytes, rank.collectiveBytes[i]);
    total += bytes;
    json << (i ? ",\n" : "\n")
         << "    {\"kind\": " << jsonString(stats.collectives[i].kind)
         << ", \"location\": " << jsonString(stats.collectives[i].location)
         << ", \"bytes_per_rank\": " << bytes << "}";
  }
  json << (stats.collectives.empty() ? "" : "\n  ")
       << "],\n  \"totals\": {\"bytes_per_rank\": " << total << "}\n}\n";
  return json.str();
}

/// Sends every rank's summary to rank 0 (mpi: one process per rank).
std::vector<RankSummary> gatherSummaries(Communicator &communicator,
                                         const RankSummary &own) {
  size_t words = 1 + own.collectiveBytes.size();
  std::vector<uint64_t> mine = {own.peakMemoryBytes};
  mine.insert(mine.end(), own.collectiveBytes.begin(),
              own.collectiveBytes.end());
  if (communicator.rank() != 0) {
    Status status = communicator.exchange({{0, mine.data(), words * 8}}, {});
    if (!status)
      die(status.message());
    return {};
  }
  std::vector<std::vector<uint64_t>> all(communicator.size(),
                                         std::vector<uint64_t>(words));
  std::vector<dsp::runtime::ReceiveBuffer> receives;
  for (int rank = 1; rank < communicator.size(); ++rank)
    receives.push_back({rank, all[rank].data(), words * 8});
  Status status = communicator.exchange({}, receives);
  if (!status)
    die(status.message());
  std::vector<RankSummary> summaries = {own};
  for (int rank = 1; rank < communicator.size(); ++rank)
    summaries.push_back(
        {all[rank][0],
         std::vector<uint64_t>(all[rank].begin() + 1, all[rank].end())});
  return summaries;
}

void printStatistics(const Session &session,
                     const std::vector<double> &runMilliseconds) {
  const dsp::runtime::Statistics &stats = session.statistics();
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
  std::printf("%-16s %10s %14s %14s\n", "op", "count", "total ms",
              "ms per run");
  for (const auto &[op, opStats] : stats.ops)
    std::printf("%-16s %10llu %14.3f %14.3f\n", op.c_str(),
                static_cast<unsigned long long>(opStats.count),
                opStats.totalMilliseconds,
                stats.runs ? opStats.totalMilliseconds / stats.runs : 0.0);
}

/// Binds input `index` of every session from `array`, the global value:
/// each rank gets its own block.
void bindInput(std::vector<std::unique_ptr<Session>> &sessions,
               const std::vector<std::shared_ptr<Communicator>> &communicators,
               size_t index, const dsp::npy::Array &array,
               const std::string &path) {
  const TensorInfo &info = sessions[0]->inputInfo(index);
  dsp::format::Layout layout;
  if (!info.layout.empty())
    dsp::format::Layout::decode(info.layout, layout);
  if (layout.kind == dsp::format::Layout::Replicated) {
    for (auto &session : sessions) {
      Status status = session->bindInput(index, array.dtype, array.shape,
                                         array.data.data(), array.data.size());
      if (!status)
        die(path + ": " + status.message());
    }
    return;
  }
  if (array.shape != info.globalShape)
    die(path + ": " + describe("input", index, info) + " expects shape " +
        dsp::format::shapeString(info.globalShape) + " (each of the " +
        std::to_string(communicators[0]->size()) + " ranks reads its " +
        layout.str() + " block), got " + dsp::format::shapeString(array.shape));
  std::vector<uint8_t> block(info.bytes);
  for (size_t i = 0; i < sessions.size(); ++i) {
    if (array.dtype == info.dtype)
      dsp::format::extractBlock(array.data.data(), array.shape,
                                dsp::format::elementSize(array.dtype), layout,
                                communicators[i]->size(),
                                communicators[i]->rank(), block.data());
    Status status = sessions[i]->bindInput(index, array.dtype, info.shape,
                                           block.data(), block.size());
    if (!status)
      die(path + ": " + status.message());
  }
}

/// Runs `session` once and appends the run's wall time to `milliseconds`.
Status timedRun(Session &session, std::vector<double> &milliseconds) {
  auto start = std::chrono::steady_clock::now();
  Status status = session.run();
  milliseconds.push_back(std::chrono::duration<double, std::milli>(
                             std::chrono::steady_clock::now() - start)
                             .count());
  return status;
}

/// After the first failure, the other local ranks stop at their next
/// exchange; one still busy this long after (a stalled rank, or one in a
/// long kernel) is abandoned. A stall thus ends the run within the
/// communication timeout plus this margin.
constexpr double kStopGraceSeconds = 0.5;

/// Runs every local rank `repeat` times, one thread each. Returns "" or the
/// first failure; a failing rank (or one whose thread cannot start) stops
/// the others through its communicator.
std::string
runLocalRanks(std::vector<std::unique_ptr<Session>> &sessions,
              const std::vector<std::shared_ptr<Communicator>> &communicators,
              uint64_t repeat, const std::string &model,
              std::vector<double> &runMilliseconds) {
  struct Progress {
    std::mutex mutex;
    std::condition_variable changed;
    size_t finished = 0;
    std::string failure;
    std::vector<double> rank0Milliseconds;
  };
  // Shared with threads that may outlive this call.
  auto progress = std::make_shared<Progress>();
  std::vector<std::thread> threads;
  for (size_t rank = 0; rank < sessions.size(); ++rank)
    try {
      threads.emplace_back([progress, &session = *sessions[rank],
                            communicator = communicators[rank], repeat, model,
                            rank] {
        std::string message;
        try {
          std::vector<double> ignored;
          std::vector<double> &times =
              rank == 0 ? progress->rank0Milliseconds : ignored;
          for (uint64_t run = 0; run < repeat && message.empty(); ++run) {
            Status status = timedRun(session, times);
            if (!status)
              message = model + ": " + status.message();
          }
        } catch (const std::exception &exception) {
          message = std::string("exception: ") + exception.what();
        }
        // A rank that exited says nothing, like a dead process.
        bool report = !message.empty() && !communicator->exited();
        if (report)
          communicator->abort(message);
        std::lock_guard<std::mutex> lock(progress->mutex);
        if (report && progress->failure.empty())
          progress->failure = "rank " + std::to_string(rank) + ": " + message;
        ++progress->finished;
        progress->changed.notify_all();
      });
    } catch (const std::exception &exception) {
      // Out of threads: the ranks started wait for this one until told.
      std::string message =
          std::string("cannot start the thread of this rank: ") +
          exception.what();
      communicators[rank]->abort(message);
      std::lock_guard<std::mutex> lock(progress->mutex);
      if (progress->failure.empty())
        progress->failure = "rank " + std::to_string(rank) + ": " + message;
      break;
    }
  std::unique_lock<std::mutex> lock(progress->mutex);
  size_t all = threads.size();
  progress->changed.wait(lock, [&] {
    return progress->finished == all || !progress->failure.empty();
  });
  bool abandoned = !progress->changed.wait_for(
      lock, std::chrono::duration<double>(kStopGraceSeconds),
      [&] { return progress->finished == all; });
  lock.unlock();
  for (std::thread &thread : threads)
    if (abandoned)
      thread.detach();
    else
      thread.join();
  if (!abandoned)
    runMilliseconds = progress->rank0Milliseconds;
  return progress->failure;
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
  int ranks = static_cast<int>(file->program().ranks());

  dsp::runtime::CommunicatorOptions commOptions;
  commOptions.timeoutSeconds = options.commTimeout;
  const char *fault = std::getenv("DSP_FAULT");
  error = dsp::runtime::FaultPlan::parse(fault ? fault : "", commOptions.fault);
  if (!error.empty())
    die("DSP_FAULT: " + error);
  std::vector<std::shared_ptr<Communicator>> communicators;
  if (options.comm == "mpi") {
    std::shared_ptr<Communicator> communicator;
    Status status =
        dsp::runtime::createMpiCommunicator(commOptions, communicator);
    if (!status)
      die(status.message());
    mpiCommunicator = communicator.get();
    if (communicator->size() != ranks)
      die(options.model + " runs on " + std::to_string(ranks) +
          " ranks, but mpirun started " + std::to_string(communicator->size()) +
          " processes (use mpirun -np " + std::to_string(ranks) + ")");
    communicators.push_back(communicator);
  } else {
    Status status = dsp::runtime::createLocalCommunicators(ranks, commOptions,
                                                           communicators);
    if (!status)
      die(options.model + ": " + status.message());
  }

  // Rank threads share the cores: each gets its part unless told.
  dsp::runtime::SessionOptions sessionOptions;
  sessionOptions.backend = options.backend;
  sessionOptions.threads =
      options.threads ? options.threads
                      : std::clamp(std::thread::hardware_concurrency() /
                                       static_cast<unsigned>(
                                           communicators[0]->ranksOnHost()),
                                   1u, dsp::runtime::kMaxThreads);
  std::vector<std::unique_ptr<Session>> sessions;
  for (const auto &communicator : communicators) {
    sessionOptions.communicator = communicator;
    sessions.push_back(Session::create(file, sessionOptions, error));
    if (!sessions.back())
      die(error);
  }
  Session &session = *sessions[0];

  std::vector<size_t> inputIndices =
      resolve(options.inputs, session, true, "--input");
  std::vector<bool> bound(session.numInputs(), false);
  for (size_t i = 0; i < inputIndices.size(); ++i) {
    size_t index = inputIndices[i];
    if (bound[index])
      die(describe("input", index, session.inputInfo(index)) +
          " is bound twice");
    dsp::npy::Array array;
    error = dsp::npy::read(options.inputs[i].path, array);
    if (!error.empty())
      die(error);
    bindInput(sessions, communicators, index, array, options.inputs[i].path);
    bound[index] = true;
  }
  for (size_t i = 0; i < bound.size(); ++i)
    if (!bound[i])
      die("the program has " + std::to_string(session.numInputs()) +
          " inputs but " + std::to_string(inputIndices.size()) +
          " were given; " + describe("input", i, session.inputInfo(i)) +
          " is missing (add --input=" + session.inputInfo(i).name + "=@FILE)");

  std::vector<size_t> outputIndices =
      resolve(options.outputs, session, false, "--output");
  std::vector<size_t> expectedIndices =
      resolve(options.expected, session, false, "--expected-output");

  // Wall time of each run of rank 0: the instructions and the copy of the
  // bound inputs into the arena, no file I/O.
  std::vector<double> runMilliseconds;
  if (mpiCommunicator) {
    for (uint64_t run = 0; run < options.repeat; ++run) {
      Status status = timedRun(session, runMilliseconds);
      if (!status)
        die(options.model + ": " + status.message());
    }
  } else {
    error = runLocalRanks(sessions, communicators, options.repeat,
                          options.model, runMilliseconds);
    if (!error.empty())
      die(error);
  }

  std::vector<RankSummary> summaries;
  if (mpiCommunicator) {
    summaries = gatherSummaries(*mpiCommunicator, summarize(session));
    if (mpiCommunicator->rank() != 0)
      return;
  } else {
    for (const auto &rankSession : sessions)
      summaries.push_back(summarize(*rankSession));
  }

  auto readOutput = [&](size_t index) {
    std::vector<uint8_t> data(session.outputInfo(index).bytes);
    Status status = session.readOutput(index, data.data(), data.size());
    if (!status)
      die(status.message());
    return data;
  };
  // Every check and report comes before any output file is written.
  for (size_t i = 0; i < expectedIndices.size(); ++i)
    checkOutput(session, expectedIndices[i], readOutput(expectedIndices[i]),
                options.expected[i].path, options);
  if (options.printStatistics)
    printStatistics(session, runMilliseconds);
  std::cout.flush();
  if (!std::cout || std::fflush(stdout) != 0 || std::ferror(stdout))
    die("cannot write to the standard output");

  for (size_t i = 0; i < outputIndices.size(); ++i) {
    const TensorInfo &info = session.outputInfo(outputIndices[i]);
    std::vector<uint8_t> data = readOutput(outputIndices[i]);
    error = dsp::npy::write(options.outputs[i].path, info.dtype, info.shape,
                            data.data(), data.size());
    if (!error.empty())
      die(error);
  }
  if (!options.statsJson.empty()) {
    error = dsp::format::writeOutputFile(options.statsJson,
                                         statsJson(session, summaries,
                                                   communicators[0]->name(),
                                                   options, runMilliseconds));
    if (!error.empty())
      die(error);
  }
}

} // namespace

int main(int argc, char **argv) {
  Options options = parseOptions(argc, argv);
  for (const FileArgument &output : options.outputs)
    outputPaths.push_back(output.path);
  if (!options.statsJson.empty())
    outputPaths.push_back(options.statsJson);
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
