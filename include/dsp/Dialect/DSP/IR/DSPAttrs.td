//===- DSPAttrs.td - dsp attributes ------------------------*- tablegen -*-===//

#ifndef DSP_DIALECT_DSPATTRS_TD
#define DSP_DIALECT_DSPATTRS_TD

include "dsp/Dialect/DSP/IR/DSPBase.td"
include "mlir/IR/EnumAttr.td"

def DSP_ShardKind : I32EnumAttr<"ShardKind", "how a value is held by the ranks", [
    I32EnumAttrCase<"Replicated", 0, "replicated">,
    I32EnumAttrCase<"Split", 1, "split">,
    I32EnumAttrCase<"Partial", 2, "partial">,
    I32EnumAttrCase<"Mesh", 3, "mesh">
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
    A group of `ranks` devices that take part in every collective. It is
    attached to the module as `dsp.group`:

    ```mlir
    module attributes {dsp.group = #dsp.group<ranks = 4>} { ... }
    ```

    `mesh = [N0, N1, ...]` views the ranks as a row-major mesh (the sizes
    multiply to `ranks`; rank = the sum of coordinate k times the sizes
    after k), so that a `#dsp.shard<axes = [...]>` can split several
    places of a value at once, one per mesh axis, and a collective can run
    among the ranks of one axis:

    ```mlir
    module attributes {dsp.group = #dsp.group<ranks = 8, mesh = [2, 4]>} { ... }
    ```

    `per_rank = true` marks the module as per-rank IR (after
    `--dsp-localize`): every value's type is the block one rank holds, and
    its `#dsp.shard` says how that block sits in the global value.
  }];
  let parameters = (ins "int64_t":$ranks,
                        OptionalArrayRefParameter<"int64_t">:$mesh,
                        DefaultValuedParameter<"bool", "false">:$perRank);
  let hasCustomAssemblyFormat = 1;
  let builders = [
    AttrBuilder<(ins "int64_t":$ranks), [{
      return $_get($_ctxt, ranks, ::llvm::ArrayRef<int64_t>(), false);
    }]>
  ];
  let genVerifyDecl = 1;
  let extraClassDeclaration = [{
    /// The sizes of the mesh axes: `mesh`, or the one axis of all ranks.
    ::llvm::SmallVector<int64_t> getMeshShape() const {
      if (getMesh().empty())
        return {getRanks()};
      return ::llvm::SmallVector<int64_t>(getMesh());
    }
  }];
}

