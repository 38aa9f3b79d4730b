// Leak classification over the reference graph, in valgrind memcheck's words:
//   definite  — no reference at all (outside other leaked chunks: see indirect)
//   indirect  — referenced only from leaked chunks
//   possible  — reachable from the roots only through interior pointers
//   reachable — by its first root kind: static, stack, register, anon; or heap when reached
//               through other chunks.
#pragma once
#include <cstdint>
#include <vector>

#include "coresift/analysis/references.hpp"

namespace coresift {

enum class LeakKind : uint8_t {
  kStatic, kStack, kRegister, kAnon, kHeap,  // reachable
  kPossible, kIndirect, kDefinite
};
const char* leak_kind_name(LeakKind k);
inline bool is_leaked(LeakKind k) { return k >= LeakKind::kPossible; }

struct LeakSummary {
  uint64_t definite_chunks = 0, definite_bytes = 0;
  uint64_t indirect_chunks = 0, indirect_bytes = 0;
  uint64_t possible_chunks = 0, possible_bytes = 0;
  uint64_t reachable_chunks = 0, reachable_bytes = 0;
};

struct LeakAnalysis {
  std::vector<LeakKind> kind;   // per node of the graph's ChunkIndex
  LeakSummary summary;
};

LeakAnalysis classify_leaks(const ReferenceGraph& g, const ChunkTable& table);

}  // namespace coresift
