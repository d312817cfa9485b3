//===- ExactSolver.cpp - Exact minimum of a pairwise cost graph -----------===//

#include "dsp/Transforms/ExactSolver.h"

#include <algorithm>
#include <cassert>
#include <limits>
#include <set>

using namespace mlir::dsp;

int CostGraph::addVariable(std::vector<double> unaryCosts) {
  assert(!unaryCosts.empty() && "a variable needs at least one choice");
  unary.push_back(std::move(unaryCosts));
  return static_cast<int>(unary.size()) - 1;
}

void CostGraph::addEdge(int a, int b, std::vector<double> costs) {
  assert(costs.size() == unary[a].size() * unary[b].size());
  edges.push_back({a, b, std::move(costs)});
}

double CostGraph::evaluate(const std::vector<int> &choices) const {
  double total = 0;
  for (int v = 0; v < numVariables(); ++v)
    total += unary[v][choices[v]];
  for (const Edge &e : edges)
    total += e.costs[choices[e.a] * numChoices(e.b) + choices[e.b]];
  return total;
}

namespace {
/// A cost table over a sorted scope of variables, row-major in scope order.
struct Table {
  std::vector<int> scope;
  std::vector<double> values;
};

/// Index of `assignment` (full, by variable) in a table over `scope`.
size_t indexOf(const std::vector<int> &scope, const std::vector<int> &sizes,
               const std::vector<int> &assignment) {
  size_t index = 0;
  for (int v : scope)
    index = index * sizes[v] + assignment[v];
  return index;
}
} // namespace

std::optional<CostGraph::Solution>
CostGraph::solve(std::string &error, uint64_t maxTableEntries) const {
  int n = numVariables();
  std::vector<int> sizes(n);
  for (int v = 0; v < n; ++v)
    sizes[v] = numChoices(v);

  std::vector<Table> tables;
  for (int v = 0; v < n; ++v)
    tables.push_back({{v}, unary[v]});
  for (const Edge &e : edges) {
    if (e.a == e.b) {
      Table t{{e.a}, std::vector<double>(sizes[e.a])};
      for (int i = 0; i < sizes[e.a]; ++i)
        t.values[i] = e.costs[i * sizes[e.a] + i];
      tables.push_back(std::move(t));
      continue;
    }
    int lo = std::min(e.a, e.b), hi = std::max(e.a, e.b);
    Table t{{lo, hi}, std::vector<double>(sizes[lo] * sizes[hi])};
    for (int i = 0; i < sizes[e.a]; ++i)
      for (int j = 0; j < sizes[e.b]; ++j) {
        int x = e.a == lo ? i : j, y = e.a == lo ? j : i;
        t.values[x * sizes[hi] + y] = e.costs[i * sizes[e.b] + j];
      }
    tables.push_back(std::move(t));
  }

  // Neighbourhoods for the min-fill order.
  std::vector<std::set<int>> neighbours(n);
  for (const Edge &e : edges)
    if (e.a != e.b) {
      neighbours[e.a].insert(e.b);
      neighbours[e.b].insert(e.a);
    }
  std::vector<bool> eliminated(n, false);

  struct Step {
    int variable;
    std::vector<int> scope;  // the other variables of the combined table
    std::vector<int> argmin; // best choice of `variable` per scope entry
  };
  std::vector<Step> steps;
  std::vector<bool> tableAlive(tables.size(), true);

  for (int round = 0; round < n; ++round) {
    // Min-fill, ties to min degree, then to the smallest index.
    int best = -1;
    size_t bestFill = 0, bestDegree = 0;
    for (int v = 0; v < n; ++v) {
      if (eliminated[v])
        continue;
      size_t fill = 0;
      for (int a : neighbours[v])
        for (int b : neighbours[v])
          if (a < b && !neighbours[a].count(b))
            ++fill;
      size_t degree = neighbours[v].size();
      if (best < 0 || fill < bestFill ||
          (fill == bestFill && degree < bestDegree)) {
        best = v;
        bestFill = fill;
        bestDegree = degree;
      }
    }
    int v = best;
    eliminated[v] = true;

    std::set<int> scopeSet;
    std::vector<size_t> involved;
    for (size_t t = 0; t < tables.size(); ++t) {
      if (!tableAlive[t] ||
          !std::count(tables[t].scope.begin(), tables[t].scope.end(), v))
        continue;
      involved.push_back(t);
      for (int u : tables[t].scope)
        if (u != v)
          scopeSet.insert(u);
    }
    std::vector<int> scope(scopeSet.begin(), scopeSet.end());
    uint64_t entries = 1;
    for (int u : scope) {
      entries *= sizes[u];
      if (entries > maxTableEntries) {
        error = "the cost graph is too entangled for the exact solver: "
                "eliminating a variable needs a table of more than " +
                std::to_string(maxTableEntries) + " entries";
        return std::nullopt;
      }
    }

    Table combined{scope, std::vector<double>(entries)};
    std::vector<int> argmin(entries);
    std::vector<int> assignment(n, 0);
    for (uint64_t index = 0; index < entries; ++index) {
      // Decode `index` into the scope's assignment.
      uint64_t rest = index;
      for (int k = static_cast<int>(scope.size()) - 1; k >= 0; --k) {
        assignment[scope[k]] = static_cast<int>(rest % sizes[scope[k]]);
        rest /= sizes[scope[k]];
      }
      double bestCost = std::numeric_limits<double>::infinity();
      int bestChoice = 0;
      for (int x = 0; x < sizes[v]; ++x) {
        assignment[v] = x;
        double cost = 0;
        for (size_t t : involved)
          cost += tables[t].values[indexOf(tables[t].scope, sizes, assignment)];
        if (cost < bestCost) {
          bestCost = cost;
          bestChoice = x;
        }
      }
      combined.values[index] = bestCost;
      argmin[index] = bestChoice;
    }
    for (size_t t : involved)
      tableAlive[t] = false;
    tables.push_back(std::move(combined));
    tableAlive.push_back(true);
    steps.push_back({v, scope, std::move(argmin)});

    for (int a : neighbours[v]) {
      neighbours[a].erase(v);
      for (int b : neighbours[v])
        if (a != b)
          neighbours[a].insert(b);
    }
    neighbours[v].clear();
  }

  // Every remaining table has an empty scope: their sum is the minimum.
  Solution solution;
  solution.choices.assign(n, 0);
  for (auto it = steps.rbegin(); it != steps.rend(); ++it)
    solution.choices[it->variable] =
        it->argmin[indexOf(it->scope, sizes, solution.choices)];
  solution.cost = evaluate(solution.choices);
  return solution;
}
