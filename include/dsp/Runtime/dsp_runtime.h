/*===- dsp_runtime.h - C API of the DSP runtime -------------------*- C -*-===*\
|*                                                                            *|
|* Every function returns DSP_OK or DSP_ERROR; after DSP_ERROR,               *|
|* dsp_last_error() returns a message describing the failure (per thread,     *|
|* valid until the next failing call on that thread). Nothing aborts or       *|
|* throws. A session is used by one thread at a time.                         *|
|*                                                                            *|
\*===----------------------------------------------------------------------===*/

#ifndef DSP_RUNTIME_DSP_RUNTIME_H
#define DSP_RUNTIME_DSP_RUNTIME_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef enum dsp_status { DSP_OK = 0, DSP_ERROR = 1 } dsp_status;

/* Values match dsp.program.DType in Program.proto. */
typedef enum dsp_dtype {
  DSP_DTYPE_F32 = 1,
  DSP_DTYPE_F16 = 2,
  DSP_DTYPE_BF16 = 3,
  DSP_DTYPE_I64 = 4,
  DSP_DTYPE_I32 = 5,
  DSP_DTYPE_BOOL = 6
} dsp_dtype;

typedef struct dsp_session dsp_session;

typedef struct dsp_session_options {
  /* Backend name; NULL means "cpu". */
  const char *backend;
  /* Threads for this session, at most 1024; 0 means one per hardware
     thread. */
  unsigned threads;
} dsp_session_options;

typedef struct dsp_tensor_info {
  const char *name; /* owned by the session */
  dsp_dtype dtype;
  size_t rank;
  const int64_t *shape; /* owned by the session */
  size_t bytes;
} dsp_tensor_info;

typedef struct dsp_op_statistics {
  const char *op; /* owned by the session */
  uint64_t count;
  double total_ms;
} dsp_op_statistics;

typedef struct dsp_statistics {
  uint64_t runs;
  uint64_t peak_memory_bytes;
  uint64_t arena_bytes;
  size_t num_ops; /* number of op kinds, see dsp_session_op_statistics */
} dsp_statistics;

/* Message of the last failure on this thread ("" if none). */
const char *dsp_last_error(void);

/* Loads, validates and prepares the program at `path`. `options` may be
 * NULL for the defaults. */
dsp_status dsp_session_open(const char *path,
                            const dsp_session_options *options,
                            dsp_session **session);
void dsp_session_close(dsp_session *session);

size_t dsp_session_num_inputs(const dsp_session *session);
size_t dsp_session_num_outputs(const dsp_session *session);
dsp_status dsp_session_input_info(const dsp_session *session, size_t index,
                                  dsp_tensor_info *info);
dsp_status dsp_session_output_info(const dsp_session *session, size_t index,
                                   dsp_tensor_info *info);
/* Index of the input or output called `name`. */
dsp_status dsp_session_find_input(const dsp_session *session, const char *name,
                                  size_t *index);
dsp_status dsp_session_find_output(const dsp_session *session, const char *name,
                                   size_t *index);

/* Copies `data` as an input; dtype and shape must match the input. */
dsp_status dsp_session_bind_input(dsp_session *session, size_t index,
                                  dsp_dtype dtype, const int64_t *shape,
                                  size_t rank, const void *data, size_t bytes);
dsp_status dsp_session_bind_input_by_name(dsp_session *session,
                                          const char *name, dsp_dtype dtype,
                                          const int64_t *shape, size_t rank,
                                          const void *data, size_t bytes);

dsp_status dsp_session_run(dsp_session *session);

/* Copies output `index` of the last run into `data` (exactly the output's
 * byte size). */
dsp_status dsp_session_read_output(const dsp_session *session, size_t index,
                                   void *data, size_t bytes);

dsp_status dsp_session_statistics(const dsp_session *session,
                                  dsp_statistics *statistics);
/* Statistics of op kind `index` in [0, num_ops). */
dsp_status dsp_session_op_statistics(const dsp_session *session, size_t index,
                                     dsp_op_statistics *statistics);

#ifdef __cplusplus
}
#endif

#endif /* DSP_RUNTIME_DSP_RUNTIME_H */
