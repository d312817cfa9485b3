//===- FuzzImport.h - Importing ONNX inputs in the fuzz targets -*- C++ -*-===//

#ifndef DSP_TEST_FUZZ_FUZZIMPORT_H
#define DSP_TEST_FUZZ_FUZZIMPORT_H

#include "dsp/Dialect/DSP/IR/DSPDialect.h"
#include "dsp/Import/OnnxImporter.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/Diagnostics.h"
#include "mlir/IR/MLIRContext.h"
#include "mlir/IR/Verifier.h"
#include "llvm/Support/raw_ostream.h"

#include <cstdio>
#include <cstdlib>
#include <memory>
#include <string>

namespace dsp {
namespace fuzz {

/// The dialects dsp-opt registers.
inline const mlir::DialectRegistry &registry() {
  static const mlir::DialectRegistry *registry = [] {
    auto *r = new mlir::DialectRegistry();
    r->insert<mlir::dsp::DSPDialect, mlir::func::FuncDialect>();
    return r;
  }();
  return *registry;
}

/// A fresh context per input, single-threaded, whose diagnostics are kept
/// (the first few, for a report) instead of printed: an error is an
/// expected outcome for most inputs.
struct FuzzContext {
  FuzzContext()
      : context(registry(), mlir::MLIRContext::Threading::DISABLED),
        handler(&context, [this](mlir::Diagnostic &diagnostic) {
          if (diagnostics.size() < 4096) {
            llvm::raw_string_ostream os(diagnostics);
            os << diagnostic << "\n";
          }
          return mlir::success();
        }) {
    context.printOpOnDiagnostic(false);
    context.printStackTraceOnDiagnostic(false);
  }

  /// With DSP_FUZZ_VERBOSE set, says how far the input got and what the
  /// diagnostics were: for checking that seeds reach the code under test.
  void outcome(const char *what) {
    static const bool verbose = std::getenv("DSP_FUZZ_VERBOSE") != nullptr;
    if (verbose)
      std::fprintf(stderr, "fuzz: %s\n%s", what, diagnostics.c_str());
  }

  /// Stops the process as a finding: `what` went wrong.
  [[noreturn]] void fail(const std::string &what) {
    std::fprintf(stderr, "fuzz: %s\ndiagnostics:\n%s\n", what.c_str(),
                 diagnostics.c_str());
    std::abort();
  }

  mlir::MLIRContext context;
  std::string diagnostics;
  mlir::ScopedDiagnosticHandler handler;
};

/// Imports `path`. A module the importer returns must verify: anything else
/// would reach the passes as IR that breaks their assumptions, so it is a
/// finding.
inline mlir::OwningOpRef<mlir::ModuleOp>
importAndVerify(FuzzContext &fuzz, const std::string &path, bool loadWeights) {
  mlir::dsp::OnnxImportOptions options;
  options.loadWeights = loadWeights;
  mlir::OwningOpRef<mlir::ModuleOp> module =
      mlir::dsp::importOnnxFile(fuzz.context, path, options);
  if (module && mlir::failed(mlir::verify(*module))) {
    // DSP_FUZZ_ALLOW_UNVERIFIED=1 takes this for a rejected input, to fuzz
    // past a known bug of this kind.
    static const bool allowUnverified =
        std::getenv("DSP_FUZZ_ALLOW_UNVERIFIED") != nullptr;
    if (!allowUnverified)
      fuzz.fail(std::string("the imported module does not verify (weights ") +
                (loadWeights ? "loaded" : "not loaded") + ")");
    fuzz.outcome("imported a module that does not verify");
    return nullptr;
  }
  fuzz.outcome(module ? "imported" : "import failed");
  return module;
}

} // namespace fuzz
} // namespace dsp

#endif // DSP_TEST_FUZZ_FUZZIMPORT_H
