// Built-in jemalloc structure layouts (x86-64, LG_PAGE 12, LG_VADDR 48), one per version family.
// Every table is a hypothesis until the invariants of the walk confirm it on the core at hand
// (edata/leaf agreement, nfree == free bits, bin stats == decoded counts).
#pragma once
#include <cstdint>
#include <string>
#include <vector>

namespace coresift::je {

constexpr uint32_t kNoField = UINT32_MAX;

struct BitField {
  uint8_t shift = 0;
  uint8_t width = 0;
  uint64_t get(uint64_t bits) const { return width ? (bits >> shift) & ((uint64_t{1} << width) - 1) : 0; }
};

enum class CacheBinKind : uint8_t {
  kStackHead,  // 5.3: {void** stack_head; …; u16 low_bits_low_water, low_bits_full, low_bits_empty}
  kAvail,      // 5.0–5.2: {low_water, ncached, tstats, void** avail}; items at avail[-ncached..-1]
};

enum class ExtentMapKind : uint8_t {
  kEmap,   // 5.3: arena->pa_shard.emap points at the global emap (rtree first member)
  kRtree,  // 5.0–5.2: a global extents_rtree found by probing with known heap addresses
};

struct Layout {
  std::string name;         // "5.3.0"
  int major = 0, minor = 0;
  bool verified = false;    // true when checked against real cores of that version

  // tsd_t (the static TLS block; tsd = fs_base + tpoff)
  uint32_t tsd_arena = kNoField;
  uint32_t tsd_state = kNoField;
  uint32_t tsd_tcache = kNoField;       // tcache_t embedded in the tsd
  uint32_t tsd_tcache_slow = kNoField;  // tcache_slow_t embedded in the tsd (5.3)

  // tcache_t
  uint32_t tcache_bins = kNoField;       // first cache_bin_t (5.3 bins[]; 5.2 bins_small[])
  uint32_t tcache_bins_large = kNoField; // 5.2: bins_large[] (kNoField: one array)
  uint32_t cache_bin_size = 24;
  uint32_t tcache_nbins_max = 0;         // entries of the bins array(s) (5.3: 73; 5.2 small: nbins)
  CacheBinKind cache_bin = CacheBinKind::kStackHead;
  // cache_bin_t fields
  uint32_t cb_stack_head = 0, cb_low_bits_full = 0x12, cb_low_bits_empty = 0x14;  // 5.3
  uint32_t cb_ncached = kNoField, cb_avail = kNoField;                              // 5.2
  // The list of tcaches per arena (needs config_stats): arena->tcache_ql, ring of the
  // link at `tcache_link` inside the element; `tcache_of_elem` gives the tcache_t.
  uint32_t tcache_link = 0;            // offset of the ql link in the list element
  uint32_t tcache_elem_tcache = kNoField;  // element → tcache_t* (5.3: tcache_slow->tcache)
  int32_t tcache_elem_is_tcache_delta = 0; // 5.2: the element is the tcache itself, minus the link offset

  // arena_t. The index is arena->ind, or (5.2) arena->base->ind when arena_ind is kNoField.
  uint32_t arena_ind = kNoField;
  uint32_t arena_base = kNoField;
  uint32_t base_ind = kNoField;          // offset of ind in base_t
  bool arena_bins_indirect = false;      // 5.2: bins[] holds pointers to the bin_t shards
  uint32_t arena_emap = kNoField;        // 5.3 pa_shard.emap
  uint32_t arena_tcache_ql = kNoField;
  uint32_t arena_bins = kNoField;
  uint32_t arena_dirty_decay_ms = kNoField;  // huge-arena detection (0 there when the default is not)
  uint32_t bin_size = 0;
  uint32_t bin_curregs = kNoField;       // bin_t.stats.curregs
  uint32_t bin_curslabs = kNoField;      // bin_t.stats.curslabs
  uint32_t bin_slabcur = kNoField;
  // A word of an initialized tcache_t that points into itself: u64 at tcache+check_off equals
  // tcache + check_delta (5.3: tcache->tcache_slow == &tsd->tcache_slow; 5.2: the cache-bin
  // descriptor's bins_small == tcache->bins_small).
  uint32_t tcache_check_off = kNoField;
  int32_t tcache_check_delta = 0;

  // edata_t / extent_t
  uint32_t edata_align = 128;
  uint32_t e_bits = 0, e_addr = 8, e_size = 0x10, e_bitmap = 0x40;
  BitField f_arena, f_slab, f_state, f_szind, f_nfree, f_binshard;

  // rtree
  ExtentMapKind map_kind = ExtentMapKind::kEmap;
  uint32_t rtree_root = 0x78;            // offset of root[] in rtree_t (kEmap)
  // Compact leaves (one word): pointer bits sign-extended from bit 47, masked.
  uint64_t leaf_ptr_mask = ~uint64_t{127};
  BitField leaf_slab, leaf_state, leaf_szind;
  bool leaf_has_state = true;
  // 16-byte leaves: the pointer, then a metadata word read as one u64.
  BitField nc_slab, nc_state, nc_szind;
  bool nc_has_state = true;
  // extent states: values of active/dirty/muzzy/retained in f_state
  uint8_t st_active = 0, st_dirty = 1, st_muzzy = 2, st_retained = 3;
};

// Candidates in the order to try: the one matching `version` ("5.3.0-0-g…", "" unknown) first.
std::vector<Layout> layouts_for(const std::string& version);

}  // namespace coresift::je
