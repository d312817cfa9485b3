//===- Matmul.cpp - Batched matmul through cuBLASLt -----------------------===//
//
// Row-major C = A B is column-major C^T = B^T A^T, so cuBLASLt sees B as its
// first operand. The batch dims, broadcast and merged, become cuBLASLt's
// strided batch (the innermost one; stride 0 broadcasts) and a host loop
// over the rest. f32 computes in f32 (CUBLAS_COMPUTE_32F: no TF32); f16 and
// bf16 accumulate in f32.
//
// The epilogue act(product + bias) + residual goes to cuBLASLt where it
// can: the bias is per row of the column-major D, i.e. per row-major
// column, as wanted; its GELU is the tanh form only; and as it adds
// beta * C before its activation, C carries the residual only when there
// is none. What is left runs in one in-place kernel over the product.
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

/// How a matmul's epilogue is split between cuBLASLt and the epilogue
/// kernel; the kernel's pointers are bound per run.
struct EpilogueSplit {
  cublasLtEpilogue_t blas = CUBLASLT_EPILOGUE_DEFAULT;
  bool residualAsC = false;
  MatmulEpilogue kernel;
  bool kernelBias = false, kernelResidual = false;
  bool needsKernel() const {
    return kernelBias || kernel.activate || kernelResidual;
  }
};

/// The split of the epilogue of `context`'s instruction; all of it goes to
/// the kernel unless `useBlas`.
EpilogueSplit splitEpilogue(const KernelContext &context, bool useBlas) {
  EpilogueSplit split;
  if (context.numInputs() < 3)
    return split;
  const bool hasResidual = context.numInputs() == 4;
  const format::Activation activation =
      format::findActivation(
          format::stringAttribute(context.instruction, "activation", "none"))
          .value_or(format::Activation::None);
  split.kernel.columns = context.outputShape().back();
  split.kernel.activation =
      activation == format::Activation::Gelu       ? UnaryOp::GeluErf
      : activation == format::Activation::GeluTanh ? UnaryOp::GeluTanh
                                                   : UnaryOp::Silu;
  if (!useBlas) {
    split.kernelBias = true;
    split.kernel.activate = activation != format::Activation::None;
    split.kernelResidual = hasResidual;
    return split;
  }
  bool blasGelu = activation == format::Activation::GeluTanh;
  split.blas = blasGelu ? CUBLASLT_EPILOGUE_GELU_BIAS : CUBLASLT_EPILOGUE_BIAS;
  split.kernel.activate = activation != format::Activation::None && !blasGelu;
  split.residualAsC = hasResidual && activation == format::Activation::None;
  split.kernelResidual = hasResidual && !split.residualAsC;
  return split;
}

} // namespace

