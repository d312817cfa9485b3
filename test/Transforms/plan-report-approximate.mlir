// A plan that sharding propagation could not prove optimal carries the
// solver's cost and lower bound on its function; the summary and the JSON
// report show both.
// RUN: dsp-opt %s --dsp-summary --dsp-report=%t.json -o /dev/null 2>&1 | FileCheck %s --check-prefix=SUMMARY
// RUN: FileCheck %s --check-prefix=JSON < %t.json

// SUMMARY:      Totals
// SUMMARY:      not proven optimal (the exact solver's tables would be too large): modeled 12.50 us, lower bound 10.00 us, gap at most 20.0 %

// JSON:      "approximation": {
// JSON-NEXT:   "lower_bound_seconds": 1.0000000000000001e-05,
// JSON-NEXT:   "modeled_seconds": 1.2500000000000001e-05
// JSON-NEXT: }

module attributes {dsp.group = #dsp.group<ranks = 2>} {
  func.func @f(%x: tensor<4x8xf32> {dsp.sharding = #dsp.shard<dim = 0>}) -> tensor<4x8xf32> attributes {dsp.approximate_plan = {lower_bound_s = 1.0e-05 : f64, modeled_s = 1.25e-05 : f64}} {
    %y = dsp.neg %x {dsp.sharding = [#dsp.shard<dim = 0>]} : tensor<4x8xf32>
    %z = dsp.all_gather %y dim 0 {dsp.sharding = [#dsp.shard<replicated>]} : tensor<4x8xf32>
    return %z : tensor<4x8xf32>
  }
}
