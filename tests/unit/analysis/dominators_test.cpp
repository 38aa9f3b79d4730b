// Semi-NCA dominators against hand-made graphs with known dominators, and against a naive
// definition (d dominates w iff w is unreachable from the root once d is removed) on random
// graphs.
#include <catch2/catch.hpp>

#include <random>

#include "coresift/analysis/dominators.hpp"

using coresift::compute_dominators;
using coresift::kNoNode;

namespace {

struct AdjacencyGraph {
  uint32_t root_node = 0;
  std::vector<std::vector<uint32_t>> adj;
  bool released = false;
  uint32_t nodes() const { return static_cast<uint32_t>(adj.size()); }
  uint32_t root() const { return root_node; }
  std::span<uint32_t> successors(uint32_t v) { return adj[v]; }
  void release_successors() { released = true; }
};

// idom per node (kNoNode for unreachable nodes and for the root).
std::vector<uint32_t> idoms(std::vector<std::vector<uint32_t>> adj, uint32_t root, uint32_t mask = 0xffffffffu) {
  AdjacencyGraph g{root, std::move(adj)};
  auto t = compute_dominators(g, mask);
  REQUIRE(g.released);
  std::vector<uint32_t> out(g.nodes(), kNoNode);
  REQUIRE(t.order[0] == root);
  for (uint32_t i = 1; i < t.order.size(); ++i) {
    REQUIRE(t.idom[i] < i);  // dominators come first in the order
    out[t.order[i]] = t.order[t.idom[i]];
  }
  return out;
}

std::vector<bool> reachable(const std::vector<std::vector<uint32_t>>& adj, uint32_t root, uint32_t removed) {
  std::vector<bool> seen(adj.size(), false);
  if (root == removed) return seen;
  std::vector<uint32_t> todo{root};
  seen[root] = true;
  while (!todo.empty()) {
    uint32_t v = todo.back();
    todo.pop_back();
    for (uint32_t w : adj[v])
      if (w != removed && !seen[w]) seen[w] = true, todo.push_back(w);
  }
  return seen;
}

std::vector<uint32_t> naive_idoms(const std::vector<std::vector<uint32_t>>& adj, uint32_t root) {
  const uint32_t n = static_cast<uint32_t>(adj.size());
  std::vector<bool> all = reachable(adj, root, kNoNode);
  // dom[w] = strict dominators of w
  std::vector<std::vector<uint32_t>> dom(n);
  for (uint32_t d = 0; d < n; ++d) {
    if (!all[d]) continue;
    std::vector<bool> without = reachable(adj, root, d);
    for (uint32_t w = 0; w < n; ++w)
      if (w != d && all[w] && !without[w]) dom[w].push_back(d);
  }
  // The immediate dominator is the strict dominator with the most dominators of its own.
  std::vector<uint32_t> out(n, kNoNode);
  for (uint32_t w = 0; w < n; ++w) {
    size_t best = 0;
    for (uint32_t d : dom[w])
      if (out[w] == kNoNode || dom[d].size() + 1 > best) out[w] = d, best = dom[d].size() + 1;
  }
  return out;
}

}  // namespace

TEST_CASE("dominators: diamond", "[dominators]") {
  // 0 → 1, 2; 1 → 3; 2 → 3; 3 → 4
  auto d = idoms({{1, 2}, {3}, {3}, {4}, {}}, 0);
  CHECK(d == std::vector<uint32_t>{kNoNode, 0, 0, 0, 3});
}

TEST_CASE("dominators: cycles and unreachable nodes", "[dominators]") {
  // 0 → 1 → 2 → 3 → 1 (cycle), 2 → 4; 5 → 4 and 6 ↔ 5 unreachable
  auto d = idoms({{1}, {2}, {3, 4}, {1}, {}, {4, 6}, {5}}, 0);
  CHECK(d == std::vector<uint32_t>{kNoNode, 0, 1, 2, 2, kNoNode, kNoNode});
}

TEST_CASE("dominators: the classic Lengauer–Tarjan example", "[dominators]") {
  // The flow graph of Lengauer & Tarjan (1979), R=0 A=1 B=2 C=3 D=4 E=5 F=6 G=7 H=8 I=9
  // J=10 K=11 L=12, with its published dominator tree.
  enum { R, A, B, C, D, E, F, G, H, I, J, K, L };
  std::vector<std::vector<uint32_t>> adj(13);
  adj[R] = {A, B, C};
  adj[A] = {D};
  adj[B] = {A, D, E};
  adj[C] = {F, G};
  adj[D] = {L};
  adj[E] = {H};
  adj[F] = {I};
  adj[G] = {I, J};
  adj[H] = {E, K};
  adj[I] = {K};
  adj[J] = {I};
  adj[K] = {I, R};
  adj[L] = {H};
  auto d = idoms(adj, R);
  std::vector<uint32_t> want = {kNoNode, R, R, R, R, R, C, C, R, R, G, R, D};
  CHECK(d == want);
}

TEST_CASE("dominators: flag bits in successor entries are masked", "[dominators]") {
  constexpr uint32_t bit = 0x80000000u;
  auto d = idoms({{1 | bit, 2}, {3}, {3 | bit}, {}}, 0, ~bit);
  CHECK(d == std::vector<uint32_t>{kNoNode, 0, 0, 0});
}

TEST_CASE("dominators: a long chain needs no recursion", "[dominators]") {
  const uint32_t n = 1'000'000;
  std::vector<std::vector<uint32_t>> adj(n);
  for (uint32_t i = 0; i + 1 < n; ++i) adj[i] = {i + 1};
  adj[n - 1] = {0};
  auto d = idoms(std::move(adj), 0);
  for (uint32_t i = 1; i < n; ++i) REQUIRE(d[i] == i - 1);
}

TEST_CASE("dominators: random graphs agree with the naive definition", "[dominators]") {
  std::mt19937 rng(12345);
  for (int round = 0; round < 300; ++round) {
    uint32_t n = 1 + rng() % 40;
    uint32_t edges = rng() % (3 * n + 1);
    std::vector<std::vector<uint32_t>> adj(n);
    for (uint32_t e = 0; e < edges; ++e) adj[rng() % n].push_back(rng() % n);  // self loops and duplicates too
    uint32_t root = rng() % n;
    INFO("round " << round << ", " << n << " nodes, root " << root);
    CHECK(idoms(adj, root) == naive_idoms(adj, root));
  }
}
