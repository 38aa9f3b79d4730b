#include "coresift/allocators/walker.hpp"

namespace coresift {

ChunkTable walk_heaps(Session& s) {
  ChunkTable table;
  std::vector<std::unique_ptr<AllocatorWalker>> walkers;
  walkers.push_back(make_glibc_walker());
  walkers.push_back(make_jemalloc_walker());
  for (auto& w : walkers)
    if (w->detect(s)) w->walk(s, table);
  table.finalize();
  return table;
}

}  // namespace coresift
