// The allocator-walker interface. Each walker finds its allocator's structures in a process
// (with or without symbols) and emits one row per chunk plus findings into a ChunkTable.
// Walkers never print and never aggregate: ChunkTable::finalize() does the totals.
#pragma once
#include <memory>
#include <vector>

#include "coresift/allocators/chunk_table.hpp"
#include "coresift/model/core_model.hpp"

namespace coresift {

class AllocatorWalker {
 public:
  virtual ~AllocatorWalker() = default;
  virtual const char* name() const = 0;
  // Finds the allocator's structures; false when this allocator is not in the process.
  virtual bool detect(const CoreModel& core) = 0;
  // Emits every chunk and finding. Must never crash, abort or loop forever on bad memory.
  virtual void walk(const CoreModel& core, ChunkTable& out) = 0;
};

std::unique_ptr<AllocatorWalker> make_glibc_walker();
std::unique_ptr<AllocatorWalker> make_jemalloc_walker();

// Runs every walker that detects its allocator and returns the finalized table.
ChunkTable walk_heaps(const CoreModel& core);

}  // namespace coresift
