//===- ExactSolver.cpp - Minimum of a pairwise cost graph -----------------===//

#include "dsp/Transforms/ExactSolver.h"

#include <algorithm>
#include <cassert>
#include <cmath>
#include <limits>
#include <optional>
#include <set>
#include <tuple>

using namespace mlir::dsp;

/// `cost` rounded to a multiple of 2^-40 (about a picosecond): sums of such
/// costs up to 2^13 are exact in a double, so that plans of equal cost tie
/// exactly, whatever the order they are summed in, and the tie-break by
/// choice index treats alike blocks alike. (Scaling by powers of two is
/// exact: the products are ldexp's, at a fraction of its price.)
static double quantized(double cost) {
  return std::isfinite(cost) ? std::nearbyint(cost * 0x1p40) * 0x1p-40 : cost;
}

int CostGraph::addVariable(std::vector<double> unaryCosts) {
  assert(!unaryCosts.empty() && "a variable needs at least one choice");
  for (double &cost : unaryCosts)
    cost = quantized(cost);
  unary.push_back(std::move(unaryCosts));
  return static_cast<int>(unary.size()) - 1;
}

void CostGraph::addEdge(int a, int b, std::vector<double> costs) {
  assert(costs.size() == unary[a].size() * unary[b].size());
  for (double &cost : costs)
    cost = quantized(cost);
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
constexpr int kFree = -1;

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

/// The entries of a table over `scope`, or `limit + 1` once past `limit`.
uint64_t entriesOf(const std::vector<int> &scope, const std::vector<int> &sizes,
                   uint64_t limit) {
  uint64_t entries = 1;
  for (int u : scope) {
    entries *= sizes[u];
    if (entries > limit)
      return limit + 1;
  }
  return entries;
}
} // namespace

struct CostGraph::Order {
  std::vector<int> variables;
  /// Entries of the largest table, saturated just past the limit the order
  /// was measured against.
  uint64_t widestEntries = 0;
  /// The variables of the largest table and the one it eliminates.
  std::vector<int> widestScope;
  /// Table cells computed in all (entries times choices per step).
  double work = 0;
};

CostGraph::Order CostGraph::eliminationOrder(const std::vector<int> &fixed,
                                             uint64_t limit) const {
  int n = numVariables();
  std::vector<int> sizes(n);
  for (int v = 0; v < n; ++v)
    sizes[v] = numChoices(v);
  std::vector<std::set<int>> neighbours(n);
  for (const Edge &e : edges)
    if (e.a != e.b && fixed[e.a] == kFree && fixed[e.b] == kFree) {
      neighbours[e.a].insert(e.b);
      neighbours[e.b].insert(e.a);
    }

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
  std::set<Key> queue;
  for (int v = 0; v < n; ++v)
    if (fixed[v] == kFree) {
      keys[v] = {fillOf(v), neighbours[v].size(), v};
      queue.insert(keys[v]);
    }

  Order order;
  while (!queue.empty()) {
    int v = std::get<2>(*queue.begin());
    queue.erase(queue.begin());
    order.variables.push_back(v);

    // The table eliminating v spans its neighbours.
    std::vector<int> scope(neighbours[v].begin(), neighbours[v].end());
    uint64_t entries = entriesOf(scope, sizes, limit);
    order.work += double(entries) * sizes[v];
    if (entries > order.widestEntries || order.widestScope.empty()) {
      order.widestEntries = entries;
      order.widestScope = scope;
      order.widestScope.push_back(v);
    }

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
      queue.erase(keys[u]);
      keys[u] = {fillOf(u), neighbours[u].size(), u};
      queue.insert(keys[u]);
    }
  }
  return order;
}

