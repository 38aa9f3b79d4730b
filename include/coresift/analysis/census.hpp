// A core's live heap, rolled up by (owner, signature, chunk size), with each chunk's leak
// class: the typed result that diff, the folded stacks and the HTML report compare and draw.
// Keys are names, never addresses, so two cores of different processes line up.
#pragma once
#include <cstdint>
#include <map>
#include <string>
#include <tuple>
#include <vector>

#include "coresift/analysis/leaks.hpp"
#include "coresift/analysis/rollup.hpp"
#include "coresift/model/heap_model.hpp"

namespace coresift {

struct CensusKey {
  std::string owner;      // owners' name ("unknown" when none)
  std::string signature;  // the chunk's signature
  uint64_t size = 0;      // chunk size (allocator's size class)
  bool operator<(const CensusKey& o) const {
    return std::tie(owner, signature, size) < std::tie(o.owner, o.signature, o.size);
  }
};

// Leaked chunks rolled up by (leak kind name, signature, chunk size).
struct LeakKey {
  std::string kind;  // "definite", "indirect", "possible"
  std::string signature;
  uint64_t size = 0;
  bool operator<(const LeakKey& o) const { return std::tie(kind, signature, size) < std::tie(o.kind, o.signature, o.size); }
};

struct ArenaUse {
  uint64_t reserved = 0;  // bytes obtained from the system (system_mem)
  uint64_t live_chunks = 0, live_bytes = 0, free_bytes = 0;
};

struct Census {
  Rollup<CensusKey> live{0, 3};  // no size list: the size is in the key
  Rollup<LeakKey> leaks{0, 3};
  LeakSummary leak_summary;
  // Allocator arenas by "glibc main", "glibc thread 2", "jemalloc arena 0": the n-th arena
  // of its kind, so the same arena of two processes has one name.
  std::map<std::string, ArenaUse> arenas;
};

// Walks the reference graph once (owners and leaks from the same graph).
Census take_census(const HeapModel& heap);

}  // namespace coresift
