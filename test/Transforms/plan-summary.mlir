// The plan summary, report and pictures of three spatial-temporal blocks
// ([B, T, S, C] = [1, 8, 16, 64], 4 heads of 16) at 4 ranks: each stage
// names the axis it is split on and its shape with the axes of each dim,
// collectives move from one axis to another, the two first blocks (the
// same plan) are shown once, sizes are in KiB and the result's gather is
// named after the output.

// RUN: dsp-opt %s --dsp-propagate-sharding="ranks=4 strategy=auto" --dsp-insert-reshards --dsp-summary --dsp-report=%t.json --dsp-plan-dot=%t.dot -o /dev/null 2>&1 | FileCheck %s --check-prefix=SUMMARY
// RUN: FileCheck %s --check-prefix=JSON < %t.json
// RUN: FileCheck %s --check-prefix=DOT < %t.dot
// RUN: dsp-opt %s --dsp-propagate-sharding="ranks=4 strategy=auto" --dsp-insert-reshards --dsp-plan-dot=%t.compact.dot --dsp-plan-dot-compact -o /dev/null
// RUN: FileCheck %s --check-prefix=COMPACT < %t.compact.dot

// The text a cross attention reads is L; where a reshape parts the patches
// of a frame into rows and columns, they are S₁ and S₂, and no dim of the
// TimeSformer is left unnamed.
// RUN: dsp-opt %dsp_src/examples/stdit_tiny.onnx --no-weights --dsp-pipeline="ranks=4" --dsp-summary -o /dev/null 2>&1 | FileCheck %s --check-prefix=TEXT
// TEXT: matmul /blocks.0.cross_attn.kv_linear/MatMul replicated [B,L,C] = [1,8,64]
// RUN: dsp-opt %dsp_src/examples/timesformer_small.onnx --no-weights --dsp-pipeline="ranks=4" --dsp-summary -o /dev/null 2>&1 | FileCheck %s --check-prefix=PARTS --implicit-check-not="?"
// PARTS: conv node_conv2d S₁ of [T,C,S₁,S₂] = [8,32,4,4]
// PARTS: all_to_all node_view_12 3.00 KiB 5.01 us S₁ → T of [1,T,S₁,S₂,C] = [1,8,4,4,32]

// SUMMARY-LABEL: Plan for 4 ranks, strategy auto
// SUMMARY:       Stages (the axis each result is split on) and collectives, in program order; times modeled on h100
// SUMMARY-NEXT:  kind location bytes/rank time layout
// SUMMARY-NEXT:  {{^}}  blocks 0–1: same plan{{$}}
// SUMMARY-NEXT:  {{^}}    matmul blocks.0.attn.qkv T of [T,S,C] = [8,16,64]{{$}}
// SUMMARY-NEXT:  {{^}}    attention blocks.0.attn T of [T,H,S,C] = [8,4,16,16]{{$}}
// SUMMARY-NEXT:  {{^}}    matmul blocks.0.attn_temp.qkv T of [S,T,C] = [16,8,64]{{$}}
// SUMMARY-NEXT:  {{^}}    all_gather blocks.0.attn_temp 24.0 KiB 5.07 us T → replicated of [S,H,T,C] = [16,4,8,16]{{$}}
// SUMMARY-NEXT:  {{^}}    attention blocks.0.attn_temp T of [S,H,T,C] = [16,4,8,16]{{$}}
// SUMMARY-NEXT:  {{^}}  matmul blocks.2.attn.qkv T of [T,S,C] = [8,16,64]{{$}}
// SUMMARY-NEXT:  {{^}}  attention blocks.2.attn T of [T,H,S,C] = [8,4,16,16]{{$}}
// SUMMARY-NEXT:  {{^}}  all_to_all blocks.2.to_temporal 6.00 KiB 5.02 us T → S of [B,T,S,C] = [1,8,16,64]{{$}}
// SUMMARY-NEXT:  {{^}}  matmul blocks.2.attn_temp.qkv S of [S,T,C] = [16,8,64]{{$}}
// SUMMARY-NEXT:  {{^}}  attention blocks.2.attn_temp S of [S,H,T,C] = [16,4,8,16]{{$}}
// SUMMARY-NEXT:  {{^}}  all_gather <output 0 'out'> 24.0 KiB 5.07 us S → replicated of [B,T,S,C] = [1,8,16,64]{{$}}
// SUMMARY:       Totals (modeled on h100:
// SUMMARY:       bytes per rank: 78.0 KiB (gathering the results: 24.0 KiB)
// SUMMARY-NEXT:  communication: 20.22 us, compute: 108.37 us
// SUMMARY:       weights: 96.0 KiB per rank of 96.0 KiB (1.00 of total)

