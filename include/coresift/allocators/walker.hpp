// The allocator-walker interface. Each walker finds its allocator's structures in a process
// (with or without symbols) and emits one row per chunk plus findings into a ChunkTable.
// Walkers never print and never aggregate: ChunkTable::finalize() does the totals.
#pragma once
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "coresift/allocators/chunk_table.hpp"
#include "coresift/model/core_model.hpp"

namespace coresift {

class AllocatorWalker {
 public:
  virtual ~AllocatorWalker() = default;
  virtual const char* name() const = 0;
  // Why this allocator may be in the process ("libc.so.6 is mapped"), or nullopt when it
  // cannot be. Cheap and without side effects: nothing is located, nothing is written.
  virtual std::optional<std::string> detect(const CoreModel& core) const = 0;
  // Locates the allocator's structures and emits every chunk, arena and finding into `out`.
  // False, with `out` untouched, when the structures are not there after all. Must never
  // crash, abort or loop forever on bad memory.
  virtual bool walk(const CoreModel& core, ChunkTable& out) = 0;
};

std::unique_ptr<AllocatorWalker> make_glibc_walker();
std::unique_ptr<AllocatorWalker> make_jemalloc_walker();

// The registry: every allocator walker, in the order they run. A new allocator is one folder
// under src/allocators and one line in walk_heaps.cpp.
// Runs every walker that detects its allocator and returns the finalized table.
ChunkTable walk_heaps(const CoreModel& core);

}  // namespace coresift
