// Arenas: main_arena and the ring of non-main arenas (malloc_state.next), and the heaps each
// one owns: the sbrk heap of the main arena (from mp_.sbrk_base to the end of top, possibly
// non-contiguous), and the 64 MiB-aligned heap_info chains of the others.
#include <fmt/format.h>

#include <algorithm>
#include <set>

#include "glibc.hpp"

namespace coresift::glibc {
namespace {

struct HeapInfo {
  uint64_t ar_ptr = 0, prev = 0, size = 0, mprotect_size = 0;
};

std::optional<HeapInfo> read_heap_info(const Ctx& c, uint64_t h) {
  HeapInfo hi;
  uint64_t w[4];
  if (!c.mem.read(h, w, sizeof w)) return std::nullopt;
  hi.ar_ptr = w[0];
  hi.prev = w[1];
  hi.size = w[2];
  hi.mprotect_size = w[3];
  return hi;
}

bool sane_heap_info(const Ctx& c, uint64_t h, const HeapInfo& hi, std::string* why) {
  auto fail = [&](std::string s) {
    if (why) *why = std::move(s);
    return false;
  };
  if (hi.size < c.layout.heap_info_size + kMinChunk || hi.size > kHeapMax || (hi.size & (kPage - 1)))
    return fail(fmt::format("size {:#x} is not a page multiple in [{:#x}, {:#x}]", hi.size,
                            c.layout.heap_info_size + kMinChunk, kHeapMax));
  if (hi.mprotect_size > kHeapMax || (hi.mprotect_size & (kPage - 1)))
    return fail(fmt::format("mprotect_size {:#x} is not a page multiple up to {:#x}", hi.mprotect_size, kHeapMax));
  if (hi.prev && (hi.prev & (kHeapMax - 1)))
    return fail(fmt::format("prev {:#x} is not {:#x}-aligned", hi.prev, kHeapMax));
  if (!c.mem.present(h, c.layout.heap_info_size)) return fail("not in the core");
  return true;
}

// End of the contiguous run of present bytes starting at `a`.
uint64_t present_end(const Ctx& c, uint64_t a) {
  const Segment* s = c.s.memory().find(a);
  if (!s || a - s->start >= s->present) return a;
  uint64_t end = s->start + s->present;
  while (s->present == s->size()) {
    const Segment* n = c.s.memory().find(end);
    if (!n || n->start != end || n->present == 0) break;
    s = n;
    end = n->start + n->present;
  }
  return end;
}

// Does the chunk chain starting at `start` land exactly on `target`? Each header read costs
// one unit of `budget`, shared by all the candidates tried.
bool chain_reaches(const Ctx& c, uint64_t start, uint64_t target, uint64_t& budget) {
  uint64_t p = start;
  for (; budget > 0 && p < target; --budget) {
    auto sz = c.mem.u64(p + 8);
    if (!sz) return false;
    uint64_t s = chunksize(*sz);
    if (s < kMinChunk || (s & kAlignMask) || p + s > target) return false;
    p += s;
  }
  return p == target;
}

void main_heaps(Ctx& c, ArenaState& a) {
  if (!a.initialized) return;
  const Mapping* top_map = c.s.process().mapping_at(a.top);
  uint64_t sbrk = c.mpv.valid ? c.mpv.sbrk_base : 0;
  if (!sbrk && top_map) sbrk = top_map->start;
  if (!sbrk) return;
  const Mapping* base_map = c.s.process().mapping_at(sbrk);
  uint64_t first = align16(sbrk);
  auto top_end = [&](uint64_t region_end) {
    uint64_t e = a.top + a.top_size;
    if (a.top_size >= kMinChunk && a.top_size <= a.mem_bound() && e > a.top && e <= region_end) return e;
    return region_end;
  };
  if (base_map && top_map == base_map && a.top >= first) {
    a.heaps.push_back({0, first, top_end(base_map->end)});
    return;
  }
  // Non-contiguous: the sbrk region ends in fenceposts, top lives in a later region.
  if (base_map) a.heaps.push_back({0, first, base_map->end});
  if (top_map) {
    uint64_t start = 0, budget = 1ull << 24;
    for (uint64_t cand = top_map->start; cand <= a.top && cand < top_map->end && budget > 0; cand += kPage) {
      if (chain_reaches(c, align16(cand), a.top, budget)) {
        start = align16(cand);
        break;
      }
    }
    if (start) {
      a.heaps.push_back({0, start, top_end(top_map->end)});
      c.notes.push_back(fmt::format("main arena is non-contiguous: sbrk heap at {:#x}, top region at {:#x}", first, start));
    } else {
      c.finding("top-outside-heap", a.top,
                fmt::format("expected the top chunk in the main heap at {:#x}, found it in another mapping with no chunk "
                            "chain leading to it",
                            first));
    }
  }
}

void thread_heaps(Ctx& c, ArenaState& a) {
  const Layout& l = c.layout;
  uint64_t h = a.top & ~(kHeapMax - 1);
  std::set<uint64_t> seen;
  std::vector<std::pair<uint64_t, HeapInfo>> chain;
  auto hi = read_heap_info(c, h);
  std::string why;
  if (!hi && c.is_absent(h, 32) && c.s.memory().is_mapped(h)) {
    c.absent(h, fmt::format("the heap_info of arena {:#x}", a.address));
    return;
  }
  if (!hi || hi->ar_ptr != a.address || !sane_heap_info(c, h, *hi, &why)) {
    c.finding("bad-heap-info", h,
              hi ? fmt::format("expected the heap_info of arena {:#x} under its top chunk {:#x}, found ar_ptr {:#x}{}",
                               a.address, a.top, hi->ar_ptr, why.empty() ? "" : " (" + why + ")")
                 : fmt::format("expected a heap_info at {:#x} under top {:#x}, found unreadable memory", h, a.top));
    // Fall back to the heap holding the arena itself.
    h = (a.address - l.heap_info_size) & ~(kHeapMax - 1);
    hi = read_heap_info(c, h);
    if (!hi || hi->ar_ptr != a.address || !sane_heap_info(c, h, *hi, nullptr)) return;
  }
  uint64_t total = 0;
  while (true) {
    if (!seen.insert(h).second || seen.size() > 65536) {
      c.finding("heap-info-cycle", h, fmt::format("expected the heap_info prev chain of arena {:#x} to end, found a cycle",
                                                  a.address));
      break;
    }
    chain.push_back({h, *hi});
    total += hi->size;
    if (!hi->prev) break;
    uint64_t p = hi->prev;
    auto phi = read_heap_info(c, p);
    if (!phi || phi->ar_ptr != a.address || !sane_heap_info(c, p, *phi, &why)) {
      c.finding("bad-heap-info", p,
                fmt::format("expected heap_info of arena {:#x} (prev of {:#x}), found {}", a.address, h,
                            phi ? fmt::format("ar_ptr {:#x}{}", phi->ar_ptr, why.empty() ? "" : " (" + why + ")")
                                : std::string("unreadable memory")));
      break;
    }
    h = p;
    hi = phi;
  }
  for (auto& [addr, info] : chain) {
    HeapRegion r;
    r.info = addr;
    bool holds_arena = a.address >= addr && a.address < addr + info.size;
    r.first = holds_arena ? align16(a.address + l.ms_size) : addr + l.heap_info_size;
    r.end = std::min(addr + info.size, present_end(c, addr));
    if (r.end < addr + info.size)
      c.notes.push_back(fmt::format("heap {:#x} of arena {:#x}: only {:#x} of {:#x} bytes are in the core", addr,
                                    a.address, r.end - addr, info.size));
    a.heaps.push_back(r);
  }
  std::sort(a.heaps.begin(), a.heaps.end(), [](const HeapRegion& x, const HeapRegion& y) { return x.first < y.first; });
  if (total != a.system_mem && !a.system_mem_bad)
    c.finding("system-mem-mismatch", a.address,
              fmt::format("expected system_mem {:#x} (sum of {} heap sizes), found {:#x}", total, chain.size(), a.system_mem));
}

}  // namespace

bool read_arena(const Ctx& c, uint64_t addr, ArenaState& a) {
  const Layout& l = c.layout;
  std::vector<uint8_t> raw(l.ms_size);
  if (!c.mem.read(addr, raw.data(), raw.size())) return false;
  auto word = [&](uint64_t off) {
    uint64_t v;
    std::memcpy(&v, raw.data() + off, 8);
    return v;
  };
  a.address = addr;
  std::memcpy(&a.flags, raw.data() + 4, 4);
  for (int i = 0; i < kNumFastbins; ++i) a.fastbins[i] = word(l.ms_fastbins + 8ull * i);
  a.top = word(l.ms_top);
  a.last_remainder = word(l.ms_last_remainder);
  a.bins.resize(2 * (kNumBins - 1));
  for (size_t i = 0; i < a.bins.size(); ++i) a.bins[i] = word(l.ms_bins + 8 * i);
  a.next = word(l.ms_next);
  a.next_free = word(l.ms_next_free);
  a.attached_threads = l.ms_attached_threads >= 0 ? word(static_cast<uint64_t>(l.ms_attached_threads)) : 0;
  a.system_mem = word(l.ms_system_mem);
  a.initialized = a.top != 0 && a.top != addr + l.ms_bins - 16;
  a.top_size = 0;
  if (a.initialized) a.top_size = chunksize(c.mem.u64_or(a.top + 8, 0));
  return true;
}

void read_arenas(Ctx& c) {
  ArenaState m;
  if (!read_arena(c, c.main_arena, m)) return;
  m.main = true;
  c.arenas.push_back(std::move(m));
  std::set<uint64_t> seen{c.main_arena};
  uint64_t next = c.arenas.front().next;
  while (next != c.main_arena) {
    if (seen.count(next)) {
      c.finding("arena-ring-broken", next,
                fmt::format("expected the arena ring to return to main_arena {:#x}, found a cycle through {:#x}",
                            c.main_arena, next));
      break;
    }
    ArenaState a;
    if (!(next & 7) && c.s.memory().is_mapped(next) && c.is_absent(next, c.layout.ms_size)) {
      c.absent(next, fmt::format("the arena ring (malloc_state {:#x})", next));
      break;
    }
    if (seen.size() > 65536 || !plausible_malloc_state(c, next, false) || !read_arena(c, next, a)) {
      c.finding("arena-ring-broken", next,
                fmt::format("expected a malloc_state at {:#x} (next of arena {:#x}), found none", next, c.arenas.back().address));
      break;
    }
    seen.insert(next);
    c.arenas.push_back(std::move(a));
    next = c.arenas.back().next;
  }
  // Arena heaps not on the ring (a broken ring, or a dump that lost part of it).
  for (const Mapping& mp : c.s.process().mappings) {
    if (mp.start & (kHeapMax - 1) || !(mp.perms & kPermWrite) || !mp.path.empty()) continue;
    auto hi = read_heap_info(c, mp.start);
    if (!hi || hi->ar_ptr != mp.start + c.layout.heap_info_size || seen.count(hi->ar_ptr)) continue;
    ArenaState a;
    if (!plausible_malloc_state(c, hi->ar_ptr, false) || !read_arena(c, hi->ar_ptr, a)) continue;
    c.finding("arena-not-in-ring", hi->ar_ptr,
              fmt::format("expected every arena on main_arena's next ring, found arena {:#x} (heap {:#x}) outside it",
                          hi->ar_ptr, mp.start));
    seen.insert(hi->ar_ptr);
    c.arenas.push_back(std::move(a));
  }
  if (!c.version.known())  // probe: an arena sits right after its heap_info
    for (const ArenaState& a : c.arenas)
      if (!a.main) {
        uint64_t off = a.address & (kHeapMax - 1);
        if (off == 0x20 || off == 0x30) c.layout.heap_info_size = static_cast<uint32_t>(off);
        break;
      }
  for (ArenaState& a : c.arenas) {
    check_arena_fields(c, a);
    if (a.main) main_heaps(c, a);
    else if (a.initialized) thread_heaps(c, a);
    check_main_system_mem(c, a);
  }
}

}  // namespace coresift::glibc
