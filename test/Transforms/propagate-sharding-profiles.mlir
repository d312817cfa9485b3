// The device profile the cost model prices compute with: built-in h100
// (the default) and h200, or a profile file with its own link. An op costs
// the larger of FLOPs / peak and bytes / memory bandwidth, plus the kernel
// cost. The add below reads two [1024] f32 and writes one: 1024 FLOPs and
// 12288 bytes.

// RUN: dsp-opt %s --dsp-propagate-sharding="ranks=1" --dsp-report=%t.h100.json -o /dev/null
// RUN: FileCheck %s --check-prefix=H100 < %t.h100.json
// H100:      "cost_model": {
// H100-NEXT:   "bus_bandwidth_bytes_per_s": 370000000000,
// H100-NEXT:   "f32_flops_per_second": 67000000000000,
// H100-NEXT:   "half_flops_per_second": 989000000000000,
// H100-NEXT:   "kernel_seconds": 1.9999999999999999e-06,
// H100-NEXT:   "latency_s": 5.0000000000000004e-06,
// H100-NEXT:   "memory_bytes_per_second": 3350000000000,
// H100-NEXT:   "profile": "h100"

// RUN: dsp-opt %s --dsp-propagate-sharding="ranks=1 profile=h200 preset=infiniband" --dsp-report=%t.h200.json -o /dev/null
// RUN: FileCheck %s --check-prefix=H200 < %t.h200.json
// H200:      "bus_bandwidth_bytes_per_s": 48000000000,
// H200:      "memory_bytes_per_second": 4800000000000,
// H200-NEXT: "profile": "h200"

// A measured profile: 1 GFLOP/s, 1 MB/s and 1 ms per kernel make the add
// memory-bound: 12288 / 1e6 + 1e-3 = 0.013288 s. Its link is used unless a
// preset is named.
// RUN: echo '{"name": "cpu: test", "f32_flops_per_second": 1e9, "half_flops_per_second": 2e9, "memory_bytes_per_second": 1e6, "kernel_seconds": 1e-3, "link": {"latency_s": 2e-5, "bus_bandwidth_bytes_per_s": 3e9}}' > %t.cpu.json
// RUN: dsp-opt %s --dsp-propagate-sharding="ranks=1 profile=%t.cpu.json" --dsp-report=%t.file.json -o /dev/null
// RUN: FileCheck %s --check-prefix=FILE < %t.file.json
// FILE:      "bus_bandwidth_bytes_per_s": 3000000000,
// FILE:      "latency_s": 2.0000000000000002e-05,
// FILE:      "profile": "cpu: test"
// FILE:      "compute_seconds": 0.01328{{[0-9]*}},
// RUN: dsp-opt %s --dsp-propagate-sharding="ranks=1 profile=%t.cpu.json preset=nvlink" --dsp-report=%t.preset.json -o /dev/null
// RUN: FileCheck %s --check-prefix=PRESET < %t.preset.json
// PRESET:    "bus_bandwidth_bytes_per_s": 370000000000,
// PRESET:    "profile": "cpu: test"

// The summary names the profile and the link.
// RUN: dsp-opt %s --dsp-propagate-sharding="ranks=1 profile=%t.cpu.json" --dsp-summary -o /dev/null 2>&1 | FileCheck %s --check-prefix=SUMMARY
// SUMMARY: Totals (modeled on cpu: test: 20 us + bytes / 3 GB/s per collective, a roofline plus 1000 us per kernel)
// SUMMARY: communication: 0.00 us, compute: 13.288 ms

// An unknown profile, and a file that is not one, are errors.
// RUN: not dsp-opt %s --dsp-propagate-sharding="ranks=1 profile=a100" -o /dev/null 2>&1 | FileCheck %s --check-prefix=UNKNOWN
// UNKNOWN: error: device profile 'a100' is neither h100 nor h200, and reading it as a file failed: No such file or directory
// RUN: echo '{"name": "x", "f32_flops_per_second": 0}' > %t.bad.json
// RUN: not dsp-opt %s --dsp-propagate-sharding="ranks=1 profile=%t.bad.json" -o /dev/null 2>&1 | FileCheck %s --check-prefix=BAD
// BAD: error: device profile file '{{.*}}bad.json': 'f32_flops_per_second' must be positive and finite

func.func @add(%a: tensor<1024xf32>, %b: tensor<1024xf32>) -> tensor<1024xf32> {
  %sum = dsp.add %a, %b : tensor<1024xf32>, tensor<1024xf32> -> tensor<1024xf32>
  return %sum : tensor<1024xf32>
}
