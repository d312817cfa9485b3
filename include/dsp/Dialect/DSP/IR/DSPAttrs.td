//===- DSPAttrs.td - dsp attributes ------------------------*- tablegen -*-===//

#ifndef DSP_DIALECT_DSPATTRS_TD
#define DSP_DIALECT_DSPATTRS_TD

include "dsp/Dialect/DSP/IR/DSPBase.td"
include "mlir/IR/EnumAttr.td"

def DSP_ShardKind : I32EnumAttr<"ShardKind", "how a value is held by the ranks", [
    I32EnumAttrCase<"Replicated", 0, "replicated">,
    I32EnumAttrCase<"Split", 1, "split">,
    I32EnumAttrCase<"Partial", 2, "partial">
  ]> {
  let cppNamespace = "::mlir::dsp";
  let genSpecializedAttr = 0;
}

def DSP_ReduceKind : I32EnumAttr<"ReduceKind", "combining function of a collective", [
    I32EnumAttrCase<"Sum", 0, "sum">,
    I32EnumAttrCase<"Max", 1, "max">
  ]> {
  let cppNamespace = "::mlir::dsp";
}

def DSP_TargetKind : I32EnumAttr<"TargetKind", "the device kind a module is compiled for", [
    I32EnumAttrCase<"Cpu", 0, "cpu">,
    I32EnumAttrCase<"Cuda", 1, "cuda">
  ]> {
  let cppNamespace = "::mlir::dsp";
  let genSpecializedAttr = 0;
}

class DSP_Attr<string name, string attrMnemonic, list<Trait> traits = []>
    : AttrDef<DSP_Dialect, name, traits> {
  let mnemonic = attrMnemonic;
}

def DSP_GroupAttr : DSP_Attr<"Group", "group"> {
  let summary = "The device group a module runs on";
  let description = [{
    A one-dimensional group of `ranks` devices that take part in every
    collective. It is attached to the module as `dsp.group`:

    ```mlir
    module attributes {dsp.group = #dsp.group<ranks = 4>} { ... }
    ```

    `per_rank = true` marks the module as per-rank IR (after
    `--dsp-localize`): every value's type is the block one rank holds, and
    its `#dsp.shard` says how that block sits in the global value.
  }];
  let parameters = (ins "int64_t":$ranks,
                        DefaultValuedParameter<"bool", "false">:$perRank);
  let assemblyFormat = [{
    `<` `ranks` `=` $ranks (`,` `per_rank` `=` $perRank^)? `>`
  }];
  let builders = [
    AttrBuilder<(ins "int64_t":$ranks), [{
      return $_get($_ctxt, ranks, false);
    }]>
  ];
  let genVerifyDecl = 1;
}

def DSP_TargetAttr : DSP_Attr<"Target", "target"> {
  let summary = "The device kind a module is compiled for";
  let description = [{
    Attached to the module as `dsp.target` by `--dsp-set-target`; the
    lowering to a program follows it. `cpu` runs every op as a kernel of the
    runtime's cpu backend; `cuda` fuses element-wise chains into GPU kernels
    generated for `chip` (an NVIDIA SM architecture such as `sm_90`):

    ```mlir
    module attributes {dsp.target = #dsp.target<cuda, chip = "sm_90">} { ... }
    ```
  }];
  let parameters = (ins EnumParameter<DSP_TargetKind>:$kind,
                        OptionalParameter<"::mlir::StringAttr">:$chip);
  let assemblyFormat = "`<` $kind (`,` `chip` `=` $chip^)? `>`";
  let genVerifyDecl = 1;
  let extraClassDeclaration = [{
    bool isCuda() const { return getKind() == TargetKind::Cuda; }
  }];
}

def DSP_ExternalDataAttr : DSP_Attr<"ExternalData", "external_data"> {
  let summary = "Where a weight's bytes lie in a model's external data file";
  let description = [{
    Recorded by the importer on a `dsp.constant` read from an ONNX external
    data file: the file's resolved path, the byte range and the element
    type stored there. A program emitted with `--weights=reference` names
    the file instead of copying the bytes; a constant converted to bf16 or
    f16 keeps the record and is converted again at load.

    ```mlir
    %w = dsp.constant {external = #dsp.external_data<path = "/models/m/weights.bin",
        offset = 0, bytes = 4096, element_type = f32>} dense_resource<w> : tensor<32x32xf32>
    ```
  }];
  let parameters = (ins "::mlir::StringAttr":$path, "uint64_t":$offset,
                        "uint64_t":$bytes, "::mlir::Type":$elementType);
  let assemblyFormat = "`<` struct(params) `>`";
  let genVerifyDecl = 1;
}

