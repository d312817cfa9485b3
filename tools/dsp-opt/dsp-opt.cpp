//===- dsp-opt.cpp - The DSP compiler driver ------------------------------===//
//
// mlir-opt's flags and habits (pass pipelines, -split-input-file,
// -verify-diagnostics, --mlir-print-ir-*, --verify-roundtrip) on a driver of
// its own, so that it can also read .onnx models and emit programs.
//
//===----------------------------------------------------------------------===//

#include "dsp/Dialect/DSP/IR/DSPOps.h"
#include "dsp/Driver/CompileSteps.h"
#include "dsp/Format/FileIO.h"
#include "dsp/Format/HostWorkspace.h"
#include "dsp/Format/ProgramFile.h"
#include "dsp/GitRevision.h"
#include "dsp/Import/OnnxImporter.h"
#include "dsp/Target/ProgramEmitter.h"
#include "dsp/Transforms/Passes.h"
#include "dsp/Transforms/Pipelines.h"
#include "dsp/Transforms/PlanReport.h"
#include "mlir/Bytecode/BytecodeWriter.h"
#include "mlir/Debug/CLOptionsSetup.h"
#include "mlir/IR/AsmState.h"
#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/Diagnostics.h"
#include "mlir/IR/MLIRContext.h"
#include "mlir/IR/OperationSupport.h"
#include "mlir/Parser/Parser.h"
#include "mlir/Pass/PassManager.h"
#include "mlir/Pass/PassRegistry.h"
#include "mlir/Support/FileUtilities.h"
#include "mlir/Support/Timing.h"
#include "mlir/Support/ToolUtilities.h"
#include "mlir/Tools/mlir-opt/MlirOptMain.h"
#include "mlir/Transforms/Passes.h"
#include "llvm/Support/CommandLine.h"
#include "llvm/Support/FormatVariadic.h"
#include "llvm/Support/InitLLVM.h"
#include "llvm/Support/JSON.h"
#include "llvm/Support/SourceMgr.h"
#include "llvm/Support/ToolOutputFile.h"

#include <optional>

using namespace mlir;
using namespace llvm;

