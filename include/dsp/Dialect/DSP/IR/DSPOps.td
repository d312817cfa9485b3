//===- DSPOps.td - dsp operations --------------------------*- tablegen -*-===//

#ifndef DSP_DIALECT_DSPOPS_TD
#define DSP_DIALECT_DSPOPS_TD

include "dsp/Dialect/DSP/IR/DSPBase.td"
include "dsp/Dialect/DSP/IR/DSPAttrs.td"
include "dsp/Dialect/DSP/IR/DSPInterfaces.td"
include "mlir/IR/BuiltinAttributeInterfaces.td"
include "mlir/IR/SymbolInterfaces.td"
include "mlir/Interfaces/ControlFlowInterfaces.td"
include "mlir/Interfaces/InferTypeOpInterface.td"
include "mlir/Interfaces/SideEffectInterfaces.td"

//===----------------------------------------------------------------------===//
// Type constraints
//===----------------------------------------------------------------------===//

def DSP_FloatTensor : StaticShapeTensorOf<[F32, F16, BF16]>;
def DSP_IntTensor : StaticShapeTensorOf<[I64, I32]>;
def DSP_BoolTensor : StaticShapeTensorOf<[I1]>;
def DSP_NumericTensor : StaticShapeTensorOf<[F32, F16, BF16, I64, I32]>;
def DSP_Tensor : StaticShapeTensorOf<[F32, F16, BF16, I64, I32, I1]>;

// Ops with their own factor mapping declare it; the others list the plain
// interface, whose default rule runs them replicated.
def DSP_RuleInterface : DeclareOpInterfaceMethods<DSP_ShardingRuleOpInterface,
                                                  ["getShardingRule"]>;

//===----------------------------------------------------------------------===//
// Constants and weights
//===----------------------------------------------------------------------===//

def DSP_ConstantOp : DSP_Op<"constant", [ConstantLike, Pure,
    AllTypesMatch<["value", "output"]>, DSP_RuleInterface]> {
  let summary = "A tensor whose value is known at compile time";
  let description = [{
    Holds small folded constants (`dense<...>`) and model weights, which the
    importer keeps as `dense_resource<...>` blobs so that their bytes are
    neither copied nor printed.

    ```mlir
    %0 = dsp.constant dense<[1, 2]> : tensor<2xi64>
    ```
  }];
  let arguments = (ins ElementsAttr:$value,
                       OptionalAttr<DSP_ExternalDataAttr>:$external);
  let results = (outs DSP_Tensor:$output);
  let assemblyFormat = "attr-dict $value";
  let hasFolder = 1;
  let hasVerifier = 1;
  let builders = [
    OpBuilder<(ins "::mlir::ElementsAttr":$value), [{
      build($_builder, $_state, value.getType(), value, nullptr);
    }]>
  ];
}

def DSP_WeightOp : DSP_Op<"weight", [Pure, DSP_RuleInterface]> {
  let summary = "A named model weight whose bytes are not loaded";
  let description = [{
    A weight known only by name and type, as imported in shape-only mode
    (`--no-weights`): enough to plan a full-size model without reading its
    weights. A program cannot be emitted from a module that holds one.

    ```mlir
    %w = dsp.weight "blocks.0.attn.qkv.weight" : tensor<1152x3456xf32>
    ```
  }];
  let arguments = (ins StrAttr:$name);
  let results = (outs DSP_Tensor:$output);
  let assemblyFormat = "$name attr-dict `:` type($output)";
}

//===----------------------------------------------------------------------===//
// Elementwise ops
//===----------------------------------------------------------------------===//

def DSP_Elementwise : NativeOpTrait<"Elementwise"> {
  let cppNamespace = "::mlir::OpTrait::dsp";
}

class DSP_ElementwiseOp<string mnemonic, list<Trait> traits = []>
    : DSP_Op<mnemonic, traits # [Pure, DSP_RuleInterface, DSP_Elementwise]> {
  let extraClassDefinition = [{
    ::mlir::dsp::ShardingRule $cppClass::getShardingRule() {
      return ::mlir::dsp::ShardingRule::getElementwise(*this);
    }
  }];
}

class DSP_UnaryOp<string mnemonic, list<Trait> traits = []>
    : DSP_ElementwiseOp<mnemonic, traits # [SameOperandsAndResultType]> {
  let summary = "Elementwise `" # mnemonic # "`";
  let arguments = (ins DSP_FloatTensor:$input);
  let results = (outs DSP_FloatTensor:$output);
  let assemblyFormat = "$input attr-dict `:` type($output)";
  let hasFolder = 1;
}

def DSP_NegOp : DSP_UnaryOp<"neg">;
def DSP_ExpOp : DSP_UnaryOp<"exp">;
def DSP_LogOp : DSP_UnaryOp<"log">;
def DSP_SqrtOp : DSP_UnaryOp<"sqrt">;
def DSP_ReciprocalOp : DSP_UnaryOp<"reciprocal">;
def DSP_AbsOp : DSP_UnaryOp<"abs">;
def DSP_ErfOp : DSP_UnaryOp<"erf">;
def DSP_TanhOp : DSP_UnaryOp<"tanh">;
def DSP_SigmoidOp : DSP_UnaryOp<"sigmoid">;
def DSP_ReluOp : DSP_UnaryOp<"relu">;
def DSP_SinOp : DSP_UnaryOp<"sin">;
def DSP_CosOp : DSP_UnaryOp<"cos">;
def DSP_SiluOp : DSP_UnaryOp<"silu"> {
  let description = "`x * sigmoid(x)`.";
}

