# Sourced by the build scripts: cuda_option holds the CMake option that
# builds the cuda backend when the CUDA compiler is installed (sm_90 only,
# which keeps the build fast), and nothing otherwise. DSP_ENABLE_CUDA=OFF
# in the environment turns it off.
cuda_option=()
if [[ "${DSP_ENABLE_CUDA:-ON}" != OFF && -x /usr/local/cuda/bin/nvcc ]]; then
  cuda_option=(-DDSP_ENABLE_CUDA=ON
    -DCMAKE_CUDA_COMPILER=/usr/local/cuda/bin/nvcc
    "-DCMAKE_CUDA_ARCHITECTURES=90-real;90-virtual")
fi
