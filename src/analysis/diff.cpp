#include "coresift/analysis/diff.hpp"

#include <algorithm>
#include <cstdlib>
#include <map>

namespace coresift {
namespace {

// Both sides' entries summed under key_of(entry key), every key of either side.
template <typename Key, typename SrcKey, typename Map, typename KeyFn>
Deltas<Key> roll(const Rollup<SrcKey, Map>& old_r, const Rollup<SrcKey, Map>& new_r, KeyFn key_of) {
  std::map<Key, Delta> m;
  for (const auto& [k, e] : old_r.entries()) {
    Delta& d = m[key_of(k)];
    d.old_chunks += e.chunks;
    d.old_bytes += e.bytes;
  }
  for (const auto& [k, e] : new_r.entries()) {
    Delta& d = m[key_of(k)];
    d.new_chunks += e.chunks;
    d.new_bytes += e.bytes;
  }
  Deltas<Key> out(m.begin(), m.end());
  // Biggest change first, growth before an equal shrink; then the key, for a stable order.
  std::stable_sort(out.begin(), out.end(), [](const auto& a, const auto& b) {
    int64_t x = a.second.delta_bytes(), y = b.second.delta_bytes();
    if (std::llabs(x) != std::llabs(y)) return std::llabs(x) > std::llabs(y);
    return x > y;
  });
  return out;
}

}  // namespace

int64_t MappingChange::delta_bytes() const {
  int64_t o = old_range ? static_cast<int64_t>(old_range->second - old_range->first) : 0;
  int64_t n = new_range ? static_cast<int64_t>(new_range->second - new_range->first) : 0;
  return n - o;
}

HeapDiff diff_censuses(const Census& o, const Census& n) {
  HeapDiff d;
  d.total.old_chunks = o.live.total_chunks();
  d.total.new_chunks = n.live.total_chunks();
  d.total.old_bytes = o.live.total_bytes();
  d.total.new_bytes = n.live.total_bytes();
  d.classes = roll<CensusKey>(o.live, n.live, [](const CensusKey& k) { return k; });
  d.groups = roll<std::pair<std::string, std::string>>(o.live, n.live,
                                                       [](const CensusKey& k) { return std::make_pair(k.signature, k.owner); });
  d.owners = roll<std::string>(o.live, n.live, [](const CensusKey& k) { return k.owner; });
  d.sizes = roll<uint64_t>(o.live, n.live, [](const CensusKey& k) { return k.size; });

  std::map<std::string, ArenaDelta> arenas;
  for (const auto& [name, u] : o.arenas) arenas[name].old_use = u;
  for (const auto& [name, u] : n.arenas) arenas[name].new_use = u;
  for (auto& [name, a] : arenas) {
    a.name = name;
    d.arenas.push_back(a);
  }

  d.leaks.old_summary = o.leak_summary;
  d.leaks.new_summary = n.leak_summary;
  d.leaks.groups = roll<LeakKey>(o.leaks, n.leaks, [](const LeakKey& k) { return k; });
  // New leaks: per (kind, signature, size), what NEW has beyond OLD. Addresses are not
  // compared (they differ between processes), so a leak freed and another made of the same
  // class cancel out.
  for (const auto& [k, dl] : d.leaks.groups) {
    if (dl.new_chunks <= dl.old_chunks) continue;
    uint64_t chunks = dl.new_chunks - dl.old_chunks, bytes = dl.new_bytes > dl.old_bytes ? dl.new_bytes - dl.old_bytes : 0;
    if (k.kind == leak_kind_name(LeakKind::kDefinite)) d.leaks.new_definite_chunks += chunks, d.leaks.new_definite_bytes += bytes;
    if (k.kind == leak_kind_name(LeakKind::kIndirect)) d.leaks.new_indirect_chunks += chunks, d.leaks.new_indirect_bytes += bytes;
  }
  return d;
}

namespace {

std::string mapping_name(const HeapModel& h, const Mapping& m) {
  if (!m.path.empty()) return m.path;
  std::string label = h.label(m);
  if (label.empty()) return "[anon]";
  // A thread's stack and guard carry its tid, which another process does not share.
  MappingKind k = h.kind(m);
  return k == MappingKind::kStack || k == MappingKind::kGuard ? mapping_kind_label(k) : label;
}

bool arena_memory(const HeapModel& h, const Mapping& m) {
  MappingKind k = h.kind(m);
  if (k == MappingKind::kArenaHeap || k == MappingKind::kArenaReserve) return true;
  for (const ArenaInfo& a : h.table().arenas)
    for (const auto& [lo, hi] : a.heaps)
      if (lo < m.end && m.start < hi) return true;
  return false;
}

}  // namespace

std::vector<MappingChange> diff_mappings(const HeapModel& oh, const HeapModel& nh, bool same_process) {
  // Key: the start address, or (name, perms, offset, n-th of that name) across processes.
  using Key = std::tuple<uint64_t, std::string, uint8_t, uint64_t, int>;
  auto keyed = [&](const HeapModel& h) {
    std::map<Key, const Mapping*> out;
    // Not the permissions: gcore writes PROT_NONE as read-only, the kernel as none, so the
    // same mapping of two cores may differ in them.
    std::map<std::tuple<std::string, uint64_t>, int> nth;
    for (const Mapping& m : h.process().mappings) {
      std::string name = mapping_name(h, m);
      if (same_process) out[{m.start, "", 0, 0, 0}] = &m;
      else out[{0, name, 0, m.offset, nth[{name, m.offset}]++}] = &m;
    }
    return out;
  };
  auto om = keyed(oh), nm = keyed(nh);
  std::vector<MappingChange> out;
  auto change = [&](const Mapping* o, const Mapping* n) {
    MappingChange c;
    const HeapModel& h = n ? nh : oh;
    const Mapping& m = n ? *n : *o;
    c.name = mapping_name(h, m);
    c.perms = m.perms;
    if (o) c.old_range = std::make_pair(o->start, o->end);
    if (n) c.new_range = std::make_pair(n->start, n->end);
    c.arena_reservation = (o && arena_memory(oh, *o)) || (n && arena_memory(nh, *n));
    if (!o) c.change = "appeared";
    else if (!n) c.change = "vanished";
    else if (n->size() > o->size()) c.change = "grew";
    else if (n->size() < o->size()) c.change = "shrank";
    else return;
    out.push_back(std::move(c));
  };
  for (const auto& [k, o] : om) {
    auto it = nm.find(k);
    change(o, it == nm.end() ? nullptr : it->second);
  }
  for (const auto& [k, n] : nm)
    if (!om.count(k)) change(nullptr, n);
  std::stable_sort(out.begin(), out.end(), [](const MappingChange& a, const MappingChange& b) {
    return std::llabs(a.delta_bytes()) > std::llabs(b.delta_bytes());
  });
  return out;
}

}  // namespace coresift
