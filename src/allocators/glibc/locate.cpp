// Finding main_arena and mp_: symbols first (unless --no-debuginfo), then disassembly of
// exported libc functions from the on-disk file, then a scan of libc's writable data in the
// core. Every candidate is validated by invariants before it is trusted.
#include <fmt/format.h>

#include <algorithm>
#include <map>

#include "glibc.hpp"

namespace coresift::glibc {
namespace {

bool mapped(const Ctx& c, uint64_t a) { return c.s.memory().is_mapped(a); }

// Writable memory that belongs to libc: its RW mappings and the anonymous mapping right after
// them (the rest of .bss).
std::vector<std::pair<uint64_t, uint64_t>> libc_data_ranges(const Ctx& c) {
  std::vector<std::pair<uint64_t, uint64_t>> out;
  const auto& maps = c.s.process().mappings;
  std::string path = c.libc ? c.libc->path : c.s.process().executable;
  if (path.empty()) return out;  // no file to scan: "" would match every anonymous mapping
  // Only present bytes: the scans read every word, and a damaged core can claim terabytes
  // of mapping with a few KiB present.
  auto add = [&](const Mapping& m) {
    for (auto part : c.s.memory().present_parts(m.start, m.end)) out.push_back(part);
  };
  for (size_t i = 0; i < maps.size(); ++i) {
    if (maps[i].path != path || !(maps[i].perms & kPermWrite)) continue;
    add(maps[i]);
    if (i + 1 < maps.size() && maps[i + 1].path.empty() && maps[i + 1].start == maps[i].end &&
        (maps[i + 1].perms & kPermWrite))
      add(maps[i + 1]);
  }
  return out;
}

uint64_t runtime(const Ctx& c, uint64_t link) { return link + (c.libc ? c.libc->load_bias : 0); }

// Candidates are words where one of the last bins points at itself (empty bins do; a shift
// by 16 bytes keeps that, so every candidate is scored and the best one taken), or the
// static image before malloc_init_state (bins zero, next = itself).
void scan_for_main_arena(Ctx& c, const std::vector<std::pair<uint64_t, uint64_t>>& ranges) {
  const Layout& l = c.layout;
  uint64_t best = 0;
  ArenaScore best_score;
  for (auto [lo, hi] : ranges)
    for (uint64_t x = lo; x + l.ms_size <= hi; x += 8) {
      bool candidate = c.mem.u64_or(x + l.ms_next, 1) == x && c.mem.u64_or(x + l.ms_top, 1) == 0;
      for (int i = kNumBins - 1; i >= kNumBins - 8 && !candidate; --i) {
        uint64_t slot = l.ms_bins + static_cast<uint64_t>(i - 1) * 16;
        candidate = c.mem.u64_or(x + slot, 0) == x + slot - 16;
      }
      if (!candidate) continue;
      ArenaScore sc = score_malloc_state(c, x);
      if (sc.valid() && (!best || sc.points() > best_score.points())) {
        best = x;
        best_score = sc;
      }
    }
  if (!best) return;
  c.main_arena = best;
  c.located_by = "scan";
  if (!best_score.ring) c.notes.push_back("main_arena found by scanning, although its next ring does not close");
  if (best_score.bins_bad)
    c.notes.push_back(fmt::format("main_arena found by scanning: {} of {} bins do not link back", best_score.bins_bad,
                                  kNumBins - 1));
}

// mp_ by its default image (tcache settings, thresholds, sbrk_base next to main_arena's top).
void scan_for_mp(Ctx& c, const std::vector<std::pair<uint64_t, uint64_t>>& ranges, const char* what) {
  for (auto [lo, hi] : ranges)
    for (uint64_t x = lo; x + c.layout.mp_size <= hi; x += 8) {
      MpValues v;
      if (read_mp(c, x, v, true)) {
        c.mp = x;
        c.mpv = v;
        c.notes.push_back(std::string("mp_ found by scanning libc's data for its default image") + what);
        return;
      }
    }
}

// mp_ found by its symbol but holding values malloc never writes: a finding with what was read.
void report_bad_mp(Ctx& c, uint64_t mp) {
  const Layout& l = c.layout;
  auto w64 = [&](uint32_t off) { return c.mem.u64_or(mp + off, 0); };
  auto w32 = [&](uint32_t off) { return static_cast<int32_t>(c.mem.u32(mp + off).value_or(0)); };
  c.finding("mp-implausible", mp,
            fmt::format("expected malloc_par mp_ with mmap_threshold <= 32 MiB, 0 <= n_mmaps <= max_n_mmaps, page-multiple "
                        "mmapped_mem <= max_mmapped_mem, a mapped sbrk_base and tcache settings within their limits; found "
                        "mmap_threshold {:#x}, n_mmaps {}, max_n_mmaps {}, mmapped_mem {:#x}, max_mmapped_mem {:#x}, "
                        "sbrk_base {:#x}; mp_ is not used",
                        w64(l.mp_mmap_threshold), w32(l.mp_n_mmaps), w32(l.mp_max_n_mmaps), w64(l.mp_mmapped_mem),
                        w64(l.mp_max_mmapped_mem), w64(l.mp_sbrk_base)));
}

}  // namespace

bool read_mp(Ctx& c, uint64_t addr, MpValues& v, bool strict) {
  const Layout& l = c.layout;
  std::vector<uint8_t> raw(l.mp_size);
  if (!c.mem.read(addr, raw.data(), raw.size())) return false;
  auto w64 = [&](uint64_t off) {
    uint64_t x;
    std::memcpy(&x, raw.data() + off, 8);
    return x;
  };
  auto w32 = [&](uint64_t off) {
    int32_t x;
    std::memcpy(&x, raw.data() + off, 4);
    return x;
  };
  MpValues m;
  m.mmap_threshold = w64(l.mp_mmap_threshold);
  m.n_mmaps = w32(l.mp_n_mmaps);
  m.n_mmaps_max = w32(l.mp_n_mmaps_max);
  m.max_n_mmaps = w32(l.mp_max_n_mmaps);
  m.mmapped_mem = w64(l.mp_mmapped_mem);
  m.max_mmapped_mem = w64(l.mp_max_mmapped_mem);
  m.sbrk_base = w64(l.mp_sbrk_base);
  if (l.mp_tcache_bins >= 0) {
    m.tcache_bins = w64(static_cast<uint64_t>(l.mp_tcache_bins));
    m.tcache_max_bytes = w64(static_cast<uint64_t>(l.mp_tcache_max_bytes));
    m.tcache_count = w64(static_cast<uint64_t>(l.mp_tcache_count));
  }
  if (m.mmap_threshold > (32ull << 20) || m.n_mmaps < 0 || m.max_n_mmaps < m.n_mmaps || m.n_mmaps_max < 0) return false;
  if (m.mmapped_mem > m.max_mmapped_mem || (m.mmapped_mem & (kPage - 1)) || m.max_mmapped_mem > (1ull << 47)) return false;
  if (m.sbrk_base != 0 && !mapped(c, m.sbrk_base)) return false;
  if (l.mp_tcache_bins >= 0 && (m.tcache_bins > l.tc_bins || m.tcache_count > 0xffff || m.tcache_max_bytes > (1ull << 40)))
    return false;
  if (strict) {
    if (m.mmap_threshold < 0x20000) return false;
    if (l.mp_tcache_bins >= 0 && (m.tcache_bins != 64 || m.tcache_max_bytes != 1032 || m.tcache_count != 7)) return false;
    // sbrk_base is the start of the main heap: main_arena.top lies in the same mapping.
    if (c.main_arena && m.sbrk_base) {
      auto top = c.mem.u64(c.main_arena + l.ms_top);
      const Mapping* a = c.s.process().mapping_at(m.sbrk_base);
      const Mapping* b = top ? c.s.process().mapping_at(*top) : nullptr;
      if (!a || !b || (a != b && *top != c.main_arena + l.ms_bins - 16)) return false;
    }
  }
  m.valid = true;
  v = m;
  return true;
}

namespace {

// 1. Symbols (libc's symbol table or its debug file). A symbol is the truth: no heuristic
// overrules it. Its damaged fields become findings (arena_checks.cpp), a broken ring too; only
// memory missing from the core refuses it. Sets mp_refused when the symbol's mp_ is unusable:
// no other place is searched then.
void locate_by_symbols(Ctx& c, bool& mp_refused) {
  const Layout& l = c.layout;
  std::optional<uint64_t> ma, mp;
  if (auto a = c.s.symbols().find_symbol(c.libc->path, "main_arena")) ma = *a;
  if (auto a = c.s.symbols().find_symbol(c.libc->path, "mp_")) mp = *a;
  if (!ma && c.debug.main_arena) ma = runtime(c, *c.debug.main_arena);
  if (!mp && c.debug.mp) mp = runtime(c, *c.debug.mp);
  if (ma && score_malloc_state(c, *ma).readable) {
    c.main_arena = *ma;
    c.located_by = "symbols";
    if (!plausible_malloc_state(c, *ma, false))
      c.notes.push_back(fmt::format("main_arena {:#x} (symbol) does not validate: its fields are damaged", *ma));
    if (mp) {
      MpValues v;
      if (read_mp(c, *mp, v, false)) {
        c.mp = *mp;
        c.mpv = v;
      } else {
        mp_refused = true;  // the symbol says where mp_ is: no other place is searched
        if (c.is_absent(*mp, l.mp_size)) c.absent(*mp, "mp_");
        else report_bad_mp(c, *mp);
      }
    }
  }
}

// (votes, address) pairs, most votes first (ties: the higher address first).
std::vector<std::pair<int, uint64_t>> by_votes(const std::map<uint64_t, int>& votes) {
  std::vector<std::pair<int, uint64_t>> ranked;
  for (auto [t, n] : votes) ranked.push_back({n, t});
  std::sort(ranked.rbegin(), ranked.rend());
  return ranked;
}

// 2a. main_arena from the first RIP-relative lea of exported malloc functions (on-disk libc).
void arena_by_disassembly(Ctx& c, const DiskElf& img) {
  std::map<uint64_t, int> votes;
  for (const char* fn : {"malloc_trim", "mallinfo2", "malloc_stats", "mallinfo"})
    if (auto f = img.symbol(fn))
      if (auto t = first_rip_lea(img, *f)) votes[*t]++;
  for (auto [n, t] : by_votes(votes))
    if (ArenaScore sc = score_malloc_state(c, runtime(c, t)); sc.valid() && (n >= 2 || sc.ring)) {
      c.main_arena = runtime(c, t);
      c.located_by = "disassembly";
      c.notes.push_back(fmt::format("main_arena at libc+{:#x}: first RIP-relative lea of {} exported malloc "
                                    "function(s) agree",
                                    t, n));
      break;
    }
}

// 2b. mp_ from malloc_stats (loads mp_.mmapped_mem first) and malloc (compares against
// mp_.tcache_bins).
void mp_by_disassembly(Ctx& c, const DiskElf& img) {
  const Layout& l = c.layout;
  std::map<uint64_t, int> votes;
  if (auto f = img.symbol("malloc_stats"))
    for (const RipAccess& a : rip_accesses(img, *f))
      if (!a.is_lea && a.size == 8) {
        votes[a.target - l.mp_mmapped_mem]++;
        break;
      }
  if (l.mp_tcache_bins >= 0)
    if (auto f = img.symbol("malloc"))
      for (const RipAccess& a : rip_accesses(img, *f, 128))
        if (a.is_cmp && a.size == 8) {
          votes[a.target - static_cast<uint64_t>(l.mp_tcache_bins)]++;
          break;
        }
  for (auto [n, t] : by_votes(votes)) {
    MpValues v;
    if (read_mp(c, runtime(c, t), v, false)) {
      c.mp = runtime(c, t);
      c.mpv = v;
      c.notes.push_back(fmt::format("mp_ at libc+{:#x} from malloc_stats/malloc disassembly ({} agree)", t, n));
      break;
    }
  }
}

// 3. A scan of libc's writable data: the candidate that validates best (see arena_score.cpp).
bool locate_by_scan(Ctx& c, bool mp_refused) {
  auto ranges = libc_data_ranges(c);
  if (!c.main_arena) scan_for_main_arena(c, ranges);
  if (!c.main_arena) return false;
  if (!c.mp && !mp_refused) scan_for_mp(c, ranges, "");
  if (!c.mp && !mp_refused && !c.version.known()) {
    // Unknown version: malloc_par lost the hugepage fields before 2.35; try that layout too.
    Layout saved = c.layout;
    Layout old = layout_for({2, 34});
    for (auto f : {&Layout::mp_mmap_threshold, &Layout::mp_n_mmaps, &Layout::mp_n_mmaps_max, &Layout::mp_max_n_mmaps,
                    &Layout::mp_mmapped_mem, &Layout::mp_max_mmapped_mem, &Layout::mp_sbrk_base, &Layout::mp_size})
      c.layout.*f = old.*f;
    for (auto f : {&Layout::mp_tcache_bins, &Layout::mp_tcache_max_bytes, &Layout::mp_tcache_count}) c.layout.*f = old.*f;
    scan_for_mp(c, ranges, " (pre-2.35 layout)");
    if (!c.mp) c.layout = saved;
  }
  if (!c.mp) c.notes.push_back("mp_ not found: main heap start taken from the mapping holding the top chunk");
  return true;
}

}  // namespace

bool locate(Ctx& c) {
  bool mp_refused = false;
  if (!c.s.options().symbols.no_debuginfo && c.libc) locate_by_symbols(c, mp_refused);
  if (c.libc_image && !c.main_arena) arena_by_disassembly(c, *c.libc_image);
  if (c.libc_image && !c.mp && !mp_refused) mp_by_disassembly(c, *c.libc_image);
  if (!locate_by_scan(c, mp_refused)) return false;
  // global_max_fast and tcache_key are only known with symbols; defaults otherwise.
  if (c.debug.global_max_fast)
    if (auto v = c.mem.u64(runtime(c, *c.debug.global_max_fast)); v && *v <= 0xb0) c.global_max_fast = *v;
  if (c.debug.tcache_key)
    if (auto v = c.mem.u64(runtime(c, *c.debug.tcache_key)); v && *v) c.tcache_key = *v;
  return true;
}

}  // namespace coresift::glibc
