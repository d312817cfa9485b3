//===- OnnxMutator.cpp - Mutating ONNX models for the fuzz targets --------===//

#include "OnnxMutator.h"
#include "ProtoMutator.h"

#include "onnx/onnx_pb.h"

namespace dsp {
namespace fuzz {

namespace {

const MutatorHints &onnxHints() {
  static const MutatorHints hints = [] {
    MutatorHints h;
    // The ops the importer knows, a few it does not, and near misses.
    h.strings["onnx.NodeProto.op_type"] = {
        "Abs", "Add", "And", "Cast", "Concat", "Constant", "ConstantOfShape",
        "Conv", "Cos", "Div", "Dropout", "Einsum", "Equal", "Erf", "Exp",
        "Expand", "Flatten", "Gather", "Gemm", "Greater", "GreaterOrEqual",
        "GroupNormalization", "Identity", "InstanceNormalization", "IsNaN",
        "LayerNormalization", "Less", "LessOrEqual", "Log", "MatMul", "Max",
        "Min", "Mul", "Neg", "Not", "Or", "Pow", "Reciprocal", "ReduceMax",
        "ReduceMean", "ReduceSum", "Relu", "Reshape", "ScatterND", "Shape",
        "Sigmoid", "Sin", "Slice", "Softmax", "Split", "Sqrt", "Squeeze",
        "Sub", "Sum", "Tanh", "Tile", "Transpose", "Unsqueeze", "Where", "Xor",
        "Range", "Resize", "If", "Loop", "Gelu", "Attention", ""};
    h.strings["onnx.AttributeProto.name"] = {
        "allowzero", "alpha", "auto_pad", "axes", "axis", "beta", "dilations",
        "end", "epsilon", "equation", "group", "keepdims", "kernel_shape",
        "noop_with_empty_axes", "num_groups", "num_outputs", "pads", "perm",
        "reduction", "split", "start", "stash_type", "strides", "to",
        "transA", "transB", "value", "value_float", "value_floats",
        "value_int", "value_ints", "value_string", "sparse_value", "seed",
        "training_mode", "approximate"};
    h.strings["onnx.AttributeProto.s"] = {
        "NOTSET", "VALID", "SAME_UPPER", "SAME_LOWER", "none", "tanh",
        "add", "mul", "max", "min", "ij,jk->ik", "bhqd,bhkd->bhqk",
        "...ij,...jk->...ik", "i,i->", "ii->i", "->", ""};
    std::vector<std::string> domains = {"", "ai.onnx", "ai.onnx.ml",
                                        "com.microsoft", "x"};
    h.strings["onnx.NodeProto.domain"] = domains;
    h.strings["onnx.OperatorSetIdProto.domain"] = domains;
    h.strings["onnx.StringStringEntryProto.key"] = {"location", "offset",
                                                    "length", "checksum"};
    h.strings["onnx.StringStringEntryProto.value"] = {
        "model.onnx", "missing.bin", ".", "0", "1", "64", "-1", "x",
        "18446744073709551615", "99999999999999999999999"};
    h.strings["onnx.TensorShapeProto.Dimension.dim_param"] = {"N", "batch",
                                                              "seq", ""};
    // TensorProto.DataType, valid and not.
    std::vector<int64_t> dataTypes;
    for (int64_t t = 0; t <= 24; ++t)
      dataTypes.push_back(t);
    dataTypes.push_back(-1);
    h.ints["onnx.TensorProto.data_type"] = dataTypes;
    h.ints["onnx.TypeProto.Tensor.elem_type"] = dataTypes;
    h.ints["onnx.AttributeProto.i"] = dataTypes;
    h.ints["onnx.OperatorSetIdProto.version"] = {1,  6,  7,  9,  10, 11,
                                                 12, 13, 14, 17, 18, 19,
                                                 21, 22, 23, 1000};
    h.ints["onnx.ModelProto.ir_version"] = {1, 3, 4, 7, 8, 9, 10, 11, 100};
    h.ints["onnx.TensorShapeProto.Dimension.dim_value"] = {0, 1, 2, 3, 4,
                                                           8, 16, -1};
    h.names = {"onnx.NodeProto.input", "onnx.NodeProto.output",
               "onnx.ValueInfoProto.name", "onnx.TensorProto.name"};
    // Shapes and attribute values are where the importer's checks are.
    h.weights = {{"onnx.TensorProto.dims", 6},
                 {"onnx.TensorShapeProto.Dimension.dim_value", 6},
                 {"onnx.AttributeProto.ints", 6},
                 {"onnx.AttributeProto.i", 6},
                 {"onnx.AttributeProto.f", 3},
                 {"onnx.AttributeProto.floats", 3},
                 {"onnx.AttributeProto.name", 2},
                 {"onnx.AttributeProto.type", 2},
                 {"onnx.NodeProto.op_type", 2},
                 {"onnx.NodeProto.input", 3},
                 {"onnx.NodeProto.output", 2},
                 {"onnx.TensorProto.data_type", 3},
                 {"onnx.TensorProto.raw_data", 3},
                 {"onnx.TensorProto.int64_data", 3},
                 {"onnx.TensorProto.float_data", 2},
                 {"onnx.TypeProto.Tensor.elem_type", 2},
                 {"onnx.OperatorSetIdProto.version", 2}};
    return h;
  }();
  return hints;
}

} // namespace

size_t mutateOnnxModel(uint8_t *data, size_t size, size_t maxSize,
                       unsigned seed, size_t prefix) {
  onnx::ModelProto model;
  return mutateSerialized(model, onnxHints(), data, size, maxSize, seed,
                          prefix);
}

size_t crossOverOnnxModels(const uint8_t *data1, size_t size1,
                           const uint8_t *data2, size_t size2, uint8_t *out,
                           size_t maxOutSize, unsigned seed, size_t prefix) {
  onnx::ModelProto model;
  return crossOverSerialized(model, onnxHints(), data1, size1, data2, size2,
                             out, maxOutSize, seed, prefix);
}

} // namespace fuzz
} // namespace dsp