namespace {
enum class EmitKind { MLIR, Bytecode, Program, ProgramText };

/// The options --help shows first; the others of MLIR and LLVM that a DSP
/// user has no use for are shown by --help-hidden only.
cl::OptionCategory dspCategory("DSP options");

struct DriverOptions {
  cl::opt<std::string> inputFilename{cl::Positional, cl::cat(dspCategory),
                                     cl::desc("<input .mlir or .onnx file>"),
                                     cl::init("-")};
  cl::opt<std::string> outputFilename{
      "o", cl::cat(dspCategory), cl::desc("Output filename"),
      cl::value_desc("filename"), cl::init("-")};
  cl::opt<EmitKind> emit{
      "emit", cl::cat(dspCategory), cl::desc("What to write"),
      cl::init(EmitKind::MLIR),
      cl::values(clEnumValN(EmitKind::MLIR, "mlir", "textual MLIR"),
                 clEnumValN(EmitKind::Bytecode, "bytecode", "MLIR bytecode"),
                 clEnumValN(EmitKind::Program, "program",
                            "a .dspx program for dsp-run"),
                 clEnumValN(EmitKind::ProgramText, "program-text",
                            "the program's instructions and tensors as "
                            "text (no weights)"))};
  cl::opt<bool> noWeights{
      "no-weights", cl::cat(dspCategory),
      cl::desc("Import ONNX weights as shape-only dsp.weight ops (plan "
               "full-size models without reading their weights)"),
      cl::init(false)};
  cl::opt<mlir::dsp::WeightStorage> weights{
      "weights", cl::cat(dspCategory),
      cl::desc("Where a program keeps weights read from the model's external "
               "data files"),
      cl::init(mlir::dsp::WeightStorage::Copy),
      cl::values(clEnumValN(mlir::dsp::WeightStorage::Copy, "copy",
                            "in the program (default)"),
                 clEnumValN(mlir::dsp::WeightStorage::Reference, "reference",
                            "in those files, named relative to the program, "
                            "which must be written in their folder or one "
                            "above it; checked by size and checksum at "
                            "load"))};
  cl::opt<uint64_t> weightSeed{
      "weight-seed", cl::cat(dspCategory),
      cl::desc("Seed of the weights a --no-weights program generates at load "
               "(default 0)"),
      cl::init(0)};
  cl::list<std::string> inputShapes{
      "input-shape", cl::cat(dspCategory),
      cl::desc("Static shape of a graph input with symbolic dims, "
               "NAME:D0xD1x... (repeatable)"),
      cl::value_desc("name:shape")};
  cl::list<std::string> frozenInputs{
      "freeze-input", cl::cat(dspCategory),
      cl::desc("Import a graph input as a constant holding the array of a "
               ".npy file, NAME=@FILE.npy (repeatable): shapes that depend "
               "on its values, such as NonZero of a text mask, fold"),
      cl::value_desc("name=@file")};
  cl::opt<std::string> reportFile{"dsp-report", cl::cat(dspCategory),
                                  cl::desc("Write the sharding plan as JSON"),
                                  cl::value_desc("filename"), cl::init("")};
  cl::opt<unsigned> reportThreads{
      "dsp-report-threads", cl::cat(dspCategory),
      cl::desc("Threads per rank (dsp-run --threads) that the report's "
               "memory is for: the cpu kernels' scratch grows with them "
               "(1 to 1024, default 1)"),
      cl::value_desc("n"), cl::init(1)};
  cl::opt<bool> summary{"dsp-summary", cl::cat(dspCategory),
                        cl::desc("Print the sharding plan as a table on "
                                 "stderr"),
                        cl::init(false)};
  cl::opt<std::string> dotFile{
      "dsp-plan-dot", cl::cat(dspCategory),
      cl::desc("Write the sharding plan as a Graphviz graph (render it with "
               "dot -Tsvg)"),
      cl::value_desc("filename"), cl::init("")};
  cl::opt<bool> compactDot{
      "dsp-plan-dot-compact", cl::cat(dspCategory),
      cl::desc("Draw one node per group of stages split alike in "
               "--dsp-plan-dot, and repeated blocks once"),
      cl::init(false)};
  cl::opt<bool> noImportCleanup{
      "no-import-cleanup", cl::cat(dspCategory),
      cl::desc("Keep the ONNX import as read: no folding or fusion"),
      cl::init(false)};
};

bool isOnnxFile(StringRef path) {
  return path.ends_with(".onnx") || path.ends_with(".onnxtxt");
}

/// Everything one input (or one split chunk of it) needs.
struct Driver {
  const DriverOptions &options;
  const MlirOptMainConfig &config;
  DialectRegistry &registry;

  /// Parses, transforms and writes one MLIR buffer.
  LogicalResult processMLIRChunk(std::unique_ptr<MemoryBuffer> buffer,
                                 raw_ostream &os) const;
  /// Imports, transforms and writes one ONNX model.
  LogicalResult processOnnx(raw_ostream &os) const;
  /// Runs the pass pipeline on `module` and writes it as asked.
  LogicalResult compile(ModuleOp module, raw_ostream &os) const;
  LogicalResult verifyRoundtrip(ModuleOp module) const;
  /// The plan report of the planned (global) IR, if a summary or a report
  /// was asked for; adds the plan's graph to `files` as (path, contents)
  /// if it was asked for.
  std::optional<json::Object>
  describePlan(ModuleOp module,
               std::vector<std::pair<std::string, std::string>> &files) const;
  /// Renders `report` as the summary and the report file that were asked
  /// for: returns the summary and adds the file to `files`.
  std::string
  renderReport(json::Object report,
               std::vector<std::pair<std::string, std::string>> &files) const;

