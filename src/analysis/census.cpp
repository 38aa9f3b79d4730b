#include "coresift/analysis/census.hpp"

#include <fmt/format.h>

#include "coresift/analysis/owners.hpp"

namespace coresift {

Census take_census(const HeapModel& heap) {
  const ChunkTable& t = heap.table();
  OwnerAnalysis a = analyze_owners(
      heap, OwnerOptions{.top_signatures = 0, .per_chunk = true, .per_chunk_signatures = true, .per_chunk_leaks = true});
  Census c;
  c.leak_summary = a.leak_summary;
  static const std::string kUnknown = "unknown", kNoSignature = "(none)";
  for (size_t row = 0; row < t.chunks.size(); ++row) {
    const Chunk& ch = t.chunks[row];
    if (ch.state == ChunkState::kFree) continue;
    uint16_t packed = a.chunk_owner[row];
    uint32_t sig = a.chunk_signature[row];
    const std::string& owner = packed == kNoOwner ? kUnknown : a.owners[OwnerAnalysis::owner_index(packed)].name;
    const std::string& signature = sig < a.signature_names.size() ? a.signature_names[sig] : kNoSignature;
    c.live.add({owner, signature, ch.size}, ch.address, ch.size);
    if (is_leaked(a.chunk_leak[row])) c.leaks.add({leak_kind_name(a.chunk_leak[row]), signature, ch.size}, ch.address, ch.size);
  }
  // The n-th arena of its kind (1-based), or jemalloc's own index; a kind with one arena
  // ("glibc main") has no number.
  std::map<std::string, int> of_kind, seen;
  auto base_of = [&](const ArenaInfo& ar) { return fmt::format("{} {}", t.allocators[ar.allocator].name, ar.kind); };
  for (const ArenaInfo& ar : t.arenas) of_kind[base_of(ar)]++;
  for (const ArenaInfo& ar : t.arenas) {
    std::string base = base_of(ar);
    int n = ++seen[base];
    std::string name = ar.index >= 0 ? fmt::format("{} {}", base, ar.index) : of_kind[base] > 1 ? fmt::format("{} {}", base, n) : base;
    ArenaUse& u = c.arenas[name];
    u.reserved += ar.system_mem;
    u.live_chunks += ar.live_chunks;
    u.live_bytes += ar.live_bytes;
    u.free_bytes += ar.free_bytes;
  }
  return c;
}

}  // namespace coresift
