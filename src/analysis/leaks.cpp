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

// Node states while classifying: a LeakKind once decided, else one of these two. The
// "has a leaked parent" mark of step 3 lives in the same byte, so no second array is needed.
constexpr uint8_t kUnseen = 0xff;
constexpr uint8_t kUnseenWithLeakedParent = 0xfe;
inline bool unseen(uint8_t s) { return s >= kUnseenWithLeakedParent; }

// A FIFO of nodes. Every node is queued at most once per walk, so a buffer of one slot per
// node never overflows; it is only address space until used, and it never copies on growth.
struct NodeQueue {
  LazyArray<uint32_t> slots;
  size_t head = 0, tail = 0;
  explicit NodeQueue(size_t nodes) : slots(nodes) {}
  void push(uint32_t n) { slots[tail++] = n; }
};

// Breadth-first walk from the queued nodes, marking unseen nodes with `mark`. Interior edges
// are followed only when `follow_interior`.
void spread(const ReferenceGraph& g, uint8_t* state, NodeQueue& q, uint8_t mark, bool follow_interior) {
  const uint32_t* targets = g.edge_target.data();
  while (q.head < q.tail) {
    uint32_t n = q.slots[q.head++];
    for (uint64_t e = g.edge_start[n]; e < g.edge_start[n + 1]; ++e) {
      uint32_t t = targets[e];
      if ((t & kInteriorBit) && !follow_interior) continue;
      t &= ~kInteriorBit;
      if (!unseen(state[t])) continue;
      state[t] = mark;
      q.push(t);
    }
  }
  q.head = q.tail = 0;
}

}  // namespace

LeakAnalysis classify_leaks(const ReferenceGraph& g, const ChunkTable& table) {
  const size_t n = g.index.nodes();
  LeakAnalysis out;
  // The result array doubles as the working state (LeakKind values fit in a byte).
  out.kind.assign(n, static_cast<LeakKind>(kUnseen));
  uint8_t* state = reinterpret_cast<uint8_t*>(out.kind.data());
  const uint32_t* targets = g.edge_target.data();
  NodeQueue queue(n);

  // 1. Reachable through start pointers, labelled by the first root kind in priority order.
  // The allocator's own chunks (jemalloc's thread-cache stacks) are held by a pointer into
  // them (cache_bin avail / stack_head): for those an interior root is as firm as a start one.
  auto bookkeeping = [&](uint32_t node) { return (table.chunks[g.index.chunk_of_node(node)].flags & kChunkFlagBookkeeping) != 0; };
  for (RootKind rk : {RootKind::kStatic, RootKind::kStack, RootKind::kRegister, RootKind::kAnon})
    for (const RootRef& r : g.roots)
      if (r.kind == rk && (!r.interior || bookkeeping(r.node)) && unseen(state[r.node])) {
        state[r.node] = static_cast<uint8_t>(rk);  // RootKind values match LeakKind's first four
        queue.push(r.node);
      }
  // Chunks reached through other chunks are "heap"; the direct ones keep their root kind.
  spread(g, state, queue, static_cast<uint8_t>(LeakKind::kHeap), false);

  // 2. Possible: reachable once interior pointers count.
  for (const RootRef& r : g.roots)
    if (unseen(state[r.node])) {
      state[r.node] = static_cast<uint8_t>(LeakKind::kPossible);
      queue.push(r.node);
    }
  for (uint32_t i = 0; i < n; ++i)  // interior edges out of reachable chunks
    if (!unseen(state[i]) && state[i] != static_cast<uint8_t>(LeakKind::kPossible)) {
      for (uint64_t e = g.edge_start[i]; e < g.edge_start[i + 1]; ++e) {
        uint32_t t = targets[e] & ~kInteriorBit;
        if (unseen(state[t])) {
          state[t] = static_cast<uint8_t>(LeakKind::kPossible);
          queue.push(t);
        }
      }
    }
  spread(g, state, queue, static_cast<uint8_t>(LeakKind::kPossible), true);

  // 3. Unreached: the ones no other unreached chunk points at are definite; what they lead
  // to is indirect. Pure cycles get one definite member each (the lowest address).
  for (uint32_t i = 0; i < n; ++i)
    if (unseen(state[i]))
      for (uint64_t e = g.edge_start[i]; e < g.edge_start[i + 1]; ++e) {
        uint32_t t = targets[e] & ~kInteriorBit;
        if (t != i && unseen(state[t])) state[t] = kUnseenWithLeakedParent;
      }
  for (uint32_t i = 0; i < n; ++i)
    if (state[i] == kUnseen) {
      state[i] = static_cast<uint8_t>(LeakKind::kDefinite);
      queue.push(i);
    }
  spread(g, state, queue, static_cast<uint8_t>(LeakKind::kIndirect), true);
  for (uint32_t i = 0; i < n; ++i)
    if (unseen(state[i])) {
      state[i] = static_cast<uint8_t>(LeakKind::kDefinite);
      queue.push(i);
      spread(g, state, queue, static_cast<uint8_t>(LeakKind::kIndirect), true);
    }

  LeakSummary& s = out.summary;
  for (uint32_t i = 0; i < n; ++i) {
    uint64_t bytes = g.index.node_size(i);
    switch (out.kind[i]) {
      case LeakKind::kDefinite: s.definite_chunks++, s.definite_bytes += bytes; break;
      case LeakKind::kIndirect: s.indirect_chunks++, s.indirect_bytes += bytes; break;
      case LeakKind::kPossible: s.possible_chunks++, s.possible_bytes += bytes; break;
      default: s.reachable_chunks++, s.reachable_bytes += bytes; break;
    }
  }
  return out;
}

}  // namespace coresift
