/*===- dsp_runtime.h - C API of the DSP runtime -------------------*- C -*-===*\
|*                                                                            *|
|* Every function returns DSP_OK or DSP_ERROR; after DSP_ERROR,               *|
|* dsp_last_error() returns a message describing the failure (per thread,     *|
|* valid until the next failing call on that thread). Nothing aborts or       *|
|* throws. A session or group is used by one thread at a time.               *|
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

/* Copies `data` as an input; shape must match the input, and dtype too, but
 * for F32 data to an F16 or BF16 input (rounded to nearest even). */
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

/*===-- Rank groups: programs compiled for several ranks -----------------===*\
 * A group runs one session per rank: every rank as a thread of this process
 * ("local"), or this process's rank of an MPI job ("mpi" or "nccl", one
 * process per rank under mpirun). Inputs are bound as global values (each
 * rank copies its block); outputs are replicated. A failing rank stops the
 * others, and the error names it ("rank R: ..."); a group that failed does
 * not run again. Under mpi, the statistics and trace functions are collective:
 * every process calls them, and rank 0's process writes the files.
\*===----------------------------------------------------------------------===*/

typedef struct dsp_group dsp_group;

typedef struct dsp_group_options {
  /* Backend name; NULL means "cpu". */
  const char *backend;
  /* Threads per rank, at most 1024; 0 divides the hardware threads among
     the ranks on this host. */
  unsigned threads;
  /* "local", "mpi" or "nccl"; NULL means "local". */
  const char *comm;
  /* The longest a rank waits for another, 0.01 to 1e6 seconds; 0 means
     60. */
  double comm_timeout_seconds;
  /* Non-zero records every instruction for dsp_group_write_trace. */
  int trace;
} dsp_group_options;

/* Loads the program at `path` and creates its ranks' sessions. `options`
 * may be NULL for the defaults. */
dsp_status dsp_group_open(const char *path, const dsp_group_options *options,
                          dsp_group **group);
void dsp_group_close(dsp_group *group);

/* The program's ranks, and the rank of this process (0 for local). */
int dsp_group_ranks(const dsp_group *group);
int dsp_group_rank(const dsp_group *group);

size_t dsp_group_num_inputs(const dsp_group *group);
size_t dsp_group_num_outputs(const dsp_group *group);
/* An input's global shape and byte size. */
dsp_status dsp_group_input_info(const dsp_group *group, size_t index,
                                dsp_tensor_info *info);
dsp_status dsp_group_output_info(const dsp_group *group, size_t index,
                                 dsp_tensor_info *info);
dsp_status dsp_group_find_input(const dsp_group *group, const char *name,
                                size_t *index);
dsp_status dsp_group_find_output(const dsp_group *group, const char *name,
                                 size_t *index);

/* Binds the global value of an input; shape must match its global shape,
 * and dtype its dtype, but for F32 data to an F16 or BF16 input. */
dsp_status dsp_group_bind_input(dsp_group *group, size_t index, dsp_dtype dtype,
                                const int64_t *shape, size_t rank,
                                const void *data, size_t bytes);

/* Runs every rank of this process once. */
dsp_status dsp_group_run(dsp_group *group);

/* Copies output `index` of the last run into `data`. */
dsp_status dsp_group_read_output(const dsp_group *group, size_t index,
                                 void *data, size_t bytes);

/* Rank 0's runs, peak memory and op kinds, except that peak_memory_bytes is
 * the most of any rank. */
dsp_status dsp_group_statistics(dsp_group *group, dsp_statistics *statistics);
/* Writes the statistics as dsp-run --stats-json does. */
dsp_status dsp_group_write_statistics(dsp_group *group, const char *path);
/* Writes every rank's instructions as a Chrome trace (needs options.trace). */
dsp_status dsp_group_write_trace(dsp_group *group, const char *path);

#ifdef __cplusplus
}
#endif

#endif /* DSP_RUNTIME_DSP_RUNTIME_H */
