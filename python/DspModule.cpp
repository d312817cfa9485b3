//===- DspModule.cpp - The dsp package's extension module -----------------===//
//
// The compiler behind one call (when it was built), and a rank group that
// runs a program on arrays. Inputs are read where numpy or a DLPack
// producer keeps them; each output is returned in the memory the runtime's
// read wrote it into, owned by the numpy array. A value kept sharded
// between runs also moves as one array per rank, each rank's block.
//
//===----------------------------------------------------------------------===//

#include "dsp/Format/Float16.h"
#include "dsp/Format/Layout.h"
#include "dsp/Format/ProgramFile.h"
#include "dsp/Runtime/RankGroup.h"
#ifdef DSP_HAVE_COMPILER
#include "dsp/Driver/Compiler.h"
#endif

#include <nanobind/nanobind.h>
#include <nanobind/ndarray.h>
#include <nanobind/stl/string.h>
#include <nanobind/stl/tuple.h>
#include <nanobind/stl/vector.h>

#include <cstdlib>
#include <cstring>
#include <memory>
#include <stdexcept>

namespace nb = nanobind;
using dsp::program::DType;
using dsp::runtime::RankGroup;
using dsp::runtime::Status;
using dsp::runtime::TensorInfo;

namespace {

struct Failure : std::runtime_error {
  using std::runtime_error::runtime_error;
};
struct CompileFailure : Failure {
  using Failure::Failure;
};
struct RunFailure : Failure {
  using Failure::Failure;
};

void check(const Status &status) {
  if (!status)
    throw RunFailure(status.message());
}

/// A program dtype and the DLPack dtype of the same elements.
struct DTypeMapping {
  DType dtype;
  nb::dlpack::dtype dlpack;
};
constexpr uint8_t code(nb::dlpack::dtype_code code) {
  return static_cast<uint8_t>(code);
}
const DTypeMapping kDTypes[] = {
    {dsp::program::F32, {code(nb::dlpack::dtype_code::Float), 32, 1}},
    {dsp::program::F16, {code(nb::dlpack::dtype_code::Float), 16, 1}},
    {dsp::program::BF16, {code(nb::dlpack::dtype_code::Bfloat), 16, 1}},
    {dsp::program::I64, {code(nb::dlpack::dtype_code::Int), 64, 1}},
    {dsp::program::I32, {code(nb::dlpack::dtype_code::Int), 32, 1}},
    {dsp::program::BOOL, {code(nb::dlpack::dtype_code::Bool), 8, 1}},
};

DType programDType(nb::dlpack::dtype dlpack) {
  for (const DTypeMapping &mapping : kDTypes)
    if (mapping.dlpack == dlpack)
      return mapping.dtype;
  return dsp::program::DTYPE_UNSPECIFIED;
}

nb::dlpack::dtype dlpackDType(DType dtype) {
  for (const DTypeMapping &mapping : kDTypes)
    if (mapping.dtype == dtype)
      return mapping.dlpack;
  throw RunFailure(std::string("no array dtype for program dtype ") +
                   dsp::format::dtypeName(dtype));
}

/// numpy has no bf16: bf16 outputs are returned widened to f32, as dsp-run
/// writes them.
DType returnedDType(DType dtype) {
  return dtype == dsp::program::BF16 ? dsp::program::F32 : dtype;
}

std::string quotedNames(const std::vector<std::string> &names) {
  std::string text;
  for (const std::string &name : names)
    text += (text.empty() ? "'" : ", '") + name + "'";
  return text.empty() ? "none" : text;
}

/// An input or output as Python sees it: (name, dtype, global shape).
using TensorDescription =
    std::tuple<std::string, std::string, std::vector<int64_t>>;

TensorDescription describe(const TensorInfo &info) {
  return {info.name, dsp::format::dtypeName(info.dtype),
          info.globalShape.empty() ? info.shape : info.globalShape};
}

using InputArray = nb::ndarray<nb::ro, nb::c_contig, nb::device::cpu>;

class Group {
public:
  Group(const std::string &path, const std::string &backend,
        const std::string &comm, unsigned threads) {
    std::string error;
    std::shared_ptr<const dsp::format::ProgramFile> file =
        dsp::format::ProgramFile::open(path, error);
    if (!file)
      throw RunFailure(error);
    dsp::runtime::RankGroupOptions options;
    options.backend = backend;
    options.comm = comm;
    options.threads = threads;
    file_ = file;
    group_ = RankGroup::create(std::move(file), options, error);
    if (!group_)
      throw RunFailure(error);
  }

  int ranks() const { return group_->ranks(); }

