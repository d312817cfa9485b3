//===- CApi.cpp - C API over dsp::runtime::Session ------------------------===//

#include "dsp/Runtime/dsp_runtime.h"

#include "dsp/Format/FileIO.h"
#include "dsp/Runtime/RankGroup.h"

#include <algorithm>
#include <exception>
#include <new>
#include <type_traits>

using dsp::runtime::RankGroup;
using dsp::runtime::Session;
using dsp::runtime::Status;
using dsp::runtime::TensorInfo;

struct dsp_session {
  std::unique_ptr<Session> session;
};

struct dsp_group {
  std::unique_ptr<RankGroup> group;
};

namespace {

thread_local std::string lastError;

dsp_status fail(std::string message) {
  lastError = std::move(message);
  return DSP_ERROR;
}

dsp_status report(const Status &status) {
  return status ? DSP_OK : fail(status.message());
}

/// Runs `body`, turning any exception (allocation failure) into an error so
/// none crosses the C boundary.
template <typename Body> dsp_status guarded(const char *function, Body &&body) {
  try {
    return body();
  } catch (const std::exception &exception) {
    return fail(std::string(function) + ": " + exception.what());
  } catch (...) {
    return fail(std::string(function) + ": unexpected failure");
  }
}

/// Hands `created` to the caller in a new handle, or fails with `error`.
template <typename Handle, typename Object>
dsp_status publish(const char *function, std::unique_ptr<Object> created,
                   const std::string &error, Handle **handle) {
  if (!created)
    return fail(error);
  *handle = new (std::nothrow) Handle{std::move(created)};
  if (!*handle)
    return fail(std::string(function) + ": out of memory");
  return DSP_OK;
}

/// Fills `info` with input (or output) `index` of `owner`, a Session or a
/// RankGroup.
template <typename Owner>
dsp_status tensorInfo(const char *function, const Owner *owner, bool input,
                      size_t index, dsp_tensor_info *info) {
  if (!owner || !info ||
      index >= (input ? owner->numInputs() : owner->numOutputs()))
    return fail(std::string(function) + ": bad " +
                (std::is_same_v<Owner, Session> ? "session" : "group") +
                ", info or index");
  const TensorInfo &tensor =
      input ? owner->inputInfo(index) : owner->outputInfo(index);
  info->name = tensor.name.c_str();
  info->dtype = static_cast<dsp_dtype>(tensor.dtype);
  info->rank = tensor.shape.size();
  info->shape = tensor.shape.data();
  info->bytes = tensor.bytes;
  return DSP_OK;
}

/// Sets `index` to that of the input (or output) called `name` in `owner`.
template <typename Owner>
dsp_status findTensor(const char *function, const Owner *owner, bool input,
                      const char *name, size_t *index) {
  return guarded(function, [&] {
    if (!owner || !name || !index)
      return fail(std::string(function) + ": null argument");
    int found = input ? owner->findInput(name) : owner->findOutput(name);
    if (found < 0)
      return fail(std::string("the program has no ") +
                  (input ? "input" : "output") + " named '" + name + "'");
    *index = static_cast<size_t>(found);
    return DSP_OK;
  });
}

std::vector<int64_t> shapeOf(const int64_t *shape, size_t rank) {
  return std::vector<int64_t>(shape, shape + rank);
}

void fillStatistics(const dsp::runtime::Statistics &stats,
                    dsp_statistics *statistics) {
  statistics->runs = stats.runs;
  statistics->peak_memory_bytes = stats.peakMemoryBytes;
  statistics->arena_bytes = stats.arenaBytes;
  statistics->num_ops = stats.ops.size();
}

/// Writes `contents` to `path` on rank 0's process.
dsp_status writeOnRankZero(const dsp_group *group, const std::string &path,
                           const std::string &contents) {
  if (group->group->rank(0) != 0)
    return DSP_OK;
  std::string error = dsp::format::writeOutputFile(path, contents);
  return error.empty() ? DSP_OK : fail(error);
}

} // namespace

