// Statistics recomputed offline (as malloc_stats_print would show them) and cross-checked
// against jemalloc's own per-bin counters (bin_t.stats.curregs / curslabs) in the core.
#include <fmt/format.h>

#include <map>

#include "coresift/util/units.hpp"
#include "je_context.hpp"

namespace coresift::je {
namespace {

std::string human(uint64_t b) { return human_bytes(b, SizeStyle::kOneDigit); }

struct BinCount {
  uint64_t curregs = 0, curslabs = 0;
};
struct ArenaCount {
  std::map<uint32_t, BinCount> bins;  // szind → decoded counts
  uint64_t small_bytes = 0, small_regs = 0, slabs = 0;
  uint64_t large_n = 0, large_bytes = 0;
  uint64_t cached_n = 0, cached_bytes = 0;  // in thread caches
  uint64_t dirty = 0, muzzy = 0, retained = 0;
  bool sharded = false;
};

}  // namespace

void cross_check_stats(Context& c, AllocatorInfo& info, size_t first_chunk) {
  const Layout& l = c.layout;
  std::map<uint32_t, ArenaCount> per;
  for (const Extent& e : c.extents) {
    ArenaCount& a = per[e.arena];
    switch (e.state) {
      case ExtentState::kActive:
        if (e.slab && e.szind < c.sc.nbins()) {
          const BinGeometry& g = c.sc.bins[e.szind];
          uint64_t used = e.nfree <= g.nregs ? g.nregs - e.nfree : 0;
          BinCount& b = a.bins[e.szind];
          b.curslabs++;
          b.curregs += used;
          a.small_regs += used;
          a.small_bytes += used * g.reg_size;
          a.slabs++;
          if (e.binshard) a.sharded = true;
        } else if (!e.slab) {
          a.large_n++;
          a.large_bytes += c.sc.usize(e.szind);
        }
        break;
      case ExtentState::kDirty: a.dirty += e.size; break;
      case ExtentState::kMuzzy: a.muzzy += e.size; break;
      case ExtentState::kRetained: a.retained += e.size; break;
      case ExtentState::kOther: break;
    }
  }
  // Regions held by thread caches (counted as allocated by jemalloc's own statistics).
  const auto& rows = c.out->chunks;
  for (size_t i = first_chunk; i < rows.size(); ++i) {
    const Chunk& ch = rows[i];
    if (ch.state != ChunkState::kFree || (ch.bin != ChunkBin::kTcache && ch.bin != ChunkBin::kLarge)) continue;
    for (const auto& ar : c.arenas)
      if (ar.table_index == ch.arena) {
        per[ar.ind].cached_n++;
        per[ar.ind].cached_bytes += ch.size;
      }
  }

  uint64_t mismatches = 0, checked = 0;
  for (const JeArena& ar : c.arenas) {
    ArenaCount& a = per[ar.ind];
    if (l.bin_curregs == kNoField || a.sharded) continue;
    for (uint32_t b = 0; b < c.sc.nbins(); ++b) {
      auto binp = c.bin_of(ar.address, b);
      if (!binp) continue;
      uint64_t bin = *binp;
      auto regs = c.u64(bin + l.bin_curregs);
      auto slabs = c.u64(bin + l.bin_curslabs);
      if (!regs || !slabs) continue;
      ++checked;
      BinCount d = a.bins.count(b) ? a.bins[b] : BinCount{};
      if (*regs != d.curregs || *slabs != d.curslabs) {
        ++mismatches;
        c.finding("jemalloc-stats-mismatch", bin,
                  fmt::format("arena {} bin {} ({} B): jemalloc counts {} regions in {} slabs, the slabs hold {} in {}", ar.ind, b,
                              c.sc.bins[b].reg_size, *regs, *slabs, d.curregs, d.curslabs));
      }
    }
  }
  // ArenaInfo.system_mem: bytes of extents an arena holds (active and cached, not retained).
  // ArenaInfo.heaps: the address ranges of an arena's extents (any state), adjacent ones merged.
  std::map<uint32_t, uint64_t> held;
  std::map<uint32_t, std::vector<std::pair<uint64_t, uint64_t>>> ranges;
  for (const Extent& e : c.extents) {
    if (e.state == ExtentState::kActive || e.state == ExtentState::kDirty || e.state == ExtentState::kMuzzy) held[e.arena] += e.size;
    auto& r = ranges[e.arena];
    if (!r.empty() && r.back().second == e.base) r.back().second = e.base + e.size;
    else r.push_back({e.base, e.base + e.size});
  }
  for (const JeArena& ar : c.arenas) {
    const ArenaCount& a = per[ar.ind];
    info.notes.push_back(fmt::format(
        "arena {}{}: small {} regions ({}) in {} slabs; large {} ({}); {} cached in tcaches ({}); dirty {}, muzzy {}, retained {}",
        ar.ind, ar.huge ? " (huge)" : "", a.small_regs, human(a.small_bytes), a.slabs, a.large_n, human(a.large_bytes), a.cached_n,
        human(a.cached_bytes), human(a.dirty), human(a.muzzy), human(a.retained)));
    if (!a.bins.empty()) {
      std::string bins;
      for (const auto& [b, n] : a.bins)
        bins += fmt::format(" {}:{}/{}", c.sc.bins[b].reg_size, n.curregs, n.curslabs * c.sc.bins[b].nregs);
      info.notes.push_back(fmt::format("arena {} bins (size:regions in use/slab capacity):{}", ar.ind, bins));
    }
    if (ar.table_index < c.out->arenas.size()) {
      c.out->arenas[ar.table_index].system_mem = held[ar.ind];
      c.out->arenas[ar.table_index].heaps = std::move(ranges[ar.ind]);
    }
  }
  c.bins_checked = checked;
  c.bins_stats_bad = mismatches;
  if (checked)
    info.notes.push_back(fmt::format("bin statistics: {} of {} bins agree with the decoded slabs", checked - mismatches, checked));
}

}  // namespace coresift::je