  std::vector<TensorDescription> inputs() const {
    std::vector<TensorDescription> descriptions;
    for (size_t i = 0; i < group_->numInputs(); ++i)
      descriptions.push_back(describe(group_->inputInfo(i)));
    return descriptions;
  }

  std::vector<TensorDescription> outputs() const {
    std::vector<TensorDescription> descriptions;
    for (size_t i = 0; i < group_->numOutputs(); ++i)
      descriptions.push_back(describe(group_->outputInfo(i)));
    return descriptions;
  }

  /// Binds `feeds`, runs every rank and returns the outputs; with
  /// `gather` false, outputs compiled with keep-sharded stay on the ranks.
  nb::dict run(nb::dict feeds, bool gather) {
    for (auto [key, value] : feeds)
      bind(nb::cast<std::string>(key), value);
    {
      nb::gil_scoped_release release;
      check(group_->run());
    }
    nb::dict results;
    for (size_t i = 0; i < group_->numOutputs(); ++i) {
      const TensorInfo &info = group_->outputInfo(i);
      if (!gather && !info.keepsLayoutOf.empty())
        continue;
      results[info.name.c_str()] = readOutput(i);
    }
    return results;
  }

  /// Every local rank's block of output `name` of the last run.
  std::vector<nb::object> readBlocks(const std::string &name) {
    size_t index = outputIndex(name);
    std::vector<nb::object> blocks;
    for (size_t local = 0; local < group_->localRanks(); ++local)
      blocks.push_back(
          newArray(group_->outputBlockInfo(index), [&](void *data) {
            return group_->readOutputBlock(
                local, index, data, group_->outputBlockInfo(index).bytes);
          }));
    return blocks;
  }

  /// The block of input `name` each local rank takes of its whole value
  /// `value`, in the array's dtype.
  std::vector<nb::object> splitBlocks(const std::string &name,
                                      nb::handle value) {
    size_t index = inputIndex(name);
    const TensorInfo &global = group_->inputInfo(index);
    BoundArray bound = boundArray(name, value);
    if (bound.shape != global.shape ||
        !dsp::runtime::bindsTo(bound.dtype, global.dtype))
      throw RunFailure("input '" + name + "' is " +
                       dsp::format::dtypeName(global.dtype) + " " +
                       dsp::format::shapeString(global.shape) + ", got " +
                       dsp::format::dtypeName(bound.dtype) + " " +
                       dsp::format::shapeString(bound.shape));
    dsp::format::MeshLayout layout;
    dsp::format::decodeTensorLayout(file_->program(), global.layout, layout);
    TensorInfo block = group_->inputBlockInfo(index);
    size_t elementSize = dsp::format::elementSize(bound.dtype);
    block.bytes =
        block.bytes / dsp::format::elementSize(block.dtype) * elementSize;
    block.dtype = bound.dtype;
    std::vector<nb::object> blocks;
    for (size_t local = 0; local < group_->localRanks(); ++local)
      blocks.push_back(newArray(block, [&](void *data) {
        dsp::format::extractMeshBlock(bound.array.data(), bound.shape,
                                      elementSize, layout, group_->rank(local),
                                      data);
        return Status::success();
      }));
    if (isSplit(global, block))
      scatteredBytes_ += bound.array.nbytes();
    return blocks;
  }

  /// The whole value of input `name` whose local ranks' blocks are
  /// `blocks` (as split_blocks returns them), in their dtype.
  nb::object joinBlocks(const std::string &name,
                        std::vector<nb::object> blocks) {
    size_t index = inputIndex(name);
    checkBlockCount(name, blocks.size());
    if (group_->localRanks() != static_cast<size_t>(group_->ranks()))
      throw RunFailure("input '" + name + "': this process runs " +
                       std::to_string(group_->localRanks()) + " of the " +
                       std::to_string(group_->ranks()) +
                       " ranks; joining needs every rank's block");
    const TensorInfo &global = group_->inputInfo(index);
    const TensorInfo &block = group_->inputBlockInfo(index);
    std::vector<BoundArray> bound;
    for (nb::handle value : blocks) {
      bound.push_back(boundArray(name, value));
      if (bound.back().shape != block.shape ||
          bound.back().dtype != bound.front().dtype)
        throw RunFailure("input '" + name + "': expected blocks of " +
                         dsp::format::dtypeName(bound.front().dtype) + " " +
                         dsp::format::shapeString(block.shape) + ", got " +
                         dsp::format::dtypeName(bound.back().dtype) + " " +
                         dsp::format::shapeString(bound.back().shape));
    }
    dsp::format::MeshLayout layout;
    dsp::format::decodeTensorLayout(file_->program(), global.layout, layout);
    // Each block position's global element, found by splitting the
    // element numbers (from 1: a pad position holds 0) as the values.
    size_t count = global.bytes / dsp::format::elementSize(global.dtype);
    std::vector<int64_t> numbers(count);
    for (size_t i = 0; i < count; ++i)
      numbers[i] = i + 1;
    std::vector<int64_t> blockNumbers(block.bytes /
                                      dsp::format::elementSize(block.dtype));
    TensorInfo whole = global;
    size_t elementSize = dsp::format::elementSize(bound.front().dtype);
    whole.dtype = bound.front().dtype;
    whole.bytes = count * elementSize;
    if (isSplit(global, block))
      gatheredBytes_ += whole.bytes;
    return newArray(whole, [&](void *data) {
      for (size_t local = 0; local < bound.size(); ++local) {
        dsp::format::extractMeshBlock(numbers.data(), global.shape,
                                      sizeof(int64_t), layout,
                                      group_->rank(local), blockNumbers.data());
        const auto *from =
            static_cast<const uint8_t *>(bound[local].array.data());
        for (size_t position = 0; position < blockNumbers.size(); ++position)
          if (blockNumbers[position])
            std::memcpy(static_cast<uint8_t *>(data) +
                            (blockNumbers[position] - 1) * elementSize,
                        from + position * elementSize, elementSize);
      }
      return Status::success();
    });
  }

