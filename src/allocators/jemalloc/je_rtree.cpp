#include "je_rtree.hpp"

#include <cstring>

#include "je_context.hpp"

namespace coresift::je {
namespace {

uint64_t level_index(const RtreeGeometry& g, unsigned level, uint64_t key) {
  unsigned shift = 12 + g.bits * (g.levels - 1 - level);
  return (key >> shift) & (g.entries() - 1);
}

struct Probe {
  uint64_t key = 0;
  uint64_t edata = 0;
};

// Extents we know without the tree: each bin's current slab.
std::vector<Probe> slabcur_probes(const Context& c) {
  std::vector<Probe> out;
  const Layout& l = c.layout;
  if (l.bin_slabcur == kNoField) return out;
  for (const JeArena& a : c.arenas) {
    for (uint32_t b = 0; b < c.sc.nbins() && out.size() < 64; ++b) {
      auto bin = c.bin_of(a.address, b);
      if (!bin) continue;
      uint64_t e = c.u64_or0(*bin + l.bin_slabcur);
      if (e == 0 || e % l.edata_align) continue;
      auto addr = c.u64(e + l.e_addr);
      if (!addr || *addr == 0 || (*addr & (kPage - 1))) continue;
      out.push_back({*addr, e});
    }
  }
  return out;
}

// A root passes when most probes (a damaged bin may give a bad one) find their extent.
bool probes_pass(const Context& c, uint64_t root, const std::vector<Probe>& probes) {
  size_t good = 0, bad = 0;
  for (const Probe& p : probes) {
    auto elem = rtree_leaf_elem(c, root, p.key);
    uint8_t buf[16];
    if (elem && c.mem->read(*elem, buf, c.geom.leaf_size()) == c.geom.leaf_size() && decode_leaf(c, buf).edata == p.edata)
      ++good;
    else
      ++bad;
    if (bad * 2 >= probes.size()) return false;
  }
  return good > bad;
}

// Without probes: the first few non-null leaves must name extents that contain their page.
bool sample_pass(const Context& c, uint64_t root) {
  const RtreeGeometry& g = c.geom;
  auto top = c.mem->view(root, g.entries() * 8);
  if (top.size() != g.entries() * 8) return false;
  int good = 0;
  for (uint64_t i0 = 0; i0 < g.entries() && good < 8; ++i0) {
    uint64_t node;
    std::memcpy(&node, top.data() + i0 * 8, 8);
    if (!node) continue;
    uint64_t leaf = node, prefix = i0;
    for (unsigned lv = 1; lv + 1 < g.levels && leaf; ++lv) {  // middle levels: first non-null child
      auto v = c.mem->view(leaf, g.entries() * 8);
      if (v.size() != g.entries() * 8) return false;
      uint64_t next = 0, i = 0;
      for (; i < g.entries() && !next; ++i) std::memcpy(&next, v.data() + i * 8, 8);
      leaf = next, prefix = (prefix << g.bits) | (i - 1);
    }
    auto lv = c.mem->view(leaf, g.entries() * g.leaf_size());
    if (lv.size() != g.entries() * g.leaf_size()) return false;
    for (uint64_t i = 0; i < g.entries() && good < 8; ++i) {
      LeafEntry le = decode_leaf(c, lv.data() + i * g.leaf_size());
      if (!le.edata) continue;
      uint64_t key = (((prefix << g.bits) | i) << 12);
      uint64_t hdr[3];
      if (c.mem->read(le.edata, hdr, sizeof hdr) != sizeof hdr) return false;
      uint64_t addr = hdr[c.layout.e_addr / 8] & ~(kPage - 1), size = hdr[c.layout.e_size / 8] & ~(kPage - 1);
      if (key < addr || key - addr >= size) return false;
      ++good;
    }
  }
  return good > 0;
}

}  // namespace

std::vector<RtreeGeometry> rtree_geometries() { return {{48, 2, 18, true}, {57, 3, 15, false}}; }

LeafEntry decode_leaf(const Context& c, const uint8_t* elem) {
  const Layout& l = c.layout;
  LeafEntry e;
  uint64_t w0;
  std::memcpy(&w0, elem, 8);
  if (c.geom.compact) {
    e.edata = static_cast<uint64_t>(static_cast<int64_t>(w0 << 16) >> 16) & l.leaf_ptr_mask;
    e.szind = l.leaf_szind.get(w0);
    e.slab = l.leaf_slab.get(w0) != 0;
    if (l.leaf_has_state) e.state = l.leaf_state.get(w0);
    if (w0 == 0) e.edata = 0;
  } else {
    uint64_t w1;
    std::memcpy(&w1, elem + 8, 8);
    e.edata = w0;
    e.szind = l.nc_szind.get(w1);
    e.slab = l.nc_slab.get(w1) != 0;
    if (l.nc_has_state) e.state = l.nc_state.get(w1);
  }
  return e;
}

std::optional<uint64_t> rtree_leaf_elem(const Context& c, uint64_t root, uint64_t key) {
  const RtreeGeometry& g = c.geom;
  if (key >> g.lg_vaddr) return std::nullopt;
  uint64_t node = root;
  for (unsigned lv = 0; lv + 1 < g.levels; ++lv) {
    auto child = c.u64(node + 8 * level_index(g, lv, key));
    if (!child || *child == 0) return std::nullopt;
    node = *child;
  }
  return node + g.leaf_size() * level_index(g, g.levels - 1, key);
}

bool locate_rtree(Context& c) {
  const Layout& l = c.layout;
  std::vector<Probe> probes = slabcur_probes(c);
  for (const RtreeGeometry& g : rtree_geometries()) {
    c.geom = g;
    if (l.map_kind == ExtentMapKind::kEmap) {
      if (c.rtree == 0) return false;
      uint64_t root = c.rtree + l.rtree_root;
      if (!c.mem->is_present(root, g.entries() * 8)) continue;
      if (probes.empty() ? sample_pass(c, root) : probes_pass(c, root, probes)) {
        c.rtree_root = root;
        return true;
      }
      continue;
    }
    // A global root array somewhere in the library's data: try every aligned position whose
    // whole array fits, checked against the probes.
    if (probes.empty()) continue;
    const uint64_t bytes = g.entries() * 8;
    for (size_t j = 0; j < probes.size() && j < 3; ++j) {  // a damaged first probe must not hide the root
      const uint64_t i0 = level_index(g, 0, probes[j].key);
      for (const Range& r : c.rw) {
        for (uint64_t root = r.start; root + bytes <= r.end; root += 8) {
          auto first = c.u64(root + 8 * i0);
          if (!first || *first == 0 || (*first & 7)) continue;
          if (probes_pass(c, root, probes)) {
            c.rtree_root = root;
            return true;
          }
        }
      }
    }
  }
  return false;
}

}  // namespace coresift::je
