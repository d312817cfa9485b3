//===- Passes.td - dsp passes ------------------------------*- tablegen -*-===//

#ifndef DSP_TRANSFORMS_PASSES_TD
#define DSP_TRANSFORMS_PASSES_TD

include "mlir/Pass/PassBase.td"

def TestShardingRules : Pass<"dsp-test-sharding-rules"> {
  let summary = "Reports the sharding rule of every dsp op as a remark";
  let description = [{
    Emits `remark: sharding rule: (...) -> (...) {...}` on each op that
    implements the ShardingRuleOpInterface, after checking the rule against
    the op's types. Used to test the rules.
  }];
}

def PropagateSharding : Pass<"dsp-propagate-sharding", "::mlir::ModuleOp"> {
  let summary = "Chooses the sharding of every value by an exact cost minimum";
  let description = [{
    Gives every op result a `dsp.sharding`, every op the shardings it needs
    of its operands (`dsp.operand_shardings`), and every function argument
    the block each rank reads. For each op, a strategy shards one factor of
    its sharding rule (or none): its operands and result follow from the
    rule, and its compute cost is its roofline on the busiest rank (the
    larger of its FLOPs over the profile's peak rate for its element type
    and its bytes over the memory bandwidth, plus a fixed cost per kernel;
    see CostModel.h). Where a
    producer's sharding differs from what a consumer needs, the edge costs
    the collective that converts it (alpha-beta, see CostModel.h); a switch
    between two factors of one dim that no view of the dim lowers is not a
    choice. A value read by several ops (a residual stream, a fused QKV)
    gets a variable of its own, the sharding it is converted to once before
    its readers, so that readers that need the same conversion pay for it
    once; where that differs from the producer's sharding it is recorded
    as `dsp.read_sharding` on the producer (or the argument). The total
    over the whole function is minimized exactly (bucket elimination over
    the op graph, see ExactSolver.h). Factors that do not divide by the
    rank count are padded.

    Strategies restrict the choices:
    - `auto`: any factor that is not mixing, heads included, and for a
      self-attention over one sequence on the cpu target also the
      ring of `ring` (`usp`'s on a mesh of two axes);
    - `dsp`: sequence and batch factors only: no factor linked to a weight
      dim (contractions, projections' columns) or to attention heads;
      attention may still shard its query sequence with K and V gathered;
    - `ulysses`: DeepSpeed-Ulysses: like `dsp` outside attention;
      attention shards its heads, so Q, K and V each switch to heads (after
      a fused QKV tensor is split into them) and the output back, around
      every attention; the projections keep their weights whole;
    - `megatron-sp`: Megatron-LM's sequence parallelism: like `dsp` outside
      attention and the MLP; attention shards its heads, the projections
      into it and the MLP's first matmul shard their columns (all-gathering
      the sequence), the projection out of it and the MLP's second matmul
      their rows (reduce-scattering the partial sums);
    - `ring`: ring attention: like `dsp`, except that every self-attention
      over one sequence (batch 1, no mask) keeps Q, K and V in blocks of
      the sequence and passes the K and V blocks around the ranks in N - 1
      point-to-point steps, each overlapped with the attention of the block
      in hand;
    - `usp`: Ulysses inside groups and a ring across them (USP, as in
      xDiT): on a mesh of two axes, every such attention splits its heads
      over the second axis (Q, K and V switch to heads within its groups)
      and runs as a ring over the first; elsewhere like `dsp` on the mesh.
      Without `mesh` the mesh is (N / U) x U, U the largest divisor of N
      that divides the heads; where U is 1 that is `ring`, where U is N
      `ulysses` for those attentions;
    - `none`: everything replicated.
    An op that has a sequence or batch factor (one not linked to weights or
    heads) is always distributed unless `allow-replication` is set: that is
    the promise of sequence parallelism (each rank holds and computes 1/N of
    the activations), and on small models the alpha term of any collective
    would otherwise outweigh the work it distributes. Ops without such a
    factor, and side streams (results at least 16 times smaller than the
    largest activation: text tokens, a CLS token), run replicated when the
    cost model finds that cheaper.

    The `ranks` option creates the module's device group; a module that has
    a group of another size is an error. Under `auto`, unless `mesh` pins
    one, the group's mesh is chosen: one axis of all ranks, or the split
    into two axes (the smaller first) whose exact plan is cheapest, by more
    than 1 % of the modeled time for a mesh of more axes. A split whose
    choices need more than `mesh-pricing-limit` distinct conversions priced
    is given up with a warning.

    `keep-sharded=OUTPUT:INPUT` (several allowed) pins the sharding of the
    function result named OUTPUT to that of the argument named INPUT (their
    `dsp.name`s), as a denoising loop needs that feeds each step's output
    back as the next step's input: the result is not gathered at the end
    but converted to the argument's block (free where they already agree),
    which the solver chooses with that cost counted. The result gets the
    argument's sharding as its `dsp.sharding` and the argument's name as its
    `dsp.kept_sharded`; a result that already has a `dsp.kept_sharded` is
    pinned the same way. The two must have one shape and element type.
  }];
  let options = [
    Option<"ranks", "ranks", "int64_t", /*default=*/"1",
           "Number of ranks in the device group">,
    Option<"strategy", "strategy", "std::string", /*default=*/"\"auto\"",
           "auto, dsp, ulysses, megatron-sp, ring, usp or none">,
    Option<"profile", "profile", "std::string", /*default=*/"\"h100\"",
           "Device profile of each rank: h100, h200, or a profile file "
           "(scripts/calibrate.py writes one)">,
    Option<"preset", "preset", "std::string", /*default=*/"\"\"",
           "Link preset: nvlink (H100 intra-node) or infiniband (inter-node); "
           "default: the profile file's link, else nvlink">,
    Option<"latencyUs", "latency-us", "double", /*default=*/"-1",
           "Latency of a collective in microseconds (default: the preset's)">,
    Option<"busBandwidthGBs", "bus-bandwidth", "double", /*default=*/"-1",
           "Bus bandwidth in GB/s (default: the preset's)">,
    Option<"tflops", "tflops", "double", /*default=*/"-1",
           "Peak compute rate of one rank in TFLOP/s, every element type "
           "(default: the profile's)">,
    Option<"allowReplication", "allow-replication", "bool", /*default=*/"false",
           "Let an op that has a sequence or batch factor run replicated when "
           "the cost model finds that cheaper (by default such ops are always "
           "distributed, so each rank holds and computes 1/N of them)">,
    Option<"mesh", "mesh", "std::string", /*default=*/"\"\"",
           "The ranks as a mesh, e.g. 2x4 (the sizes multiply to ranks): each "
           "op may shard one factor per mesh axis (compound shardings); a "
           "single size pins one axis of all ranks; default: auto plans on "
           "one axis and on every split into two axes and keeps the "
           "cheapest, the other strategies use one axis">,
    Option<"meshPricingLimit", "mesh-pricing-limit", "int64_t",
           /*default=*/"::mlir::dsp::kDefaultMeshPricingLimit",
           "Distinct conversions (by type and pair of shardings) auto may "
           "price for a mesh of two axes that was not pinned before it gives "
           "that mesh up with a warning: planning time stays bounded on "
           "graphs of many distinct shapes (real models price at most tens "
           "of thousands)">,
    ListOption<"keepSharded", "keep-sharded", "std::string",
               "OUTPUT:INPUT pairs of names: each output keeps the input's "
               "sharding instead of being gathered, so that it can become "
               "that input of the next run on every rank">,
    Option<"secondBest", "second-best", "bool", /*default=*/"false",
           "Apply the solver's second-best plan on the chosen mesh (the "
           "cheapest that differs from the best in a choice), which the "
           "report names as such: for benchmarks that check the cost "
           "model's ranking against measured times">
  ];
}

def InsertReshards : Pass<"dsp-insert-reshards", "::mlir::ModuleOp"> {
  let summary = "Inserts the collectives that make shardings match";
  let description = [{
    For every operand whose producer's sharding differs from the one its op
    needs (`dsp.operand_shardings`), inserts the converting collective: a
    switch of split dim or factor is a `dsp.all_to_all`, split to replicated
    an `all_gather`, replicated to split a `local_slice` (no communication),
    partial to replicated an `all_reduce`, partial to split a
    `reduce_scatter`. A value with a `dsp.read_sharding` is converted to it
    first, and an op that needs yet another sharding converts from there
    (one that needs the producer's own sharding reads the producer).
    Function results are made replicated, or converted to their own
    `dsp.sharding` where they keep one. Equal conversions of one value
    are shared. Removes `dsp.operand_shardings` and `dsp.read_sharding`.
  }];
}

def MaterializeResults : Pass<"dsp-materialize-results", "::mlir::ModuleOp"> {
  let summary = "Gives each function result a value of its own";
  let description = [{
    A program's outputs are buffers of their own, written by an
    instruction. A result that is a function argument, a constant or a
    value an earlier result already returns (an identity or constant model,
    a duplicated output) is returned through a `dsp.reshape` to its own
    type, a copy. Results computed by ops are left alone.
  }];
}

def Localize : Pass<"dsp-localize", "::mlir::ModuleOp"> {
  let summary = "Turns sharded global IR into the per-rank IR one rank runs";
  let description = [{
    Runs after reshard insertion on a module with a `#dsp.group`. Every
    value's type becomes the block one rank holds under its `#dsp.shard`
    (the split extent padded, then divided by the rank count), function
    arguments included, and the group is marked `per_rank = true`. What the
    global form leaves implicit becomes explicit ops:

    - an op whose result is partial (it sums over a split factor) reads
      operands with a pad through `dsp.zero_pad`, so pads add nothing;
    - a `reduce_mean` over a split factor becomes a `reduce_sum` of the
      block and a `mul` by one over the global count;
    - a `slice` of a value split on a dim it keeps whole takes the block's
      extent as its limit there;
    - a patch `conv` (stride = kernel) split on a kernel dim steps by the
      kernel part each rank holds;
    - an `all_to_all` between two factors of one dim becomes a `reshape`
      to a view where the factors are dims of their own, an `all_to_all`
      between those dims, and a `reshape` back.

    Each op is then checked to compute its result's block from its
    operands' blocks. Without a group (one rank) or on per-rank IR the pass
    does nothing.

    ```mlir
    %m = dsp.reduce_mean %x {axes = array<i64: 1>, dsp.sharding = [#dsp.shard<partial>]}
        : tensor<2x6x4xf32> -> tensor<2x1x4xf32>
    ```

    on 4 ranks, with `%x` split on dim 1 with pad 2, becomes

    ```mlir
    %p = dsp.zero_pad %x {dsp.sharding = [#dsp.shard<dim = 1, pad = 2>]} : tensor<2x2x4xf32>
    %s = dsp.reduce_sum %p {axes = array<i64: 1>, dsp.sharding = [#dsp.shard<partial>]}
        : tensor<2x2x4xf32> -> tensor<2x1x4xf32>
    %c = dsp.constant dense<0.166666672> : tensor<f32>
    %m = dsp.mul %s, %c {dsp.sharding = [#dsp.shard<partial>]}
        : tensor<2x1x4xf32>, tensor<f32> -> tensor<2x1x4xf32>
    ```
  }];
  let dependentDialects = ["::mlir::dsp::DSPDialect"];
}

def FuseAttention : Pass<"dsp-fuse-attention"> {
  let summary = "Fuses exported attention subgraphs into dsp.attention";
  let description = [{
    Matches `softmax(q . k^T * scale + mask) . v` in the forms exporters
    produce: the scale applied by `mul` or `div` to the scores or to q and k
    separately (pre-scaled), an optional mask added by `add` or selected by
    `where`, an optional NaN guard (`where(isnan(p), 0, p)`) after the
    softmax, and k^T given by a transpose of k. Operands of rank 3 are
    viewed as a single head. Intermediate values with other users block
    the fusion, so nothing is computed twice.
  }];
  let dependentDialects = ["::mlir::dsp::DSPDialect"];
}

def FuseActivations : Pass<"dsp-fuse-activations"> {
  let summary = "Fuses GELU and SiLU decompositions into dsp.gelu and dsp.silu";
  let description = [{
    Finds scalar elementwise subgraphs (mul, add, sub, div, pow, erf, tanh,
    sigmoid, exp, neg with splat constants) that read one value x and whose
    intermediate results are used only inside the subgraph, and replaces
    them by `dsp.gelu` (erf or tanh form) or `dsp.silu` when the subgraph
    computes that function. The function is recognized by evaluating the
    subgraph at sample points, so every operand order and association an
    exporter may choose is covered.
  }];
  let dependentDialects = ["::mlir::dsp::DSPDialect"];
}

def SinkBroadcasts : Pass<"dsp-sink-broadcasts"> {
  let summary = "Moves dsp.expand toward its uses";
  let description = [{
    Exported models broadcast small tensors early (Latte repeats its
    timestep embedding for every frame and every patch, and its text tokens
    for every frame) and slice and reshape the copies in every block. Such a
    copy ties all the blocks to one value as large as the activations,
    which costs memory and makes the sharding problem as wide as the model
    is deep. This pass moves an expand (of the same rank) past its users:

    - an elementwise op (`add`, `sub`, `mul`, `div`, `pow`, `max`, `min`,
      `where`) reads the expand's input when broadcasting it gives the same
      result shape: the expand is gone;
    - `slice(expand(x))` becomes `expand(slice(x))`, the slice keeping the
      broadcast dims at size 1;
    - `transpose(expand(x))` becomes `expand(transpose(x))`;
    - `reshape(expand(x))` becomes `expand(reshape(x))` when every broadcast
      dim stays a dim of its own (merged or split only with size-1 dims);
    - `matmul(expand(a), w)` with a matrix `w` and only batch dims broadcast
      becomes `expand(matmul(a, w))`: the product is computed once.

    ```mlir
    %e = dsp.expand %t : tensor<1x1x6912xf32> -> tensor<1x1024x6912xf32>
    %r = dsp.reshape %e : tensor<1x1024x6912xf32> -> tensor<1024x6x1152xf32>
    %s = dsp.slice %r {...} : tensor<1024x6x1152xf32> -> tensor<1024x1x1152xf32>
    %y = dsp.mul %x, %s : tensor<1024x16x1152xf32>, tensor<1024x1x1152xf32> -> ...
    ```

    becomes a `mul` by a `[1, 1, 1152]` slice of `%t` reshaped to
    `[1, 6, 1152]`.
  }];
  let dependentDialects = ["::mlir::dsp::DSPDialect"];
}

def SinkConcat : Pass<"dsp-sink-concat"> {
  let summary = "Runs ops once per piece of a concat or of a split";
  let description = [{
    A token stream such as TimeSformer's `[B, 1 + S*T, C]`, a CLS token
    concatenated in front of the patch tokens, cannot be sharded on a
    factor of the patches alone. This pass splits such streams: an op with
    an operand made by `dsp.concat` along axis k is rewritten into one op
    per concat input when its sharding rule maps that operand's dim k onto
    a single parallel factor f that forms a whole dim of every operand and
    result it appears in. Each operand with f is sliced to the piece's
    range along its dim of f, operands without f (weights, a bias `[C]`, a
    broadcast `[1, 1, C]`) are passed unchanged, and the results are
    concatenated along their dim of f:

    ```mlir
    %x = dsp.concat %cls, %patches {axis = 1 : i64}
        : (tensor<1x1x64xf32>, tensor<1x128x64xf32>) -> tensor<1x129x64xf32>
    %y = dsp.gelu %x : tensor<1x129x64xf32>
    ```

    becomes

    ```mlir
    %0 = dsp.gelu %cls : tensor<1x1x64xf32>
    %1 = dsp.gelu %patches : tensor<1x128x64xf32>
    %y = dsp.concat %0, %1 {axis = 1 : i64}
        : (tensor<1x1x64xf32>, tensor<1x128x64xf32>) -> tensor<1x129x64xf32>
    ```

    Slices of a concat fold to its pieces and slices of small constants
    (a position embedding `[1, 1 + S*T, C]`) to constants, so several
    operands that are concats with the same split points are split
    together. The rewrite repeats until no op can be split, which moves
    each concat down to the first op that mixes the tokens. Elementwise
    ops, `gelu`, `matmul` (batch and row dims), `layer_norm` (dims before
    `axis`), `softmax` (dims other than `axis`), a `reshape` whose rule
    keeps the dim whole on both sides and a `slice` along a dim it keeps
    whole are split; attention is left whole (each query piece would read
    all the keys again). An op is left whole where f is mixing or a
    reduction, where f is part of a compound dim (a patch-embedding
    `conv`), or where another operand is a concat along f with different
    split points.

    The mirror rewrite moves splits up: an op whose result is read only by
    unit-stride slices along one dim, in ranges that do not overlap, where
    the rule maps that dim onto a single parallel factor f as above, runs
    once per range on the matching ranges of its operands (operands without
    f unchanged), and each slice is replaced by its piece. This carries the
    split of a joint text and video stream after attention (CogVideoX) back
    to where the streams meet, and a part that no slice reads is not
    computed. Attention, concats, slices and constants are left whole.

    Concats of consecutive slices of one value merge back into one slice,
    and a gather along the concat axis whose constant indices fall in one
    input reads that input.
  }];
  let dependentDialects = ["::mlir::dsp::DSPDialect"];
}

def SetTarget : Pass<"dsp-set-target", "::mlir::ModuleOp"> {
  let summary = "Records the device kind the module is compiled for";
  let description = [{
    Attaches `dsp.target = #dsp.target<cpu>` or
    `#dsp.target<cuda, chip = "sm_90">` to the module. The lowering to a
    program follows it: `cuda` adds element-wise fusion and GPU kernel
    generation after `--dsp-localize`. A module that already has another
    target is an error. `overlap-chunks` of 2 or more also records
    `dsp.overlap_chunks`, which makes the lowering run
    `--dsp-overlap-collectives` with that many chunks.
  }];
  let options = [
    Option<"target", "target", "std::string", /*default=*/"\"cpu\"",
           "cpu or cuda">,
    Option<"chip", "chip", "std::string", /*default=*/"\"sm_90\"",
           "NVIDIA SM architecture of target cuda">,
    Option<"overlapChunks", "overlap-chunks", "int64_t", /*default=*/"1",
           "Pieces each all_to_all is split into to overlap its GEMM "
           "(1: none)">
  ];
  let dependentDialects = ["::mlir::dsp::DSPDialect"];
}

def ConvertDtype : Pass<"dsp-convert-dtype", "::mlir::ModuleOp"> {
  let summary = "Stores every f32 tensor in a narrower float type";
  let description = [{
    Rewrites every f32 tensor of the module to `dtype` (bf16 or f16; f32
    leaves the module unchanged): function arguments and results, op
    results and constants, whose values are rounded to nearest even once,
    at compile time. Runs before sharding propagation, so the plan prices
    and counts the bytes the program will move. Kernels keep f32
    arithmetic inside (accumulation, the statistics of norms and softmax);
    the dtype is the storage of every tensor between them.
  }];
  let options = [
    Option<"dtype", "dtype", "std::string", /*default=*/"\"f32\"",
           "f32, bf16 or f16">
  ];
}

def FuseMatmulEpilogue : Pass<"dsp-fuse-matmul-epilogue",
                              "::mlir::func::FuncOp"> {
  let summary = "Folds a matmul's bias, activation and residual into dsp.linear";
  let description = [{
    Per-rank IR (or IR without a device group). A `dsp.matmul` followed by
    an add of a bias that broadcasts along the last dim only (`[N]` or
    `[1, ..., N]`), then optionally by a `dsp.gelu` (either form) or
    `dsp.silu`, then optionally by an add of a residual of the product's
    type, becomes one `dsp.linear`, whose kernel applies them to each
    block of the product while it is in cache. Each value of the chain
    must have its next op as its single use, so nothing is computed twice:

    ```mlir
    %0 = dsp.matmul %x, %w : tensor<64x288xf32>, tensor<288x1152xf32> -> tensor<64x1152xf32>
    %1 = dsp.add %0, %b : tensor<64x1152xf32>, tensor<1152xf32> -> tensor<64x1152xf32>
    %2 = dsp.gelu %1 : tensor<64x1152xf32>
    %3 = dsp.add %2, %r : tensor<64x1152xf32>, tensor<64x1152xf32> -> tensor<64x1152xf32>
    ```

    becomes `dsp.linear %x, %w bias %b residual %r {activation = "gelu"}`.
    A bias of rank above 1 is reshaped to `[N]`. The residual add may take
    the product through a `dsp.reshape` (exporters merge and split batch
    dims around a projection); the residual is then reshaped to the
    product's shape and the sum back, both views of the same elements, so
    the add costs no pass of its own.
  }];
  let dependentDialects = ["::mlir::dsp::DSPDialect"];
}

def FoldCollectiveTransposes : Pass<"dsp-fold-collective-transposes",
                                    "::mlir::func::FuncOp"> {
  let summary = "Folds the transposes around an all_to_all into its packing";
  let description = [{
    Per-rank IR. A DSP switch often sits between transposes: the layout an
    attention wants is not the one the next stage shards. Each transpose
    is a pass over memory of its own, while the all_to_all already copies
    every element it sends into a per-peer block and every element it
    receives out of one. This pass lets those copies read and write through
    the permutation: a `dsp.transpose` whose single use is an all_to_all
    becomes the all_to_all's `input_perm`, and a `dsp.transpose` that is
    the single use of an all_to_all's result becomes its `output_perm`:

    ```mlir
    %1 = dsp.transpose %0 perm [0, 2, 1, 3] : tensor<1x16x2x32xf32> -> tensor<1x2x16x32xf32>
    %2 = dsp.all_to_all %1 split 1 concat 2 : tensor<1x2x16x32xf32> -> tensor<1x8x4x32xf32>
    ```

    becomes `dsp.all_to_all %0 split 1 concat 2 input_perm [0, 2, 1, 3]`.
    The bytes each rank sends do not change.
  }];
  let dependentDialects = ["::mlir::dsp::DSPDialect"];
}

def FoldAttentionTransposes : Pass<"dsp-fold-attention-transposes",
                                   "::mlir::func::FuncOp"> {
  let summary = "Folds the transposes around an attention into its operands";
  let description = [{
    Per-rank IR, for target cpu. Exported models split the heads with a
    transpose before every attention operand, `[B, L, H, D]` to
    `[B, H, L, D]`, and merge them with one after it: each a pass over
    memory of its own, while the attention's GEMMs can read the rows of a
    head where they lie, at a row stride of their own. A `dsp.transpose`
    that keeps the head dim innermost and whose single use is an attention
    operand becomes that operand's `query_perm`, `key_perm` or `value_perm`;
    one that is the single use of an attention's result becomes its
    `output_perm`:

    ```mlir
    %1 = dsp.transpose %0 perm [0, 2, 1, 3] : tensor<2x16x4x8xf32> -> tensor<2x4x16x8xf32>
    %2 = dsp.attention %1, %k, %v {scale = 0.25 : f64} : ...
    ```

    becomes `dsp.attention %0, %k, %v query_perm [0, 2, 1, 3]`. A transpose
    whose result a reshape only drops or inserts unit dims of (the
    `[L, 1, H, D]` slices of a fused QKV projection) folds the same way:
    the operand becomes a 4-D reshape of the transpose's input, which costs
    nothing. Where that input is itself a slice of one index of a dim of a
    rank-5 tensor (the query, key and value of a fused projection's
    `[B, L, 3, H, D]` result), the attention reads the tensor at that index
    in place (`query_select [2, 0]`, ...) and the slice, a copy, goes; not
    where the tensor is sharded along that dim. The same holds where the
    operand is a gather at a constant index of a transpose of such a tensor
    (TimeSformer splits `[3, B, H, L, D]` that way). An operand that
    concatenates such views alike (the class token's and the patches' part
    of a sequence, which --dsp-sink-concat splits) becomes a concat of the
    viewed tensors, read in place: one copy where there were the views and
    the concat, and one concat serves query, key and value where they view
    the same tensors. An attention whose result is read only in such
    parts, each through a transpose by one perm, writes its result through
    that perm and the parts are cut from it. Attentions that run as a ring
    keep their transposes.
  }];
  let dependentDialects = ["::mlir::dsp::DSPDialect"];
}

def FoldProjectionTransposes : Pass<"dsp-fold-projection-transposes",
                                    "::mlir::func::FuncOp"> {
  let summary = "Folds transposes across projections into attention perms";
  let description = [{
    Per-rank IR, for target cpu, after --dsp-fold-attention-transposes.
    The temporal block of a factorized video transformer transposes its
    `[B, T, S, C]` activations to `[B, S, T, C]` before the QKV projection
    and back after the output projection. A projection (`dsp.linear` by a
    matrix, without a residual) works on each row alone, so the chain of
    projections and reshapes between such a transpose and an attention can
    run in the untransposed layout:

    - a transpose that keeps the last dim, followed by row-wise ops whose
      result only attention operands read, goes: the ops run on its input
      and the operands' perms (`query_perm`, ...) read the other order;
    - an attention whose result row-wise ops carry to a transpose that keeps
      the last dim writes its result through an `output_perm` that takes
      the transpose over, and the ops run in the transpose's layout.

    A reshape in the chain may move unit dims and split or merge the dims
    of a row, but must keep the sequence dims (those of extent > 1 in front
    of the row) in order. The chain holds at least one projection (a
    transpose next to an attention is --dsp-fold-attention-transposes'), and
    the attentions' perms must keep the head dim innermost.
  }];
  let dependentDialects = ["::mlir::dsp::DSPDialect"];
}

def OverlapCollectives : Pass<"dsp-overlap-collectives",
                              "::mlir::func::FuncOp"> {
  let summary = "Pipelines each all_to_all with the GEMM that feeds or reads it";
  let description = [{
    Per-rank IR. A `dsp.all_to_all` whose operand a `dsp.matmul` or
    `dsp.linear` computes, or whose result is one's left operand, through
    reshapes and transposes that nothing else reads, is split with that
    chain into `chunks` pieces along a dim that neither the switch's
    `split_dim` nor its `concat_dim` is and that is a row dim of each GEMM
    (the weight, of rank 2, stays whole). Each piece's switch is `async`;
    its `dsp.wait` comes after the next piece's GEMM (a GEMM that feeds the
    switches) or before the piece's own (one that reads them), so the
    bytes of one piece travel while another piece computes. The pieces are
    sliced from the chain's operand and concatenated into its result.
    A chain whose extents `chunks` does not divide is left as it is;
    `chunks = 1` changes nothing.

    ```mlir
    %0 = dsp.linear %x, %w bias %b : (tensor<2x8x32xf32>, tensor<32x32xf32>, tensor<32xf32>) -> tensor<2x8x32xf32>
    %1 = dsp.reshape %0 : tensor<2x8x32xf32> -> tensor<2x4x2x32xf32>
    %2 = dsp.all_to_all %1 split 1 concat 2 : tensor<2x4x2x32xf32> -> tensor<2x2x4x32xf32>
    ```

    becomes, with `chunks = 2`, two linears on `[1, 8, 32]` slices of `%x`,
    each followed by its reshape and an async all_to_all, then the two
    waits and a `dsp.concat` along dim 0.
  }];
  let options = [
    Option<"chunks", "chunks", "int64_t", /*default=*/"1",
           "Pieces per switch (1: none)">
  ];
  let dependentDialects = ["::mlir::dsp::DSPDialect"];
}

def FuseElementwise : Pass<"dsp-fuse-elementwise", "::mlir::func::FuncOp"> {
  let summary = "Groups chains of element-wise ops into dsp.fused ops";
  let description = [{
    Per-rank IR, for both targets: cuda generates a kernel of each group
    (`--dsp-lower-fused-to-gpu`), cpu programs carry the groups as `fused`
    instructions that the runtime runs in one pass over memory. Starting
    from the last op of each chain, an element-wise
    op takes in the element-wise ops that produce its operands, as long as
    their results broadcast to its shape (a bias `[C]`, an adaLN scale
    `[B, 1, C]`), and so on up the chain. A producer read outside the group
    too joins it only if it has the group's shape and all those reads come
    after the group: it becomes one more result. Everything else stays an
    input. The group, one op alone too, becomes a `dsp.fused` op at the
    position of its last op, with the members as its body, so a bias add,
    GELU and residual add run as one pass over memory:

    ```mlir
    %0 = dsp.add %x, %b : tensor<64x1152xf32>, tensor<1152xf32> -> tensor<64x1152xf32>
    %1 = dsp.gelu %0 : tensor<64x1152xf32>
    %2 = dsp.add %1, %r : tensor<64x1152xf32>, tensor<64x1152xf32> -> tensor<64x1152xf32>
    ```

    becomes one `dsp.fused(%x, %b, %r)` whose body holds the three ops.

    A group also takes in at most one row op: a `dsp.layer_norm` or
    `dsp.softmax` over the last dim alone (`axis` = rank - 1), whose result
    has the group's shape, so that its reduced dim is the iteration space's
    last dim, and whose rows (the product of the other dims) fit in a
    launch's grid (2^31 - 1). It joins under the rules above, as the
    group's last op or as a producer, and the element-wise ops before it
    (a residual add feeding the norm) and after it (the adaLN modulation
    `x * (1 + scale) + shift`, a gate) join around it. A row op can start a
    group, so a softmax alone becomes one too. A layer norm over several
    trailing dims, or a softmax over another axis, stays out.
  }];
  let dependentDialects = ["::mlir::dsp::DSPDialect"];
}

def LowerFusedToGpu : Pass<"dsp-lower-fused-to-gpu", "::mlir::ModuleOp"> {
  let summary = "Generates a GPU kernel for every dsp.fused op";
  let description = [{
    For target cuda. Each `dsp.fused` op becomes a `gpu.module` with one
    kernel and a `dsp.launch` of it. The kernel is generated through MLIR's
    GPU path: the body becomes a `linalg.generic` on memrefs of the
    iteration space, with adjacent dims that every operand holds alike
    (whole or broadcast) merged first; then parallel loops, tiled by a
    block of threads along the innermost dim, mapped to blocks and threads
    and outlined into a `gpu.func`. Its arguments are the inputs then the
    results as bare pointers. Values of f16 and bf16 are widened to f32 on
    load and rounded once on store. The launch's grid and block come from
    the mapping. The `gpu.module`s are then lowered to NVVM and serialized
    by the upstream passes (`gpu-module-to-binary`).

    A body with a row op (layer norm or softmax over the last dim) becomes
    a `gpu.launch` of one block per row instead: the rows (all dims but the
    last, merged as above) on the grid's x, the block's threads strided
    over the row's columns. Each pass over the row recomputes the ops
    before the row op from the inputs and reduces across the block with
    `gpu.all_reduce` (shuffles and shared memory once lowered to NVVM), in
    f32: the mean, then the variance of `(v - mean)` for a layer norm; the
    maximum, then the sum of `exp(v - maximum)` for a softmax, whose rows
    that are all `-inf` give zeros. A last pass computes every op and
    writes the results once.
  }];
  let dependentDialects = [
    "::mlir::dsp::DSPDialect", "::mlir::gpu::GPUDialect",
    "::mlir::memref::MemRefDialect", "::mlir::linalg::LinalgDialect",
    "::mlir::arith::ArithDialect", "::mlir::math::MathDialect",
    "::mlir::scf::SCFDialect", "::mlir::func::FuncDialect",
    "::mlir::affine::AffineDialect"
  ];
}

#endif // DSP_TRANSFORMS_PASSES_TD