def DSP_ShardingAttr : DSP_Attr<"Sharding", "shard"> {
  let summary = "How one tensor value is distributed over the device group";
  let description = [{
    One of:

    - `#dsp.shard<replicated>`: every rank holds the whole value;
    - `#dsp.shard<partial>`: every rank holds a summand; the value is their
      sum (pending all-reduce);
    - `#dsp.shard<dim = D>`: dim `D` is split into equal contiguous blocks,
      one per rank;
    - `#dsp.shard<dim = D, factors = [F0, F1, ...], factor = I>`: dim `D` is
      viewed as the row-major compound of the factors (their product is the
      dim size) and factor `I` is split, e.g. `[B, T*S, C]` split on T is
      `#dsp.shard<dim = 1, factors = [8, 16], factor = 0>`;
    - `pad = P` on a split: the split extent is padded with `P` zero
      elements at its end so that it divides evenly by the rank count.
  }];
  let parameters = (ins
    "ShardKind":$kind,
    DefaultValuedParameter<"int64_t", "-1">:$dim,
    OptionalArrayRefParameter<"int64_t">:$factors,
    DefaultValuedParameter<"int64_t", "0">:$factor,
    DefaultValuedParameter<"int64_t", "0">:$pad
  );
  let hasCustomAssemblyFormat = 1;
  let genVerifyDecl = 1;
  let builders = [
    AttrBuilder<(ins "int64_t":$dim, CArg<"int64_t", "0">:$pad), [{
      return $_get($_ctxt, ShardKind::Split, dim, ::llvm::ArrayRef<int64_t>(),
                   0, pad);
    }]>
  ];
  let extraClassDeclaration = [{
    static ShardingAttr getReplicated(::mlir::MLIRContext *context) {
      return get(context, ShardKind::Replicated, -1, {}, 0, 0);
    }
    static ShardingAttr getPartial(::mlir::MLIRContext *context) {
      return get(context, ShardKind::Partial, -1, {}, 0, 0);
    }
    /// A split of the factor of size `size` that sits between `outer` and
    /// `inner` in dim `dim` (outer * size * inner is the dim size).
    static ShardingAttr getSplit(::mlir::MLIRContext *context, int64_t dim,
                                 int64_t outer, int64_t size, int64_t inner,
                                 int64_t pad);
    /// The product of the factors before and after the split one (1 and 1
    /// for a whole-dim split).
    int64_t getOuter() const;
    int64_t getInner() const;
    bool isReplicated() const { return getKind() == ShardKind::Replicated; }
    bool isPartial() const { return getKind() == ShardKind::Partial; }
    bool isSplit() const { return getKind() == ShardKind::Split; }
    /// Size of the split extent (the factor, or the whole dim) before
    /// padding, for a value of `type`.
    int64_t getSplitExtent(::mlir::RankedTensorType type) const;
    /// The layout of a split (program file vocabulary, the block math of
    /// include/dsp/Format/Layout.h) on a value of global `shape`.
    ::dsp::format::Layout getLayout(::llvm::ArrayRef<int64_t> shape) const;
    /// The block of a value of global `type` that each of `ranks` holds.
    ::mlir::RankedTensorType getLocalType(::mlir::RankedTensorType type,
                                          int64_t ranks) const;
    /// The global type of which `type` is the block of each of `ranks`;
    /// failure (reported through `emitError`) if no global type has such
    /// blocks.
    ::mlir::FailureOr<::mlir::RankedTensorType> getGlobalType(
        ::mlir::RankedTensorType type, int64_t ranks,
        ::llvm::function_ref<::mlir::InFlightDiagnostic()> emitError) const;
    /// Checks this sharding against the type of the value it describes and
    /// the module's group (null when the module has no group yet): a global
    /// type, or a rank's block in per-rank IR.
    ::mlir::LogicalResult
    verifyFor(::mlir::RankedTensorType type, GroupAttr group,
              ::llvm::function_ref<::mlir::InFlightDiagnostic()> emitError)
        const;
  }];
}

#endif // DSP_DIALECT_DSPATTRS_TD
