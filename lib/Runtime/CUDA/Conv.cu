//===- Conv.cu - Direct convolution ---------------------------------------===//
//
// One thread per output element sums its group's input channels times the
// kernel window, in f32. Inputs of 1 and 2 spatial dims are seen as 3 with
// leading extents of 1.
//
//===----------------------------------------------------------------------===//

#include "DeviceCommon.cuh"

namespace dsp {
namespace runtime {
namespace cuda {

namespace {

template <typename T>
__global__ void convKernel(ConvGeometry g, const T *x, const T *w,
                           const T *bias, T *out, int64_t total) {
  const int64_t positions = g.out[0] * g.out[1] * g.out[2];
  const int64_t inputVolume = g.in[0] * g.in[1] * g.in[2];
  const int64_t kernelVolume = g.kernel[0] * g.kernel[1] * g.kernel[2];
  const int64_t groupChannels = g.channels / g.group;
  const int64_t groupFilters = g.filters / g.group;
  for (int64_t i = globalThread(); i < total; i += gridThreads()) {
    int64_t position = i % positions;
    int64_t filter = i / positions % g.filters;
    int64_t image = i / positions / g.filters;
    int64_t ox = position % g.out[2];
    int64_t oy = position / g.out[2] % g.out[1];
    int64_t oz = position / (g.out[1] * g.out[2]);
    int64_t firstChannel = filter / groupFilters * groupChannels;
    float sum = bias ? toFloat(bias[filter]) : 0.0f;
    const T *weights = w + filter * groupChannels * kernelVolume;
    for (int64_t c = 0; c < groupChannels; ++c) {
      const T *channel =
          x + (image * g.channels + firstChannel + c) * inputVolume;
      for (int64_t kz = 0; kz < g.kernel[0]; ++kz) {
        int64_t iz = oz * g.stride[0] - g.pad[0] + kz * g.dilation[0];
        if (iz < 0 || iz >= g.in[0])
          continue;
        for (int64_t ky = 0; ky < g.kernel[1]; ++ky) {
          int64_t iy = oy * g.stride[1] - g.pad[1] + ky * g.dilation[1];
          if (iy < 0 || iy >= g.in[1])
            continue;
          for (int64_t kx = 0; kx < g.kernel[2]; ++kx) {
            int64_t ix = ox * g.stride[2] - g.pad[2] + kx * g.dilation[2];
            if (ix < 0 || ix >= g.in[2])
              continue;
            sum += toFloat(channel[(iz * g.in[1] + iy) * g.in[2] + ix]) *
                   toFloat(weights[((c * g.kernel[0] + kz) * g.kernel[1] + ky) *
                                       g.kernel[2] +
                                   kx]);
          }
        }
      }
    }
    out[i] = fromFloat<T>(sum);
  }
}

} // namespace

cudaError_t launchConv(ElementType type, const ConvGeometry &g, const void *x,
                       const void *w, const void *bias, void *out,
                       cudaStream_t stream) {
  int64_t total = g.images * g.filters * g.out[0] * g.out[1] * g.out[2];
  if (total == 0)
    return cudaSuccess;
  DSP_DISPATCH_FLOAT(
      type, convKernel<<<gridFor(total), kThreads, 0, stream>>>(
                g, static_cast<const T *>(x), static_cast<const T *>(w),
                static_cast<const T *>(bias), static_cast<T *>(out), total));
  return cudaGetLastError();
}

} // namespace cuda
} // namespace runtime
} // namespace dsp