CostGraph::Solution CostGraph::eliminate(const std::vector<int> &fixed,
                                         const Order &order,
                                         uint64_t maxTableEntries) const {
  int n = numVariables();
  std::vector<int> sizes(n);
  for (int v = 0; v < n; ++v)
    sizes[v] = numChoices(v);
  auto isFree = [&](int v) { return fixed[v] == kFree; };

  // The tables of the free variables; the costs among fixed ones add up to
  // a constant.
  double constant = 0;
  std::vector<Table> tables;
  for (int v = 0; v < n; ++v) {
    if (isFree(v))
      tables.push_back({{v}, unary[v]});
    else
      constant += unary[v][fixed[v]];
  }
  for (const Edge &e : edges) {
    auto cost = [&](int i, int j) { return e.costs[i * sizes[e.b] + j]; };
    if (!isFree(e.a) && !isFree(e.b)) {
      constant += cost(fixed[e.a], fixed[e.b]);
      continue;
    }
    if (e.a == e.b) {
      Table t{{e.a}, std::vector<double>(sizes[e.a])};
      for (int i = 0; i < sizes[e.a]; ++i)
        t.values[i] = cost(i, i);
      tables.push_back(std::move(t));
      continue;
    }
    if (!isFree(e.a) || !isFree(e.b)) {
      int free = isFree(e.a) ? e.a : e.b;
      Table t{{free}, std::vector<double>(sizes[free])};
      for (int i = 0; i < sizes[free]; ++i)
        t.values[i] = free == e.a ? cost(i, fixed[e.b]) : cost(fixed[e.a], i);
      tables.push_back(std::move(t));
      continue;
    }
    int lo = std::min(e.a, e.b), hi = std::max(e.a, e.b);
    Table t{{lo, hi}, std::vector<double>(sizes[lo] * sizes[hi])};
    for (int i = 0; i < sizes[e.a]; ++i)
      for (int j = 0; j < sizes[e.b]; ++j) {
        int x = e.a == lo ? i : j, y = e.a == lo ? j : i;
        t.values[x * sizes[hi] + y] = cost(i, j);
      }
    tables.push_back(std::move(t));
  }
  std::vector<std::vector<size_t>> tablesOf(n);
  for (size_t t = 0; t < tables.size(); ++t)
    for (int u : tables[t].scope)
      tablesOf[u].push_back(t);

  // Each step keeps the tables it combined: reading them back gives the
  // best choice of its variable once the later ones are chosen.
  struct Step {
    int variable;
    std::vector<size_t> involved;
  };
  std::vector<Step> steps;
  std::vector<bool> tableAlive(tables.size(), true);
  bool split = false;

  for (int v : order.variables) {
    std::vector<size_t> involved;
    for (size_t t : tablesOf[v])
      if (tableAlive[t])
        involved.push_back(t);

    // One bucket of all the tables when its table fits; otherwise
    // mini-buckets that do (the largest tables placed first), whose
    // separate minima add up to a lower bound.
    auto scopeOf = [&](const std::vector<size_t> &bucket) {
      std::set<int> scope;
      for (size_t t : bucket)
        for (int u : tables[t].scope)
          if (u != v)
            scope.insert(u);
      return std::vector<int>(scope.begin(), scope.end());
    };
    std::vector<std::vector<size_t>> buckets;
    if (entriesOf(scopeOf(involved), sizes, maxTableEntries) <=
        maxTableEntries) {
      buckets.push_back(involved);
    } else {
      split = true;
      std::vector<size_t> bySize = involved;
      std::stable_sort(bySize.begin(), bySize.end(), [&](size_t a, size_t b) {
        return tables[a].scope.size() > tables[b].scope.size();
      });
      for (size_t t : bySize) {
        auto fits = [&](std::vector<size_t> &bucket) {
          bucket.push_back(t);
          if (entriesOf(scopeOf(bucket), sizes, maxTableEntries) <=
              maxTableEntries)
            return true;
          bucket.pop_back();
          return false;
        };
        if (std::none_of(buckets.begin(), buckets.end(), fits))
          buckets.push_back({t});
      }
    }

    for (const std::vector<size_t> &bucket : buckets) {
      std::vector<int> scope = scopeOf(bucket);
      uint64_t entries = entriesOf(scope, sizes, maxTableEntries);
      Table combined{scope, std::vector<double>(entries)};
      // Where each table of the bucket reads: the stride of each variable
      // of the scope in it (0 where it has none), and that of v.
      std::vector<std::vector<size_t>> strides(bucket.size());
      std::vector<size_t> strideOfV(bucket.size(), 0);
      for (size_t b = 0; b < bucket.size(); ++b) {
        const std::vector<int> &tableScope = tables[bucket[b]].scope;
        strides[b].assign(scope.size(), 0);
        size_t stride = 1;
        for (int k = static_cast<int>(tableScope.size()) - 1; k >= 0; --k) {
          int u = tableScope[k];
          if (u == v)
            strideOfV[b] = stride;
          else
            strides[b][std::lower_bound(scope.begin(), scope.end(), u) -
                       scope.begin()] = stride;
          stride *= sizes[u];
        }
      }
      std::vector<size_t> bases(bucket.size());
      for (uint64_t index = 0; index < entries; ++index) {
        // Decode `index` into the scope's assignment, and each table's
        // entry for it with v at 0.
        std::fill(bases.begin(), bases.end(), 0);
        uint64_t rest = index;
        for (int k = static_cast<int>(scope.size()) - 1; k >= 0; --k) {
          size_t choice = rest % sizes[scope[k]];
          rest /= sizes[scope[k]];
          for (size_t b = 0; b < bucket.size(); ++b)
            bases[b] += choice * strides[b][k];
        }
        double bestCost = std::numeric_limits<double>::infinity();
        for (int x = 0; x < sizes[v]; ++x) {
          double cost = 0;
          for (size_t b = 0; b < bucket.size(); ++b)
            cost += tables[bucket[b]].values[bases[b] + x * strideOfV[b]];
          bestCost = std::min(bestCost, cost);
        }
        combined.values[index] = bestCost;
      }
      for (int u : scope)
        tablesOf[u].push_back(tables.size());
      tables.push_back(std::move(combined));
      tableAlive.push_back(true);
    }
    for (size_t t : involved)
      tableAlive[t] = false;
    steps.push_back({v, std::move(involved)});
  }

  // Every remaining table has an empty scope: with the constant, their sum
  // is the minimum (or, after a split, a lower bound on it).
  Solution solution;
  solution.lowerBound = constant;
  for (size_t t = 0; t < tables.size(); ++t)
    if (tableAlive[t])
      solution.lowerBound += tables[t].values.front();
  solution.choices.assign(n, 0);
  for (int v = 0; v < n; ++v)
    if (!isFree(v))
      solution.choices[v] = fixed[v];
  for (auto it = steps.rbegin(); it != steps.rend(); ++it) {
    int v = it->variable;
    double bestCost = std::numeric_limits<double>::infinity();
    int bestChoice = 0;
    for (int x = 0; x < sizes[v]; ++x) {
      solution.choices[v] = x;
      double cost = 0;
      for (size_t t : it->involved)
        cost +=
            tables[t].values[indexOf(tables[t].scope, sizes, solution.choices)];
      if (cost < bestCost) {
        bestCost = cost;
        bestChoice = x;
      }
    }
    solution.choices[v] = bestChoice;
  }
  solution.cost = evaluate(solution.choices);
  solution.optimal = !split;
  if (solution.optimal)
    solution.lowerBound = solution.cost;
  solution.lowerBound = std::min(solution.lowerBound, solution.cost);
  return solution;
}

