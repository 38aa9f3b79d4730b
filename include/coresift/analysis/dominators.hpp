// Dominator tree of a flow graph: Semi-NCA (Georgiadis & Tarjan; the variant LLVM uses),
// fully iterative, because reference graphs have millions of nodes and chains (linked
// lists) as deep as the heap is long.
//
// Memory is the constraint on a 10 M-node heap, so the algorithm works in preorder numbers
// and consumes its input: successor lists are rewritten in place to preorder numbers, turned
// into a predecessor CSR, and then released (Graph::release_successors) before the arrays
// of the semidominator pass are allocated.
#pragma once
#include <algorithm>
#include <cstdint>
#include <span>
#include <vector>

namespace coresift {

constexpr uint32_t kNoNode = 0xffffffffu;

struct DominatorTree {
  // Preorder number → node, for the nodes reachable from the root (order[0] is the root).
  // Every node comes after its immediate dominator, so one forward pass goes top-down and
  // one backward pass bottom-up.
  std::vector<uint32_t> order;
  // Preorder number → preorder number of the immediate dominator (idom[0] = 0).
  std::vector<uint32_t> idom;
};

// Graph needs: uint32_t nodes(); uint32_t root(); std::span<uint32_t> successors(uint32_t v)
// (entries masked with `target_mask` are node ids; writable: they are overwritten); and
// void release_successors(), called once the successors are no longer needed.
template <typename Graph>
DominatorTree compute_dominators(Graph& g, uint32_t target_mask = 0xffffffffu) {
  DominatorTree t;
  const uint32_t n = g.nodes();
  std::vector<uint32_t> parent;  // DFS tree parent (preorder numbers); later the forest links

  // 1. Depth-first preorder with an explicit path stack (node, next successor).
  std::vector<uint32_t> pred_start;
  {
    std::vector<uint32_t> pre(n, kNoNode);
    t.order.reserve(n);  // untouched capacity costs address space only
    parent.reserve(n);
    struct Step {
      uint32_t node, next;
    };
    std::vector<Step> path;
    auto enter = [&](uint32_t v, uint32_t from) {
      pre[v] = static_cast<uint32_t>(t.order.size());
      t.order.push_back(v);
      parent.push_back(from);
      path.push_back({v, 0});
    };
    enter(g.root(), 0);
    while (!path.empty()) {
      const uint32_t v = path.back().node;
      std::span<uint32_t> succ = g.successors(v);
      uint32_t i = path.back().next;
      while (i < succ.size() && pre[succ[i] & target_mask] != kNoNode) ++i;
      if (i == succ.size()) {
        path.pop_back();
        continue;
      }
      path.back().next = i + 1;
      enter(succ[i] & target_mask, pre[v]);
    }

    // 2. Successors → preorder numbers, counted per target (shifted by two: see below).
    const size_t m = t.order.size();
    pred_start.assign(m + 2, 0);
    for (uint32_t v = 0; v < m; ++v)
      for (uint32_t& x : g.successors(t.order[v])) {
        x = pre[x & target_mask];  // a successor of a reached node is reached
        pred_start[x + 2]++;
      }
  }
  const uint32_t m = static_cast<uint32_t>(t.order.size());
  for (uint32_t i = 2; i < m + 2; ++i) pred_start[i] += pred_start[i - 1];
  // pred_start[w + 1] is now where w's predecessors start; filling advances it to their end,
  // which leaves pred_start[w] .. pred_start[w + 1] as w's range.
  std::vector<uint32_t> preds(pred_start[m + 1]);
  for (uint32_t v = 0; v < m; ++v)
    for (uint32_t x : g.successors(t.order[v])) preds[pred_start[x + 1]++] = v;
  g.release_successors();

  // 3. Semidominators in reverse preorder. `parent` doubles as the path-compressed forest:
  // a node w' > w has been linked, the others are roots of their own trees. best[v] is the
  // smallest semidominator on v's compressed path (Lengauer–Tarjan's semi[label[v]]), which
  // saves the label array; w's final semidominator goes to pred_start[w + 1], whose only
  // reader was w's own predecessor range.
  t.idom = parent;
  std::vector<uint32_t> best(m), stack;
  for (uint32_t i = 0; i < m; ++i) best[i] = i;
  auto eval = [&](uint32_t v, uint32_t last_linked) {
    if (parent[v] < last_linked) return best[v];
    uint32_t x = v;
    do {
      stack.push_back(x);
      x = parent[x];
    } while (parent[x] >= last_linked);
    uint32_t p = x, p_best = best[x];
    while (!stack.empty()) {
      uint32_t y = stack.back();
      stack.pop_back();
      parent[y] = parent[p];
      if (p_best < best[y]) best[y] = p_best;
      else p_best = best[y];
      p = y;
    }
    return best[v];
  };
  for (uint32_t w = m; w-- > 1;) {
    uint32_t s = t.idom[w];  // the tree parent is a predecessor
    for (uint32_t k = pred_start[w]; k < pred_start[w + 1]; ++k) s = std::min(s, eval(preds[k], w + 1));
    best[w] = s;
    pred_start[w + 1] = s;
  }
  std::vector<uint32_t>().swap(preds);
  std::vector<uint32_t>().swap(best);
  std::vector<uint32_t>().swap(parent);
  // 4. idom(w) = nearest common ancestor of its tree parent and its semidominator.
  for (uint32_t w = 1; w < m; ++w) {
    uint32_t c = t.idom[w];
    while (c > pred_start[w + 1]) c = t.idom[c];
    t.idom[w] = c;
  }
  return t;
}

}  // namespace coresift
