//===- ExactSolver.h - Minimum of a pairwise cost graph ---------*- C++ -*-===//
//
// Minimizes sum_v unary[v][x_v] + sum_(a,b) edge[x_a][x_b] over discrete
// choices x. The general problem is NP-hard; the solver eliminates variables
// one at a time (bucket elimination, min-fill order), which is exact and runs
// in time exponential only in the induced width of the graph. Transformer
// graphs -- chains of stages with residual branches -- have small width.
//
// Where elimination would build a table larger than the limit, the solver
// fixes the variables that have one choice, then conditions on a cutset:
// variables that, once fixed, leave an order that fits. It tries every
// assignment of the cutset when that is affordable, which is still exact;
// otherwise it improves a greedy assignment by exact eliminations over the
// rest of the graph, and reports a lower bound from mini-bucket elimination
// next to the cost it found. docs/sharding.md ("The solver") details both.
//
//===----------------------------------------------------------------------===//

#ifndef DSP_TRANSFORMS_EXACTSOLVER_H
#define DSP_TRANSFORMS_EXACTSOLVER_H

#include <cstdint>
#include <vector>

namespace mlir::dsp {

class CostGraph {
public:
  /// Costs are kept rounded to multiples of 2^-40 (a picosecond where they
  /// are seconds), so that costs that are equal up to rounding tie exactly.
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
    /// Never above the minimum (nor above `cost`); equal to `cost` when
    /// `optimal`.
    double lowerBound = 0;
    /// Whether `cost` is proven to be the minimum.
    bool optimal = true;
  };
  /// The minimum, exact whenever elimination fits tables of
  /// `maxTableEntries` entries and computes at most `maxEliminationWork`
  /// table cells in all, directly or after conditioning on a cutset whose
  /// every choice it can afford to try; the best assignment found and a
  /// lower bound otherwise. Conditioning computes at most
  /// `maxConditioningWork` table cells in all (about a second's worth by
  /// default; direct elimination may take about 16 times that, which the
  /// committed models stay well inside). Deterministic: among equal exact
  /// minima, ties go to the smallest choices in elimination order.
  Solution solve(uint64_t maxTableEntries = 1u << 24,
                 double maxConditioningWork = 1u << 26,
                 double maxEliminationWork = 1u << 30) const;
  /// The cheapest assignment that differs from `best` (this graph's
  /// solve()) in at least one variable: the minimum over the variables of
  /// the solve with that variable's choice in `best` excluded, under the
  /// same limits; `best` where no other assignment has a finite cost. For
  /// benchmarks that check the cost model's ranking against measurement.
  Solution solveSecondBest(const Solution &best,
                           uint64_t maxTableEntries = 1u << 24,
                           double maxConditioningWork = 1u << 26) const;

private:
  struct Edge {
    int a, b;
    std::vector<double> costs;
  };
  struct Order;
  struct Cutset;

  /// The min-fill order of the variables that `fixed` leaves free (a
  /// negative entry), and the tables eliminating them in it builds (their
  /// entries counted up to just past `limit`).
  Order eliminationOrder(const std::vector<int> &fixed, uint64_t limit) const;
  /// Eliminates the free variables in `order`, the others at their `fixed`
  /// choice. Exact when no table exceeds `maxTableEntries`; otherwise the
  /// tables of a variable are split into mini-buckets that fit, which gives
  /// a lower bound and a greedy assignment.
  Solution eliminate(const std::vector<int> &fixed, const Order &order,
                     uint64_t maxTableEntries) const;
  /// Variables that, once fixed, leave an order of the other free ones
  /// whose tables fit `limit`.
  Cutset cutsetFor(std::vector<int> fixed, uint64_t limit) const;
  /// `solve` past the limit: conditions on a cutset.
  Solution solveByConditioning(std::vector<int> fixed, uint64_t maxTableEntries,
                               double maxConditioningWork) const;

  std::vector<std::vector<double>> unary;
  std::vector<Edge> edges;
};

} // namespace mlir::dsp

#endif // DSP_TRANSFORMS_EXACTSOLVER_H
