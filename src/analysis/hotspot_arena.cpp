// Finds HotSpot's ChunkPools (memory/arena.cpp) by their fields. A ChunkPool is a small
// malloc'd object, one per standard chunk size:
//   JDK 9–17:  {Chunk* _first; size_t _num_chunks; size_t _num_used; const size_t _size;}
//   later:     {Chunk* _first; size_t _num_chunks; const size_t _size;}
// _size is the malloc'd size of its chunks: the 16-byte Chunk header plus a payload of
// 256, 1K, 10K or 32K bytes less a slack of 40 (LP64). A pool is accepted only when its free
// list, followed from _first through each chunk's _next, has exactly _num_chunks live heap
// chunks, each at least _size bytes with _len == _size - 16, and ends in NULL: random data
// does not do that.
#include "coresift/analysis/hotspot_arena.hpp"

#include <array>
#include <cstring>
#include <unordered_set>

namespace coresift {
namespace {

constexpr uint64_t kChunkHeader = 16;  // Chunk::aligned_overhead_size() on LP64
constexpr std::array<uint64_t, 4> kPoolSizes = {256 - 40 + kChunkHeader, 1024 - 40 + kChunkHeader,
                                                10 * 1024 - 40 + kChunkHeader, 32 * 1024 - 40 + kChunkHeader};
constexpr uint64_t kMaxPooled = 1u << 20;  // more would be a pool no JVM keeps

bool pool_size(uint64_t s) { return std::find(kPoolSizes.begin(), kPoolSizes.end(), s) != kPoolSizes.end(); }

// The live chunk that starts at `a` and holds at least `bytes`, or null.
const Chunk* live_chunk_at(const ChunkTable& t, uint64_t a, uint64_t bytes) {
  auto i = t.find(a);
  if (!i) return nullptr;
  const Chunk& c = t.chunks[*i];
  return c.address == a && c.state != ChunkState::kFree && c.size >= bytes ? &c : nullptr;
}

// The chunks of the free list {first, count, size}, or empty when it is not one.
std::vector<uint64_t> free_list(const AddressSpace& mem, const ChunkTable& t, uint64_t first, uint64_t count,
                                uint64_t size) {
  std::vector<uint64_t> out;
  uint64_t c = first;
  for (uint64_t k = 0; k < count; ++k) {
    if (!c || !live_chunk_at(t, c, size)) return {};
    auto next = mem.read_u64(c), len = mem.read_u64(c + 8);
    if (!next || !len || *len != size - kChunkHeader) return {};
    out.push_back(c);
    c = *next;
  }
  if (c != 0) return {};
  return out;
}

}  // namespace

HotspotArenaChunks find_hotspot_chunk_pools(const AddressSpace& mem, const ChunkTable& t) {
  HotspotArenaChunks out;
  std::unordered_set<uint64_t> seen;
  for (const Chunk& c : t.chunks) {
    if (c.state == ChunkState::kFree || c.size < 24 || c.size > 48) continue;
    uint64_t w[4] = {};
    auto v = mem.view(c.address, std::min<uint64_t>(c.size, 32));
    if (v.size() < 24) continue;
    std::memcpy(w, v.data(), v.size());
    // _size right after _num_chunks (later JDKs) or after _num_used (JDK 9–17).
    int size_at = pool_size(w[2]) ? 2 : v.size() >= 32 && pool_size(w[3]) ? 3 : -1;
    if (size_at < 0 || w[0] == 0 || w[1] == 0 || w[1] > kMaxPooled) continue;
    auto chunks = free_list(mem, t, w[0], w[1], w[size_at]);
    if (chunks.empty()) continue;
    bool fresh = true;
    for (uint64_t a : chunks) fresh = fresh && !seen.count(a);
    if (!fresh) continue;  // a list already claimed: not a second pool
    seen.insert(chunks.begin(), chunks.end());
    out.pools.push_back({c.address, w[size_at], w[1]});
    out.pooled.insert(out.pooled.end(), chunks.begin(), chunks.end());
  }
  std::sort(out.pooled.begin(), out.pooled.end());
  return out;
}

}  // namespace coresift