  /// Files to write after the main output: (path, contents).
  mutable std::vector<std::pair<std::string, std::string>> planFiles;
};

LogicalResult Driver::verifyRoundtrip(ModuleOp module) const {
  // Custom form printed, parsed back and compared in generic form, as
  // mlir-opt does; then the same through bytecode.
  auto generic = [](Operation *op) {
    std::string text;
    raw_string_ostream os(text);
    op->print(os, OpPrintingFlags().printGenericOpForm().enableDebugInfo());
    return text;
  };
  std::string expected = generic(module);
  std::string custom;
  {
    raw_string_ostream os(custom);
    module->print(os, OpPrintingFlags().enableDebugInfo());
  }
  // A fresh context, so that resource blobs keep their names when parsed.
  MLIRContext roundtripContext(registry);
  roundtripContext.allowUnregisteredDialects(
      config.shouldAllowUnregisteredDialects());
  ParserConfig parserConfig(&roundtripContext);
  OwningOpRef<Operation *> reparsed =
      parseSourceString<Operation *>(custom, parserConfig, "roundtrip");
  if (!reparsed || generic(*reparsed) != expected)
    return emitError(module->getLoc(), "the textual round trip changed the IR");
  std::string bytecode;
  {
    raw_string_ostream os(bytecode);
    if (failed(writeBytecodeToFile(module, os)))
      return emitError(module->getLoc(),
                       "could not write bytecode for the round trip");
  }
  MLIRContext bytecodeContext(registry);
  bytecodeContext.allowUnregisteredDialects(
      config.shouldAllowUnregisteredDialects());
  ParserConfig bytecodeConfig(&bytecodeContext);
  OwningOpRef<Operation *> decoded =
      parseSourceString<Operation *>(bytecode, bytecodeConfig, "roundtrip");
  if (!decoded || generic(*decoded) != expected)
    return emitError(module->getLoc(),
                     "the bytecode round trip changed the IR");
  return success();
}

std::optional<json::Object> Driver::describePlan(
    ModuleOp module,
    std::vector<std::pair<std::string, std::string>> &files) const {
  if (!options.dotFile.empty()) {
    std::string dot;
    raw_string_ostream os(dot);
    mlir::dsp::printPlanDot(module, os, options.compactDot);
    files.emplace_back(options.dotFile, std::move(dot));
  }
  if (options.reportFile.empty() && !options.summary)
    return std::nullopt;
  return mlir::dsp::buildPlanReport(module);
}

std::string Driver::renderReport(
    json::Object report,
    std::vector<std::pair<std::string, std::string>> &files) const {
  std::string summary;
  if (options.summary) {
    raw_string_ostream os(summary);
    mlir::dsp::printPlanSummary(report, os);
  }
  if (!options.reportFile.empty())
    files.emplace_back(
        options.reportFile,
        formatv("{0:2}\n", json::Value(std::move(report))).str());
  return summary;
}

LogicalResult Driver::compile(ModuleOp module, raw_ostream &os) const {
  if (config.shouldVerifyRoundtrip() && failed(verifyRoundtrip(module)))
    return failure();
  auto setup = [&](PassManager &pm) -> LogicalResult {
    pm.enableVerifier(config.shouldVerifyPasses());
    if (failed(applyPassManagerCLOptions(pm)))
      return failure();
    applyDefaultTimingPassManagerCLOptions(pm);
    return success();
  };
  bool importCleanup =
      isOnnxFile(options.inputFilename) && !options.noImportCleanup;
  if (failed(mlir::dsp::planModule(
          module, importCleanup,
          [&](PassManager &pm) { return config.setupPassPipeline(pm); },
          setup)))
    return failure();
  std::vector<std::pair<std::string, std::string>> files;
  std::optional<json::Object> report = describePlan(module, files);
  bool program = options.emit == EmitKind::Program ||
                 options.emit == EmitKind::ProgramText;
  if (program && !mlir::dsp::getGroup(module))
    errs() << "dsp-opt: note: no --dsp-pipeline given, so nothing planned "
              "a sharding: the program runs on 1 rank (shard it with "
              "--dsp-pipeline=\"ranks=N\")\n";
  if (program && failed(mlir::dsp::lowerForProgram(module, setup)))
    return failure();
  LogicalResult emitted = success();
  mlir::dsp::ProgramOptions programOptions;
  programOptions.weights = options.weights;
  programOptions.weightSeed = options.weightSeed;
  if (options.outputFilename != "-")
    programOptions.folder = ::dsp::format::parentFolder(options.outputFilename);
  switch (options.emit) {
  case EmitKind::MLIR:
    module->print(os);
    os << "\n";
    break;
  case EmitKind::Bytecode:
    emitted = writeBytecodeToFile(module, os);
    break;
  case EmitKind::Program: {
    FailureOr<mlir::dsp::SerializedProgram> serialized =
        mlir::dsp::serializeProgram(module, programOptions);
    if (failed(serialized))
      return failure();
    // What a rank allocates, from the program the plan lowered to.
    if (report)
      (*report)["memory"] =
          mlir::dsp::programMemory(serialized->program, options.reportThreads);
    emitted =
        mlir::dsp::writeProgram(module, *serialized, options.outputFilename);
    break;
  }
  case EmitKind::ProgramText:
    emitted = mlir::dsp::emitProgramText(module, os, programOptions);
    break;
  }
  if (failed(emitted))
    return failure();
  if (report)
    errs() << renderReport(std::move(*report), files);
  planFiles.insert(planFiles.end(), files.begin(), files.end());
  return success();
}

LogicalResult Driver::processOnnx(raw_ostream &os) const {
  MLIRContext context(registry);
  context.printOpOnDiagnostic(false);
  ScopedDiagnosticHandler handler(&context, [](Diagnostic &diagnostic) {
    mlir::dsp::printOnnxDiagnostic(diagnostic, errs());
    return success();
  });
  mlir::dsp::OnnxImportOptions importOptions;
  importOptions.loadWeights = !options.noWeights;
  std::string error;
  if (failed(mlir::dsp::parseInputShapes(options.inputShapes, importOptions,
                                         error)) ||
      failed(mlir::dsp::parseFrozenInputs(options.frozenInputs, importOptions,
                                          error))) {
    errs() << "dsp-opt: " << error << "\n";
    return failure();
  }
  OwningOpRef<ModuleOp> module =
      mlir::dsp::importOnnxFile(context, options.inputFilename, importOptions);
  if (!module)
    return failure();
  return compile(*module, os);
}

LogicalResult Driver::processMLIRChunk(std::unique_ptr<MemoryBuffer> buffer,
                                       raw_ostream &os) const {
  auto sourceMgr = std::make_shared<SourceMgr>();
  sourceMgr->AddNewSourceBuffer(std::move(buffer), SMLoc());
  MLIRContext context(registry, MLIRContext::Threading::DISABLED);
  context.allowUnregisteredDialects(config.shouldAllowUnregisteredDialects());
  context.printOpOnDiagnostic(!config.shouldVerifyDiagnostics());

  auto run = [&]() -> LogicalResult {
    FallbackAsmResourceMap fallbackResourceMap;
    ParserConfig parserConfig(&context, config.shouldVerifyOnParsing(),
                              &fallbackResourceMap);
    OwningOpRef<ModuleOp> module =
        parseSourceFile<ModuleOp>(sourceMgr, parserConfig);
    if (!module)
      return failure();
    return compile(*module, os);
  };

  if (!config.shouldVerifyDiagnostics()) {
    SourceMgrDiagnosticHandler handler(*sourceMgr, &context);
    return run();
  }
  SourceMgrDiagnosticVerifierHandler handler(*sourceMgr, &context,
                                             config.verifyDiagnosticsLevel());
  (void)run();
  return handler.verify();
}
/// Reads, transforms and emits the input; MLIR output goes to `os`.
LogicalResult compileInput(const Driver &driver, const DriverOptions &options,
                           const MlirOptMainConfig &config, raw_ostream &os) {
  if (isOnnxFile(options.inputFilename))
    return driver.processOnnx(os);
  std::string errorMessage;
  std::unique_ptr<MemoryBuffer> input =
      openInputFile(options.inputFilename, &errorMessage);
  if (!input) {
    errs() << "dsp-opt: " << errorMessage << "\n";
    return failure();
  }
  auto chunkFn = [&](std::unique_ptr<MemoryBuffer> chunk, raw_ostream &out) {
    return driver.processMLIRChunk(std::move(chunk), out);
  };
  if (options.emit == EmitKind::Program)
    return chunkFn(std::move(input), os);
  return splitAndProcessBuffer(std::move(input), chunkFn, os,
                               config.inputSplitMarker(),
                               config.outputSplitMarker());
}

/// Writes `contents` to `path` ("-": standard output), every write checked.
LogicalResult writeOutput(StringRef path, const std::string &contents) {
  if (path == "-") {
    outs() << contents;
    outs().flush();
    if (!outs().has_error())
      return success();
    errs() << "dsp-opt: cannot write to standard output: "
           << outs().error().message() << "\n";
    outs().clear_error();
    return failure();
  }
  std::string error = ::dsp::format::writeOutputFile(path.str(), contents);
  if (error.empty())
    return success();
  errs() << "dsp-opt: " << error << "\n";
  return failure();
}

/// The main output (unless the program writer wrote it), then the plan.
LogicalResult writeOutputs(const Driver &driver, const DriverOptions &options,
                           const std::string &rendered) {
  if (options.emit != EmitKind::Program &&
      failed(writeOutput(options.outputFilename, rendered)))
    return failure();
  for (const auto &[path, contents] : driver.planFiles)
    if (failed(writeOutput(path, contents)))
      return failure();
  return success();
}

/// Removes what a failed run may have left at the output paths.
void removeOutputs(const Driver &driver, const DriverOptions &options) {
  for (const std::string &path :
       {options.outputFilename.getValue(), options.reportFile.getValue(),
        options.dotFile.getValue()})
    if (!path.empty() && path != "-")
      ::dsp::format::removeStaleOutput(path);
}
/// Shows the DSP options, the passes and mlir-opt's habits (pass
/// pipelines, split input, diagnostics checks) in --help; every other MLIR
/// and LLVM option only in --help-hidden.
void organizeHelp() {
  static const StringRef kept[] = {
      "help",          "help-hidden",      "version",
      "pass-pipeline", "split-input-file", "verify-diagnostics",
      "list-passes"};
  auto &registered = cl::getRegisteredOptions();
  for (auto &[name, option] : registered) {
    // The pass list is one option whose values are the pass flags.
    bool passList = name.starts_with("dsp-") &&
                    !is_contained(option->Categories, &dspCategory);
    if (passList)
      option->addCategory(dspCategory);
    if (passList || is_contained(kept, name) ||
        is_contained(option->Categories, &dspCategory))
      continue;
    if (option->getOptionHiddenFlag() == cl::NotHidden)
      option->setHiddenFlag(cl::Hidden);
  }
}

/// What to say instead of the option parser's answer to a mistake it
/// answers poorly: a `--dsp-pipeline` option given as a flag of its own
/// (`--ranks=4`: "Did you mean '--stats=4'?") or as an argument of its own
/// (`--dsp-pipeline=ranks=4 strategy=dsp`: "Too many positional
/// arguments"). "" when there is none.
std::string commandLineMistake(int argc, char **argv) {
  std::vector<std::string> names = mlir::dsp::pipelineOptionNames();
  auto &registered = cl::getRegisteredOptions();
  std::string pipeline = "ranks=4";
  for (int i = 1; i < argc; ++i) {
    StringRef argument(argv[i]);
    if (argument == "--")
      break;
    if (argument.consume_front("--dsp-pipeline=")) {
      pipeline = argument.str();
      continue;
    }
    StringRef flag = argument.ltrim('-');
    auto [name, value] = flag.split('=');
    if (!is_contained(names, name.str()) || registered.count(name))
      continue;
    std::string option = (name + "=" + (value.empty() ? "..." : value)).str();
    if (argument.starts_with("-"))
      return "'" + argument.str() + "' is an option of --dsp-pipeline: write " +
             "--dsp-pipeline=\"" + option + "\"";
    if (argument.contains('='))
      return "'" + argument.str() +
             "' looks like an option of --dsp-pipeline given as an argument " +
             "of its own: quote the options as one argument: " +
             "--dsp-pipeline=\"" + pipeline + " " + option + "\"";
  }
  return "";
}
} // namespace