// The report keeps the shardings and adds the axes, the split axis and the
// program order of each entry, and the strategy.
// JSON:      "collectives": [
// JSON:        "axes": [
// JSON-NEXT:     "S",
// JSON-NEXT:     "H",
// JSON-NEXT:     "T",
// JSON-NEXT:     "C"
// JSON-NEXT:   ],
// JSON:        "from": "#dsp.shard<dim = 2>",
// JSON-NEXT:   "from_split": "T",
// JSON-NEXT:   "kind": "all_gather",
// JSON-NEXT:   "layout": "T → replicated of [S,H,T,C] = [16,4,8,16]",
// JSON-NEXT:   "location": "blocks.0.attn_temp",
// JSON-NEXT:   "order": {{[0-9]+}},
// JSON:        "to": "#dsp.shard<replicated>",
// JSON-NEXT:   "to_split": "replicated"
// JSON:        "location": "<output 0 'out'>",
// JSON-NEXT:   "order": {{[0-9]+}},
// JSON-NEXT:   "output": true,
// JSON:      "cost_model": {
// JSON:        "strategy": "auto"
// JSON:      "stages": [
// JSON-NEXT:   {
// JSON-NEXT:     "axes": [
// JSON-NEXT:       "T",
// JSON-NEXT:       "S",
// JSON-NEXT:       "C"
// JSON-NEXT:     ],
// JSON-NEXT:     "layout": "T of [T,S,C] = [8,16,64]",
// JSON-NEXT:     "location": "blocks.0.attn.qkv",
// JSON-NEXT:     "op": "matmul",
// JSON:          "result": "#dsp.shard<dim = 0>",
// JSON-NEXT:     "shape": [
// JSON-NEXT:       8,
// JSON-NEXT:       16,
// JSON-NEXT:       64
// JSON-NEXT:     ],
// JSON-NEXT:     "split": "T"

// Every compute op, a cluster per block, coloured by its axis: T blue, S
// green, whatever the dim it is in; collectives label the edges.
// DOT-LABEL: digraph plan {
// DOT:       subgraph cluster_0 {
// DOT-NEXT:  label="block 0";
// DOT-NEXT:  style=rounded;
// DOT-NEXT:  n0 [label="reshape\nblocks.0.to_spatial\nT of [T,S,C] = [8,16,64]", fillcolor="#80b1d3"];
// DOT:       n8 [label="transpose\nblocks.0.to_temporal\nT of [B,S,T,C] = [1,16,8,64]", fillcolor="#80b1d3"];
// DOT:       label="block 1";
// DOT:       label="block 2";
// DOT:       n46 [label="matmul\nblocks.2.attn_temp.qkv\nS of [S,T,C] = [16,8,64]", fillcolor="#b3de69"];
// DOT:       n12 -> n13 [label="all_gather\nT → replicated\n24.0 KiB/rank", color=red, penwidth=2];
// DOT:       -> n{{[0-9]+}} [label="all_to_all\nT → S\n6.00 KiB/rank", color=red, penwidth=2];

// A node per group of stages split alike; the first two blocks once.
// COMPACT-LABEL: digraph plan {
// COMPACT:       subgraph cluster_0 {
// COMPACT-NEXT:  label="blocks 0–1: same plan";
// COMPACT-NEXT:  style=rounded;
// COMPACT-NEXT:  g0 [label="T: 3 stages\nblocks.0.attn.qkv\n… blocks.0.attn_temp.qkv", fillcolor="#80b1d3"];
// COMPACT-NEXT:  g1 [label="T: 1 stage\nblocks.0.attn_temp", fillcolor="#80b1d3"];
// COMPACT-NEXT:  }
// COMPACT-NEXT:  g2 [label="T: 2 stages\nblocks.2.attn.qkv\n… blocks.2.attn", fillcolor="#80b1d3"];
// COMPACT-NEXT:  g3 [label="S: 2 stages\nblocks.2.attn_temp.qkv\n… blocks.2.attn_temp", fillcolor="#b3de69"];
// COMPACT-NEXT:  g0 -> g1 [label="all_gather T → replicated, 24.0 KiB/rank", color=red, penwidth=2];
// COMPACT-NEXT:  g1 -> g2;
// COMPACT-NEXT:  g2 -> g3 [label="all_to_all T → S, 6.00 KiB/rank", color=red, penwidth=2];
// COMPACT-NEXT:  }

