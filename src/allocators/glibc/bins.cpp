// The free lists of each arena: fastbins (singly linked, safe-linked from 2.32) and the
// doubly linked unsorted, small and large bins. Every entry becomes a FreeRef; every broken
// invariant a finding. Walks are capped and cycle-checked (Brent), so a looped list ends.
#include <fmt/format.h>

#include "glibc.hpp"

namespace coresift::glibc {
namespace {

// Brent's cycle detection over a list walk: call step(p) for each node; true once p repeats.
struct CycleCheck {
  uint64_t saved = 0;
  uint64_t power = 1, lam = 0;
  bool step(uint64_t p) {
    if (p == saved) return true;
    if (++lam == power) {
      saved = p;
      power <<= 1;
      lam = 0;
    }
    return false;
  }
};

uint64_t heap_bytes(const ArenaState& a) {
  uint64_t t = 0;
  for (const HeapRegion& h : a.heaps) t += h.end - h.first;
  return t;
}

void walk_fastbins(Ctx& c, const ArenaState& a) {
  const Layout& l = c.layout;
  uint64_t cap = heap_bytes(a) / kMinChunk + 1;
  for (int i = 0; i < kNumFastbins; ++i) {
    uint64_t p = a.fastbins[i];
    uint64_t link_at = a.address + l.ms_fastbins + 8ull * i;
    CycleCheck cyc;
    for (uint64_t n = 0; p && n < cap; ++n) {
      if ((p & kAlignMask) || !a.in_heaps(p)) {
        c.finding("fastbin-bad-entry", link_at,
                  fmt::format("expected a 16-aligned chunk in arena {:#x}'s heaps in fastbin {}, found link {:#x}", a.address,
                              i, p));
        break;
      }
      if (c.is_absent(p, 24)) {
        c.absent(p, fmt::format("fastbin {} of arena {:#x}", i, a.address));
        break;
      }
      if (cyc.step(p)) {
        c.finding("fastbin-double-free", p,
                  fmt::format("expected fastbin {} of arena {:#x} to end, found a cycle through {:#x} (a chunk freed twice)", i,
                              a.address, p));
        break;
      }
      uint64_t sz = chunksize(*c.mem.u64(p + 8));
      if (fastbin_index(sz) != i)
        c.finding("fastbin-index-mismatch", p,
                  fmt::format("expected chunk size {:#x} in fastbin {}, found {:#x}", (i + 2) * 16, i, sz));
      else if (sz > c.global_max_fast && c.debug.global_max_fast)
        c.finding("fastbin-index-mismatch", p,
                  fmt::format("expected fastbin chunks up to global_max_fast {:#x}, found {:#x}", c.global_max_fast, sz));
      c.frees.emplace_back(p, ChunkBin::kFastbin);
      uint64_t stored = *c.mem.u64(p + 16);
      link_at = p + 16;
      p = l.safe_linking ? reveal(p + 16, stored) : stored;
    }
  }
}

bool bin_size_ok(const ArenaState& a, int i, uint64_t sz) {
  if (i == 1) return sz >= kMinChunk && sz <= std::max<uint64_t>(a.mem_bound(), kMinChunk);
  if (i < 64) return sz < kMinLargeSize && smallbin_index(sz) == i;
  return sz >= kMinLargeSize && largebin_index(sz) == i;
}

// The common case, fast: a consistent list walked from both ends at once, so two independent
// chains of memory loads are in flight. False (and nothing recorded) at the first anomaly;
// the careful one-way walk then reports it.
bool walk_bin_both_ends(Ctx& c, const ArenaState& a, int i, uint64_t cap) {
  uint64_t head = a.bin_at(i, c.layout);
  ChunkBin kind = i == 1 ? ChunkBin::kUnsorted : i < 64 ? ChunkBin::kSmallbin : ChunkBin::kLargebin;
  bool large = kind == ChunkBin::kLargebin;
  size_t mark = c.frees.size();
  auto fail = [&] {
    c.frees.resize(mark);
    return false;
  };
  uint64_t f = a.bins[2 * (i - 1)], fprev = head, b = a.bins[2 * (i - 1) + 1], bnext = head;
  uint64_t fsize_last = UINT64_MAX, bsize_last = 0;
  auto node = [&](uint64_t p, uint64_t w[3]) {
    return !(p & kAlignMask) && p != head && a.in_heaps(p) && c.mem.read(p + 8, w, 24);
  };
  for (uint64_t n = 0; n < cap; n += 2) {
    uint64_t fw[3], bw[3];
    if (!node(f, fw) || fw[2] != fprev || !bin_size_ok(a, i, chunksize(fw[0]))) return fail();
    if (large && chunksize(fw[0]) > fsize_last) return fail();
    fsize_last = chunksize(fw[0]);
    c.frees.emplace_back(f, kind);
    if (f == b) return true;
    if (!node(b, bw) || bw[1] != bnext || !bin_size_ok(a, i, chunksize(bw[0]))) return fail();
    if (large && chunksize(bw[0]) < bsize_last) return fail();
    bsize_last = chunksize(bw[0]);
    c.frees.emplace_back(b, kind);
    if (fw[1] == b) return !large || fsize_last >= bsize_last ? true : fail();
    fprev = f;
    f = fw[1];
    bnext = b;
    b = bw[2];
    __builtin_prefetch(reinterpret_cast<const void*>(c.mem.host_address(f)));
    __builtin_prefetch(reinterpret_cast<const void*>(c.mem.host_address(b)));
  }
  return fail();
}

void walk_bin(Ctx& c, const ArenaState& a, int i, uint64_t cap) {
  const Layout& l = c.layout;
  uint64_t head = a.bin_at(i, l);
  uint64_t fd = a.bins[2 * (i - 1)], bk = a.bins[2 * (i - 1) + 1];
  ChunkBin kind = i == 1 ? ChunkBin::kUnsorted : i < 64 ? ChunkBin::kSmallbin : ChunkBin::kLargebin;
  const char* kname = bin_name(kind);
  if (fd == head) {
    if (bk != head)
      c.finding("bin-link-corrupt", head,
                fmt::format("expected empty {} bin {} of arena {:#x} to have bk {:#x}, found {:#x}", kname, i, a.address, head, bk));
    return;
  }
  if (walk_bin_both_ends(c, a, i, cap)) return;
  uint64_t prev = head, p = fd, last_size = UINT64_MAX;
  CycleCheck cyc;
  uint64_t n = 0;
  for (; p != head && n < cap; ++n) {
    if ((p & kAlignMask) || !a.in_heaps(p)) {
      c.finding("bin-bad-entry", prev,
                fmt::format("expected a chunk of arena {:#x} after {:#x} in {} bin {}, found link {:#x}", a.address, prev,
                            kname, i, p));
      return;
    }
    if (cyc.step(p)) {
      c.finding("bin-cycle", p,
                fmt::format("expected {} bin {} of arena {:#x} to lead back to its head, found a cycle through {:#x}", kname,
                            i, a.address, p));
      return;
    }
    uint64_t w[4];
    if (!c.mem.read(p + 8, w, 24)) {
      c.absent(p, fmt::format("{} bin {} of arena {:#x}", kname, i, a.address));
      return;
    }
    uint64_t sz = chunksize(w[0]), pfd = w[1], pbk = w[2];
    if (pbk != prev)
      c.finding("bin-link-corrupt", p,
                fmt::format("expected bk {:#x} (the previous entry of {} bin {}), found {:#x}", prev, kname, i, pbk));
    if (!bin_size_ok(a, i, sz))
      c.finding("bin-size-mismatch", p,
                fmt::format("expected a chunk size belonging to {} bin {}, found {:#x}", kname, i, sz));
    if (kind == ChunkBin::kLargebin) {
      if (sz > last_size)
        c.finding("largebin-order", p,
                  fmt::format("expected large bin {} sorted by decreasing size, found {:#x} after {:#x}", i, sz, last_size));
      last_size = sz;
    }
    c.frees.emplace_back(p, kind);
    prev = p;
    p = pfd;
  }
  if (p == head && bk != prev)
    c.finding("bin-link-corrupt", head,
              fmt::format("expected the bk of {} bin {} of arena {:#x} to be its last entry {:#x}, found {:#x}", kname, i,
                          a.address, prev, bk));
  if (p != head && n >= cap)
    c.finding("bin-cycle", head, fmt::format("expected {} bin {} of arena {:#x} to end within {} entries", kname, i, a.address, cap));
}

}  // namespace

void collect_bins(Ctx& c) {
  for (const ArenaState& a : c.arenas) {
    if (!a.initialized || !a.lists_known) continue;
    walk_fastbins(c, a);
    uint64_t cap = heap_bytes(a) / kMinChunk + 1;
    for (int i = 1; i < kNumBins; ++i) {
      walk_bin(c, a, i, cap);
      if (i >= 64 && a.bins[2 * (i - 1)] != a.bin_at(i, c.layout)) check_nextsize(c, a, i, cap);
    }
  }
}

}  // namespace coresift::glibc
