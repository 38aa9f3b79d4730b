// A core's heap as the allocator walkers found it: the core model, every allocator's chunk
// table and facts, and the mapping kinds the walkers' typed heap ranges imply. Analyses
// (references, leaks, owners, signatures, triage's heap verdict) take this, never a command
// context. Built once per core; immutable after construction.
#pragma once
#include <string>
#include <vector>

#include "coresift/allocators/chunk_table.hpp"
#include "coresift/model/core_model.hpp"

namespace coresift {

class HeapModel {
 public:
  // Runs every allocator walker that finds its allocator in the core.
  explicit HeapModel(const CoreModel& core);

  const CoreModel& core() const { return core_; }
  const ChunkTable& table() const { return table_; }
  const AddressSpace& memory() const { return core_.memory(); }
  const Process& process() const { return core_.process(); }

  // A mapping's kind and label after the walk: the process model guesses `[heap]` from where
  // the executable's .bss ends and `[arena-heap]` from a heap_info-like header at a 64 MiB
  // boundary; the walkers' typed ranges say where the program-break heap and the arena heaps
  // really are (when a walker reported any).
  MappingKind kind(const Mapping& m) const;
  std::string label(const Mapping& m) const;

 private:
  const CoreModel& core_;
  ChunkTable table_;
  std::vector<uint64_t> sbrk_starts_;  // sorted starts of the mappings holding a program-break heap
  std::vector<uint64_t> arena_starts_;  // sorted starts of arena heap mappings (ArenaInfo::heap_mappings)
  bool arenas_known_ = false;           // some allocator reports its arena heap mappings
};

}  // namespace coresift