Status createMatmulKernel(const KernelContext &context,
                          std::unique_ptr<Kernel> &kernel) {
  Shape a = context.inputShape(0), b = context.inputShape(1),
        out = context.outputShape();
  const int64_t k = a.back(), n = b.back();
  int64_t m = a[a.size() - 2];
  Shape batch(out.begin(), out.end() - 2);
  // One weight for every batch of whole rows (a linear layer over
  // [B, T, S, C]) is one GEMM over all the rows: cuBLASLt's batched
  // kernels for many small batches run several times slower.
  if (elementCount(Shape(b.begin(), b.end() - 2)) == 1 &&
      Shape(a.begin(), a.end() - 2) == batch) {
    m *= elementCount(batch);
    batch.clear();
    a = {m, k};
    b = {k, n};
  }
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
  // Binds the kernel's part of the epilogue to a run's addresses and
  // launches it.
  const ElementType type = context.outputType;
  const int64_t outCount = elementCount(out);
  auto runEpilogue = [=](const EpilogueSplit &split, const KernelArgs &args) {
    if (!split.needsKernel())
      return Status::success();
    MatmulEpilogue epilogue = split.kernel;
    epilogue.bias = split.kernelBias ? args.inputs[2] : nullptr;
    epilogue.residual = split.kernelResidual ? args.inputs[3] : nullptr;
    return check(
        launchMatmulEpilogue(type, epilogue, args.output, outCount, stream),
        "the matmul epilogue kernel");
  };
  if (k == 0) {
    EpilogueSplit split = splitEpilogue(context, false);
    kernel = makeKernel([=](const KernelArgs &args) {
      Status status = check(cudaMemsetAsync(args.output, 0, outBytes, stream),
                            "cudaMemsetAsync");
      return status ? runEpilogue(split, args) : status;
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
  uint32_t alignD =
      std::min(loop, alignment({static_cast<int64_t>(context.output().offset()),
                                innerStrides[0] * size}));
  // The best algorithm for `split`'s share of the epilogue; `found` is 0
  // if there is none.
  cublasLtMatmulHeuristicResult_t heuristic = {};
  int found = 0;
  auto findAlgorithm = [&](const EpilogueSplit &split) {
    uint32_t alignC =
        split.residualAsC
            ? std::min(loop, alignment({offsetOf(3), innerStrides[0] * size}))
            : alignD;
    Status status = check(cublasLtMatmulDescSetAttribute(
                              plan->operation, CUBLASLT_MATMUL_DESC_EPILOGUE,
                              &split.blas, sizeof(split.blas)),
                          "cublasLtMatmulDescSetAttribute(EPILOGUE)");
    cublasLtMatmulPreference_t preference = nullptr;
    if (status)
      status = check(cublasLtMatmulPreferenceCreate(&preference),
                     "cublasLtMatmulPreferenceCreate");
    size_t workspace = kMatmulWorkspaceBytes;
    struct {
      cublasLtMatmulPreferenceAttributes_t attribute;
      const void *value;
      size_t bytes;
    } preferences[] = {
        {CUBLASLT_MATMUL_PREF_MAX_WORKSPACE_BYTES, &workspace,
         sizeof(workspace)},
        {CUBLASLT_MATMUL_PREF_MIN_ALIGNMENT_A_BYTES, &alignA, sizeof(alignA)},
        {CUBLASLT_MATMUL_PREF_MIN_ALIGNMENT_B_BYTES, &alignB, sizeof(alignB)},
        {CUBLASLT_MATMUL_PREF_MIN_ALIGNMENT_C_BYTES, &alignC, sizeof(alignC)},
        {CUBLASLT_MATMUL_PREF_MIN_ALIGNMENT_D_BYTES, &alignD, sizeof(alignD)}};
    for (const auto &entry : preferences)
      if (status)
        status =
            check(cublasLtMatmulPreferenceSetAttribute(
                      preference, entry.attribute, entry.value, entry.bytes),
                  "cublasLtMatmulPreferenceSetAttribute");
    if (status)
      status = check(cublasLtMatmulAlgoGetHeuristic(
                         handle, plan->operation, plan->a, plan->b, plan->c,
                         plan->c, preference, 1, &heuristic, &found),
                     "cublasLtMatmulAlgoGetHeuristic");
    if (preference)
      cublasLtMatmulPreferenceDestroy(preference);
    return status;
  };
  // Should no algorithm take the epilogue, the kernel takes all of it.
  EpilogueSplit split = splitEpilogue(context, true);
  if (!(status = findAlgorithm(split)))
    return status;
  if (found == 0 && split.blas != CUBLASLT_EPILOGUE_DEFAULT) {
    split = splitEpilogue(context, false);
    if (!(status = findAlgorithm(split)))
      return status;
  }
  if (found == 0)
    return Status::error("cuBLASLt has no algorithm for this matmul (" +
                         format::shapeString(a) + " x " +
                         format::shapeString(b) + ")");
  plan->algorithm = heuristic.algo;
  size_t planWorkspace = heuristic.workspaceSize;

  kernel = makeKernel(
      [=](const KernelArgs &args) {
        const float one = 1.0f, zero = 0.0f;
        const float *beta = split.residualAsC ? &one : &zero;
        if (split.blas != CUBLASLT_EPILOGUE_DEFAULT) {
          // One bias for every batch (the default batch stride is 0).
          const void *bias = args.inputs[2];
          Status status =
              check(cublasLtMatmulDescSetAttribute(
                        plan->operation, CUBLASLT_MATMUL_DESC_BIAS_POINTER,
                        &bias, sizeof(bias)),
                    "cublasLtMatmulDescSetAttribute(BIAS_POINTER)");
          if (!status)
            return status;
        }
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
          const uint8_t *addend =
              split.residualAsC ? static_cast<const uint8_t *>(args.inputs[3]) +
                                      offsets[0] * size
                                : result;
          Status status =
              check(cublasLtMatmul(handle, plan->operation, &one, y, plan->a, x,
                                   plan->b, beta, addend, plan->c, result,
                                   plan->c, &plan->algorithm, args.workspace,
                                   planWorkspace, stream),
                    "cublasLtMatmul");
          if (!status)
            return status;
        }
        return runEpilogue(split, args);
      },
      planWorkspace);
  return Status::success();
}

} // namespace cuda
} // namespace runtime
} // namespace dsp
