//===- ExactSolverTest.cpp - Tests of the exact cost-graph solver ---------===//

#include "dsp/Transforms/ExactSolver.h"

#include "gtest/gtest.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <limits>
#include <random>

using namespace mlir::dsp;

namespace {

/// A cost graph kept on the side, so that costs and the optimum are computed
/// independently of the solver.
struct Model {
  struct Edge {
    int a, b;
    std::vector<double> costs;
  };
  std::vector<std::vector<double>> unary;
  std::vector<Edge> edges;

  int size() const { return static_cast<int>(unary.size()); }
  int choices(int v) const { return static_cast<int>(unary[v].size()); }

  double edgeCost(const Edge &e, int x, int y) const {
    return e.costs[x * choices(e.b) + y];
  }

  double evaluate(const std::vector<int> &assignment) const {
    double total = 0;
    for (int v = 0; v < size(); ++v)
      total += unary[v][assignment[v]];
    for (const Edge &e : edges)
      total += edgeCost(e, assignment[e.a], assignment[e.b]);
    return total;
  }

  CostGraph build() const {
    CostGraph graph;
    for (const std::vector<double> &costs : unary)
      graph.addVariable(costs);
    for (const Edge &e : edges)
      graph.addEdge(e.a, e.b, e.costs);
    return graph;
  }

  /// The minimum over every assignment.
  /// Calls `visit` with every assignment.
  template <typename Visit> void forEachAssignment(Visit visit) const {
    std::vector<int> assignment(size(), 0);
    while (true) {
      visit(assignment);
      int v = 0;
      while (v < size() && ++assignment[v] == choices(v))
        assignment[v++] = 0;
      if (v == size())
        return;
    }
  }

  double bruteForce() const {
    double best = std::numeric_limits<double>::infinity();
    forEachAssignment([&](const std::vector<int> &assignment) {
      best = std::min(best, evaluate(assignment));
    });
    return best;
  }