extern "C" {

const char *dsp_last_error(void) { return lastError.c_str(); }

dsp_status dsp_session_open(const char *path,
                            const dsp_session_options *options,
                            dsp_session **session) {
  return guarded(__func__, [&] {
    if (!path || !session)
      return fail("dsp_session_open: path and session must not be null");
    dsp::runtime::SessionOptions sessionOptions;
    if (options) {
      if (options->backend)
        sessionOptions.backend = options->backend;
      sessionOptions.threads = options->threads;
    }
    std::string error;
    return publish("dsp_session_open",
                   Session::open(path, sessionOptions, error), error, session);
  });
}

void dsp_session_close(dsp_session *session) { delete session; }

size_t dsp_session_num_inputs(const dsp_session *session) {
  return session ? session->session->numInputs() : 0;
}

size_t dsp_session_num_outputs(const dsp_session *session) {
  return session ? session->session->numOutputs() : 0;
}

dsp_status dsp_session_input_info(const dsp_session *session, size_t index,
                                  dsp_tensor_info *info) {
  return tensorInfo(__func__, session ? session->session.get() : nullptr, true,
                    index, info);
}

dsp_status dsp_session_output_info(const dsp_session *session, size_t index,
                                   dsp_tensor_info *info) {
  return tensorInfo(__func__, session ? session->session.get() : nullptr, false,
                    index, info);
}

dsp_status dsp_session_find_input(const dsp_session *session, const char *name,
                                  size_t *index) {
  return findTensor(__func__, session ? session->session.get() : nullptr, true,
                    name, index);
}

dsp_status dsp_session_find_output(const dsp_session *session, const char *name,
                                   size_t *index) {
  return findTensor(__func__, session ? session->session.get() : nullptr, false,
                    name, index);
}

dsp_status dsp_session_bind_input(dsp_session *session, size_t index,
                                  dsp_dtype dtype, const int64_t *shape,
                                  size_t rank, const void *data, size_t bytes) {
  return guarded(__func__, [&] {
    if (!session || (!shape && rank))
      return fail("dsp_session_bind_input: null argument");
    return report(session->session->bindInput(
        index, static_cast<dsp::program::DType>(dtype), shapeOf(shape, rank),
        data, bytes));
  });
}

dsp_status dsp_session_bind_input_by_name(dsp_session *session,
                                          const char *name, dsp_dtype dtype,
                                          const int64_t *shape, size_t rank,
                                          const void *data, size_t bytes) {
  return guarded(__func__, [&] {
    if (!session || !name || (!shape && rank))
      return fail("dsp_session_bind_input_by_name: null argument");
    return report(session->session->bindInput(
        std::string(name), static_cast<dsp::program::DType>(dtype),
        shapeOf(shape, rank), data, bytes));
  });
}

dsp_status dsp_session_run(dsp_session *session) {
  return guarded(__func__, [&] {
    if (!session)
      return fail("dsp_session_run: null session");
    return report(session->session->run());
  });
}

dsp_status dsp_session_read_output(const dsp_session *session, size_t index,
                                   void *data, size_t bytes) {
  return guarded(__func__, [&] {
    if (!session || (!data && bytes))
      return fail("dsp_session_read_output: null argument");
    return report(session->session->readOutput(index, data, bytes));
  });
}

dsp_status dsp_session_statistics(const dsp_session *session,
                                  dsp_statistics *statistics) {
  if (!session || !statistics)
    return fail("dsp_session_statistics: null argument");
  fillStatistics(session->session->statistics(), statistics);
  return DSP_OK;
}

dsp_status dsp_session_op_statistics(const dsp_session *session, size_t index,
                                     dsp_op_statistics *statistics) {
  if (!session || !statistics ||
      index >= session->session->statistics().ops.size())
    return fail("dsp_session_op_statistics: bad session, statistics or index");
  auto entry = session->session->statistics().ops.begin();
  std::advance(entry, index);
  statistics->op = entry->first.c_str();
  statistics->count = entry->second.count;
  statistics->total_ms = entry->second.totalMilliseconds;
  return DSP_OK;
}

dsp_status dsp_group_open(const char *path, const dsp_group_options *options,
                          dsp_group **group) {
  return guarded(__func__, [&] {
    if (!path || !group)
      return fail("dsp_group_open: path and group must not be null");
    dsp::runtime::RankGroupOptions groupOptions;
    if (options) {
      if (options->backend)
        groupOptions.backend = options->backend;
      groupOptions.threads = options->threads;
      if (options->comm)
        groupOptions.comm = options->comm;
      if (options->comm_timeout_seconds != 0)
        groupOptions.communicator.timeoutSeconds =
            options->comm_timeout_seconds;
      groupOptions.trace = options->trace != 0;
    }
    std::string error;
    std::shared_ptr<const dsp::format::ProgramFile> file =
        dsp::format::ProgramFile::open(path, error);
    return publish("dsp_group_open",
                   file ? RankGroup::create(file, groupOptions, error)
                        : nullptr,
                   error, group);
  });
}

void dsp_group_close(dsp_group *group) { delete group; }

int dsp_group_ranks(const dsp_group *group) {
  return group ? group->group->ranks() : 0;
}

int dsp_group_rank(const dsp_group *group) {
  return group ? group->group->rank(0) : 0;
}

size_t dsp_group_num_inputs(const dsp_group *group) {
  return group ? group->group->numInputs() : 0;
}

size_t dsp_group_num_outputs(const dsp_group *group) {
  return group ? group->group->numOutputs() : 0;
}

dsp_status dsp_group_input_info(const dsp_group *group, size_t index,
                                dsp_tensor_info *info) {
  return tensorInfo(__func__, group ? group->group.get() : nullptr, true, index,
                    info);
}

dsp_status dsp_group_output_info(const dsp_group *group, size_t index,
                                 dsp_tensor_info *info) {
  return tensorInfo(__func__, group ? group->group.get() : nullptr, false,
                    index, info);
}

dsp_status dsp_group_find_input(const dsp_group *group, const char *name,
                                size_t *index) {
  return findTensor(__func__, group ? group->group.get() : nullptr, true, name,
                    index);
}

dsp_status dsp_group_find_output(const dsp_group *group, const char *name,
                                 size_t *index) {
  return findTensor(__func__, group ? group->group.get() : nullptr, false, name,
                    index);
}

dsp_status dsp_group_bind_input(dsp_group *group, size_t index, dsp_dtype dtype,
                                const int64_t *shape, size_t rank,
                                const void *data, size_t bytes) {
  return guarded(__func__, [&] {
    if (!group || (!shape && rank))
      return fail("dsp_group_bind_input: null argument");
    return report(
        group->group->bindInput(index, static_cast<dsp::program::DType>(dtype),
                                shapeOf(shape, rank), data, bytes));
  });
}

dsp_status dsp_group_run(dsp_group *group) {
  return guarded(__func__, [&] {
    if (!group)
      return fail("dsp_group_run: null group");
    return report(group->group->run());
  });
}

dsp_status dsp_group_read_output(const dsp_group *group, size_t index,
                                 void *data, size_t bytes) {
  return guarded(__func__, [&] {
    if (!group || (!data && bytes))
      return fail("dsp_group_read_output: null argument");
    return report(group->group->readOutput(index, data, bytes));
  });
}

dsp_status dsp_group_statistics(dsp_group *group, dsp_statistics *statistics) {
  return guarded(__func__, [&] {
    if (!group || !statistics)
      return fail("dsp_group_statistics: null argument");
    dsp::runtime::GroupStatistics gathered;
    dsp::runtime::Status status = group->group->gatherStatistics(gathered);
    if (!status)
      return fail(status.message());
    fillStatistics(gathered.statistics, statistics);
    statistics->peak_memory_bytes = *std::max_element(
        gathered.peakMemoryBytes.begin(), gathered.peakMemoryBytes.end());
    return DSP_OK;
  });
}

dsp_status dsp_group_write_statistics(dsp_group *group, const char *path) {
  return guarded(__func__, [&] {
    if (!group || !path)
      return fail("dsp_group_write_statistics: null argument");
    dsp::runtime::GroupStatistics gathered;
    dsp::runtime::Status status = group->group->gatherStatistics(gathered);
    if (!status)
      return fail(status.message());
    return writeOnRankZero(group, path, dsp::runtime::statisticsJson(gathered));
  });
}

dsp_status dsp_group_write_trace(dsp_group *group, const char *path) {
  return guarded(__func__, [&] {
    if (!group || !path)
      return fail("dsp_group_write_trace: null argument");
    std::string json;
    dsp::runtime::Status status = group->group->gatherTrace(json);
    if (!status)
      return fail(status.message());
    return writeOnRankZero(group, path, json);
  });
}

} // extern "C"
