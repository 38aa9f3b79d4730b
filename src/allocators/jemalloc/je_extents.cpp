// Walking the extent map (5.3 emap / 5.x extents_rtree), one leaf element per page (geometry in
// je_rtree.hpp). Slabs register every page, other extents their first and last page, so each
// extent is taken once, at the leaf of its first page; every other leaf is only checked
// against its extent.
#include <fmt/format.h>

#include <cstring>

#include "je_context.hpp"

namespace coresift::je {
namespace {

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

namespace {

struct Walker {
  Context& c;
  uint64_t mismatches = 0;
  uint64_t last_edata = 0;
  Extent cur;
  bool cur_ok = false;

  void leaf(uint64_t leaf_addr, uint64_t prefix) {
    const RtreeGeometry& g = c.geom;
    const Layout& l = c.layout;
    auto bytes = c.mem->view(leaf_addr, g.entries() * g.leaf_size());
    if (bytes.size() != g.entries() * g.leaf_size()) {
      c.finding("jemalloc-emap-leaf-unreadable", leaf_addr,
                fmt::format("extent-map leaf for {:#x} is not in the core", prefix << (g.bits + 12)));
      return;
    }
    for (uint64_t i = 0; i < g.entries(); ++i) {
      const uint8_t* elem = bytes.data() + i * g.leaf_size();
      uint64_t w0;
      std::memcpy(&w0, elem, 8);
      if (w0 == 0) continue;
      LeafEntry le = decode_leaf(c, elem);
      if (le.edata == 0) continue;
      uint64_t key = ((prefix << g.bits) | i) << 12;
      if (le.edata != last_edata) {
        last_edata = le.edata;
        cur_ok = le.edata % l.edata_align == 0 && read_extent(c, le.edata, cur);
        if (!cur_ok) {
          c.finding("jemalloc-edata-unreadable", le.edata,
                    fmt::format("extent-map entry for page {:#x} points at unreadable or misaligned metadata", key));
          continue;
        }
      }
      if (!cur_ok) continue;
      // The leaf must agree with its extent.
      bool inside = key >= cur.base && key - cur.base < cur.size;
      // slab/szind in the leaf are only kept up to date while the extent is active: a slab
      // returned to the dirty cache keeps its old leaf metadata (only the state is rewritten).
      // For an active large extent only its head leaf is rewritten (emap_remap in 5.3,
      // rtree_szind_slab_update in 5.2): its end page may still say "slab" from the slab that
      // last used that range, by design, so only the head's slab/szind are checked.
      bool active = cur.state == ExtentState::kActive;
      bool kept = active && (cur.slab || key == cur.base);
      bool agree = inside && (!kept || (le.slab == cur.slab && (!cur.slab || le.szind == cur.szind))) &&
                   (!le.state || *le.state == l.f_state.get(cur.bits));
      if (!agree) {
        if (++mismatches <= 20)
          c.finding("jemalloc-emap-mismatch", key,
                    fmt::format("extent-map entry (edata {:#x}, szind {}, slab {}) disagrees with the extent "
                                "[{:#x}, {:#x}) szind {} slab {}",
                                le.edata, le.szind, le.slab, cur.base, cur.base + cur.size, cur.szind, cur.slab));
        continue;
      }
      if (key != cur.base) {  // interior or last page of an extent already taken
        if (active && !kept && le.slab) ++c.stale_large_ends;
        continue;
      }
      if (cur.size >= (uint64_t{1} << 47)) {
        c.finding("jemalloc-extent-size", cur.base, fmt::format("extent {:#x} (edata {:#x}) claims {} bytes", cur.base, cur.edata, cur.size));
        continue;
      }
      c.extents.push_back(cur);
    }
  }

  void node(uint64_t addr, unsigned level, uint64_t prefix) {
    const RtreeGeometry& g = c.geom;
    auto bytes = c.mem->view(addr, g.entries() * 8);
    if (bytes.size() != g.entries() * 8) {
      c.finding("jemalloc-emap-node-unreadable", addr, "an extent-map node is not in the core");
      return;
    }
    for (uint64_t i = 0; i < g.entries(); ++i) {
      uint64_t child;
      std::memcpy(&child, bytes.data() + i * 8, 8);
      if (child == 0) continue;
      uint64_t p = (prefix << g.bits) | i;
      if (level + 2 == g.levels) leaf(child, p);
      else node(child, level + 1, p);
    }
  }
};

}  // namespace

bool walk_extent_map(Context& c) {
  c.extents.clear();
  if (c.rtree_root == 0) return false;
  Walker w{c, 0, 0, Extent{}, false};
  w.node(c.rtree_root, 0, 0);
  if (w.mismatches > 20)
    c.finding("jemalloc-emap-mismatch", c.rtree_root, fmt::format("{} extent-map entries disagree with their extents", w.mismatches));
  return true;
}

}  // namespace coresift::je
