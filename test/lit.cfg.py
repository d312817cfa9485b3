# -*- Python -*-
import os

import lit.formats
from lit.llvm import llvm_config

config.name = "DSP"
config.test_format = lit.formats.ShTest(not llvm_config.use_lit_shell)
config.suffixes = [".mlir", ".onnxtxt", ".test"]
config.test_source_root = os.path.dirname(__file__)
config.test_exec_root = os.path.join(config.dsp_obj_root, "test")
config.excludes = ["Inputs", "fuzz", "CMakeLists.txt", "lit.cfg.py", "lit.site.cfg.py"]

llvm_config.use_default_substitutions()
llvm_config.with_environment("PATH", config.llvm_tools_dir, append_path=True)
llvm_config.add_tool_substitutions(["dsp-opt", "dsp-run"], [config.dsp_tools_dir])

# The real models live beside the checkout; tests that need them are
# unsupported (and say so) where they are absent.
models_dir = os.environ.get(
    "DSP_MODELS_DIR",
    os.path.join(config.dsp_source_dir, "..", "shared", "models"))
config.substitutions.append(("%models", models_dir))
if os.path.isdir(models_dir):
    config.available_features.add("models")
config.substitutions.append(("%inputs", os.path.join(config.test_source_root, "Inputs")))
config.substitutions.append(("%dsp_src", config.dsp_source_dir))
config.substitutions.append(("%dsp_tools", config.dsp_tools_dir))

# A Python with numpy, onnx and onnxruntime (the project's .venv) generates
# models at test time.
if config.dsp_python and os.access(config.dsp_python, os.X_OK):
    config.substitutions.append(("%dsp_python", config.dsp_python))
    config.available_features.add("python-onnx")
    # PyTorch, where that Python has it, runs the model's PyTorch twin
    # (bench/stdit_torch.py); CI does without.
    import subprocess
    if subprocess.call([config.dsp_python, "-c", "import torch"],
                       stdout=subprocess.DEVNULL,
                       stderr=subprocess.DEVNULL) == 0:
        config.available_features.add("torch")

# Open MPI's settings from the caller reach the ranks (the sanitizer builds
# pass options to them this way). It runs as root only when told so; tests
# use loopback transports.
for name, value in os.environ.items():
    if name.startswith("OMPI_MCA_"):
        config.environment[name] = value
for name, value in (("OMPI_ALLOW_RUN_AS_ROOT", "1"),
                    ("OMPI_ALLOW_RUN_AS_ROOT_CONFIRM", "1"),
                    ("OMPI_MCA_btl", "self,vader")):
    config.environment[name] = value
import shutil
if shutil.which("mpirun"):
    config.available_features.add("mpi")

# The CUDA toolkit (ptxas, fatbinary, libdevice) serializes GPU kernels; no
# GPU is needed to compile them.
cuda_home = os.environ.get("CUDA_HOME", "/usr/local/cuda")
if os.access(os.path.join(cuda_home, "bin", "ptxas"), os.X_OK):
    config.available_features.add("cuda-toolkit")

def cmake_true(value):
    return value.upper() in ("ON", "1", "TRUE", "YES")


# A GPU, which nvidia-smi lists, runs the programs of a runtime built with
# the cuda backend.
import subprocess
if (cmake_true(config.dsp_enable_cuda) and
        shutil.which("nvidia-smi") and
        subprocess.call(["nvidia-smi", "-L"], stdout=subprocess.DEVNULL,
                        stderr=subprocess.DEVNULL) == 0):
    config.available_features.add("cuda-device")

# The sanitized build (DSP_BUILD_FUZZERS): its libraries link only into
# programs built with the same sanitizers.
if cmake_true(config.dsp_build_fuzzers):
    config.available_features.add("sanitizers")
