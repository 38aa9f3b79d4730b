// Raw memory ranges (FILE@0xBASE, e.g. gdb `dump memory` of [heap] or of an arena heap)
// without a core: no threads, no modules, no libc. Also a core whose libc data (main_arena,
// mp_) is absent, e.g. cut short: its heap mappings are walked the same way. A range is a glibc heap when a chain of
// chunk headers runs consistently from its start: right at the start for the main heap, after
// heap_info (and the malloc_state, in an arena's first heap) for a 64 MiB-aligned arena heap.
// When the arena's malloc_state is in the dump its bins and top are used; otherwise free
// chunks are known only by the next chunk's PREV_INUSE, and small chunks that look in use may
// sit in a tcache or fastbin (live-or-cached).
#include <fmt/format.h>

#include <algorithm>

#include "glibc.hpp"

namespace coresift::glibc {
namespace {

struct Chain {
  uint64_t chunks = 0;
  uint64_t last = 0;         // last chunk seen
  bool reaches_end = false;  // the last chunk runs to (or past) the end of the range
};

// Follows at most `max` chunk headers: enough to tell a heap from other bytes (the walk
// proper finds the rest, top included).
Chain follow(const Ctx& c, uint64_t first, uint64_t end, bool non_main, uint64_t max = 64) {
  Chain ch;
  uint64_t p = first;
  while (p + 16 <= end && ch.chunks < max) {
    auto h = c.mem.u64(p + 8);
    if (!h) break;
    uint64_t sz = chunksize(*h);
    if (sz < kMinChunk || (sz & kAlignMask) || (*h & kIsMmapped)) break;
    if (!non_main && (*h & kNonMainArena)) break;
    ch.chunks++;
    ch.last = p;
    if (sz >= end - p) {
      ch.reaches_end = true;
      break;
    }
    p += sz;
  }
  return ch;
}

bool good_chain(const Chain& ch) { return ch.chunks >= 8 || (ch.reaches_end && ch.chunks >= 2); }

// An arena heap at a 64 MiB boundary: heap_info, then (first heap) the malloc_state.
bool arena_heap(Ctx& c, const RawRange& r) {
  uint64_t base = r.base, end = r.base + r.size;
  uint64_t w[4];
  if (base & (kHeapMax - 1) || !c.mem.read(base, w, sizeof w)) return false;
  if (w[2] < kPage || w[2] > kHeapMax || (w[2] & (kPage - 1))) return false;
  uint64_t heap_end = std::min(end, base + w[2]);
  for (uint32_t hi : {0x30u, 0x20u}) {
    if (w[0] == base + hi) {
      for (Version v : {Version{2, 36}, Version{2, 26}}) {
        Layout l = layout_for(v);
        l.heap_info_size = hi;
        l.source = "probed from the dump";
        Layout saved = c.layout;
        c.layout = l;
        ArenaState a;
        if (plausible_malloc_state(c, w[0], false) && read_arena(c, w[0], a)) {
          HeapRegion h{base, align16(w[0] + l.ms_size), heap_end};
          Chain ch = follow(c, h.first, heap_end, true);
          if (good_chain(ch)) {
            a.heaps.push_back(h);
            if (!(a.top >= h.first && a.top < h.end)) a.lists_known = false;
            c.arenas.push_back(std::move(a));
            c.notes.push_back(fmt::format("dump {:#x}: arena heap with its malloc_state {:#x} (bins and top read from it)",
                                          base, w[0]));
            return true;
          }
        }
        c.layout = saved;
      }
    }
  }
  // A later heap of an arena whose malloc_state lives elsewhere.
  for (uint32_t hi : {0x30u, 0x20u}) {
    Chain ch = follow(c, base + hi, heap_end, true);
    if (!good_chain(ch)) continue;
    ArenaState a;
    a.address = w[0];
    a.initialized = true;
    a.lists_known = false;
    a.heaps.push_back({base, base + hi, heap_end});
    a.top = ch.reaches_end ? ch.last : 0;
    a.top_at_end = !a.top;
    a.top_size = a.top ? chunksize(c.mem.u64_or(a.top + 8, 0)) : 0;
    a.system_mem = w[2];
    c.layout.heap_info_size = hi;
    c.arenas.push_back(std::move(a));
    c.notes.push_back(fmt::format("dump {:#x}: arena heap of arena {:#x}, whose malloc_state is not in the dump", base, w[0]));
    return true;
  }
  return false;
}

bool main_heap(Ctx& c, const RawRange& r) {
  uint64_t first = align16(r.base), end = r.base + r.size;
  Chain ch = follow(c, first, end, false);
  if (!good_chain(ch)) return false;
  ArenaState a;
  a.address = 0;
  a.main = true;
  a.initialized = true;
  a.lists_known = false;
  a.heaps.push_back({0, first, end});
  // The main heap ends with top: the last chunk when it runs to the end of the dump.
  a.top = ch.reaches_end ? ch.last : 0;
  a.top_at_end = !a.top;
  a.top_size = a.top ? chunksize(c.mem.u64_or(a.top + 8, 0)) : 0;
  a.system_mem = r.size;
  c.arenas.push_back(std::move(a));
  c.notes.push_back(fmt::format("dump {:#x}: main-arena heap (main_arena is not in the dump)", r.base));
  return true;
}

}  // namespace

bool setup_raw_arenas(Ctx& c) {
  c.layout = layout_for({2, 36});
  return setup_raw_arenas(c, c.s.inputs().raw_ranges);
}

bool setup_raw_arenas(Ctx& c, std::vector<RawRange> ranges) {
  std::sort(ranges.begin(), ranges.end(), [](const RawRange& a, const RawRange& b) { return a.base < b.base; });
  for (const RawRange& r : ranges) {
    if (r.size < kMinChunk * 2) continue;
    if (!arena_heap(c, r)) main_heap(c, r);
  }
  if (c.arenas.empty()) return false;
  c.located_by = "scan";
  for (const ArenaState& a : c.arenas)
    if (a.lists_known) {
      c.notes.push_back("chunks that look in use are reported live: tcaches of threads whose tcache struct is not in "
                        "the dump cannot be seen");
      break;
    }
  return true;
}

}  // namespace coresift::glibc
