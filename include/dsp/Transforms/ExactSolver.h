//===- ExactSolver.h - Exact minimum of a pairwise cost graph ---*- C++ -*-===//
//
// Minimizes sum_v unary[v][x_v] + sum_(a,b) edge[x_a][x_b] over discrete
// choices x. The general problem is NP-hard; the solver eliminates variables
// one at a time (bucket elimination, min-fill order), which is exact and runs
// in time exponential only in the induced width of the graph. Transformer
// graphs -- chains of stages with residual branches -- have small width.
//
//===----------------------------------------------------------------------===//

#ifndef DSP_TRANSFORMS_EXACTSOLVER_H
#define DSP_TRANSFORMS_EXACTSOLVER_H

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace mlir::dsp {

class CostGraph {
public:
  /// Adds a variable with one cost per choice; returns its index.
  int addVariable(std::vector<double> unaryCosts);
  /// Adds a pairwise cost, `costs[i * choices(b) + j]` for choices (i, j);
  /// several edges between the same pair add up.
  void addEdge(int a, int b, std::vector<double> costs);

  int numVariables() const { return static_cast<int>(unary.size()); }
  int numChoices(int v) const { return static_cast<int>(unary[v].size()); }
  /// The cost of a full assignment.
  double evaluate(const std::vector<int> &choices) const;

  struct Solution {
    std::vector<int> choices;
    double cost = 0;
  };
  /// The exact minimum. Ties go to the lexicographically smallest choices
  /// in elimination order, so the result is deterministic. Fails (returns
  /// nullopt and sets `error`) only when an intermediate table would exceed
  /// `maxTableEntries`.
  std::optional<Solution> solve(std::string &error,
                                uint64_t maxTableEntries = 1u << 24) const;

private:
  struct Edge {
    int a, b;
    std::vector<double> costs;
  };
  std::vector<std::vector<double>> unary;
  std::vector<Edge> edges;
};

} // namespace mlir::dsp

#endif // DSP_TRANSFORMS_EXACTSOLVER_H
