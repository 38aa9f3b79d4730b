// The radix tree that maps pages to extents (5.3 emap, 5.0–5.2 extents_rtree). Its shape is a
// build property, not a version one: LG_VADDR 48 gives two levels of 18 bits with compact
// 8-byte leaves (pointer and metadata in one word); LG_VADDR 57 (configure saw a 5-level-paging
// CPU) gives three levels of 15 bits with 16-byte leaves (pointer, then metadata).
#pragma once
#include <cstdint>
#include <optional>
#include <vector>

namespace coresift::je {

struct Context;

struct RtreeGeometry {
  unsigned lg_vaddr = 48;
  unsigned levels = 2;
  unsigned bits = 18;       // per level
  bool compact = true;      // 8-byte leaves; else 16-byte {pointer, metadata}
  uint64_t entries() const { return uint64_t{1} << bits; }
  unsigned leaf_size() const { return compact ? 8 : 16; }
};
std::vector<RtreeGeometry> rtree_geometries();

struct LeafEntry {
  uint64_t edata = 0;
  uint64_t szind = 0;
  bool slab = false;
  std::optional<uint64_t> state;  // when the leaf carries it
};
LeafEntry decode_leaf(const Context& c, const uint8_t* elem);

// Leaf element address for `key`, nullopt when a level is null or unreadable.
std::optional<uint64_t> rtree_leaf_elem(const Context& c, uint64_t root, uint64_t key);

// Chooses the geometry (and for 5.0–5.2 the root array itself) using extents known from the
// arenas' bins (slabcur): looking their address up must give them back. Sets c.geom and
// c.rtree_root; false when nothing fits.
bool locate_rtree(Context& c);

}  // namespace coresift::je
