//===- ExactSolver.cpp - Exact minimum of a pairwise cost graph -----------===//

#include "dsp/Transforms/ExactSolver.h"

#include <algorithm>
#include <cassert>
#include <limits>
#include <set>
#include <tuple>

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

  // Neighbourhoods for the min-fill order, and the tables each variable is
  // in.
  std::vector<std::set<int>> neighbours(n);
  for (const Edge &e : edges)
    if (e.a != e.b) {
      neighbours[e.a].insert(e.b);
      neighbours[e.b].insert(e.a);
    }
  std::vector<std::vector<size_t>> tablesOf(n);
  for (size_t t = 0; t < tables.size(); ++t)
    for (int u : tables[t].scope)
      tablesOf[u].push_back(t);

  // Min-fill, ties to min degree, then to the smallest index: the order is
  // kept in a set and only the variables near an eliminated one are
  // scored again.
  auto fillOf = [&](int v) {
    size_t fill = 0;
    for (int a : neighbours[v])
      for (int b : neighbours[v])
        if (a < b && !neighbours[a].count(b))
          ++fill;
    return fill;
  };
  using Key = std::tuple<size_t, size_t, int>;
  std::vector<Key> keys(n);
  std::set<Key> order;
  for (int v = 0; v < n; ++v) {
    keys[v] = {fillOf(v), neighbours[v].size(), v};
    order.insert(keys[v]);
  }

  struct Step {
    int variable;
    std::vector<int> scope;  // the other variables of the combined table
    std::vector<int> argmin; // best choice of `variable` per scope entry
  };
  std::vector<Step> steps;
  std::vector<bool> tableAlive(tables.size(), true);

  for (int round = 0; round < n; ++round) {
    int v = std::get<2>(*order.begin());
    order.erase(order.begin());

    std::set<int> scopeSet;
    std::vector<size_t> involved;
    for (size_t t : tablesOf[v]) {
      if (!tableAlive[t])
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
    for (int u : scope)
      tablesOf[u].push_back(tables.size());
    tables.push_back(std::move(combined));
    tableAlive.push_back(true);
    steps.push_back({v, scope, std::move(argmin)});

    // v's neighbours become a clique: their scores change, and so do those
    // of the variables next to them.
    std::set<int> affected;
    for (int a : neighbours[v]) {
      neighbours[a].erase(v);
      for (int b : neighbours[v])
        if (a != b)
          neighbours[a].insert(b);
    }
    for (int a : neighbours[v]) {
      affected.insert(a);
      affected.insert(neighbours[a].begin(), neighbours[a].end());
    }
    neighbours[v].clear();
    for (int u : affected) {
      order.erase(keys[u]);
      keys[u] = {fillOf(u), neighbours[u].size(), u};
      order.insert(keys[u]);
    }
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
