#include "coresift/allocators/chunk_table.hpp"

#include <algorithm>

namespace coresift {

const char* state_name(ChunkState s) {
  switch (s) {
    case ChunkState::kLive: return "live";
    case ChunkState::kFree: return "free";
    case ChunkState::kLiveOrCached: return "live-or-cached";
  }
  return "?";
}

const char* bin_name(ChunkBin b) {
  switch (b) {
    case ChunkBin::kNone: return nullptr;
    case ChunkBin::kTcache: return "tcache";
    case ChunkBin::kFastbin: return "fastbin";
    case ChunkBin::kUnsorted: return "unsorted";
    case ChunkBin::kSmallbin: return "smallbin";
    case ChunkBin::kLargebin: return "largebin";
    case ChunkBin::kTop: return "top";
    case ChunkBin::kMmapped: return "mmapped";
    case ChunkBin::kSlab: return "slab";
    case ChunkBin::kExtent: return "extent";
    case ChunkBin::kLarge: return "large";
    case ChunkBin::kUnbinned: return "unbinned";
  }
  return nullptr;
}

uint8_t ChunkTable::add_allocator(AllocatorInfo a) {
  allocators.push_back(std::move(a));
  return static_cast<uint8_t>(allocators.size() - 1);
}

uint16_t ChunkTable::add_arena(ArenaInfo a) {
  arenas.push_back(std::move(a));
  return static_cast<uint16_t>(arenas.size() - 1);
}

void ChunkTable::add_finding(uint8_t allocator, std::string kind, uint64_t address, std::string detail) {
  constexpr size_t kMaxFindings = 10000;  // a wrecked heap must not exhaust memory
  if (findings.size() >= kMaxFindings) return;
  findings.push_back({std::move(kind), address, std::move(detail), allocator});
}

namespace {

// Walkers emit each heap region in address order, so the table is a few sorted runs over
// disjoint address ranges. Putting the runs in order with rotations is linear per run and
// needs no buffer; anything else falls back to a full sort.
void sort_by_address(std::vector<Chunk>& v) {
  auto less = [](const Chunk& a, const Chunk& b) { return a.address < b.address; };
  struct Run { size_t begin, end; uint64_t lo, hi; };
  std::vector<Run> runs;
  for (size_t i = 0; i < v.size(); ++i) {
    if (runs.empty() || v[i].address < v[i - 1].address) runs.push_back({i, i, v[i].address, v[i].address});
    runs.back().end = i + 1;
    runs.back().hi = v[i].address;
  }
  if (runs.size() <= 1) return;
  std::vector<Run> by_addr = runs;
  std::sort(by_addr.begin(), by_addr.end(), [](const Run& a, const Run& b) { return a.lo < b.lo; });
  bool disjoint = runs.size() <= 64;
  for (size_t i = 1; disjoint && i < by_addr.size(); ++i) disjoint = by_addr[i - 1].hi < by_addr[i].lo;
  if (!disjoint) {
    // Typical too: one long run (the arenas, in order) and a few rows emitted later, such as
    // mmapped chunks. Sort the few aside and merge them in from the back: linear time, and
    // memory only for the few.
    auto big = std::max_element(runs.begin(), runs.end(),
                                [](const Run& a, const Run& b) { return a.end - a.begin < b.end - b.begin; });
    size_t rest = v.size() - (big->end - big->begin);
    if (rest > v.size() / 8) {
      std::sort(v.begin(), v.end(), less);
      return;
    }
    std::vector<Chunk> few;
    few.reserve(rest);
    few.insert(few.end(), v.begin(), v.begin() + static_cast<long>(big->begin));
    few.insert(few.end(), v.begin() + static_cast<long>(big->end), v.end());
    std::sort(few.begin(), few.end(), less);
    std::move(v.begin() + static_cast<long>(big->begin), v.begin() + static_cast<long>(big->end), v.begin());
    size_t out = v.size(), a = big->end - big->begin, b = few.size();
    while (b > 0) {
      if (a > 0 && less(few[b - 1], v[a - 1]))
        v[--out] = v[--a];
      else
        v[--out] = few[--b];
    }
    return;
  }
  // Move the lowest remaining run to the front of the unsorted part, one rotation each.
  size_t placed = 0;
  for (const Run& want : by_addr) {
    size_t len = want.end - want.begin, at = 0;
    for (const Run& r : runs)  // current position of `want`: runs keep their order behind `placed`
      if (r.lo == want.lo) at = r.begin;
    std::rotate(v.begin() + static_cast<long>(placed), v.begin() + static_cast<long>(at),
                v.begin() + static_cast<long>(at + len));
    for (Run& r : runs)  // runs that sat between `placed` and `at` moved right by len
      if (r.begin >= placed && r.begin < at) r.begin += len, r.end += len;
    for (Run& r : runs)
      if (r.lo == want.lo) r.begin = placed, r.end = placed + len, r.lo = 0, r.hi = 0;
    placed += len;
  }
}

}  // namespace

void ChunkTable::finalize() {
  sort_by_address(chunks);
  chunks.erase(std::unique(chunks.begin(), chunks.end(),
                           [](const Chunk& a, const Chunk& b) { return a.address == b.address && a.allocator == b.allocator; }),
               chunks.end());
  for (ArenaInfo& a : arenas) {
    a.live_chunks = a.live_bytes = a.free_chunks = a.free_bytes = 0;
    a.free_by_bin.clear();
  }
  for (AllocatorInfo& a : allocators) a.mmapped_chunks = a.mmapped_bytes = 0;
  for (const Chunk& c : chunks) {
    if (c.bin == ChunkBin::kMmapped && c.allocator < allocators.size()) {
      allocators[c.allocator].mmapped_chunks++;
      allocators[c.allocator].mmapped_bytes += c.chunk_size();
    }
    if (c.arena >= arenas.size()) continue;
    ArenaInfo& a = arenas[c.arena];
    if (c.state == ChunkState::kFree) {
      a.free_chunks++;
      a.free_bytes += c.chunk_size();
      auto it = std::find_if(a.free_by_bin.begin(), a.free_by_bin.end(), [&](auto& p) { return p.first == c.bin; });
      if (it == a.free_by_bin.end()) it = a.free_by_bin.insert(a.free_by_bin.end(), {c.bin, {0, 0}});
      it->second.first++;
      it->second.second += c.chunk_size();
    } else {
      a.live_chunks++;
      a.live_bytes += c.size;
    }
  }
}

std::optional<size_t> ChunkTable::find(uint64_t addr) const {
  auto it = std::upper_bound(chunks.begin(), chunks.end(), addr,
                             [](uint64_t a, const Chunk& c) { return a < c.address; });
  if (it == chunks.begin()) return std::nullopt;
  --it;
  if (addr - it->address < it->size) return static_cast<size_t>(it - chunks.begin());
  return std::nullopt;
}

}  // namespace coresift
