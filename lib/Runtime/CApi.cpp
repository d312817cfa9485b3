//===- CApi.cpp - C API over dsp::runtime::Session ------------------------===//

#include "dsp/Runtime/dsp_runtime.h"

#include "dsp/Runtime/Runtime.h"

#include <exception>
#include <new>

using dsp::runtime::Session;
using dsp::runtime::Status;
using dsp::runtime::TensorInfo;

struct dsp_session {
  std::unique_ptr<Session> session;
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

void fillInfo(const TensorInfo &tensor, dsp_tensor_info *info) {
  info->name = tensor.name.c_str();
  info->dtype = static_cast<dsp_dtype>(tensor.dtype);
  info->rank = tensor.shape.size();
  info->shape = tensor.shape.data();
  info->bytes = tensor.bytes;
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
    std::unique_ptr<Session> created =
        Session::open(path, sessionOptions, error);
    if (!created)
      return fail(error);
    *session = new (std::nothrow) dsp_session{std::move(created)};
    if (!*session)
      return fail("dsp_session_open: out of memory");
    return DSP_OK;
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
  if (!session || !info || index >= session->session->numInputs())
    return fail("dsp_session_input_info: bad session, info or index");
  fillInfo(session->session->inputInfo(index), info);
  return DSP_OK;
}

dsp_status dsp_session_output_info(const dsp_session *session, size_t index,
                                   dsp_tensor_info *info) {
  if (!session || !info || index >= session->session->numOutputs())
    return fail("dsp_session_output_info: bad session, info or index");
  fillInfo(session->session->outputInfo(index), info);
  return DSP_OK;
}

dsp_status dsp_session_find_input(const dsp_session *session, const char *name,
                                  size_t *index) {
  return guarded(__func__, [&] {
    if (!session || !name || !index)
      return fail("dsp_session_find_input: null argument");
    int found = session->session->findInput(name);
    if (found < 0)
      return fail(std::string("the program has no input named '") + name + "'");
    *index = static_cast<size_t>(found);
    return DSP_OK;
  });
}

dsp_status dsp_session_find_output(const dsp_session *session, const char *name,
                                   size_t *index) {
  return guarded(__func__, [&] {
    if (!session || !name || !index)
      return fail("dsp_session_find_output: null argument");
    int found = session->session->findOutput(name);
    if (found < 0)
      return fail(std::string("the program has no output named '") + name +
                  "'");
    *index = static_cast<size_t>(found);
    return DSP_OK;
  });
}

dsp_status dsp_session_bind_input(dsp_session *session, size_t index,
                                  dsp_dtype dtype, const int64_t *shape,
                                  size_t rank, const void *data, size_t bytes) {
  return guarded(__func__, [&] {
    if (!session || (!shape && rank))
      return fail("dsp_session_bind_input: null argument");
    return report(session->session->bindInput(
        index, static_cast<dsp::program::DType>(dtype),
        std::vector<int64_t>(shape, shape + rank), data, bytes));
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
        std::vector<int64_t>(shape, shape + rank), data, bytes));
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
  const dsp::runtime::Statistics &stats = session->session->statistics();
  statistics->runs = stats.runs;
  statistics->peak_memory_bytes = stats.peakMemoryBytes;
  statistics->arena_bytes = stats.arenaBytes;
  statistics->num_ops = stats.ops.size();
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

} // extern "C"