CostGraph::Solution
CostGraph::solveSecondBest(const Solution &best, uint64_t maxTableEntries,
                           double maxConditioningWork) const {
  std::optional<Solution> second;
  for (int v = 0; v < numVariables(); ++v) {
    if (numChoices(v) < 2)
      continue;
    CostGraph excluded = *this;
    excluded.unary[v][best.choices[v]] =
        std::numeric_limits<double>::infinity();
    Solution candidate = excluded.solve(maxTableEntries, maxConditioningWork);
    if (std::isfinite(candidate.cost) &&
        (!second || candidate.cost < second->cost))
      second = std::move(candidate);
  }
  return second ? *second : best;
}

CostGraph::Solution CostGraph::solve(uint64_t maxTableEntries,
                                     double maxConditioningWork,
                                     double maxEliminationWork) const {
  std::vector<int> fixed(numVariables(), kFree);
  Order order = eliminationOrder(fixed, maxTableEntries);
  auto affordable = [&] {
    return order.widestEntries <= maxTableEntries &&
           order.work <= maxEliminationWork;
  };
  if (affordable())
    return eliminate(fixed, order, maxTableEntries);
  // A variable with one choice has it: fixed, its edges leave the graph
  // and no longer tie its neighbours together.
  for (int v = 0; v < numVariables(); ++v)
    if (numChoices(v) == 1)
      fixed[v] = 0;
  order = eliminationOrder(fixed, maxTableEntries);
  if (affordable())
    return eliminate(fixed, order, maxTableEntries);
  return solveByConditioning(std::move(fixed), maxTableEntries,
                             maxConditioningWork);
}

struct CostGraph::Cutset {
  std::vector<int> variables;
  /// The order of the variables left free, which fits the limit.
  Order order;
  /// The assignments of the cutset.
  double combinations = 1;
};

