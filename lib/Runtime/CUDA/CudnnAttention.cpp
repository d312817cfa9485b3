//===- CudnnAttention.cpp - Attention through cuDNN's fused SDPA ----------===//
//
// One cudnn_frontend graph per attention shape: q, k, v and the output as
// contiguous [B, H, L, D] tensors, sdpa with the instruction's scale and no
// softmax statistics (inference), f32 softmax and accumulation. It is
// validated, lowered and planned (heuristics mode A) when the kernel is
// built; run() only executes the plan on the rank's stream with the
// session's workspace, so it records into a CUDA graph like any launch.
// Instructions of one shape share the graph. Each rank has its own cuDNN
// handle, bound to its stream.
//
//===----------------------------------------------------------------------===//

#include "CudnnAttention.h"

#include "dsp/Format/ProgramFile.h"

#ifdef DSP_HAVE_CUDNN
#include <cudnn_frontend.h>

#include <map>
#include <tuple>
#endif

namespace dsp {
namespace runtime {
namespace cuda {

#ifndef DSP_HAVE_CUDNN

Status createCudnnAttentionKernel(const KernelContext &,
                                  std::unique_ptr<Kernel> &) {
  return Status::error("the build found no cudnn-frontend headers or no cuDNN "
                       "(see DSP_CUDNN_FRONTEND_INCLUDE in docs/cuda.md)");
}

#else

namespace fe = cudnn_frontend;

/// What cuDNN attention needs per rank: a handle on the rank's stream and
/// the graphs built so far, by shape.
struct CudnnState {
  using Key = std::tuple<ElementType, int64_t, int64_t, int64_t, int64_t,
                         int64_t, int64_t, float>;
  cudnnHandle_t handle = nullptr;
  /// Why there is no handle, once creating it failed.
  Status created;
  std::map<Key, std::shared_ptr<fe::graph::Graph>> graphs;
  ~CudnnState() {
    if (handle)
      cudnnDestroy(handle);
  }
};

namespace {

// The frontend names the graph's tensors by these ids in execute().
enum TensorId : int64_t { kQueries = 1, kKeys, kValues, kOutput };

/// The operands cuDNN reads and writes must start 16-byte aligned.
constexpr uint64_t kOperandAlignment = 16;

Status check(cudnnStatus_t status, const char *call) {
  if (status == CUDNN_STATUS_SUCCESS)
    return Status::success();
  return Status::error(std::string(call) +
                       " failed: " + cudnnGetErrorString(status));
}

Status check(fe::error_t error, const char *call) {
  if (error.is_good())
    return Status::success();
  return Status::error(std::string("cudnn_frontend ") + call +
                       " failed: " + error.get_message());
}

/// The rank's cuDNN state, created on first use.
Status rankState(Resources &resources, std::shared_ptr<CudnnState> &state) {
  if (!resources.cudnn) {
    resources.cudnn = std::make_shared<CudnnState>();
    CudnnState &created = *resources.cudnn;
    created.created = check(cudnnCreate(&created.handle), "cudnnCreate");
    if (created.created)
      created.created = check(cudnnSetStream(created.handle, resources.stream),
                              "cudnnSetStream");
  }
  state = resources.cudnn;
  return state->created;
}

/// Builds the graph of `key`, every step checked.
Status buildGraph(cudnnHandle_t handle, const CudnnState::Key &key,
                  std::shared_ptr<fe::graph::Graph> &result) {
  auto [type, batch, heads, queries, keys, depth, valueDepth, scale] = key;
  auto graph = std::make_shared<fe::graph::Graph>();
  graph
      ->set_io_data_type(type == ElementType::BF16 ? fe::DataType_t::BFLOAT16
                                                   : fe::DataType_t::HALF)
      .set_intermediate_data_type(fe::DataType_t::FLOAT)
      .set_compute_data_type(fe::DataType_t::FLOAT);
  auto tensor = [&](const char *name, TensorId id, const Shape &dims) {
    return graph->tensor(fe::graph::Tensor_attributes()
                             .set_name(name)
                             .set_uid(id)
                             .set_dim(dims)
                             .set_stride(contiguousStrides(dims)));
  };
  auto q = tensor("q", kQueries, {batch, heads, queries, depth});
  auto k = tensor("k", kKeys, {batch, heads, keys, depth});
  auto v = tensor("v", kValues, {batch, heads, keys, valueDepth});
  auto options = fe::graph::SDPA_attributes()
                     .set_name("attention")
                     .set_generate_stats(false)
                     .set_attn_scale(scale);
  // The second output, the softmax statistics, is not generated.
  auto output = graph->sdpa(q, k, v, options)[0];
  Shape outputShape = {batch, heads, queries, valueDepth};
  output->set_output(true)
      .set_uid(kOutput)
      .set_dim(outputShape)
      .set_stride(contiguousStrides(outputShape));
  Status status;
  if (!(status = check(graph->validate(), "validate")) ||
      !(status = check(graph->build_operation_graph(handle),
                       "build_operation_graph")) ||
      !(status = check(graph->create_execution_plans({fe::HeurMode_t::A}),
                       "create_execution_plans")) ||
      !(status = check(graph->check_support(handle), "check_support")) ||
      !(status = check(graph->build_plans(handle), "build_plans")))
    return status;
  result = std::move(graph);
  return Status::success();
}

/// "bf16 q [1,2,3,4], k [...], v [...]", the shapes a refusal names.
std::string describe(const KernelContext &context) {
  return std::string(format::dtypeName(context.input(0).dtype())) + " q " +
         format::shapeString(context.inputShape(0)) + ", k " +
         format::shapeString(context.inputShape(1)) + ", v " +
         format::shapeString(context.inputShape(2));
}

std::string versions() {
  size_t version = cudnnGetVersion();
  return "cuDNN " + std::to_string(version / 10000) + "." +
         std::to_string(version / 100 % 100) + "." +
         std::to_string(version % 100) + ", frontend " +
         std::to_string(CUDNN_FRONTEND_MAJOR_VERSION) + "." +
         std::to_string(CUDNN_FRONTEND_MINOR_VERSION) + "." +
         std::to_string(CUDNN_FRONTEND_PATCH_VERSION);
}

} // namespace

Status createCudnnAttentionKernel(const KernelContext &context,
                                  std::unique_ptr<Kernel> &kernel) {
  ElementType type = context.inputType;
  if (type != ElementType::F16 && type != ElementType::BF16)
    return Status::error(
        std::string(format::dtypeName(context.input(0).dtype())) +
        " (cuDNN's SDPA takes f16 and bf16)");
  if (context.numInputs() == 4)
    return Status::error("a mask (the own kernel gives fully masked rows "
                         "zeros, as the cpu backend does)");
  AttentionGeometry g = attentionGeometry(context);
  for (int64_t extent :
       {g.batch, g.heads, g.queries, g.keys, g.depth, g.valueDepth})
    if (extent == 0)
      return Status::error("an empty dim in " + describe(context));
  for (const dsp::program::Tensor *operand :
       {&context.input(0), &context.input(1), &context.input(2),
        &context.output()})
    if (operand->offset() % kOperandAlignment != 0)
      return Status::error("tensor '" + operand->name() + "' at offset " +
                           std::to_string(operand->offset()) + " is not " +
                           std::to_string(kOperandAlignment) + "-byte aligned");

  std::shared_ptr<CudnnState> state;
  Status status = rankState(context.resources, state);
  if (!status)
    return status;
  CudnnState::Key key{type,   g.batch, g.heads,      g.queries,
                      g.keys, g.depth, g.valueDepth, g.scale};
  std::shared_ptr<fe::graph::Graph> &graph = state->graphs[key];
  int64_t workspace = 0;
  try {
    if (!graph)
      status = buildGraph(state->handle, key, graph);
    if (status)
      status =
          check(graph->get_workspace_size(workspace), "get_workspace_size");
  } catch (const std::exception &exception) {
    status =
        Status::error(std::string("cudnn_frontend threw: ") + exception.what());
  }
  if (!status) {
    state->graphs.erase(key);
    return Status::error(status.message() + " for " + describe(context));
  }
  std::shared_ptr<fe::graph::Graph> plan = graph;
  kernel = withImplementation(
      makeKernel(
          [state, plan](const KernelArgs &args) {
            std::unordered_map<int64_t, void *> pointers = {
                {kQueries, const_cast<void *>(args.inputs[0])},
                {kKeys, const_cast<void *>(args.inputs[1])},
                {kValues, const_cast<void *>(args.inputs[2])},
                {kOutput, args.output}};
            try {
              return check(
                  plan->execute(state->handle, pointers, args.workspace),
                  "execute");
            } catch (const std::exception &exception) {
              return Status::error(
                  std::string("cudnn_frontend execute threw: ") +
                  exception.what());
            }
          },
          static_cast<size_t>(workspace)),
      "cuDNN SDPA (" + versions() + ")");
  return Status::success();
}

#endif

} // namespace cuda
} // namespace runtime
} // namespace dsp