int main(int argc, char **argv) {
  InitLLVM initLLVM(argc, argv);
  DialectRegistry registry;
  mlir::dsp::registerCompilerDialects(registry);
  registerTransformsPasses();
  mlir::dsp::registerDSPPasses();
  mlir::dsp::registerPipelines();

  MlirOptMainConfig::registerCLOptions(registry);
  registerAsmPrinterCLOptions();
  registerMLIRContextCLOptions();
  registerPassManagerCLOptions();
  registerDefaultTimingManagerCLOptions();
  DriverOptions options;
  // The DSP line first, then the LLVM that dsp-opt was built with.
  cl::SetVersionPrinter([](raw_ostream &os) {
    os << "dsp-opt " DSP_VERSION " (git " DSP_GIT_REVISION
          "), writes program format "
       << ::dsp::format::kMajorVersion << "." << ::dsp::format::kMinorVersion
       << "\n";
    cl::PrintVersionMessage();
  });
  organizeHelp();
  if (std::string mistake = commandLineMistake(argc, argv); !mistake.empty()) {
    errs() << "dsp-opt: " << mistake << "\n";
    return EXIT_FAILURE;
  }
  cl::ParseCommandLineOptions(argc, argv, "DSP compiler driver\n");

  // The pass pipeline flags come with MlirOptMainConfig's own options.
  const MlirOptMainConfig config = MlirOptMainConfig::createFromCLOptions();
  if (config.shouldShowDialects()) {
    outs() << "Available Dialects: ";
    interleave(registry.getDialectNames(), outs(), ",");
    outs() << "\n";
    return EXIT_SUCCESS;
  }
  if (config.shouldListPasses()) {
    printRegisteredPasses();
    return EXIT_SUCCESS;
  }

  if (options.reportThreads < 1 ||
      options.reportThreads > ::dsp::format::kMaxHostThreads) {
    errs() << "dsp-opt: --dsp-report-threads expects an integer from 1 to "
           << ::dsp::format::kMaxHostThreads << ", got '"
           << options.reportThreads << "'\n";
    return EXIT_FAILURE;
  }
  Driver driver{options, config, registry};
  if (options.emit == EmitKind::Program) {
    // The program writer streams weights to the file itself.
    if (options.outputFilename == "-") {
      errs() << "dsp-opt: --emit=program needs an output file (-o)\n";
      return EXIT_FAILURE;
    }
    if (!config.inputSplitMarker().empty()) {
      errs() << "dsp-opt: --emit=program takes one module, not split input\n";
      return EXIT_FAILURE;
    }
  }
  // Files are rendered in memory and written only when everything
  // succeeded; a failed run leaves none of them, not even an older one.
  // Standard output is a stream: what succeeded (the chunks of a split
  // input) is printed, as mlir-opt does.
  std::string rendered;
  raw_string_ostream os(rendered);
  if (failed(compileInput(driver, options, config, os))) {
    if (options.outputFilename == "-" && options.emit != EmitKind::Program)
      (void)writeOutput("-", rendered);
    removeOutputs(driver, options);
    return EXIT_FAILURE;
  }
  if (failed(writeOutputs(driver, options, rendered))) {
    removeOutputs(driver, options);
    return EXIT_FAILURE;
  }
  return EXIT_SUCCESS;
}
