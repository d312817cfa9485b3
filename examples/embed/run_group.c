/* Runs a program compiled for any number of ranks through the C API, every
 * rank a thread of this process (or, with "mpi", a process of an MPI job),
 * with made-up f32 inputs; prints each output's checksum and the
 * statistics.
 *
 *   cc run_group.c $(pkg-config --cflags --libs dsp-runtime) -o run_group
 *   ./run_group stdit_tiny_4.dspx
 *   mpirun -np 4 ./run_group stdit_tiny_4.dspx mpi
 */

#include "dsp/Runtime/dsp_runtime.h"

#include <stdio.h>
#include <stdlib.h>

/* The same values as run_group.cpp binds, so both print the same sums. */
static float *madeUpInput(size_t index, size_t elements) {
  float *values = malloc(elements * sizeof(float));
  for (size_t i = 0; values && i < elements; ++i)
    values[i] = (float)((i * 7 + index * 3) % 17) / 17.0f - 0.5f;
  return values;
}

static int bindInputs(dsp_group *group) {
  for (size_t index = 0; index < dsp_group_num_inputs(group); ++index) {
    dsp_tensor_info info;
    if (dsp_group_input_info(group, index, &info) != DSP_OK)
      return 0;
    if (info.dtype != DSP_DTYPE_F32) {
      fprintf(stderr, "input '%s' is not f32; this example binds f32 only\n",
              info.name);
      return 0;
    }
    float *values = madeUpInput(index, info.bytes / sizeof(float));
    if (!values) {
      fprintf(stderr, "out of memory\n");
      return 0;
    }
    dsp_status status = dsp_group_bind_input(
        group, index, info.dtype, info.shape, info.rank, values, info.bytes);
    free(values);
    if (status != DSP_OK)
      return 0;
  }
  return 1;
}

static int printOutputs(const dsp_group *group) {
  for (size_t index = 0; index < dsp_group_num_outputs(group); ++index) {
    dsp_tensor_info info;
    if (dsp_group_output_info(group, index, &info) != DSP_OK)
      return 0;
    float *values = malloc(info.bytes);
    if (!values) {
      fprintf(stderr, "out of memory\n");
      return 0;
    }
    if (dsp_group_read_output(group, index, values, info.bytes) != DSP_OK) {
      free(values);
      return 0;
    }
    double sum = 0;
    for (size_t i = 0; i < info.bytes / sizeof(float); ++i)
      sum += values[i];
    free(values);
    if (dsp_group_rank(group) == 0) /* one process prints under mpi */
      printf("output %zu '%s': %zu values, sum %.9g\n", index, info.name,
             info.bytes / sizeof(float), sum);
  }
  return 1;
}

int main(int argc, char **argv) {
  if (argc != 2 && argc != 3) {
    fprintf(stderr, "usage: %s PROGRAM.dspx [local|mpi]\n", argv[0]);
    return 2;
  }
  /* cpu backend, 1 thread per rank, 60 s timeout. */
  dsp_group_options options = {"cpu", 1, argc == 3 ? argv[2] : "local", 60, 0};
  dsp_group *group = NULL;
  if (dsp_group_open(argv[1], &options, &group) != DSP_OK) {
    fprintf(stderr, "error: %s\n", dsp_last_error());
    return 1;
  }
  int ok = bindInputs(group) && dsp_group_run(group) == DSP_OK &&
           printOutputs(group);
  dsp_statistics statistics;
  ok = ok && dsp_group_statistics(group, &statistics) == DSP_OK;
  if (!ok && *dsp_last_error())
    fprintf(stderr, "error: %s\n", dsp_last_error());
  else if (ok && dsp_group_rank(group) == 0)
    printf("ranks: %d, runs: %llu, peak memory: %llu bytes (the most of any "
           "rank)\n",
           dsp_group_ranks(group), (unsigned long long)statistics.runs,
           (unsigned long long)statistics.peak_memory_bytes);
  dsp_group_close(group);
  return ok ? 0 : 1;
}
