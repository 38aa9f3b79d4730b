// What changed between two cores of one program (the same process later, or another process
// of the same build): growth by class, signature + owner, owner, size, arena and mapping, and
// the leaks that are new. Classes are matched by name, never by address.
#pragma once
#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "coresift/analysis/census.hpp"
#include "coresift/model/heap_model.hpp"

namespace coresift {

struct Delta {
  uint64_t old_chunks = 0, new_chunks = 0, old_bytes = 0, new_bytes = 0;
  int64_t delta_chunks() const { return static_cast<int64_t>(new_chunks) - static_cast<int64_t>(old_chunks); }
  int64_t delta_bytes() const { return static_cast<int64_t>(new_bytes) - static_cast<int64_t>(old_bytes); }
  bool changed() const { return old_chunks != new_chunks || old_bytes != new_bytes; }
};

template <typename Key>
using Deltas = std::vector<std::pair<Key, Delta>>;  // every key of either side, biggest |Δbytes| first

struct ArenaDelta {
  std::string name;  // "glibc main", "glibc thread 2", "jemalloc arena 0"
  std::optional<ArenaUse> old_use, new_use;
};

struct MappingChange {
  std::string change;  // "appeared", "vanished", "grew", "shrank"
  std::string name;    // path, or label, or "[anon]"
  uint8_t perms = 0;
  std::optional<std::pair<uint64_t, uint64_t>> old_range, new_range;  // [start, end)
  bool arena_reservation = false;  // a malloc arena heap or its reserve
  int64_t delta_bytes() const;
};

struct LeakDelta {
  uint64_t new_definite_chunks = 0, new_definite_bytes = 0;  // definite in NEW beyond OLD's, per class
  uint64_t new_indirect_chunks = 0, new_indirect_bytes = 0;
  LeakSummary old_summary, new_summary;
  Deltas<LeakKey> groups;
};

struct HeapDiff {
  Delta total;
  Deltas<CensusKey> classes;                                  // (owner, signature, size)
  Deltas<std::pair<std::string, std::string>> groups;         // (signature, owner)
  Deltas<std::string> owners;
  Deltas<uint64_t> sizes;
  std::vector<ArenaDelta> arenas;                             // every arena of either core
  std::vector<MappingChange> mappings;                        // changed mappings only
  LeakDelta leaks;
  bool same_process = false;  // same pid and executable: mappings matched by address
};

HeapDiff diff_censuses(const Census& old_census, const Census& new_census);
// Mappings matched by start address when `same_process`, else by name, file offset and
// order among equal names (addresses differ between processes).
std::vector<MappingChange> diff_mappings(const HeapModel& old_heap, const HeapModel& new_heap, bool same_process);

}  // namespace coresift
