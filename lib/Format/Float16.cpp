//===- Float16.cpp - Bulk f16 and bf16 conversions ------------------------===//

#include "dsp/Format/Float16.h"

namespace dsp {
namespace format {

namespace {

template <float (*Widen)(uint16_t)>
void widen(const void *in, float *out, size_t count) {
  const uint16_t *bits = static_cast<const uint16_t *>(in);
  for (size_t i = 0; i < count; ++i)
    out[i] = Widen(bits[i]);
}

template <uint16_t (*Narrow)(float)>
void narrow(const float *in, void *out, size_t count) {
  uint16_t *bits = static_cast<uint16_t *>(out);
  for (size_t i = 0; i < count; ++i)
    bits[i] = Narrow(in[i]);
}

} // namespace

void widenToFloat(dsp::program::DType dtype, const void *in, float *out,
                  size_t count) {
  if (dtype == dsp::program::BF16)
    widen<bfloat16ToFloat>(in, out, count);
  else
    widen<halfToFloat>(in, out, count);
}

void narrowFromFloat(dsp::program::DType dtype, const float *in, void *out,
                     size_t count) {
  if (dtype == dsp::program::BF16)
    narrow<floatToBfloat16>(in, out, count);
  else
    narrow<floatToHalf>(in, out, count);
}

} // namespace format
} // namespace dsp