  /// Binds `blocks[local]` as local rank `local`'s block of input `name`.
  void bindBlocks(const std::string &name, std::vector<nb::object> blocks) {
    size_t index = inputIndex(name);
    checkBlockCount(name, blocks.size());
    for (size_t local = 0; local < blocks.size(); ++local) {
      BoundArray bound = boundArray(name, blocks[local]);
      nb::gil_scoped_release release;
      check(group_->bindInputBlock(local, index, bound.dtype, bound.shape,
                                   bound.array.data(), bound.array.nbytes()));
    }
  }

  void carry(const std::string &output, const std::string &input) {
    check(group_->carry(outputIndex(output), inputIndex(input)));
  }

  /// Bytes moved between the caller's whole values and the ranks' blocks:
  /// split inputs bound whole or split, kept-sharded outputs read whole and
  /// blocks joined.
  std::tuple<uint64_t, uint64_t> splitBytes() const {
    return {scatteredBytes_, gatheredBytes_};
  }

  std::string statisticsJson() {
    dsp::runtime::GroupStatistics statistics;
    check(group_->gatherStatistics(statistics));
    return dsp::runtime::statisticsJson(statistics);
  }

private:
  /// The index of the input (`input` true) or output called `name`.
  size_t indexOf(bool input, const std::string &name) const {
    int index = input ? group_->findInput(name) : group_->findOutput(name);
    if (index >= 0)
      return index;
    std::vector<std::string> names;
    for (size_t i = 0; i < (input ? group_->numInputs() : group_->numOutputs());
         ++i)
      names.push_back(
          (input ? group_->inputInfo(i) : group_->outputInfo(i)).name);
    std::string kind = input ? "input" : "output";
    throw RunFailure("the program has no " + kind + " named '" + name + "' (" +
                     kind + "s: " + quotedNames(names) + ")");
  }
  size_t inputIndex(const std::string &name) const {
    return indexOf(true, name);
  }
  size_t outputIndex(const std::string &name) const {
    return indexOf(false, name);
  }

  void checkBlockCount(const std::string &name, size_t count) const {
    if (count != group_->localRanks())
      throw RunFailure("input '" + name + "': expected one block per rank (" +
                       std::to_string(group_->localRanks()) + "), got " +
                       std::to_string(count));
  }

  /// An array read where it lies, with its program dtype and shape.
  struct BoundArray {
    InputArray array;
    DType dtype;
    std::vector<int64_t> shape;
  };

  static BoundArray boundArray(const std::string &name, nb::handle value) {
    BoundArray bound;
    if (!nb::try_cast(value, bound.array))
      throw RunFailure(
          "input '" + name + "': expected a numpy array or a DLPack tensor " +
          "in CPU memory, got " +
          nb::cast<std::string>(nb::str(value.type().attr("__name__"))));
    bound.dtype = programDType(bound.array.dtype());
    if (bound.dtype == dsp::program::DTYPE_UNSPECIFIED)
      throw RunFailure("input '" + name + "': the array's dtype has no " +
                       "program dtype (use f32, f16, bf16, i64, i32 or bool)");
    bound.shape.assign(bound.array.shape_ptr(),
                       bound.array.shape_ptr() + bound.array.ndim());
    return bound;
  }