func.func @three_blocks(%x: tensor<1x8x16x64xf32> {dsp.name = "x"}) -> (tensor<1x8x16x64xf32> {dsp.name = "out"}) {
  %w0s = dsp.constant dense<0.01> : tensor<64x64xf32>
  %w0t = dsp.constant dense<0.02> : tensor<64x64xf32>
  %w1s = dsp.constant dense<0.01> : tensor<64x64xf32>
  %w1t = dsp.constant dense<0.02> : tensor<64x64xf32>
  %w2s = dsp.constant dense<0.01> : tensor<64x64xf32>
  %w2t = dsp.constant dense<0.02> : tensor<64x64xf32>
  %b0_s_in = dsp.reshape %x : tensor<1x8x16x64xf32> -> tensor<8x16x64xf32> loc("blocks.0.to_spatial")
  %b0_s_proj = dsp.matmul %b0_s_in, %w0s : tensor<8x16x64xf32>, tensor<64x64xf32> -> tensor<8x16x64xf32> loc("blocks.0.attn.qkv")
  %b0_s_split = dsp.reshape %b0_s_proj : tensor<8x16x64xf32> -> tensor<8x16x4x16xf32> loc("blocks.0.attn.split")
  %b0_s_q = dsp.transpose %b0_s_split perm [0, 2, 1, 3] : tensor<8x16x4x16xf32> -> tensor<8x4x16x16xf32> loc("blocks.0.attn.heads")
  %b0_s_att = dsp.attention %b0_s_q, %b0_s_q, %b0_s_q {scale = 2.500000e-01 : f64} : (tensor<8x4x16x16xf32>, tensor<8x4x16x16xf32>, tensor<8x4x16x16xf32>) -> tensor<8x4x16x16xf32> loc("blocks.0.attn")
  %b0_s_merge = dsp.transpose %b0_s_att perm [0, 2, 1, 3] : tensor<8x4x16x16xf32> -> tensor<8x16x4x16xf32> loc("blocks.0.attn.merge")
  %b0_s_cat = dsp.reshape %b0_s_merge : tensor<8x16x4x16xf32> -> tensor<1x8x16x64xf32> loc("blocks.0.from_spatial")
  %b0_x1 = dsp.add %x, %b0_s_cat : tensor<1x8x16x64xf32>, tensor<1x8x16x64xf32> -> tensor<1x8x16x64xf32> loc("blocks.0.add_spatial")
  %b0_t_tr = dsp.transpose %b0_x1 perm [0, 2, 1, 3] : tensor<1x8x16x64xf32> -> tensor<1x16x8x64xf32> loc("blocks.0.to_temporal")
  %b0_t_in = dsp.reshape %b0_t_tr : tensor<1x16x8x64xf32> -> tensor<16x8x64xf32> loc("blocks.0.to_temporal.reshape")
  %b0_t_proj = dsp.matmul %b0_t_in, %w0t : tensor<16x8x64xf32>, tensor<64x64xf32> -> tensor<16x8x64xf32> loc("blocks.0.attn_temp.qkv")
  %b0_t_split = dsp.reshape %b0_t_proj : tensor<16x8x64xf32> -> tensor<16x8x4x16xf32> loc("blocks.0.attn_temp.split")
  %b0_t_q = dsp.transpose %b0_t_split perm [0, 2, 1, 3] : tensor<16x8x4x16xf32> -> tensor<16x4x8x16xf32> loc("blocks.0.attn_temp.heads")
  %b0_t_att = dsp.attention %b0_t_q, %b0_t_q, %b0_t_q {scale = 2.500000e-01 : f64} : (tensor<16x4x8x16xf32>, tensor<16x4x8x16xf32>, tensor<16x4x8x16xf32>) -> tensor<16x4x8x16xf32> loc("blocks.0.attn_temp")
  %b0_t_merge = dsp.transpose %b0_t_att perm [0, 2, 1, 3] : tensor<16x4x8x16xf32> -> tensor<16x8x4x16xf32> loc("blocks.0.attn_temp.merge")
  %b0_t_cat = dsp.reshape %b0_t_merge : tensor<16x8x4x16xf32> -> tensor<1x16x8x64xf32> loc("blocks.0.from_temporal")
  %b0_t_back = dsp.transpose %b0_t_cat perm [0, 2, 1, 3] : tensor<1x16x8x64xf32> -> tensor<1x8x16x64xf32> loc("blocks.0.from_temporal.transpose")
  %b0_out = dsp.add %b0_x1, %b0_t_back : tensor<1x8x16x64xf32>, tensor<1x8x16x64xf32> -> tensor<1x8x16x64xf32> loc("blocks.0.add_temporal")
  %b1_s_in = dsp.reshape %b0_out : tensor<1x8x16x64xf32> -> tensor<8x16x64xf32> loc("blocks.1.to_spatial")
  %b1_s_proj = dsp.matmul %b1_s_in, %w1s : tensor<8x16x64xf32>, tensor<64x64xf32> -> tensor<8x16x64xf32> loc("blocks.1.attn.qkv")
  %b1_s_split = dsp.reshape %b1_s_proj : tensor<8x16x64xf32> -> tensor<8x16x4x16xf32> loc("blocks.1.attn.split")
  %b1_s_q = dsp.transpose %b1_s_split perm [0, 2, 1, 3] : tensor<8x16x4x16xf32> -> tensor<8x4x16x16xf32> loc("blocks.1.attn.heads")
  %b1_s_att = dsp.attention %b1_s_q, %b1_s_q, %b1_s_q {scale = 2.500000e-01 : f64} : (tensor<8x4x16x16xf32>, tensor<8x4x16x16xf32>, tensor<8x4x16x16xf32>) -> tensor<8x4x16x16xf32> loc("blocks.1.attn")
  %b1_s_merge = dsp.transpose %b1_s_att perm [0, 2, 1, 3] : tensor<8x4x16x16xf32> -> tensor<8x16x4x16xf32> loc("blocks.1.attn.merge")
  %b1_s_cat = dsp.reshape %b1_s_merge : tensor<8x16x4x16xf32> -> tensor<1x8x16x64xf32> loc("blocks.1.from_spatial")
  %b1_x1 = dsp.add %b0_out, %b1_s_cat : tensor<1x8x16x64xf32>, tensor<1x8x16x64xf32> -> tensor<1x8x16x64xf32> loc("blocks.1.add_spatial")
  %b1_t_tr = dsp.transpose %b1_x1 perm [0, 2, 1, 3] : tensor<1x8x16x64xf32> -> tensor<1x16x8x64xf32> loc("blocks.1.to_temporal")
  %b1_t_in = dsp.reshape %b1_t_tr : tensor<1x16x8x64xf32> -> tensor<16x8x64xf32> loc("blocks.1.to_temporal.reshape")
  %b1_t_proj = dsp.matmul %b1_t_in, %w1t : tensor<16x8x64xf32>, tensor<64x64xf32> -> tensor<16x8x64xf32> loc("blocks.1.attn_temp.qkv")
  %b1_t_split = dsp.reshape %b1_t_proj : tensor<16x8x64xf32> -> tensor<16x8x4x16xf32> loc("blocks.1.attn_temp.split")
  %b1_t_q = dsp.transpose %b1_t_split perm [0, 2, 1, 3] : tensor<16x8x4x16xf32> -> tensor<16x4x8x16xf32> loc("blocks.1.attn_temp.heads")
  %b1_t_att = dsp.attention %b1_t_q, %b1_t_q, %b1_t_q {scale = 2.500000e-01 : f64} : (tensor<16x4x8x16xf32>, tensor<16x4x8x16xf32>, tensor<16x4x8x16xf32>) -> tensor<16x4x8x16xf32> loc("blocks.1.attn_temp")
  %b1_t_merge = dsp.transpose %b1_t_att perm [0, 2, 1, 3] : tensor<16x4x8x16xf32> -> tensor<16x8x4x16xf32> loc("blocks.1.attn_temp.merge")
  %b1_t_cat = dsp.reshape %b1_t_merge : tensor<16x8x4x16xf32> -> tensor<1x16x8x64xf32> loc("blocks.1.from_temporal")
  %b1_t_back = dsp.transpose %b1_t_cat perm [0, 2, 1, 3] : tensor<1x16x8x64xf32> -> tensor<1x8x16x64xf32> loc("blocks.1.from_temporal.transpose")
  %b1_out = dsp.add %b1_x1, %b1_t_back : tensor<1x8x16x64xf32>, tensor<1x8x16x64xf32> -> tensor<1x8x16x64xf32> loc("blocks.1.add_temporal")
  %b2_s_in = dsp.reshape %b1_out : tensor<1x8x16x64xf32> -> tensor<8x16x64xf32> loc("blocks.2.to_spatial")
  %b2_s_proj = dsp.matmul %b2_s_in, %w2s : tensor<8x16x64xf32>, tensor<64x64xf32> -> tensor<8x16x64xf32> loc("blocks.2.attn.qkv")
  %b2_s_split = dsp.reshape %b2_s_proj : tensor<8x16x64xf32> -> tensor<8x16x4x16xf32> loc("blocks.2.attn.split")
  %b2_s_q = dsp.transpose %b2_s_split perm [0, 2, 1, 3] : tensor<8x16x4x16xf32> -> tensor<8x4x16x16xf32> loc("blocks.2.attn.heads")
  %b2_s_att = dsp.attention %b2_s_q, %b2_s_q, %b2_s_q {scale = 2.500000e-01 : f64} : (tensor<8x4x16x16xf32>, tensor<8x4x16x16xf32>, tensor<8x4x16x16xf32>) -> tensor<8x4x16x16xf32> loc("blocks.2.attn")
  %b2_s_merge = dsp.transpose %b2_s_att perm [0, 2, 1, 3] : tensor<8x4x16x16xf32> -> tensor<8x16x4x16xf32> loc("blocks.2.attn.merge")
  %b2_s_cat = dsp.reshape %b2_s_merge : tensor<8x16x4x16xf32> -> tensor<1x8x16x64xf32> loc("blocks.2.from_spatial")
  %b2_x1 = dsp.add %b1_out, %b2_s_cat : tensor<1x8x16x64xf32>, tensor<1x8x16x64xf32> -> tensor<1x8x16x64xf32> loc("blocks.2.add_spatial")
  %b2_t_tr = dsp.transpose %b2_x1 perm [0, 2, 1, 3] : tensor<1x8x16x64xf32> -> tensor<1x16x8x64xf32> loc("blocks.2.to_temporal")
  %b2_t_in = dsp.reshape %b2_t_tr : tensor<1x16x8x64xf32> -> tensor<16x8x64xf32> loc("blocks.2.to_temporal.reshape")
  %b2_t_proj = dsp.matmul %b2_t_in, %w2t : tensor<16x8x64xf32>, tensor<64x64xf32> -> tensor<16x8x64xf32> loc("blocks.2.attn_temp.qkv")
  %b2_t_split = dsp.reshape %b2_t_proj : tensor<16x8x64xf32> -> tensor<16x8x4x16xf32> loc("blocks.2.attn_temp.split")
  %b2_t_q = dsp.transpose %b2_t_split perm [0, 2, 1, 3] : tensor<16x8x4x16xf32> -> tensor<16x4x8x16xf32> loc("blocks.2.attn_temp.heads")
  %b2_t_att = dsp.attention %b2_t_q, %b2_t_q, %b2_t_q {scale = 2.500000e-01 : f64} : (tensor<16x4x8x16xf32>, tensor<16x4x8x16xf32>, tensor<16x4x8x16xf32>) -> tensor<16x4x8x16xf32> loc("blocks.2.attn_temp")
  %b2_t_merge = dsp.transpose %b2_t_att perm [0, 2, 1, 3] : tensor<16x4x8x16xf32> -> tensor<16x8x4x16xf32> loc("blocks.2.attn_temp.merge")
  %b2_t_cat = dsp.reshape %b2_t_merge : tensor<16x8x4x16xf32> -> tensor<1x16x8x64xf32> loc("blocks.2.from_temporal")
  %b2_t_back = dsp.transpose %b2_t_cat perm [0, 2, 1, 3] : tensor<1x16x8x64xf32> -> tensor<1x8x16x64xf32> loc("blocks.2.from_temporal.transpose")
  %b2_out = dsp.add %b2_x1, %b2_t_back : tensor<1x8x16x64xf32>, tensor<1x8x16x64xf32> -> tensor<1x8x16x64xf32> loc("blocks.2.add_temporal")
  return %b2_out : tensor<1x8x16x64xf32>
}
