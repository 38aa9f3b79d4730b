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
  l.arena_dirty_decay_ms = 0x10f40;  // pa_shard.pac.decay_dirty.time_ms
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
  l.nc_slab = {0, 1};
  l.nc_state = {2, 3};
  l.nc_szind = {5, 27};
  l.nc_has_state = true;
  l.tcache_check_off = 0;  // tcache->tcache_slow == &tsd->tcache_slow
  l.tcache_check_delta = static_cast<int32_t>(l.tsd_tcache_slow) - static_cast<int32_t>(l.tsd_tcache);
  return l;
}

// jemalloc 5.2.1 as Debian bullseye builds it (5.2.1-3: prof, stats, fill, one shard per bin).
// Offsets measured on a bullseye core (arena ind lives in base_t; bins[] are pointers to the
// bin shards; the extent map is the global extents_rtree, found by probing).
Layout layout_5_2() {
  Layout l;
  l.name = "5.2.1";
  l.major = 5, l.minor = 2;
  l.verified = true;
  l.tsd_state = 0;
  l.tsd_arena = 0x1b8;
  l.tsd_tcache = 0x1f0;
  l.tcache_bins = 0x10;          // bins_small[SC_NBINS]
  l.tcache_bins_large = 0x3e8;   // bins_large[SC_NSIZES - SC_NBINS]
  l.cache_bin_size = 24;
  l.tcache_nbins_max = 232;
  l.cache_bin = CacheBinKind::kAvail;
  l.cb_ncached = 4;
  l.cb_avail = 0x10;
  l.tcache_link = 0x370;         // arena->tcache_ql links the tcache_t themselves
  l.tcache_elem_tcache = kNoField;
  l.tcache_elem_is_tcache_delta = 0;
  l.tcache_check_off = 0x3a8;    // cache_bin_array_descriptor.bins_small == tcache->bins_small
  l.tcache_check_delta = 0x10;
  l.arena_ind = kNoField;
  l.arena_base = 0x7328;
  l.base_ind = 0;
  l.arena_emap = kNoField;
  l.arena_tcache_ql = 0x27c8;
  l.arena_bins = 0x7208;
  l.arena_bins_indirect = true;
  l.arena_dirty_decay_ms = 0x6398;  // decay_dirty.time_ms
  l.bin_size = 0x118;
  l.bin_slabcur = 0x70;
  l.bin_curregs = 0x88 + 0x18;
  l.bin_curslabs = 0x88 + 0x40;
  l.edata_align = 64;
  l.e_bits = 0, l.e_addr = 8, l.e_size = 0x10, l.e_bitmap = 0x40;
  l.f_arena = {0, 12};
  l.f_slab = {12, 1};
  l.f_state = {16, 2};
  l.f_szind = {18, 8};
  l.f_nfree = {26, 10};
  l.f_binshard = {36, 6};
  l.map_kind = ExtentMapKind::kRtree;
  l.leaf_ptr_mask = ~uint64_t{1};
  l.leaf_slab = {0, 1};
  l.leaf_szind = {48, 16};
  l.leaf_has_state = false;
  l.nc_szind = {0, 32};  // {extent*, unsigned szind, bool slab}
  l.nc_slab = {32, 8};
  l.nc_has_state = false;
  return l;
}

}  // namespace

std::vector<Layout> layouts_for(const std::string& version) {
  std::vector<Layout> all = {layout_5_3(), layout_5_2()};
  std::vector<Layout> out;
  for (auto& l : all)
    if (!version.empty() && version.rfind(l.name.substr(0, 3), 0) == 0) out.push_back(l);
  for (auto& l : all)
    if (version.empty() || version.rfind(l.name.substr(0, 3), 0) != 0) out.push_back(l);
  return out;
}

}  // namespace coresift::je
