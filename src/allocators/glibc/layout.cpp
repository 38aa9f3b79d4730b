// glibc versions and the x86-64 struct layout table (malloc_state, heap_info, malloc_par,
// tcache_perthread_struct), from the glibc sources of each release; 2.36 checked against
// Debian's libc6-dbg DWARF.
#include <fmt/format.h>

#include <charconv>

#include "glibc.hpp"

namespace coresift::glibc {

std::string hex(uint64_t v) { return fmt::format("{:#x}", v); }

std::string Version::str() const { return known() ? fmt::format("{}.{}", major, minor) : std::string(); }

std::optional<Version> parse_version(std::string_view s) {
  Version v;
  auto r = std::from_chars(s.data(), s.data() + s.size(), v.major);
  if (r.ec != std::errc() || r.ptr == s.data() + s.size() || *r.ptr != '.') return std::nullopt;
  const char* p = r.ptr + 1;
  auto r2 = std::from_chars(p, s.data() + s.size(), v.minor);
  if (r2.ec != std::errc() || r2.ptr == p) return std::nullopt;
  if (v.major != 2 || v.minor < 0 || v.minor > 99) return std::nullopt;
  return v;
}

Version min_supported() { return {2, 23}; }
Version max_supported() { return {2, 42}; }

bool Layout::operator==(const Layout& o) const { return layout_diff(*this, o).empty(); }

std::string layout_diff(const Layout& a, const Layout& b) {
  std::string d;
  auto cmp = [&](const char* name, int64_t x, int64_t y) {
    if (x != y) d += fmt::format("{}{} {:#x} vs {:#x}", d.empty() ? "" : ", ", name, x, y);
  };
#define CMP(f) cmp(#f, static_cast<int64_t>(a.f), static_cast<int64_t>(b.f))
  CMP(ms_have_fastchunks); CMP(ms_fastbins); CMP(ms_top); CMP(ms_last_remainder); CMP(ms_bins);
  CMP(ms_binmap); CMP(ms_next); CMP(ms_next_free); CMP(ms_attached_threads); CMP(ms_system_mem);
  CMP(ms_max_system_mem); CMP(ms_size); CMP(heap_info_size); CMP(mp_mmap_threshold); CMP(mp_n_mmaps);
  CMP(mp_n_mmaps_max); CMP(mp_max_n_mmaps); CMP(mp_mmapped_mem); CMP(mp_max_mmapped_mem); CMP(mp_sbrk_base);
  CMP(mp_tcache_bins); CMP(mp_tcache_max_bytes); CMP(mp_tcache_count); CMP(mp_size); CMP(tcache);
  CMP(tc_count_width); CMP(tc_bins); CMP(tc_entries); CMP(tc_struct_size); CMP(tc_counts_are_free_slots);
  CMP(tc_key); CMP(tc_key_random); CMP(safe_linking);
#undef CMP
  return d;
}

Layout layout_for(Version v) {
  if (!v.known()) v = {2, 36};
  if (v < min_supported()) v = min_supported();
  if (v > max_supported()) v = max_supported();
  Layout l;  // defaults: 2.35 - 2.41
  l.source = "table for glibc " + v.str();

  // malloc_state: have_fastchunks arrived in 2.27 and shifted everything after it by 8.
  if (v < Version{2, 27}) {
    l.ms_have_fastchunks = -1;
    l.ms_fastbins = 0x08;
    l.ms_top = 0x58;
    l.ms_last_remainder = 0x60;
    l.ms_bins = 0x68;
    l.ms_binmap = 0x858;
    l.ms_next = 0x868;
    l.ms_next_free = 0x870;
    l.ms_attached_threads = 0x878;
    l.ms_system_mem = 0x880;
    l.ms_max_system_mem = 0x888;
    l.ms_size = 0x890;
  }
  // heap_info gained `pagesize` (and 8 bytes of padding) in 2.35.
  l.heap_info_size = v < Version{2, 35} ? 0x20 : 0x30;

  // malloc_par
  if (v < Version{2, 35}) {
    l.mp_n_mmaps = 0x28;
    l.mp_n_mmaps_max = 0x2c;
    l.mp_max_n_mmaps = 0x30;
    l.mp_mmapped_mem = 0x38;
    l.mp_max_mmapped_mem = 0x40;
    if (v < Version{2, 24}) {
      l.mp_sbrk_base = 0x50;  // max_total_mem at 0x48
      l.mp_size = 0x58;
    } else {
      l.mp_sbrk_base = 0x48;
      l.mp_size = 0x50;
    }
    if (v >= Version{2, 26}) {
      l.mp_tcache_bins = 0x50;
      l.mp_tcache_max_bytes = 0x58;
      l.mp_tcache_count = 0x60;
      l.mp_size = 0x70;
    } else {
      l.mp_tcache_bins = l.mp_tcache_max_bytes = l.mp_tcache_count = -1;
    }
  }

  // tcache
  l.tcache = v >= Version{2, 26};
  if (v < Version{2, 30}) {
    l.tc_count_width = 1;
    l.tc_entries = 0x40;
    l.tc_struct_size = 0x240;
  }
  if (v >= Version{2, 42}) {
    l.tc_bins = 76;
    l.tc_entries = 0x98;
    l.tc_struct_size = 0x2f8;
    l.tc_counts_are_free_slots = true;
  }
  l.tc_key = v >= Version{2, 29};
  l.tc_key_random = v >= Version{2, 34};
  l.safe_linking = v >= Version{2, 32};
  return l;
}

uint64_t ArenaState::bin_at(int i, const Layout& l) const {
  return address + l.ms_bins + static_cast<uint64_t>(i - 1) * 16 - 16;
}

bool ArenaState::in_heaps(uint64_t chunk) const {
  for (const HeapRegion& h : heaps)
    if (chunk >= h.first && chunk < h.end) return true;
  return false;
}

const ArenaState* Ctx::arena_of(uint64_t chunk) const {
  for (const ArenaState& a : arenas)
    if (a.in_heaps(chunk)) return &a;
  return nullptr;
}

bool Ctx::in_any_heap(uint64_t chunk) const { return arena_of(chunk) != nullptr; }

}  // namespace coresift::glibc