def DSP_TargetAttr : DSP_Attr<"Target", "target"> {
  let summary = "The device kind a module is compiled for";
  let description = [{
    Attached to the module as `dsp.target` by `--dsp-set-target`; the
    lowering to a program follows it. Both fuse element-wise chains: `cpu`
    runs every op, and each chain's body, as a kernel of the runtime's cpu
    backend; `cuda` turns the chains into GPU kernels generated for `chip`
    (an NVIDIA SM architecture such as `sm_90`):

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
      elements at its end so that it divides evenly by the rank count;
    - `#dsp.shard<axes = [S0, S1, ...]>` on a group with a mesh: a compound
      sharding, one of the above (without `axes`) per mesh axis, in the
      global value's terms; axis k holds the value as `Sk` among the ranks
      that differ in coordinate k alone, and a pad makes a split divide by
      that axis's size. Splits of one dim must be on disjoint factors, e.g.
      `[B, T*S, C]` split on T and S over a `[4, 2]` mesh is
      `#dsp.shard<axes = [<dim = 1, factors = [16, 1024], factor = 0>,
      <dim = 1, factors = [16, 1024], factor = 1>]>`.
  }];
  let parameters = (ins
    "ShardKind":$kind,
    DefaultValuedParameter<"int64_t", "-1">:$dim,
    OptionalArrayRefParameter<"int64_t">:$factors,
    DefaultValuedParameter<"int64_t", "0">:$factor,
    DefaultValuedParameter<"int64_t", "0">:$pad,
    OptionalArrayRefParameter<"ShardingAttr">:$axes
  );
  let hasCustomAssemblyFormat = 1;
  let genVerifyDecl = 1;
  let builders = [
    AttrBuilder<(ins "int64_t":$dim, CArg<"int64_t", "0">:$pad), [{
      return $_get($_ctxt, ShardKind::Split, dim, ::llvm::ArrayRef<int64_t>(),
                   0, pad, ::llvm::ArrayRef<ShardingAttr>());
    }]>
  ];
  let extraClassDeclaration = [{
    static ShardingAttr getReplicated(::mlir::MLIRContext *context) {
      return get(context, ShardKind::Replicated, -1, {}, 0, 0, {});
    }
    static ShardingAttr getPartial(::mlir::MLIRContext *context) {
      return get(context, ShardKind::Partial, -1, {}, 0, 0, {});
    }
    /// The sharding that holds a value as `axes[k]` on mesh axis k, in
    /// canonical form: replicated (partial) when every axis is.
    static ShardingAttr getCompound(::mlir::MLIRContext *context,
                                    ::llvm::ArrayRef<ShardingAttr> axes);
    bool isCompound() const { return getKind() == ShardKind::Mesh; }
    /// How mesh axis `axis` of a mesh of `axisCount` axes holds the value:
    /// the compound's entry, or this sharding when it is replicated or
    /// partial (on every axis alike); null for a split over the whole
    /// group, which no single axis describes.
    ShardingAttr getAxis(size_t axis) const;
    /// The compound layout (program file vocabulary) on a value of global
    /// `shape` over a mesh of `mesh` sizes.
    ::dsp::format::MeshLayout getMeshLayout(::llvm::ArrayRef<int64_t> shape,
                                            ::llvm::ArrayRef<int64_t> mesh)
        const;
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
    /// Whether every rank holds the same block under `other` as under this
    /// sharding: they are equal, or both split one dim evenly from the same
    /// outer factor (a whole dim, and its outer part split evenly, name the
    /// same blocks).
    bool holdsSameBlocks(ShardingAttr other) const;
    /// Size of the split extent (the factor, or the whole dim) before
    /// padding, for a value of `type`.
    int64_t getSplitExtent(::mlir::RankedTensorType type) const;
    /// The layout of a split (program file vocabulary, the block math of
    /// include/dsp/Format/Layout.h) on a value of global `shape`.
    ::dsp::format::Layout getLayout(::llvm::ArrayRef<int64_t> shape) const;
    /// The block of a value of global `type` that each rank of a group
    /// with mesh sizes `mesh` holds (a single size: the group's ranks).
    ::mlir::RankedTensorType getLocalType(::mlir::RankedTensorType type,
                                          ::llvm::ArrayRef<int64_t> mesh) const;
    /// The global type of which `type` is the block of each rank of a group
    /// with mesh sizes `mesh`; failure (reported through `emitError`) if no
    /// global type has such blocks.
    ::mlir::FailureOr<::mlir::RankedTensorType> getGlobalType(
        ::mlir::RankedTensorType type, ::llvm::ArrayRef<int64_t> mesh,
        ::llvm::function_ref<::mlir::InFlightDiagnostic()> emitError) const;
    /// Checks this sharding against the type of the value it describes and
    /// the module's group (null when the module has no group yet): a global
    /// type, or a rank's block in per-rank IR.
    ::mlir::LogicalResult
    verifyFor(::mlir::RankedTensorType type, GroupAttr group,
              ::llvm::function_ref<::mlir::InFlightDiagnostic()> emitError)
        const;
    /// verifyFor of a compound sharding.
    ::mlir::LogicalResult verifyCompoundFor(
        ::mlir::RankedTensorType type, GroupAttr group,
        ::llvm::function_ref<::mlir::InFlightDiagnostic()> emitError) const;
  }];
}

#endif // DSP_DIALECT_DSPATTRS_TD
