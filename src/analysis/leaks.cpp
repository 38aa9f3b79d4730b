#include "coresift/analysis/leaks.hpp"

#include <algorithm>

namespace coresift {

const char* leak_kind_name(LeakKind k) {
  switch (k) {
    case LeakKind::kStatic: return "static";
    case LeakKind::kStack: return "stack";
    case LeakKind::kRegister: return "register";
    case LeakKind::kAnon: return "anon";
    case LeakKind::kHeap: return "heap";
    case LeakKind::kPossible: return "possible";
    case LeakKind::kIndirect: return "indirect";
    case LeakKind::kDefinite: return "definite";
  }
  return "?";
}

namespace {

constexpr uint8_t kUnseen = 0xff;

// Breadth-first walk from `queue`, marking unseen nodes with `mark`. Interior edges are
// followed only when `follow_interior`.
void spread(const ReferenceGraph& g, std::vector<uint8_t>& state, std::vector<uint32_t>& queue, uint8_t mark,
            bool follow_interior) {
  for (size_t qi = 0; qi < queue.size(); ++qi) {
    uint32_t n = queue[qi];
    for (uint64_t e = g.edge_start[n]; e < g.edge_start[n + 1]; ++e) {
      uint32_t t = g.edge_target[e];
      if ((t & kInteriorBit) && !follow_interior) continue;
      t &= ~kInteriorBit;
      if (state[t] != kUnseen) continue;
      state[t] = mark;
      queue.push_back(t);
    }
  }
  queue.clear();
}

}  // namespace

LeakAnalysis classify_leaks(const ReferenceGraph& g, const ChunkTable& table) {
  const size_t n = g.index.nodes();
  std::vector<uint8_t> state(n, kUnseen);
  std::vector<uint32_t> queue;

  // 1. Reachable through start pointers, labelled by the first root kind in priority order.
  for (RootKind rk : {RootKind::kStatic, RootKind::kStack, RootKind::kRegister, RootKind::kAnon})
    for (const RootRef& r : g.roots)
      if (r.kind == rk && !r.interior && state[r.node] == kUnseen) {
        state[r.node] = static_cast<uint8_t>(rk);  // RootKind values match LeakKind's first four
        queue.push_back(r.node);
      }
  // Chunks reached through other chunks are "heap"; the direct ones keep their root kind.
  spread(g, state, queue, static_cast<uint8_t>(LeakKind::kHeap), false);

  // 2. Possible: reachable once interior pointers count.
  for (const RootRef& r : g.roots)
    if (state[r.node] == kUnseen) {
      state[r.node] = static_cast<uint8_t>(LeakKind::kPossible);
      queue.push_back(r.node);
    }
  for (uint32_t i = 0; i < n; ++i)  // interior edges out of reachable chunks
    if (state[i] != kUnseen && state[i] != static_cast<uint8_t>(LeakKind::kPossible)) {
      for (uint64_t e = g.edge_start[i]; e < g.edge_start[i + 1]; ++e) {
        uint32_t t = g.edge_target[e] & ~kInteriorBit;
        if (state[t] == kUnseen) {
          state[t] = static_cast<uint8_t>(LeakKind::kPossible);
          queue.push_back(t);
        }
      }
    }
  spread(g, state, queue, static_cast<uint8_t>(LeakKind::kPossible), true);

  // 3. Unreached: the ones no other unreached chunk points at are definite; what they lead
  // to is indirect. Pure cycles get one definite member each (the lowest address).
  std::vector<uint8_t> has_leaked_parent(n, 0);
  for (uint32_t i = 0; i < n; ++i)
    if (state[i] == kUnseen)
      for (uint64_t e = g.edge_start[i]; e < g.edge_start[i + 1]; ++e) {
        uint32_t t = g.edge_target[e] & ~kInteriorBit;
        if (t != i && state[t] == kUnseen) has_leaked_parent[t] = 1;
      }
  for (uint32_t i = 0; i < n; ++i)
    if (state[i] == kUnseen && !has_leaked_parent[i]) {
      state[i] = static_cast<uint8_t>(LeakKind::kDefinite);
      queue.push_back(i);
    }
  spread(g, state, queue, static_cast<uint8_t>(LeakKind::kIndirect), true);
  for (uint32_t i = 0; i < n; ++i)
    if (state[i] == kUnseen) {
      state[i] = static_cast<uint8_t>(LeakKind::kDefinite);
      queue.push_back(i);
      spread(g, state, queue, static_cast<uint8_t>(LeakKind::kIndirect), true);
    }

  LeakAnalysis out;
  out.kind.resize(n);
  for (uint32_t i = 0; i < n; ++i) {
    LeakKind k = static_cast<LeakKind>(state[i]);
    out.kind[i] = k;
    uint64_t bytes = table.chunks[g.index.chunk_of_node(i)].size;
    LeakSummary& s = out.summary;
    switch (k) {
      case LeakKind::kDefinite: s.definite_chunks++, s.definite_bytes += bytes; break;
      case LeakKind::kIndirect: s.indirect_chunks++, s.indirect_bytes += bytes; break;
      case LeakKind::kPossible: s.possible_chunks++, s.possible_bytes += bytes; break;
      default: s.reachable_chunks++, s.reachable_bytes += bytes; break;
    }
  }
  return out;
}

}  // namespace coresift
