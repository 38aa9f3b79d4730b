// Walking the extent map (5.3 emap / 5.x extents_rtree): a two-level radix tree on LG_VADDR 48
// (level 0 = address bits 47..30, level 1 = bits 29..12), one leaf word per page. Slabs register
// every page, other extents their first and last page, so each extent is taken once, at the
// leaf of its first page; every other leaf is only checked against its extent.
#include <fmt/format.h>

#include <cstring>

#include "je_context.hpp"

namespace coresift::je {
namespace {

constexpr unsigned kLevelBits = 18;
constexpr uint64_t kLevelEntries = uint64_t{1} << kLevelBits;

ExtentState state_of(const Layout& l, uint64_t v) {
  if (v == l.st_active) return ExtentState::kActive;
  if (v == l.st_dirty) return ExtentState::kDirty;
  if (v == l.st_muzzy) return ExtentState::kMuzzy;
  if (v == l.st_retained) return ExtentState::kRetained;
  return ExtentState::kOther;
}

bool read_extent(const Context& c, uint64_t edata, Extent& e) {
  const Layout& l = c.layout;
  uint64_t hdr[3];
  if (c.mem->read(edata, hdr, sizeof hdr) != sizeof hdr) return false;
  e.edata = edata;
  e.bits = hdr[l.e_bits / 8];
  e.addr = hdr[l.e_addr / 8];
  e.size = hdr[l.e_size / 8] & ~(kPage - 1);
  e.base = e.addr & ~(kPage - 1);
  e.arena = static_cast<uint32_t>(l.f_arena.get(e.bits));
  e.slab = l.f_slab.get(e.bits) != 0;
  e.state = state_of(l, l.f_state.get(e.bits));
  e.szind = static_cast<uint32_t>(l.f_szind.get(e.bits));
  e.nfree = static_cast<uint32_t>(l.f_nfree.get(e.bits));
  e.binshard = static_cast<uint32_t>(l.f_binshard.get(e.bits));
  return true;
}

}  // namespace

bool walk_extent_map(Context& c) {
  const Layout& l = c.layout;
  c.extents.clear();
  if (c.rtree == 0) return false;
  auto root = c.mem->view(c.rtree + l.rtree_root, kLevelEntries * 8);
  if (root.size() != kLevelEntries * 8) return false;
  uint64_t mismatches = 0;
  for (uint64_t i0 = 0; i0 < kLevelEntries; ++i0) {
    uint64_t leaf_addr;
    std::memcpy(&leaf_addr, root.data() + i0 * 8, 8);
    if (leaf_addr == 0) continue;
    auto leaf = c.mem->view(leaf_addr, kLevelEntries * 8);
    if (leaf.size() != kLevelEntries * 8) {
      c.finding("jemalloc-emap-leaf-unreadable", leaf_addr,
                fmt::format("extent-map leaf for {:#x}..{:#x} is not in the core", i0 << 30, (i0 + 1) << 30));
      continue;
    }
    const uint64_t* words = reinterpret_cast<const uint64_t*>(leaf.data());
    uint64_t last_edata = 0;
    Extent cur;
    bool cur_ok = false;
    for (uint64_t i1 = 0; i1 < kLevelEntries; ++i1) {
      uint64_t bits;
      std::memcpy(&bits, &words[i1], 8);
      if (bits == 0) continue;
      uint64_t edata = static_cast<uint64_t>(static_cast<int64_t>(bits << 16) >> 16) & l.leaf_ptr_mask;
      if (edata == 0) continue;
      uint64_t key = (i0 << 30) | (i1 << 12);
      if (edata != last_edata) {
        last_edata = edata;
        cur_ok = read_extent(c, edata, cur);
        if (!cur_ok) {
          c.finding("jemalloc-edata-unreadable", edata, fmt::format("extent-map entry for page {:#x} points at unreadable metadata", key));
          continue;
        }
      }
      if (!cur_ok) continue;
      // The leaf must agree with its extent.
      bool inside = key >= cur.base && key - cur.base < cur.size;
      uint64_t lszind = l.leaf_szind.get(bits);
      bool agree = inside && (l.leaf_slab.get(bits) != 0) == cur.slab &&
                   (!cur.slab || lszind == cur.szind) &&
                   (!l.leaf_has_state || l.leaf_state.get(bits) == l.f_state.get(cur.bits));
      if (!agree) {
        if (++mismatches <= 20)
          c.finding("jemalloc-emap-mismatch", key,
                    fmt::format("extent-map entry (edata {:#x}, szind {}, slab {}) disagrees with the extent "
                                "[{:#x}, {:#x}) szind {} slab {}",
                                edata, lszind, l.leaf_slab.get(bits), cur.base, cur.base + cur.size, cur.szind, cur.slab));
        continue;
      }
      if (key != cur.base) continue;  // interior or last page of an extent already taken
      c.extents.push_back(cur);
    }
  }
  if (mismatches > 20)
    c.finding("jemalloc-emap-mismatch", c.rtree, fmt::format("{} extent-map entries disagree with their extents", mismatches));
  return true;
}

}  // namespace coresift::je
