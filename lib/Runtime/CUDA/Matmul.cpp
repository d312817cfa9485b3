//===- Matmul.cpp - Batched matmul through cuBLASLt -----------------------===//
//
// Row-major C = A B is column-major C^T = B^T A^T, so cuBLASLt sees B as its
// first operand. The batch dims, broadcast and merged, become cuBLASLt's
// strided batch (the innermost one; stride 0 broadcasts) and a host loop
// over the rest. f32 computes in f32 (CUBLAS_COMPUTE_32F: no TF32); f16 and
// bf16 accumulate in f32.
//
//===----------------------------------------------------------------------===//

#include "Kernels.h"

#include "dsp/Format/ProgramFile.h"

#include <climits>

namespace dsp {
namespace runtime {
namespace cuda {

namespace {

/// Scratch cuBLASLt may use; part of the session's shared workspace.
constexpr size_t kMatmulWorkspaceBytes = size_t(32) << 20;

/// The descriptors of one GEMM shape; destroyed with the kernel.
struct MatmulPlan {
  cublasLtMatmulDesc_t operation = nullptr;
  cublasLtMatrixLayout_t a = nullptr, b = nullptr, c = nullptr;
  cublasLtMatmulAlgo_t algorithm;
  ~MatmulPlan() {
    if (a)
      cublasLtMatrixLayoutDestroy(a);
    if (b)
      cublasLtMatrixLayoutDestroy(b);
    if (c)
      cublasLtMatrixLayoutDestroy(c);
    if (operation)
      cublasLtMatmulDescDestroy(operation);
  }
};

cudaDataType_t dataType(ElementType type) {
  return type == ElementType::F16    ? CUDA_R_16F
         : type == ElementType::BF16 ? CUDA_R_16BF
                                     : CUDA_R_32F;
}

/// The largest power of two, at most 256, dividing every value.
uint32_t alignment(std::initializer_list<int64_t> values) {
  uint64_t bits = 256;
  for (int64_t value : values)
    bits |= static_cast<uint64_t>(value);
  return static_cast<uint32_t>(bits & -bits);
}

Status makeLayout(cublasLtMatrixLayout_t &layout, cudaDataType_t type,
                  int64_t rows, int64_t columns, int32_t batch,
                  int64_t batchStride) {
  Status status =
      check(cublasLtMatrixLayoutCreate(&layout, type, rows, columns, rows),
            "cublasLtMatrixLayoutCreate");
  if (status)
    status = check(
        cublasLtMatrixLayoutSetAttribute(
            layout, CUBLASLT_MATRIX_LAYOUT_BATCH_COUNT, &batch, sizeof(batch)),
        "cublasLtMatrixLayoutSetAttribute(BATCH_COUNT)");
  if (status)
    status = check(cublasLtMatrixLayoutSetAttribute(
                       layout, CUBLASLT_MATRIX_LAYOUT_STRIDED_BATCH_OFFSET,
                       &batchStride, sizeof(batchStride)),
                   "cublasLtMatrixLayoutSetAttribute(STRIDED_BATCH_OFFSET)");
  return status;
}

} // namespace

Status createMatmulKernel(const KernelContext &context,
                          std::unique_ptr<Kernel> &kernel) {
  Shape a = context.inputShape(0), b = context.inputShape(1),
        out = context.outputShape();
  const int64_t m = a[a.size() - 2], k = a.back(), n = b.back();
  Shape batch(out.begin(), out.end() - 2);
  auto batchStrides = [&](const Shape &operand, int64_t matrix) {
    Shape dims(operand.begin(), operand.end() - 2);
    Shape strides = broadcastStrides(dims, batch);
    for (int64_t &stride : strides)
      stride *= matrix;
    return strides;
  };
  StridedGeometry<3> geometry;
  Shape outStrides = contiguousStrides(batch);
  for (int64_t &stride : outStrides)
    stride *= m * n;
  Status status = makeGeometry<3>(
      batch, {outStrides, batchStrides(a, m * k), batchStrides(b, k * n)},
      geometry);
  if (!status)
    return status;
  // The innermost batch dim goes to cuBLASLt, the others to a host loop.
  int64_t inner = 1, innerStrides[3] = {0, 0, 0};
  if (geometry.rank > 0) {
    inner = geometry.shape[geometry.rank - 1];
    for (int o = 0; o < 3; ++o)
      innerStrides[o] = geometry.strides[o][geometry.rank - 1];
    geometry.count /= inner;
    geometry.rank -= 1;
  }
  if (inner > INT32_MAX)
    return Status::error("the matmul's batch of " + std::to_string(inner) +
                         " is more than cuBLASLt takes");
  const size_t elementSize = format::elementSize(context.output().dtype());
  const int64_t outBytes = static_cast<int64_t>(context.output().bytes());
  cudaStream_t stream = context.resources.stream;
  cublasLtHandle_t handle = context.resources.blas;
  if (m == 0 || n == 0 || elementCount(batch) == 0) {
    kernel = makeKernel([](const KernelArgs &) { return Status::success(); });
    return Status::success();
  }
  if (k == 0) {
    kernel = makeKernel([=](const KernelArgs &args) {
      return check(cudaMemsetAsync(args.output, 0, outBytes, stream),
                   "cudaMemsetAsync");
    });
    return Status::success();
  }

  auto plan = std::make_shared<MatmulPlan>();
  cudaDataType_t data = dataType(context.inputType);
  int32_t batchCount = static_cast<int32_t>(inner);
  if (!(status = check(cublasLtMatmulDescCreate(&plan->operation,
                                                CUBLAS_COMPUTE_32F, CUDA_R_32F),
                       "cublasLtMatmulDescCreate")) ||
      !(status =
            makeLayout(plan->a, data, n, k, batchCount, innerStrides[2])) ||
      !(status =
            makeLayout(plan->b, data, k, m, batchCount, innerStrides[1])) ||
      !(status = makeLayout(plan->c, data, n, m, batchCount, innerStrides[0])))
    return status;

  // Every address the kernel passes: the tensors' offsets (arena and
  // weight bases are 256-byte aligned) plus batch offsets.
  auto offsetOf = [&](int i) {
    return static_cast<int64_t>(context.input(i).offset());
  };
  int64_t size = static_cast<int64_t>(elementSize);
  std::vector<int64_t> loopAlignments = {0};
  for (int o = 0; o < 3; ++o)
    for (int d = 0; d < geometry.rank; ++d)
      loopAlignments.push_back(geometry.strides[o][d] * size);
  uint32_t loop = 256;
  for (int64_t value : loopAlignments)
    loop = std::min(loop, alignment({value}));
  uint32_t alignA =
      std::min(loop, alignment({offsetOf(1), innerStrides[2] * size}));
  uint32_t alignB =
      std::min(loop, alignment({offsetOf(0), innerStrides[1] * size}));
  uint32_t alignC =
      std::min(loop, alignment({static_cast<int64_t>(context.output().offset()),
                                innerStrides[0] * size}));
  cublasLtMatmulPreference_t preference = nullptr;
  status = check(cublasLtMatmulPreferenceCreate(&preference),
                 "cublasLtMatmulPreferenceCreate");
  size_t workspace = kMatmulWorkspaceBytes;
  struct {
    cublasLtMatmulPreferenceAttributes_t attribute;
    const void *value;
    size_t bytes;
  } preferences[] = {
      {CUBLASLT_MATMUL_PREF_MAX_WORKSPACE_BYTES, &workspace, sizeof(workspace)},
      {CUBLASLT_MATMUL_PREF_MIN_ALIGNMENT_A_BYTES, &alignA, sizeof(alignA)},
      {CUBLASLT_MATMUL_PREF_MIN_ALIGNMENT_B_BYTES, &alignB, sizeof(alignB)},
      {CUBLASLT_MATMUL_PREF_MIN_ALIGNMENT_C_BYTES, &alignC, sizeof(alignC)},
      {CUBLASLT_MATMUL_PREF_MIN_ALIGNMENT_D_BYTES, &alignC, sizeof(alignC)}};
  for (const auto &entry : preferences)
    if (status)
      status = check(cublasLtMatmulPreferenceSetAttribute(
                         preference, entry.attribute, entry.value, entry.bytes),
                     "cublasLtMatmulPreferenceSetAttribute");
  cublasLtMatmulHeuristicResult_t heuristic = {};
  int found = 0;
  if (status)
    status = check(cublasLtMatmulAlgoGetHeuristic(
                       handle, plan->operation, plan->a, plan->b, plan->c,
                       plan->c, preference, 1, &heuristic, &found),
                   "cublasLtMatmulAlgoGetHeuristic");
  if (preference)
    cublasLtMatmulPreferenceDestroy(preference);
  if (!status)
    return status;
  if (found == 0)
    return Status::error("cuBLASLt has no algorithm for this matmul (" +
                         format::shapeString(a) + " x " +
                         format::shapeString(b) + ")");
  plan->algorithm = heuristic.algo;
  size_t planWorkspace = heuristic.workspaceSize;

  kernel = makeKernel(
      [=](const KernelArgs &args) {
        const float one = 1.0f, zero = 0.0f;
        for (int64_t i = 0; i < std::max<int64_t>(geometry.count, 1); ++i) {
          int64_t offsets[3] = {0, 0, 0};
          int64_t rest = i;
          for (int d = geometry.rank - 1; d >= 0; --d) {
            int64_t coordinate = rest % geometry.shape[d];
            rest /= geometry.shape[d];
            for (int o = 0; o < 3; ++o)
              offsets[o] += coordinate * geometry.strides[o][d];
          }
          const uint8_t *x =
              static_cast<const uint8_t *>(args.inputs[0]) + offsets[1] * size;
          const uint8_t *y =
              static_cast<const uint8_t *>(args.inputs[1]) + offsets[2] * size;
          uint8_t *result =
              static_cast<uint8_t *>(args.output) + offsets[0] * size;
          Status status =
              check(cublasLtMatmul(handle, plan->operation, &one, y, plan->a, x,
                                   plan->b, &zero, result, plan->c, result,
                                   plan->c, &plan->algorithm, args.workspace,
                                   planWorkspace, stream),
                    "cublasLtMatmul");
          if (!status)
            return status;
        }
        return Status::success();
      },
      planWorkspace);
  return Status::success();
}

} // namespace cuda
} // namespace runtime
} // namespace dsp
