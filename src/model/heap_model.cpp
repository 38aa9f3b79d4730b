#include "coresift/model/heap_model.hpp"

#include <algorithm>

#include "coresift/allocators/walker.hpp"

namespace coresift {

HeapModel::HeapModel(const CoreModel& core) : core_(core), table_(walk_heaps(core)) {
  const Process& p = core.process();
  for (const ArenaInfo& a : table_.arenas) {
    if (!a.program_break) continue;
    for (const auto& [start, end] : a.heaps)
      if (const Mapping* m = p.mapping_at(start)) sbrk_starts_.push_back(m->start);
  }
  for (const ArenaInfo& a : table_.arenas)
    for (uint64_t start : a.heap_mappings)
      if (const Mapping* m = p.mapping_at(start); m && m->start == start) arena_starts_.push_back(start);
  arenas_known_ = !arena_starts_.empty();
  std::sort(arena_starts_.begin(), arena_starts_.end());
  std::sort(sbrk_starts_.begin(), sbrk_starts_.end());
  sbrk_starts_.erase(std::unique(sbrk_starts_.begin(), sbrk_starts_.end()), sbrk_starts_.end());
}

MappingKind HeapModel::kind(const Mapping& m) const {
  if (arenas_known_ && m.path.empty()) {
    bool arena = std::binary_search(arena_starts_.begin(), arena_starts_.end(), m.start);
    if (arena && (m.kind == MappingKind::kAnonymous || m.kind == MappingKind::kArenaHeap)) return MappingKind::kArenaHeap;
    if (!arena && m.kind == MappingKind::kArenaHeap) return MappingKind::kAnonymous;  // e.g. an mmapped chunk
  }
  if (sbrk_starts_.empty()) return m.kind;  // no walker knows better than the guess
  bool sbrk = std::binary_search(sbrk_starts_.begin(), sbrk_starts_.end(), m.start);
  if (sbrk && m.path.empty() && (m.kind == MappingKind::kAnonymous || m.kind == MappingKind::kHeap))
    return MappingKind::kHeap;
  if (!sbrk && m.kind == MappingKind::kHeap) return MappingKind::kAnonymous;  // the guess was wrong
  return m.kind;
}

std::string HeapModel::label(const Mapping& m) const {
  MappingKind k = kind(m);
  if (k == m.kind) return m.label;
  return mapping_kind_label(k);
}

}  // namespace coresift
