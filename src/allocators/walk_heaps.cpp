#include "coresift/allocators/walker.hpp"

namespace coresift {

ChunkTable walk_heaps(const CoreModel& s) {
  ChunkTable table;
  // Reserve for the most chunks the writable memory could hold (one per 32 bytes). The
  // reservation is only address space: pages are touched as rows are written, so the table
  // grows without the copies (and the 2x peak) of a doubling vector.
  uint64_t writable = 0;
  for (const Mapping& m : s.process().mappings)
    if (m.perms & kPermWrite) writable += m.present_bytes;
  for (const RawRange& r : s.inputs().raw_ranges) writable += r.size;
  try {
    table.chunks.reserve(std::min<uint64_t>(writable / 32 + 1024, uint64_t{1} << 32));
  } catch (const std::bad_alloc&) {
    // fall back to growing as needed
  }
  std::unique_ptr<AllocatorWalker> walkers[] = {make_glibc_walker(), make_jemalloc_walker()};
  for (auto& w : walkers)
    if (w->detect(s)) w->walk(s, table);
  table.finalize();
  return table;
}

}  // namespace coresift
