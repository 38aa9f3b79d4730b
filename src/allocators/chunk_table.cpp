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

void ChunkTable::finalize() {
  std::sort(chunks.begin(), chunks.end(), [](const Chunk& a, const Chunk& b) { return a.address < b.address; });
  chunks.erase(std::unique(chunks.begin(), chunks.end(),
                           [](const Chunk& a, const Chunk& b) { return a.address == b.address && a.allocator == b.allocator; }),
               chunks.end());
  chunks.shrink_to_fit();
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
