// HotSpot's second-level allocator: arena chunks (hotspot/share/memory/arena.hpp, class Chunk:
// {Chunk* _next; size_t _len;} then _len bytes) are malloc'd, and those of the four standard
// sizes go back to a ChunkPool free list instead of to free(). A pooled chunk is free memory
// to the JVM though still live to malloc: its stale words must not count as references.
// Found without symbols, from the pool objects' own fields (see hotspot_arena.cpp).
#pragma once
#include <algorithm>
#include <cstdint>
#include <vector>

#include "coresift/allocators/chunk_table.hpp"
#include "coresift/input/address_space.hpp"

namespace coresift {

struct HotspotChunkPool {
  uint64_t address = 0;      // the ChunkPool object (a malloc'd CHeapObj)
  uint64_t chunk_bytes = 0;  // its _size: header + payload of every chunk on it
  uint64_t count = 0;        // its _num_chunks (= the length of its free list)
};

struct HotspotArenaChunks {
  std::vector<HotspotChunkPool> pools;
  std::vector<uint64_t> pooled;  // sorted addresses of the chunks on the pools' free lists
  bool is_pooled(uint64_t address) const { return std::binary_search(pooled.begin(), pooled.end(), address); }
};

HotspotArenaChunks find_hotspot_chunk_pools(const AddressSpace& mem, const ChunkTable& t);

}  // namespace coresift
