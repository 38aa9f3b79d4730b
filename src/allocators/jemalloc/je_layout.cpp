#include "je_layout.hpp"

namespace coresift::je {
namespace {

// jemalloc 5.3.0 as Debian builds it (prof, stats, fill, cache-oblivious, one shard per bin).
// Checked against cores of Debian's 5.3.0-1 library.
Layout layout_5_3() {
  Layout l;
  l.name = "5.3.0";
  l.major = 5, l.minor = 3;
  l.verified = true;
  l.tsd_arena = 0x90;
  l.tsd_state = 0x330;
  l.tsd_tcache_slow = 0x100;
  l.tsd_tcache = 0x358;
  l.tcache_bins = 8;
  l.cache_bin_size = 24;
  l.tcache_nbins_max = 73;
  l.cache_bin = CacheBinKind::kStackHead;
  l.tcache_link = 0;
  l.tcache_elem_tcache = 0xa8;
  l.arena_ind = 0x13450;
  l.arena_base = 0x13458;
  l.arena_emap = 0x13440;
  l.arena_tcache_ql = 0x2898;
  l.arena_bins = 0x13468;
  l.arena_dirty_decay_ms = kNoField;
  l.bin_size = 0xe0;
  l.bin_curregs = 0x70 + 0x18;
  l.bin_curslabs = 0x70 + 0x40;
  l.bin_slabcur = 0xc0;
  l.edata_align = 128;
  l.e_bits = 0, l.e_addr = 8, l.e_size = 0x10, l.e_bitmap = 0x40;
  l.f_arena = {0, 12};
  l.f_slab = {12, 1};
  l.f_state = {17, 3};
  l.f_szind = {20, 8};
  l.f_nfree = {28, 10};
  l.f_binshard = {38, 6};
  l.map_kind = ExtentMapKind::kEmap;
  l.rtree_root = 0x78;
  l.leaf_ptr_mask = ~uint64_t{127};
  l.leaf_slab = {0, 1};
  l.leaf_state = {2, 3};
  l.leaf_szind = {48, 16};
  l.leaf_has_state = true;
  return l;
}

}  // namespace

std::vector<Layout> layouts_for(const std::string& version) {
  std::vector<Layout> all = {layout_5_3()};
  std::vector<Layout> out;
  for (auto& l : all)
    if (!version.empty() && version.rfind(l.name.substr(0, 3), 0) == 0) out.push_back(l);
  for (auto& l : all)
    if (version.empty() || version.rfind(l.name.substr(0, 3), 0) != 0) out.push_back(l);
  return out;
}

}  // namespace coresift::je