CostGraph::Cutset CostGraph::cutsetFor(std::vector<int> fixed,
                                       uint64_t limit) const {
  // From the widest table of each order, the variable with the most free
  // neighbours (ties to more choices, then the smallest index), until the
  // order fits.
  Cutset cutset;
  cutset.order = eliminationOrder(fixed, limit);
  while (cutset.order.widestEntries > limit) {
    std::vector<int> degree(numVariables(), 0);
    for (const Edge &e : edges)
      if (e.a != e.b && fixed[e.a] == kFree && fixed[e.b] == kFree) {
        ++degree[e.a];
        ++degree[e.b];
      }
    const std::vector<int> &scope = cutset.order.widestScope;
    int pick = *std::min_element(scope.begin(), scope.end(), [&](int a, int b) {
      return std::make_tuple(-degree[a], -numChoices(a), a) <
             std::make_tuple(-degree[b], -numChoices(b), b);
    });
    cutset.variables.push_back(pick);
    cutset.combinations *= numChoices(pick);
    fixed[pick] = 0;
    cutset.order = eliminationOrder(fixed, limit);
  }
  return cutset;
}

CostGraph::Solution
CostGraph::solveByConditioning(std::vector<int> fixed, uint64_t maxTableEntries,
                               double maxConditioningWork) const {
  // The lower bound, and a first choice for every variable: mini-bucket
  // elimination with small tables (larger ones tighten the bound little
  // and cost much more).
  uint64_t boundEntries = std::min<uint64_t>(maxTableEntries, 1u << 16);
  Solution relaxed =
      eliminate(fixed, eliminationOrder(fixed, boundEntries), boundEntries);

  // Cutsets for table limits from the given one down by factors of 16:
  // more variables to condition on, each elimination cheaper.
  std::vector<Cutset> cutsets;
  for (uint64_t limit = maxTableEntries;; limit /= 16) {
    cutsets.push_back(cutsetFor(fixed, limit));
    if (limit / 16 < 256)
      break;
  }
  auto totalWork = [](const Cutset &c) {
    return c.combinations * c.order.work;
  };
  const Cutset &cheapest = *std::min_element(
      cutsets.begin(), cutsets.end(), [&](const Cutset &a, const Cutset &b) {
        return totalWork(a) < totalWork(b);
      });

  // Every assignment of the cutset, when affordable: the exact minimum.
  if (totalWork(cheapest) <= maxConditioningWork) {
    const std::vector<int> &cutset = cheapest.variables;
    for (int v : cutset)
      fixed[v] = 0;
    Solution best = eliminate(fixed, cheapest.order, maxTableEntries);
    while (true) {
      size_t k = 0;
      while (k < cutset.size() && ++fixed[cutset[k]] == numChoices(cutset[k]))
        fixed[cutset[k++]] = 0;
      if (k == cutset.size())
        return best;
      Solution candidate = eliminate(fixed, cheapest.order, maxTableEntries);
      if (candidate.cost < best.cost)
        best = std::move(candidate);
    }
  }

  // Otherwise, from the relaxed choices, large moves while the work
  // allows: fix the variables of one cutset as the best assignment has
  // them, or with one of them changed, and take the exact minimum over the
  // rest if it is lower. Alternating between the cutsets of the limits
  // whose elimination takes at most a sixteenth of the work (or the
  // smallest) frees each time the variables the others fix.
  std::vector<const Cutset *> affordable;
  for (const Cutset &c : cutsets)
    if (c.order.work * 16 <= maxConditioningWork)
      affordable.push_back(&c);
  if (affordable.empty())
    affordable.push_back(&cutsets.back());
  Solution best = relaxed;
  double work = 0;
  for (bool improved = true; improved;) {
    improved = false;
    for (const Cutset *c : affordable) {
      std::vector<int> chosen(fixed);
      for (int v : c->variables)
        chosen[v] = best.choices[v];
      auto tryMove = [&](int v, int x) {
        if (work > 0 && work + c->order.work > maxConditioningWork)
          return;
        work += c->order.work;
        std::vector<int> moved(chosen);
        if (v >= 0)
          moved[v] = x;
        Solution candidate = eliminate(moved, c->order, maxTableEntries);
        if (candidate.cost < best.cost) {
          best = std::move(candidate);
          improved = true;
        }
      };
      tryMove(-1, 0);
      for (int v : c->variables)
        for (int x = 0; x < numChoices(v); ++x)
          if (x != chosen[v])
            tryMove(v, x);
    }
  }
  best.optimal = relaxed.lowerBound >= best.cost;
  best.lowerBound = std::min(relaxed.lowerBound, best.cost);
  return best;
}
