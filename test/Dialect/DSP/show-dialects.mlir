// RUN: dsp-opt --show-dialects | FileCheck %s
// CHECK: Available Dialects:
// CHECK-SAME: dsp