  /// Each variable in index order takes its cheapest choice given the
  /// variables before it (edges to later variables are not yet known).
  std::vector<int> greedy() const {
    std::vector<int> assignment(size(), 0);
    for (int v = 0; v < size(); ++v) {
      double best = std::numeric_limits<double>::infinity();
      for (int x = 0; x < choices(v); ++x) {
        double cost = unary[v][x];
        for (const Edge &e : edges) {
          if (e.a == v && e.b == v)
            cost += edgeCost(e, x, x);
          else if (e.a == v && e.b < v)
            cost += edgeCost(e, x, assignment[e.b]);
          else if (e.b == v && e.a < v)
            cost += edgeCost(e, assignment[e.a], x);
        }
        if (cost < best) {
          best = cost;
          assignment[v] = x;
        }
      }
    }
    return assignment;
  }
};

/// Random numbers from a seeded engine whose sequence the standard fixes.
class Random {
public:
  explicit Random(unsigned seed) : engine(seed) {}
  /// Uniform in [lo, hi].
  int range(int lo, int hi) {
    return lo + static_cast<int>(engine() % static_cast<unsigned>(hi - lo + 1));
  }
  bool chance(int percent) { return range(0, 99) < percent; }
  /// Costs with many zeros and ties, and some arbitrary reals.
  double cost() {
    int pick = range(0, 7);
    if (pick < 2)
      return 0;
    if (pick < 6)
      return range(1, 3);
    return static_cast<double>(engine()) / engine.max() * 10.0;
  }
  std::vector<double> costs(size_t count) {
    std::vector<double> result(count);
    for (double &c : result)
      c = cost();
    return result;
  }

private:
  std::mt19937 engine;
};

void addVariables(Model &model, Random &random, int count, int minChoices,
                  int maxChoices) {
  for (int v = 0; v < count; ++v)
    model.unary.push_back(random.costs(random.range(minChoices, maxChoices)));
}

/// An edge between `a` and `b`, stored in either direction.
void addEdge(Model &model, Random &random, int a, int b) {
  if (random.chance(50))
    std::swap(a, b);
  model.edges.push_back(
      {a, b, random.costs(model.choices(a) * model.choices(b))});
}

/// Occasional self-edges and repeated edges, which the solver must add up.
void addExtras(Model &model, Random &random) {
  for (int v = 0; v < model.size(); ++v)
    if (random.chance(15))
      addEdge(model, random, v, v);
  if (!model.edges.empty() && random.chance(30)) {
    int last = static_cast<int>(model.edges.size()) - 1;
    Model::Edge copy = model.edges[random.range(0, last)];
    addEdge(model, random, copy.a, copy.b);
  }
}

/// A chain with residual connections skipping one or two stages ahead.
Model residualChain(Random &random) {
  Model model;
  addVariables(model, random, random.range(5, 9), 2, 4);
  int n = model.size();
  for (int v = 0; v + 1 < n; ++v)
    addEdge(model, random, v, v + 1);
  for (int v = 0; v < n; ++v)
    for (int skip = 2; skip <= 3; ++skip)
      if (v + skip < n && random.chance(40))
        addEdge(model, random, v, v + skip);
  addExtras(model, random);
  return model;
}

/// Stages where a variable feeds two branches that rejoin (diamonds), in
/// sequence, sometimes with a residual around the diamond.
Model branches(Random &random) {
  Model model;
  addVariables(model, random, random.range(5, 9), 2, 4);
  int n = model.size();
  int v = 0;
  while (v + 3 < n) {
    addEdge(model, random, v, v + 1);
    addEdge(model, random, v, v + 2);
    addEdge(model, random, v + 1, v + 3);
    addEdge(model, random, v + 2, v + 3);
    if (random.chance(30))
      addEdge(model, random, v, v + 3);
    v += 3;
  }
  for (; v + 1 < n; ++v)
    addEdge(model, random, v, v + 1);
  addExtras(model, random);
  return model;
}

/// A ring, plus chords that make shorter cycles.
Model cycles(Random &random) {
  Model model;
  addVariables(model, random, random.range(5, 9), 2, 4);
  int n = model.size();
  for (int v = 0; v < n; ++v)
    addEdge(model, random, v, (v + 1) % n);
  int chords = random.range(0, 3);
  for (int i = 0; i < chords; ++i) {
    int a = random.range(0, n - 1), b = random.range(0, n - 1);
    if (a != b)
      addEdge(model, random, a, b);
  }
  addExtras(model, random);
  return model;
}

/// Arbitrary edges, from sparse (sometimes disconnected) to dense.
Model mixed(Random &random) {
  Model model;
  addVariables(model, random, random.range(5, 9), 2, 4);
  int n = model.size();
  int density = random.range(10, 70);
  for (int a = 0; a < n; ++a)
    for (int b = a + 1; b < n; ++b)
      if (random.chance(density))
        addEdge(model, random, a, b);
  addExtras(model, random);
  return model;
}

/// Solves the model and checks the solution against brute force.
void expectOptimal(const Model &model) {
  CostGraph graph = model.build();
  ASSERT_EQ(graph.numVariables(), model.size());
  CostGraph::Solution solution = graph.solve();
  ASSERT_EQ(static_cast<int>(solution.choices.size()), model.size());
  for (int v = 0; v < model.size(); ++v) {
    ASSERT_GE(solution.choices[v], 0);
    ASSERT_LT(solution.choices[v], model.choices(v));
  }
  double best = model.bruteForce();
  EXPECT_NEAR(solution.cost, best, 1e-9);
  EXPECT_NEAR(model.evaluate(solution.choices), best, 1e-9);
  EXPECT_NEAR(graph.evaluate(solution.choices), solution.cost, 1e-9);
  EXPECT_TRUE(solution.optimal);
  EXPECT_EQ(solution.lowerBound, solution.cost);
}

constexpr unsigned kGraphsPerShape = 150;

template <typename Generator>
void checkShape(Generator generate, unsigned seedBase) {
  for (unsigned seed = seedBase; seed < seedBase + kGraphsPerShape; ++seed) {
    SCOPED_TRACE("seed " + std::to_string(seed));
    Random random(seed);
    expectOptimal(generate(random));
    if (testing::Test::HasFatalFailure())
      return;
  }
}

TEST(ExactSolverTest, ResidualChainsMatchBruteForce) {
  checkShape(residualChain, 1000);
}

TEST(ExactSolverTest, BranchesMatchBruteForce) { checkShape(branches, 2000); }

TEST(ExactSolverTest, CyclesMatchBruteForce) { checkShape(cycles, 3000); }

TEST(ExactSolverTest, MixedGraphsMatchBruteForce) { checkShape(mixed, 4000); }

/// Runs `check` on the mixed graph of each of kGraphsPerShape seeds from
/// `seedBase`.
template <typename Check> void forMixedGraphs(unsigned seedBase, Check check) {
  for (unsigned seed = seedBase; seed < seedBase + kGraphsPerShape; ++seed) {
    SCOPED_TRACE("seed " + std::to_string(seed));
    Random random(seed);
    Model model = mixed(random);
    check(model, model.build());
  }
}

TEST(ExactSolverTest, PastTheWorkBudgetTheBoundHolds) {
  // Tables that fit but more cells in all than the budget allows: the
  // solver conditions instead, and its cost and bound bracket the minimum.
  forMixedGraphs(6000, [](const Model &model, const CostGraph &graph) {
    CostGraph::Solution solution =
        graph.solve(1u << 24, /*maxConditioningWork=*/64,
                    /*maxEliminationWork=*/16);
    double best = model.bruteForce();
    EXPECT_NEAR(graph.evaluate(solution.choices), solution.cost, 1e-9);
    EXPECT_GE(solution.cost, best - 1e-9);
    EXPECT_LE(solution.lowerBound, best + 1e-9);
    if (solution.optimal) {
      EXPECT_NEAR(solution.cost, best, 1e-9);
    }
  });
}

TEST(ExactSolverTest, SecondBestMatchesBruteForce) {
  forMixedGraphs(5000, [](const Model &model, const CostGraph &graph) {
    CostGraph::Solution best = graph.solve();
    CostGraph::Solution second = graph.solveSecondBest(best);
    // The cheapest assignment other than the best one, by enumeration.
    double expected = std::numeric_limits<double>::infinity();
    model.forEachAssignment([&](const std::vector<int> &assignment) {
      if (assignment != best.choices)
        expected = std::min(expected, model.evaluate(assignment));
    });
    EXPECT_NE(second.choices, best.choices);
    EXPECT_GE(second.cost, best.cost);
    EXPECT_NEAR(second.cost, expected, 1e-9);
    EXPECT_NEAR(model.evaluate(second.choices), second.cost, 1e-9);
  });
}

TEST(ExactSolverTest, SecondBestOfOneAssignmentIsTheBest) {
  CostGraph graph;
  graph.addVariable({1.0});
  graph.addVariable({2.0, std::numeric_limits<double>::infinity()});
  CostGraph::Solution best = graph.solve();
  EXPECT_EQ(graph.solveSecondBest(best).choices, best.choices);
}

TEST(ExactSolverTest, EvaluateMatchesDefinition) {
  for (unsigned seed = 0; seed < 50; ++seed) {
    SCOPED_TRACE("seed " + std::to_string(seed));
    Random random(seed);
    Model model = mixed(random);
    CostGraph graph = model.build();
    std::vector<int> assignment(model.size());
    for (int v = 0; v < model.size(); ++v)
      assignment[v] = random.range(0, model.choices(v) - 1);
    // The graph keeps its costs to 2^-40.
    EXPECT_NEAR(graph.evaluate(assignment), model.evaluate(assignment), 1e-9);
  }
}

TEST(ExactSolverTest, CostsEqualUpToRoundingTie) {
  // 0.1 + 0.2 is 0.30000000000000004 in doubles: summed in another order
  // the same cost would not tie, and alike blocks would be planned apart.
  Model model;
  model.unary = {{0.1 + 0.2, 0.3}, {0.3, 0.1 + 0.2}};
  CostGraph::Solution solution = model.build().solve();
  EXPECT_EQ(solution.choices, std::vector<int>({0, 0}));
}

TEST(ExactSolverTest, SelfEdgeUsesTheDiagonal) {
  Model model;
  model.unary = {{0, 0, 0}};
  // Off-diagonal entries would be cheaper but can never be taken.
  model.edges = {{0, 0, {5, -9, -9, -9, 4, -9, -9, -9, 6}}};
  CostGraph graph = model.build();
  CostGraph::Solution solution = graph.solve();
  EXPECT_EQ(solution.choices, std::vector<int>({1}));
  EXPECT_EQ(solution.cost, 4);
}

TEST(ExactSolverTest, AsymmetricEdgesKeepTheirOrientation) {
  // A 2-by-3 edge from the higher index to the lower one.
  Model model;
  model.unary = {{0, 0, 0}, {0, 0}};
  model.edges = {{1, 0, {7, 7, 7, 7, 7, 1}}};
  CostGraph graph = model.build();
  CostGraph::Solution solution = graph.solve();
  EXPECT_EQ(solution.choices, std::vector<int>({2, 1}));
  EXPECT_EQ(solution.cost, 1);
}

TEST(ExactSolverTest, EmptyGraph) {
  CostGraph graph;
  CostGraph::Solution solution = graph.solve();
  EXPECT_TRUE(solution.choices.empty());
  EXPECT_EQ(solution.cost, 0);
}

TEST(ExactSolverTest, BeatsGreedyWalk) {
  // A producer whose cheap choice forces an expensive reshard two stages
  // later, across a residual connection.
  Model model;
  model.unary = {{0, 1}, {0, 5}, {0, 0}};
  model.edges = {
      {0, 1, {0, 3, 3, 0}},
      {1, 2, {10, 10, 0, 0}},
      {0, 2, {0, 2, 2, 0}},
  };
  std::vector<int> greedy = model.greedy();
  double greedyCost = model.evaluate(greedy);
  EXPECT_EQ(greedy, std::vector<int>({0, 0, 0}));
  EXPECT_EQ(greedyCost, 10);

  CostGraph graph = model.build();
  CostGraph::Solution solution = graph.solve();
  EXPECT_LT(solution.cost, greedyCost);
  EXPECT_EQ(solution.cost, model.bruteForce());
  EXPECT_EQ(solution.cost, 6);
  EXPECT_EQ(solution.choices, std::vector<int>({1, 1, 1}));
}

TEST(ExactSolverTest, NeverWorseThanGreedy) {
  // Across random graphs the solver is never worse than greedy, and strictly
  // better on some.
  int strictlyBetter = 0;
  for (unsigned seed = 0; seed < 200; ++seed) {
    SCOPED_TRACE("seed " + std::to_string(seed));
    Random random(seed);
    Model model = residualChain(random);
    CostGraph::Solution solution = model.build().solve();
    double greedyCost = model.evaluate(model.greedy());
    EXPECT_LE(solution.cost, greedyCost + 1e-9);
    if (solution.cost < greedyCost - 1e-9)
      ++strictlyBetter;
  }
  EXPECT_GT(strictlyBetter, 0);
}

TEST(ExactSolverTest, Deterministic) {
  for (unsigned seed = 0; seed < 100; ++seed) {
    SCOPED_TRACE("seed " + std::to_string(seed));
    Random random(seed);
    Model model = mixed(random);
    // Small integer costs: many exact ties.
    for (std::vector<double> &costs : model.unary)
      for (double &c : costs)
        c = std::floor(c / 4);
    for (Model::Edge &e : model.edges)
      for (double &c : e.costs)
        c = std::floor(c / 4);
    CostGraph graph = model.build();
    CostGraph::Solution first = graph.solve();
    CostGraph::Solution second = graph.solve();
    CostGraph::Solution rebuilt = model.build().solve();
    EXPECT_EQ(first.choices, second.choices);
    EXPECT_EQ(first.choices, rebuilt.choices);
    EXPECT_EQ(first.cost, second.cost);
    EXPECT_EQ(first.cost, model.bruteForce());
  }
}

TEST(ExactSolverTest, TiesGoToTheSmallestChoice) {
  Random random(7);
  Model model = cycles(random);
  for (std::vector<double> &costs : model.unary)
    std::fill(costs.begin(), costs.end(), 0.0);
  for (Model::Edge &e : model.edges)
    std::fill(e.costs.begin(), e.costs.end(), 0.0);
  CostGraph::Solution solution = model.build().solve();
  EXPECT_EQ(solution.choices, std::vector<int>(model.size(), 0));
  EXPECT_EQ(solution.cost, 0);

  CostGraph single;
  single.addVariable({3, 1, 1, 2});
  solution = single.solve();
  EXPECT_EQ(solution.choices, std::vector<int>({1}));
}

/// Checks a solution past the table limit against brute force: a valid
/// assignment, costed right, bounded below, and the minimum where it claims
/// to be.
void expectBounded(const Model &model, const CostGraph::Solution &solution) {
  ASSERT_EQ(static_cast<int>(solution.choices.size()), model.size());
  for (int v = 0; v < model.size(); ++v) {
    ASSERT_GE(solution.choices[v], 0);
    ASSERT_LT(solution.choices[v], model.choices(v));
  }
  double best = model.bruteForce();
  EXPECT_NEAR(model.evaluate(solution.choices), solution.cost, 1e-9);
  EXPECT_GE(solution.cost, best - 1e-9);
  EXPECT_LE(solution.lowerBound, best + 1e-9);
  EXPECT_LE(solution.lowerBound, solution.cost);
  if (solution.optimal) {
    EXPECT_NEAR(solution.cost, best, 1e-9);
  }
}

/// Calls `check` on graphs of every shape, until a fatal failure.
template <typename Check> void forEachGraph(Check check) {
  for (unsigned seed = 0; seed < kGraphsPerShape; ++seed) {
    SCOPED_TRACE("seed " + std::to_string(seed));
    for (Model (*generate)(Random &) :
         {residualChain, branches, cycles, mixed}) {
      Random random(seed);
      check(generate(random));
      if (testing::Test::HasFatalFailure())
        return;
    }
  }
}

TEST(ExactSolverTest, PastTheTableLimitTheBoundHolds) {
  // Tables of at most 4 entries: every graph but the sparsest is past the
  // limit. Without work to spare for conditioning, the solver keeps its
  // greedy cutset choices; with some, it improves them.
  int proven = 0, approximate = 0;
  for (double work : {0.0, 200.0})
    forEachGraph([&](const Model &model) {
      CostGraph::Solution solution = model.build().solve(4, work);
      expectBounded(model, solution);
      ++(solution.optimal ? proven : approximate);
    });
  EXPECT_GT(approximate, 0);
  EXPECT_GT(proven, 0);
}

TEST(ExactSolverTest, AffordableConditioningIsExact) {
  // Past a table limit of 4 entries, conditioning on a cutset small enough
  // to enumerate finds the minimum.
  forEachGraph([](const Model &model) {
    CostGraph::Solution solution = model.build().solve(4);
    EXPECT_TRUE(solution.optimal);
    EXPECT_EQ(solution.lowerBound, solution.cost);
    expectBounded(model, solution);
  });
}

/// A chain of `length` stages that every one of `hubs` variables also
/// reaches, as a conditioning input read by every layer does.
Model chainWithHubs(Random &random, int length, int hubs) {
  Model model;
  addVariables(model, random, length + hubs, 2, 4);
  for (int v = 0; v + 1 < length; ++v)
    addEdge(model, random, v, v + 1);
  for (int h = length; h < length + hubs; ++h)
    for (int v = 0; v < length; ++v)
      addEdge(model, random, h, v);
  return model;
}

TEST(ExactSolverTest, HubsAreConditionedOnExactly) {
  // The hubs make every table span them all: 4^3 * 4 entries at most. Past
  // a limit of 16, conditioning on the hubs is exact.
  Random random(5);
  Model model = chainWithHubs(random, 100, 3);
  CostGraph graph = model.build();
  CostGraph::Solution exact = graph.solve();
  CostGraph::Solution conditioned = graph.solve(16);
  EXPECT_TRUE(exact.optimal);
  EXPECT_TRUE(conditioned.optimal);
  EXPECT_NEAR(conditioned.cost, exact.cost, 1e-9);
  EXPECT_NEAR(graph.evaluate(conditioned.choices), conditioned.cost, 1e-9);
}

TEST(ExactSolverTest, PastTheTableLimitStillPlans) {
  // A clique of 12 variables with 6 choices: eliminating any variable needs
  // a table over the other 11, 6^11 entries, far past a limit of 1000; the
  // cutset (9 variables) has too many choices to enumerate.
  Random random(1);
  Model model;
  addVariables(model, random, 12, 6, 6);
  for (int a = 0; a < model.size(); ++a)
    for (int b = a + 1; b < model.size(); ++b)
      addEdge(model, random, a, b);
  CostGraph graph = model.build();
  CostGraph::Solution solution = graph.solve(1000);
  ASSERT_EQ(static_cast<int>(solution.choices.size()), model.size());
  EXPECT_NEAR(graph.evaluate(solution.choices), solution.cost, 1e-9);
  EXPECT_FALSE(solution.optimal);
  EXPECT_LE(solution.lowerBound, solution.cost);
  // The bound beats the sum of the cheapest entry of every cost.
  double cheapest = 0;
  for (const std::vector<double> &costs : model.unary)
    cheapest += *std::min_element(costs.begin(), costs.end());
  for (const Model::Edge &e : model.edges)
    cheapest += *std::min_element(e.costs.begin(), e.costs.end());
  EXPECT_GE(solution.lowerBound, cheapest);
  // Deterministic.
  CostGraph::Solution again = model.build().solve(1000);
  EXPECT_EQ(again.choices, solution.choices);
  EXPECT_EQ(again.cost, solution.cost);
  EXPECT_EQ(again.lowerBound, solution.lowerBound);
}

TEST(ExactSolverTest, TableLimitIsInclusive) {
  // A triangle of 3-choice variables needs one table of 3 * 3 entries: at
  // a limit of 9 it is solved exactly even with no work for conditioning.
  Random random(2);
  Model model;
  addVariables(model, random, 3, 3, 3);
  addEdge(model, random, 0, 1);
  addEdge(model, random, 1, 2);
  addEdge(model, random, 2, 0);
  CostGraph graph = model.build();
  CostGraph::Solution solution = graph.solve(9, 0);
  EXPECT_TRUE(solution.optimal);
  EXPECT_NEAR(solution.cost, model.bruteForce(), 1e-9);
  expectBounded(model, graph.solve(8, 0));
}

TEST(ExactSolverTest, LongChainMatchesChainDP) {
  constexpr int kLength = 5000;
  Random random(11);
  Model model;
  for (int v = 0; v < kLength; ++v) {
    std::vector<double> costs(random.range(2, 4));
    for (double &c : costs)
      c = random.range(0, 100);
    model.unary.push_back(std::move(costs));
  }
  for (int v = 0; v + 1 < kLength; ++v) {
    std::vector<double> costs(model.choices(v) * model.choices(v + 1));
    for (double &c : costs)
      c = random.range(0, 100);
    // Alternate orientations; the DP below reads them either way.
    if (v % 2)
      model.edges.push_back({v, v + 1, std::move(costs)});
    else
      model.edges.push_back({v + 1, v, std::move(costs)});
  }

  // best[x]: the cheapest prefix ending with choice x.
  std::vector<double> best = model.unary[0];
  for (int v = 1; v < kLength; ++v) {
    const Model::Edge &e = model.edges[v - 1];
    std::vector<double> next(model.choices(v));
    for (int x = 0; x < model.choices(v); ++x) {
      double cheapest = std::numeric_limits<double>::infinity();
      for (int y = 0; y < model.choices(v - 1); ++y) {
        double edge =
            e.a == v ? model.edgeCost(e, x, y) : model.edgeCost(e, y, x);
        cheapest = std::min(cheapest, best[y] + edge);
      }
      next[x] = cheapest + model.unary[v][x];
    }
    best = std::move(next);
  }
  double optimum = *std::min_element(best.begin(), best.end());

  CostGraph graph = model.build();
  auto start = std::chrono::steady_clock::now();
  CostGraph::Solution solution = graph.solve();
  double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start)
          .count();
  // Integer costs: the sums are exact.
  EXPECT_EQ(solution.cost, optimum);
  EXPECT_EQ(model.evaluate(solution.choices), optimum);
  EXPECT_LT(seconds, 20.0);
}

} // namespace