def DSP_GeluOp : DSP_UnaryOp<"gelu"> {
  let description = [{
    `0.5 x (1 + erf(x / sqrt(2)))`, or with `approximate = "tanh"`
    `0.5 x (1 + tanh(sqrt(2 / pi) (x + 0.044715 x^3)))`.
  }];
  let arguments = (ins DSP_FloatTensor:$input,
                       DefaultValuedStrAttr<StrAttr, "none">:$approximate);
  let hasVerifier = 1;
}

def DSP_IsNaNOp : DSP_ElementwiseOp<"isnan", [SameOperandsAndResultShape]> {
  let summary = "Elementwise NaN test";
  let arguments = (ins DSP_FloatTensor:$input);
  let results = (outs DSP_BoolTensor:$output);
  let assemblyFormat = "$input attr-dict `:` type($input) `->` type($output)";
}

def DSP_NotOp : DSP_ElementwiseOp<"not", [SameOperandsAndResultType]> {
  let summary = "Elementwise logical not";
  let arguments = (ins DSP_BoolTensor:$input);
  let results = (outs DSP_BoolTensor:$output);
  let assemblyFormat = "$input attr-dict `:` type($output)";
}

def DSP_CastOp : DSP_ElementwiseOp<"cast", [SameOperandsAndResultShape]> {
  let summary = "Elementwise conversion to the result's element type";
  let description = [{
    Floats convert to integers by truncation toward zero; any value converts
    to `i1` as `x != 0`.
  }];
  let arguments = (ins DSP_Tensor:$input);
  let results = (outs DSP_Tensor:$output);
  let assemblyFormat = "$input attr-dict `:` type($input) `->` type($output)";
  let hasFolder = 1;
}

// `movement` names the DataMovement of the op's sharding rule.
class DSP_BinaryOp<string mnemonic, Type operandType, Type resultType,
                   bit returnsBool, list<Trait> traits = [],
                   string movement = "None">
    : DSP_ElementwiseOp<mnemonic, traits # [InferTypeOpAdaptor]> {
  let summary = "Elementwise `" # mnemonic # "` with numpy broadcasting";
  let arguments = (ins operandType:$lhs, operandType:$rhs);
  let results = (outs resultType:$output);
  let assemblyFormat = [{
    $lhs `,` $rhs attr-dict `:` type($lhs) `,` type($rhs) `->` type($output)
  }];
  let hasFolder = 1;
  let extraClassDefinition = [{
    ::mlir::dsp::ShardingRule $cppClass::getShardingRule() {
      return ::mlir::dsp::ShardingRule::getElementwise(*this,
          ::mlir::dsp::DataMovement::}] # movement # [{);
    }
    ::llvm::LogicalResult $cppClass::inferReturnTypes(
        ::mlir::MLIRContext *context, ::std::optional<::mlir::Location> location,
        Adaptor adaptor, ::llvm::SmallVectorImpl<::mlir::Type> &inferred) {
      return ::mlir::dsp::detail::inferBroadcastResult(
          location, adaptor.getOperands(),
          }] # !if(returnsBool, "::mlir::IntegerType::get(context, 1)",
                   "::mlir::getElementTypeOrSelf(adaptor.getLhs().getType())") # [{,
          inferred);
    }
  }];
}

class DSP_ArithOp<string mnemonic, list<Trait> traits = [],
                  string movement = "None">
    : DSP_BinaryOp<mnemonic, DSP_NumericTensor, DSP_NumericTensor, 0,
                   traits # [AllElementTypesMatch<["lhs", "rhs", "output"]>],
                   movement>;
class DSP_CompareOp<string mnemonic>
    : DSP_BinaryOp<mnemonic, DSP_NumericTensor, DSP_BoolTensor, 1,
                   [AllElementTypesMatch<["lhs", "rhs"]>]>;
class DSP_LogicalOp<string mnemonic>
    : DSP_BinaryOp<mnemonic, DSP_BoolTensor, DSP_BoolTensor, 1>;