  /// Binds `value` as the input called `name`, read where it lies.
  void bind(const std::string &name, nb::handle value) {
    size_t index = inputIndex(name);
    BoundArray bound = boundArray(name, value);
    {
      nb::gil_scoped_release release;
      check(group_->bindInput(index, bound.dtype, bound.shape,
                              bound.array.data(), bound.array.nbytes()));
    }
    if (isSplit(group_->inputInfo(index), group_->inputBlockInfo(index)))
      scatteredBytes_ += bound.array.nbytes();
  }

  /// Whether the ranks hold `global` in blocks smaller than it.
  static bool isSplit(const TensorInfo &global, const TensorInfo &block) {
    return block.shape != global.shape;
  }

  /// Output `index` of the last run, in memory the returned array owns.
  nb::object readOutput(size_t index) {
    const TensorInfo &info = group_->outputInfo(index);
    if (isSplit(info, group_->outputBlockInfo(index)))
      gatheredBytes_ += info.bytes;
    return newArray(info, [&](void *data) {
      return group_->readOutput(index, data, info.bytes);
    });
  }

  /// A numpy array of `info`'s shape that owns its memory, filled by
  /// `read` (which writes info.bytes bytes of info.dtype); bf16 is widened.
  template <typename Read>
  static nb::object newArray(const TensorInfo &info, Read read) {
    DType dtype = returnedDType(info.dtype);
    size_t count = info.bytes / dsp::format::elementSize(info.dtype);
    size_t bytes = count * dsp::format::elementSize(dtype);
    std::unique_ptr<void, decltype(&std::free)> data(std::malloc(bytes + 1),
                                                     &std::free);
    if (!data)
      throw std::bad_alloc();
    if (dtype == info.dtype) {
      check(read(data.get()));
    } else {
      std::vector<uint8_t> narrow(info.bytes);
      check(read(narrow.data()));
      dsp::format::widenToFloat(info.dtype, narrow.data(),
                                static_cast<float *>(data.get()), count);
    }
    std::vector<size_t> shape(info.shape.begin(), info.shape.end());
    void *address = data.get();
    nb::capsule owner(data.release(), [](void *p) noexcept { std::free(p); });
    return nb::cast(nb::ndarray<nb::numpy>(address, shape.size(), shape.data(),
                                           owner, nullptr, dlpackDType(dtype)));
  }

  std::shared_ptr<const dsp::format::ProgramFile> file_;
  std::unique_ptr<RankGroup> group_;
  uint64_t scatteredBytes_ = 0, gatheredBytes_ = 0;
};

} // namespace

NB_MODULE(_dsp, m) {
  m.doc() = "The dsp package's compiled part; use the dsp package.";
  nb::exception<Failure> error(m, "Error", PyExc_RuntimeError);
  nb::exception<CompileFailure>(m, "CompileError", error);
  nb::exception<RunFailure>(m, "RunError", error);

#ifdef DSP_HAVE_COMPILER
  m.attr("has_compiler") = true;
  m.def(
      "compile_program",
      [](std::string model, std::string output, std::string pipeline,
         std::vector<std::string> inputShapes,
         std::vector<std::string> frozenInputs, bool loadWeights,
         unsigned reportThreads) {
        dsp::driver::CompileRequest request{
            model,        output,      pipeline,     inputShapes,
            frozenInputs, loadWeights, reportThreads};
        dsp::driver::CompileResult result;
        {
          nb::gil_scoped_release release;
          result = dsp::driver::compileProgram(request);
        }
        if (!result.succeeded) {
          std::string &message = result.diagnostics;
          while (!message.empty() && message.back() == '\n')
            message.pop_back();
          throw CompileFailure(
              message.empty() ? "compiling " + model + " failed" : message);
        }
        return std::make_tuple(result.reportJson, result.summary,
                               result.diagnostics);
      },
      "Compiles an ONNX model into a program file: returns the plan's "
      "JSON, its summary and any warnings.");
#else
  m.attr("has_compiler") = false;
#endif

  nb::class_<Group>(m, "RankGroup")
      .def(nb::init<const std::string &, const std::string &,
                    const std::string &, unsigned>(),
           nb::arg("path"), nb::arg("backend"), nb::arg("comm"),
           nb::arg("threads"))
      .def_prop_ro("ranks", &Group::ranks)
      .def("inputs", &Group::inputs)
      .def("outputs", &Group::outputs)
      .def("run", &Group::run, nb::arg("feeds"), nb::arg("gather"))
      .def("read_blocks", &Group::readBlocks)
      .def("split_blocks", &Group::splitBlocks)
      .def("join_blocks", &Group::joinBlocks)
      .def("bind_blocks", &Group::bindBlocks)
      .def("carry", &Group::carry)
      .def("split_bytes", &Group::splitBytes)
      .def("statistics_json", &Group::statisticsJson);
}