// Add and mul rescale or shift a stream (a bias, rotary embeddings) on its
// way between a projection and attention.
def DSP_AddOp : DSP_ArithOp<"add", [Commutative], "Combine">;
def DSP_SubOp : DSP_ArithOp<"sub">;
def DSP_MulOp : DSP_ArithOp<"mul", [Commutative], "Combine">;
def DSP_DivOp : DSP_ArithOp<"div">;
def DSP_PowOp : DSP_ArithOp<"pow">;
def DSP_MaxOp : DSP_ArithOp<"max", [Commutative]>;
def DSP_MinOp : DSP_ArithOp<"min", [Commutative]>;
def DSP_ModOp : DSP_ArithOp<"mod"> {
  let summary = "Elementwise remainder with numpy broadcasting";
  let description = [{
    With `fmod`, the remainder of the division truncated toward zero, which
    has the sign of `lhs` (C's `fmod`); without, the remainder of the
    division rounded down, which has the sign of `rhs` (Python's `%`). An
    integer remainder by zero is 0.
  }];
  let arguments = (ins DSP_NumericTensor:$lhs, DSP_NumericTensor:$rhs,
                       DefaultValuedAttr<BoolAttr, "false">:$fmod);
}
def DSP_EqualOp : DSP_CompareOp<"equal">;
def DSP_LessOp : DSP_CompareOp<"less">;
def DSP_LessEqualOp : DSP_CompareOp<"less_equal">;
def DSP_GreaterOp : DSP_CompareOp<"greater">;
def DSP_GreaterEqualOp : DSP_CompareOp<"greater_equal">;
def DSP_AndOp : DSP_LogicalOp<"and">;
def DSP_OrOp : DSP_LogicalOp<"or">;
def DSP_XorOp : DSP_LogicalOp<"xor">;

def DSP_WhereOp : DSP_ElementwiseOp<"where", [InferTypeOpAdaptor,
    AllElementTypesMatch<["true_value", "false_value", "output"]>]> {
  let summary = "Elementwise select with numpy broadcasting";
  let arguments = (ins DSP_BoolTensor:$condition, DSP_Tensor:$true_value,
                       DSP_Tensor:$false_value);
  let results = (outs DSP_Tensor:$output);
  let assemblyFormat = [{
    $condition `,` $true_value `,` $false_value attr-dict `:`
    type($condition) `,` type($true_value) `,` type($false_value) `->`
    type($output)
  }];
  let hasFolder = 1;
}

//===----------------------------------------------------------------------===//
// Contractions and normalizations
//===----------------------------------------------------------------------===//

def DSP_MatMulOp : DSP_Op<"matmul", [Pure, InferTypeOpAdaptor,
    AllElementTypesMatch<["lhs", "rhs", "output"]>, DSP_RuleInterface]> {
  let summary = "Batched matrix product with broadcast batch dims";
  let description = [{
    ONNX MatMul on operands of rank 2 or more: `[..., M, K] x [..., K, N]`
    gives `[..., M, N]`, batch dims broadcast as numpy does.
  }];
  let arguments = (ins DSP_FloatTensor:$lhs, DSP_FloatTensor:$rhs);
  let results = (outs DSP_FloatTensor:$output);
  let assemblyFormat = [{
    $lhs `,` $rhs attr-dict `:` type($lhs) `,` type($rhs) `->` type($output)
  }];
}

def DSP_LayerNormOp : DSP_Op<"layer_norm", [Pure, InferTypeOpAdaptor,
    DSP_RuleInterface]> {
  let summary = "Layer normalization over the trailing dims from `axis`";
  let description = [{
    `(x - mean) / sqrt(var + epsilon) * scale + bias`, with mean and
    population variance over dims `axis ..< rank`; `scale` and `bias` have
    the shape of those dims.
  }];
  let arguments = (ins DSP_FloatTensor:$input, DSP_FloatTensor:$scale,
                       Optional<DSP_FloatTensor>:$bias,
                       ConfinedAttr<I64Attr, [IntNonNegative]>:$axis,
                       F64Attr:$epsilon);
  let results = (outs DSP_FloatTensor:$output);
  let assemblyFormat = [{
    $input `,` $scale (`,` $bias^)? attr-dict `:` functional-type(operands, results)
  }];
  let hasVerifier = 1;
}

def DSP_SoftmaxOp : DSP_Op<"softmax", [Pure, SameOperandsAndResultType,
    DSP_RuleInterface]> {
  let summary = "Softmax along one axis";
  let description = "A slice that is all `-inf` gives zeros.";
  let arguments = (ins DSP_FloatTensor:$input,
                       ConfinedAttr<I64Attr, [IntNonNegative]>:$axis);
  let results = (outs DSP_FloatTensor:$output);
  let assemblyFormat = "$input attr-dict `:` type($output)";
  let hasVerifier = 1;
}

def DSP_AttentionOp : DSP_Op<"attention", [Pure, InferTypeOpAdaptor,
    DSP_RuleInterface]> {
  let summary = "Fused scaled dot-product attention";
  let description = [{
    Operands have explicit axes `[batch, heads, sequence, head_dim]`:
    query `[B, H, Lq, D]`, key `[B, H, Lk, D]`, value `[B, H, Lk, Dv]`, and an
    optional additive float mask broadcastable to `[B, H, Lq, Lk]`. The
    result `[B, H, Lq, Dv]` is `softmax(query . key^T * scale + mask) . value`
    over `Lk`; a query row whose scores are all `-inf` gives zeros.

    Batch, heads and the query sequence are parallel factors; the key
    sequence and the head dim of query and key are mixing (the softmax
    between the two products is not linear, so neither leaves a partial
    sum): sharding the heads is the Ulysses switch, sharding the batch or
    query sequence is local.

    In per-rank IR the op may read its operands and write its result
    through transposes that keep the head dim innermost
    (`--dsp-fold-attention-transposes`): with `query_perm` P it attends
    `transpose(query, P)`, likewise `key_perm` and `value_perm`, and with
    `output_perm` Q its result is `transpose(attended, Q)`. The attended
    operands and result are then the `[B, H, L, D]` tensors above, and
    `getAttendedSharding` gives an operand's sharding as attended. With
    `query_select` [d, i] (likewise `key_select`, `value_select`) the query
    is a rank-5 tensor read at index i of its dim d, which drops out before
    the perm applies: the query of a fused QKV projection's result, read in
    place instead of sliced out:

    ```mlir
    %1 = dsp.attention %0, %0, %0 query_perm [0, 2, 1, 3]
        key_perm [0, 2, 1, 3] value_perm [0, 2, 1, 3]
        output_perm [0, 2, 1, 3] {scale = 0.25 : f64}
        : (tensor<2x16x4x8xf32>, tensor<2x16x4x8xf32>, tensor<2x16x4x8xf32>)
        -> tensor<2x16x4x8xf32>
    ```
  }];
  let arguments = (ins DSP_FloatTensor:$query, DSP_FloatTensor:$key,
                       DSP_FloatTensor:$value, Optional<DSP_FloatTensor>:$mask,
                       F64Attr:$scale,
                       OptionalAttr<DenseI64ArrayAttr>:$query_perm,
                       OptionalAttr<DenseI64ArrayAttr>:$key_perm,
                       OptionalAttr<DenseI64ArrayAttr>:$value_perm,
                       OptionalAttr<DenseI64ArrayAttr>:$output_perm,
                       OptionalAttr<DenseI64ArrayAttr>:$query_select,
                       OptionalAttr<DenseI64ArrayAttr>:$key_select,
                       OptionalAttr<DenseI64ArrayAttr>:$value_select);
  let results = (outs DSP_FloatTensor:$output);
  let assemblyFormat = [{
    $query `,` $key `,` $value (`mask` $mask^)? (`query_perm` $query_perm^)?
    (`key_perm` $key_perm^)? (`value_perm` $value_perm^)?
    (`output_perm` $output_perm^)? (`query_select` $query_select^)?
    (`key_select` $key_select^)? (`value_select` $value_select^)? attr-dict
    `:` functional-type(operands, results)
  }];
  let extraClassDeclaration = [{
    /// The sharding of operand `operand` (0 query, 1 key, 2 value) as
    /// attended: without its selected dim and transposed by its perm, if
    /// any.
    ::mlir::dsp::ShardingAttr getAttendedSharding(unsigned operand);
  }];
  let hasVerifier = 1;
}

def DSP_ConvOp : DSP_Op<"conv", [Pure, InferTypeOpAdaptor, DSP_RuleInterface]> {
  let summary = "N-d convolution (ONNX Conv)";
  let description = [{
    Input `[N, C, D1, ...]`, weight `[M, C / group, K1, ...]`, optional bias
    `[M]`. `pads` holds all begins, then all ends.
  }];
  let arguments = (ins DSP_FloatTensor:$input, DSP_FloatTensor:$weight,
                       Optional<DSP_FloatTensor>:$bias,
                       DenseI64ArrayAttr:$strides, DenseI64ArrayAttr:$pads,
                       DenseI64ArrayAttr:$dilations,
                       DefaultValuedAttr<I64Attr, "1">:$group);
  let results = (outs DSP_FloatTensor:$output);
  let assemblyFormat = [{
    $input `,` $weight (`,` $bias^)? attr-dict `:` functional-type(operands, results)
  }];
}

class DSP_ReduceOp<string mnemonic> : DSP_Op<mnemonic, [Pure,
    InferTypeOpAdaptor, DSP_RuleInterface]> {
  let summary = "Reduction `" # mnemonic # "` over `axes`";
  let arguments = (ins DSP_FloatTensor:$input, DenseI64ArrayAttr:$axes,
                       DefaultValuedAttr<BoolAttr, "true">:$keepdims);
  let results = (outs DSP_FloatTensor:$output);
  let assemblyFormat = "$input attr-dict `:` type($input) `->` type($output)";
  let extraClassDefinition = [{
    ::llvm::LogicalResult $cppClass::inferReturnTypes(
        ::mlir::MLIRContext *, ::std::optional<::mlir::Location> location,
        Adaptor adaptor, ::llvm::SmallVectorImpl<::mlir::Type> &inferred) {
      return ::mlir::dsp::detail::inferReduction(
          location, adaptor.getInput(), adaptor.getAxes(),
          adaptor.getKeepdims(), inferred);
    }
  }];
}

def DSP_ReduceSumOp : DSP_ReduceOp<"reduce_sum">;
def DSP_ReduceMeanOp : DSP_ReduceOp<"reduce_mean">;
def DSP_ReduceMaxOp : DSP_ReduceOp<"reduce_max">;

//===----------------------------------------------------------------------===//
// Data movement
//===----------------------------------------------------------------------===//

def DSP_ReshapeOp : DSP_Op<"reshape", [Pure, SameOperandsAndResultElementType,
    DSP_RuleInterface]> {
  let summary = "Row-major reshape to the result type";
  let arguments = (ins DSP_Tensor:$input);
  let results = (outs DSP_Tensor:$output);
  let assemblyFormat = "$input attr-dict `:` type($input) `->` type($output)";
  let hasVerifier = 1;
  let hasFolder = 1;
  let hasCanonicalizer = 1;
}

def DSP_TransposeOp : DSP_Op<"transpose", [Pure, InferTypeOpAdaptor,
    DSP_RuleInterface]> {
  let summary = "Permutes dims: result dim i is input dim `perm[i]`";
  let arguments = (ins DSP_Tensor:$input, DenseI64ArrayAttr:$perm);
  let results = (outs DSP_Tensor:$output);
  let assemblyFormat = [{
    $input `perm` $perm attr-dict `:` type($input) `->` type($output)
  }];
  let hasFolder = 1;
  let hasCanonicalizer = 1;
}

def DSP_ConcatOp : DSP_Op<"concat", [Pure, InferTypeOpAdaptor,
    DSP_RuleInterface]> {
  let summary = "Concatenation along `axis`";
  let arguments = (ins Variadic<DSP_Tensor>:$inputs,
                       ConfinedAttr<I64Attr, [IntNonNegative]>:$axis);
  let results = (outs DSP_Tensor:$output);
  let assemblyFormat = "$inputs attr-dict `:` functional-type($inputs, results)";
  let hasFolder = 1;
  let hasCanonicalizer = 1;
}

def DSP_SliceOp : DSP_Op<"slice", [Pure, InferTypeOpAdaptor,
    DSP_RuleInterface]> {
  let summary = "Strided slice with one start, limit and stride per dim";
  let description = [{
    Element `i` of result dim `d` is input element
    `starts[d] + i * strides[d]`, for `i < ceil((limits[d] - starts[d]) /
    strides[d])`. A negative stride walks down from `starts[d]`.
  }];
  let arguments = (ins DSP_Tensor:$input, DenseI64ArrayAttr:$starts,
                       DenseI64ArrayAttr:$limits, DenseI64ArrayAttr:$strides);
  let results = (outs DSP_Tensor:$output);
  let assemblyFormat = "$input attr-dict `:` type($input) `->` type($output)";
  let hasFolder = 1;
}

def DSP_GatherOp : DSP_Op<"gather", [Pure, InferTypeOpAdaptor,
    DSP_RuleInterface]> {
  let summary = "ONNX Gather along `axis`";
  let description = [{
    The result is `data.shape[:axis] + indices.shape + data.shape[axis+1:]`;
    negative indices count from the end.
  }];
  let arguments = (ins DSP_Tensor:$data, DSP_IntTensor:$indices,
                       ConfinedAttr<I64Attr, [IntNonNegative]>:$axis);
  let results = (outs DSP_Tensor:$output);
  let assemblyFormat = [{
    $data `,` $indices attr-dict `:` type($data) `,` type($indices) `->` type($output)
  }];
  let hasFolder = 1;
  let hasCanonicalizer = 1;
}

def DSP_ExpandOp : DSP_Op<"expand", [Pure, SameOperandsAndResultElementType,
    DSP_RuleInterface]> {
  let summary = "Broadcasts the input to the result shape";
  let arguments = (ins DSP_Tensor:$input);
  let results = (outs DSP_Tensor:$output);
  let assemblyFormat = "$input attr-dict `:` type($input) `->` type($output)";
  let hasVerifier = 1;
  let hasFolder = 1;
}

def DSP_TileOp : DSP_Op<"tile", [Pure, InferTypeOpAdaptor, DSP_RuleInterface]> {
  let summary = "Repeats the input `repeats[d]` times along each dim d";
  let arguments = (ins DSP_Tensor:$input, DenseI64ArrayAttr:$repeats);
  let results = (outs DSP_Tensor:$output);
  let assemblyFormat = "$input attr-dict `:` type($input) `->` type($output)";
  let hasFolder = 1;
}

def DSP_PadOp : DSP_Op<"pad", [Pure, InferTypeOpAdaptor, DSP_RuleInterface]> {
  let summary = "Pads each dim before and after";
  let description = [{
    `pads` holds all begins, then all ends, as ONNX Pad's, none negative.
    `mode` `constant` fills the pads with `value`, a scalar of the input's
    element type (zero when absent); `reflect` mirrors the input about its
    first and last element (each pad shorter than its dim); `edge` repeats
    the first and last element.

    ```mlir
    %y = dsp.pad %x, %zero {pads = array<i64: 0, 1, 0, 1>} : (tensor<2x3xf32>, tensor<f32>) -> tensor<2x5xf32>
    ```
  }];
  let arguments = (ins DSP_Tensor:$input, Optional<DSP_Tensor>:$value,
                       DenseI64ArrayAttr:$pads,
                       DefaultValuedStrAttr<StrAttr, "constant">:$mode);
  let results = (outs DSP_Tensor:$output);
  let assemblyFormat = [{
    $input (`,` $value^)? attr-dict `:` functional-type(operands, results)
  }];
  let hasVerifier = 1;
  let hasFolder = 1;
}

def DSP_ScatterElementsOp : DSP_Op<"scatter_elements", [Pure,
    AllTypesMatch<["data", "output"]>,
    AllElementTypesMatch<["data", "updates"]>, DSP_RuleInterface]> {
  let summary = "ONNX ScatterElements along `axis`";
  let description = [{
    The result is `data` with, for each position `p` of `indices` (and of
    `updates`, which has its shape), the element at `p` with dim `axis`
    replaced by `indices[p]` set to `updates[p]` (`reduction = "none"`; the
    last of duplicate indices wins) or increased by it (`"add"`). Negative
    indices count from the end.
  }];
  let arguments = (ins DSP_Tensor:$data, DSP_IntTensor:$indices,
                       DSP_Tensor:$updates,
                       ConfinedAttr<I64Attr, [IntNonNegative]>:$axis,
                       DefaultValuedStrAttr<StrAttr, "none">:$reduction);
  let results = (outs DSP_Tensor:$output);
  let assemblyFormat = [{
    $data `,` $indices `,` $updates attr-dict `:` functional-type(operands, results)
  }];
  let hasVerifier = 1;
  let hasFolder = 1;
  let builders = [
    OpBuilder<(ins "::mlir::Value":$data, "::mlir::Value":$indices,
                   "::mlir::Value":$updates, "int64_t":$axis,
                   "::llvm::StringRef":$reduction), [{
      build($_builder, $_state, data.getType(), data, indices, updates, axis,
            reduction);
    }]>
  ];
}

//===----------------------------------------------------------------------===//
// Collectives
//===----------------------------------------------------------------------===//

// In global IR a collective's result type equals its operand type; in
// per-rank IR both are the blocks of one global type (the verifier checks
// either). On a group with a mesh, `axis` K makes it a collective of the
// sub-groups of mesh axis K (the ranks that differ in coordinate K alone):
// operand and result shardings differ in what that axis holds, and the
// collective moves data within each sub-group only. Without `axis` it runs
// among all ranks.
def DSP_Collective : NativeOpTrait<"Collective"> {
  let cppNamespace = "::mlir::OpTrait::dsp";
}

class DSP_CollectiveOp<string mnemonic, list<Trait> traits = []>
    : DSP_Op<mnemonic, traits # [SameOperandsAndResultElementType,
                                 DSP_ShardingRuleOpInterface,
                                 DSP_Collective]> {
  let results = (outs DSP_Tensor:$output);
  let hasVerifier = 1;
}

def DSP_AllToAllOp : DSP_CollectiveOp<"all_to_all"> {
  let summary = "Switches the split dim from `concat_dim` to `split_dim`";
  let description = [{
    Each rank splits its block along `split_dim` into one piece per rank,
    sends piece j to rank j, and concatenates what it receives along
    `concat_dim`: a value split on `concat_dim` becomes split on
    `split_dim`. In global IR `split_dim` may equal `concat_dim` for a
    switch between two factors of one dim; `--dsp-localize` turns that into
    a switch between two dims of a view.

    In per-rank IR the op may fold the transposes around it
    (`--dsp-fold-collective-transposes`): with `input_perm` P it switches
    `transpose(input, P)`, and with `output_perm` Q its result is
    `transpose(switched, Q)`. The dims, the operand's sharding and the
    result's sharding then describe the untransposed operand and result
    (`getSwitchedInputType`, `getSwitchedResultType` and their shardings):

    ```mlir
    %1 = dsp.all_to_all %0 split 1 concat 2 input_perm [0, 2, 1, 3]
        {dsp.sharding = [#dsp.shard<dim = 1>]}
        : tensor<1x16x2x32xf32> -> tensor<1x4x8x32xf32>
    ```

    In per-rank IR, `async` starts the switch and returns at once: its
    result may be read only by the `dsp.wait` that completes it, and the
    ops between run while the bytes travel.
  }];
  let arguments = (ins DSP_Tensor:$input,
                       ConfinedAttr<I64Attr, [IntNonNegative]>:$split_dim,
                       ConfinedAttr<I64Attr, [IntNonNegative]>:$concat_dim,
                       OptionalAttr<DenseI64ArrayAttr>:$input_perm,
                       OptionalAttr<DenseI64ArrayAttr>:$output_perm,
                       UnitAttr:$async,
                       OptionalAttr<ConfinedAttr<I64Attr, [IntNonNegative]>>:$axis);
  let assemblyFormat = [{
    $input `split` $split_dim `concat` $concat_dim (`axis` $axis^)? (`input_perm` $input_perm^)? (`output_perm` $output_perm^)? attr-dict `:` custom<CollectiveTypes>(type($input), type($output))
  }];
  let extraClassDeclaration = [{
    /// The value the op switches: the operand, transposed by input_perm.
    ::mlir::RankedTensorType getSwitchedInputType();
    ::mlir::dsp::ShardingAttr getSwitchedInputSharding();
    /// The switched value, before output_perm transposes it.
    ::mlir::RankedTensorType getSwitchedResultType();
    ::mlir::dsp::ShardingAttr getSwitchedResultSharding();
  }];
  // The result type of global IR: the operand's.
  let builders = [
    OpBuilder<(ins "::mlir::Value":$input, "int64_t":$splitDim, "int64_t":$concatDim), [{
      build($_builder, $_state, input.getType(), input, splitDim, concatDim,
            nullptr, nullptr, false, ::mlir::IntegerAttr());
    }]>
  ];
}

def DSP_AllGatherOp : DSP_CollectiveOp<"all_gather"> {
  let summary = "Gathers a value split on `dim` onto every rank";
  let arguments = (ins DSP_Tensor:$input,
                       ConfinedAttr<I64Attr, [IntNonNegative]>:$dim,
                       OptionalAttr<ConfinedAttr<I64Attr, [IntNonNegative]>>:$axis);
  let assemblyFormat = "$input `dim` $dim (`axis` $axis^)? attr-dict `:` custom<CollectiveTypes>(type($input), type($output))";
  // The result type of global IR: the operand's.
  let builders = [
    OpBuilder<(ins "::mlir::Value":$input, "int64_t":$dim), [{
      build($_builder, $_state, input.getType(), input, dim,
            ::mlir::IntegerAttr());
    }]>
  ];
}

def DSP_AllReduceOp : DSP_CollectiveOp<"all_reduce"> {
  let summary = "Combines the partial values of all ranks";
  let arguments = (ins DSP_Tensor:$input,
                       DSP_ReduceKind:$reduction,
                       OptionalAttr<ConfinedAttr<I64Attr, [IntNonNegative]>>:$axis);
  let assemblyFormat = "$input $reduction (`axis` $axis^)? attr-dict `:` custom<CollectiveTypes>(type($input), type($output))";
  // The result type of global IR: the operand's.
  let builders = [
    OpBuilder<(ins "::mlir::Value":$input, "ReduceKind":$reduction), [{
      build($_builder, $_state, input.getType(), input, reduction,
            ::mlir::IntegerAttr());
    }]>
  ];
}

def DSP_ReduceScatterOp : DSP_CollectiveOp<"reduce_scatter"> {
  let summary = "Combines partial values and leaves them split on `dim`";
  let arguments = (ins DSP_Tensor:$input,
                       ConfinedAttr<I64Attr, [IntNonNegative]>:$dim,
                       DSP_ReduceKind:$reduction,
                       OptionalAttr<ConfinedAttr<I64Attr, [IntNonNegative]>>:$axis);
  let assemblyFormat = [{
    $input `dim` $dim $reduction (`axis` $axis^)? attr-dict `:` custom<CollectiveTypes>(type($input), type($output))
  }];
  // The result type of global IR: the operand's.
  let builders = [
    OpBuilder<(ins "::mlir::Value":$input, "int64_t":$dim, "ReduceKind":$reduction), [{
      build($_builder, $_state, input.getType(), input, dim, reduction,
            ::mlir::IntegerAttr());
    }]>
  ];
}

def DSP_LocalSliceOp : DSP_CollectiveOp<"local_slice"> {
  let summary = "Keeps this rank's block of a replicated value along `dim`";
  let description = "No communication: each rank drops what it does not own.";
  let arguments = (ins DSP_Tensor:$input,
                       ConfinedAttr<I64Attr, [IntNonNegative]>:$dim,
                       OptionalAttr<ConfinedAttr<I64Attr, [IntNonNegative]>>:$axis);
  let assemblyFormat = "$input `dim` $dim (`axis` $axis^)? attr-dict `:` custom<CollectiveTypes>(type($input), type($output))";
  // The result type of global IR: the operand's.
  let builders = [
    OpBuilder<(ins "::mlir::Value":$input, "int64_t":$dim), [{
      build($_builder, $_state, input.getType(), input, dim,
            ::mlir::IntegerAttr());
    }]>
  ];
}

//===----------------------------------------------------------------------===//
// Per-rank ops
//===----------------------------------------------------------------------===//

def DSP_WaitOp : DSP_Op<"wait", [SameOperandsAndResultType]> {
  let summary = "Completes an asynchronous all_to_all";
  let description = [{
    Per-rank IR only. `input` is the result of a `dsp.all_to_all` marked
    `async`, of which this is the only use; the result is that value once
    its bytes arrived, so the ops that read it run after the transfer. The
    program's `wait` instruction names the collective's output tensor and
    has no output of its own.

    ```mlir
    %0 = dsp.all_to_all %x split 1 concat 2 {async, dsp.sharding = [#dsp.shard<dim = 1>]} : tensor<2x8x4x32xf32> -> tensor<2x4x8x32xf32>
    %1 = dsp.linear %y, %w : (tensor<64x32xf32>, tensor<32x32xf32>) -> tensor<64x32xf32>
    %2 = dsp.wait %0 : tensor<2x4x8x32xf32>
    ```
  }];
  let arguments = (ins DSP_Tensor:$input);
  let results = (outs DSP_Tensor:$output);
  let assemblyFormat = "$input attr-dict `:` type($output)";
  let hasVerifier = 1;
}

def DSP_ZeroPadOp : DSP_Op<"zero_pad", [Pure, SameOperandsAndResultType]> {
  let summary = "Sets the pad positions of this rank's block to zero";
  let description = [{
    Per-rank IR only. The result's `#dsp.shard` is a split with a pad; the
    positions of the block past the global extent are set to zero, so that
    an op that sums over the split factor adds nothing for them, whatever
    the ops before left there. With `axis` K the sharding is compound and
    the pad is that of mesh axis K's split.
  }];
  let arguments = (ins DSP_Tensor:$input,
                       OptionalAttr<ConfinedAttr<I64Attr, [IntNonNegative]>>:$axis);
  let results = (outs DSP_Tensor:$output);
  let assemblyFormat = "$input (`axis` $axis^)? attr-dict `:` type($output)";
  let hasVerifier = 1;
}

def DSP_LinearOp : DSP_Op<"linear", [Pure,
    AllElementTypesMatch<["lhs", "rhs", "bias", "output"]>]> {
  let summary = "Matrix product with a fused epilogue";
  let description = [{
    Per-rank IR only (or IR without a device group): the sharding rules
    never see it. `output = activation(lhs . rhs + bias) + residual`, with
    `lhs . rhs` as `dsp.matmul` computes it, `bias` of shape `[N]` added to
    every row of the `[..., M, N]` product, `activation` one of `none`,
    `gelu` (erf form), `gelu_tanh` and `silu` (as `dsp.gelu` and `dsp.silu`
    compute them) and an optional `residual` of the result's type. The
    program's `matmul` instruction takes the operands in this order.
    `--dsp-fuse-matmul-epilogue` makes
    it from a matmul and the element-wise ops that follow it, so the
    epilogue runs while the product is in cache instead of as passes over
    memory of its own.

    ```mlir
    %y = dsp.linear %x, %w bias %b residual %r {activation = "gelu"}
        : (tensor<64x288xf32>, tensor<288x1152xf32>, tensor<1152xf32>, tensor<64x1152xf32>) -> tensor<64x1152xf32>
    ```
  }];
  let arguments = (ins DSP_FloatTensor:$lhs, DSP_FloatTensor:$rhs,
                       DSP_FloatTensor:$bias,
                       Optional<DSP_FloatTensor>:$residual,
                       DefaultValuedStrAttr<StrAttr, "none">:$activation);
  let results = (outs DSP_FloatTensor:$output);
  let assemblyFormat = [{
    $lhs `,` $rhs `bias` $bias (`residual` $residual^)? attr-dict `:`
    functional-type(operands, results)
  }];
  let hasVerifier = 1;
}

//===----------------------------------------------------------------------===//
// Kernels of per-rank IR
//===----------------------------------------------------------------------===//

def DSP_FusedOp : DSP_Op<"fused", [IsolatedFromAbove, SingleBlock,
                                   RecursiveMemoryEffects]> {
  let summary = "Element-wise ops, and at most one row op, in one kernel";
  let description = [{
    Per-rank IR only. The body is a chain of element-wise ops (numpy
    broadcasting included) on the block arguments, which stand for the
    inputs; `dsp.yield` names the results. Every result has the shape of
    the iteration space and every other value of the body broadcasts to
    it, so one loop over the results' elements computes them all and
    writes nothing else to memory. For target cuda the lowering turns the
    body into one kernel (`--dsp-lower-fused-to-gpu`); for target cpu the
    program carries the body, which the runtime runs in one pass.

    The body may also hold one row op: a `dsp.layer_norm` or `dsp.softmax`
    over the last dim alone, whose result has the shape of the iteration
    space. Its statistics (mean and variance, maximum and sum) are
    reductions over each row of the space's last dim, which the kernel
    computes first, recomputing the ops before the row op from the inputs;
    then it computes every element as above.

    ```mlir
    %r = dsp.fused(%x, %bias) : (tensor<64x1152xf32>, tensor<1152xf32>) -> tensor<64x1152xf32> {
    ^bb0(%a: tensor<64x1152xf32>, %b: tensor<1152xf32>):
      %0 = dsp.add %a, %b : tensor<64x1152xf32>, tensor<1152xf32> -> tensor<64x1152xf32>
      %1 = dsp.gelu %0 : tensor<64x1152xf32>
      dsp.yield %1 : tensor<64x1152xf32>
    }
    ```
  }];
  let arguments = (ins Variadic<DSP_Tensor>:$inputs);
  let results = (outs Variadic<DSP_Tensor>:$outputs);
  let regions = (region SizedRegion<1>:$body);
  let assemblyFormat = [{
    `(` $inputs `)` attr-dict `:` functional-type($inputs, $outputs) $body
  }];
  let hasVerifier = 1;
}

def DSP_YieldOp : DSP_Op<"yield", [Pure, Terminator, ReturnLike,
                                   HasParent<"FusedOp">]> {
  let summary = "The results of a `dsp.fused` body";
  let arguments = (ins Variadic<DSP_Tensor>:$values);
  let assemblyFormat = "$values attr-dict `:` type($values)";
}

def DSP_LaunchOp : DSP_Op<"launch", [Pure,
    DeclareOpInterfaceMethods<SymbolUserOpInterface>]> {
  let summary = "Runs a generated GPU kernel on its operands";
  let description = [{
    Per-rank IR of target cuda only. `kernel` names a function of a
    `gpu.module` (or, once serialized, of a `gpu.binary`) of this module;
    it runs on a `grid` of blocks of `block` threads and receives one
    pointer per input, then one per result, in order: the kernel writes the
    results and nothing else.

    ```mlir
    %r = dsp.launch @fused_0::@fused_0 grid [64, 9, 1] block [1, 128, 1] (%x, %bias) : (tensor<64x1152xf32>, tensor<1152xf32>) -> tensor<64x1152xf32>
    ```
  }];
  let arguments = (ins SymbolRefAttr:$kernel, DenseI64ArrayAttr:$grid,
                       DenseI64ArrayAttr:$block,
                       Variadic<DSP_Tensor>:$inputs);
  let results = (outs Variadic<DSP_Tensor>:$outputs);
  let assemblyFormat = [{
    $kernel `grid` $grid `block` $block `(` $inputs `)` attr-dict `:`
    functional-type($inputs, $outputs)
  }];
  let hasVerifier = 1;
}

#endif // DSP_DIALECT_DSPOPS_TD
