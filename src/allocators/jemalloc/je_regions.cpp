// Rows for every jemalloc region and extent, then the thread-cache overlay.
//
// Bin convention (jemalloc rows):
//   small region, live or free in its slab bitmap  → ChunkBin::kSlab
//   small or large region held by a thread cache   → state free, ChunkBin::kTcache for small
//                                                    regions; kLarge for large extents (the
//                                                    extent itself stays "active" in jemalloc)
//   large extent, live                             → ChunkBin::kLarge
//   cached dirty/muzzy/retained extent (free pages) → ChunkBin::kExtent
// Chunk.address is the user pointer, size the usable size (the size class), overhead 0 for
// small regions and the large pad (e_size - usize, one page when cache-oblivious) for large.
#include <fmt/format.h>

#include <algorithm>
#include <bit>
#include <cstring>

#include "je_context.hpp"

namespace coresift::je {
namespace {

constexpr uint16_t kNoArena = UINT16_MAX;

uint16_t table_arena(const Context& c, uint32_t ind) {
  int s = c.arena_slot(ind);
  return s < 0 ? kNoArena : c.arenas[s].table_index;
}

void emit_slab(Context& c, const Extent& e, uint16_t arena) {
  const BinGeometry& g = c.sc.bins[e.szind];
  if (e.size != g.slab_size || e.addr != e.base) {
    c.finding("jemalloc-slab-geometry", e.addr,
              fmt::format("slab of size class {} ({} B) is {} bytes at {:#x}; expected {} bytes, page aligned", e.szind,
                          g.reg_size, e.size, e.addr, g.slab_size));
    return;
  }
  const uint32_t nwords = (g.nregs + 63) / 64;
  uint64_t bm[8] = {};
  if (nwords > 8 || c.mem->read(e.edata + c.layout.e_bitmap, bm, nwords * 8) != nwords * 8) {
    c.finding("jemalloc-slab-bitmap-unreadable", e.edata, fmt::format("slab {:#x}: bitmap not readable", e.addr));
    return;
  }
  uint32_t free_bits = 0;
  for (uint32_t w = 0; w < nwords; ++w) {
    uint32_t valid = std::min<uint32_t>(64, g.nregs - w * 64);
    uint64_t mask = valid == 64 ? ~uint64_t{0} : (uint64_t{1} << valid) - 1;
    if (bm[w] & ~mask) {
      c.finding("jemalloc-slab-bitmap-padding", e.edata,
                fmt::format("slab {:#x}: bitmap bits beyond region {} are set", e.addr, g.nregs));
      bm[w] &= mask;
    }
    free_bits += static_cast<uint32_t>(std::popcount(bm[w]));
  }
  c.slabs_checked++;
  if (free_bits != e.nfree) c.slabs_nfree_bad++;
  if (free_bits != e.nfree)
    c.finding("jemalloc-slab-nfree-mismatch", e.addr,
              fmt::format("slab {:#x} (size class {} B): nfree {} but {} free bits in the bitmap", e.addr, g.reg_size, e.nfree,
                          free_bits));
  auto& rows = c.out->chunks;
  Chunk ch{};
  ch.size = g.reg_size;
  ch.arena = arena;
  ch.overhead = 0;
  ch.bin = ChunkBin::kSlab;
  ch.allocator = c.allocator;
  uint64_t addr = e.addr;
  for (uint32_t w = 0; w < nwords; ++w) {
    uint32_t valid = std::min<uint32_t>(64, g.nregs - w * 64);
    uint64_t bits = bm[w];
    for (uint32_t b = 0; b < valid; ++b, addr += g.reg_size) {
      ch.address = addr;
      ch.state = (bits >> b) & 1 ? ChunkState::kFree : ChunkState::kLive;  // a set bit means free
      rows.push_back(ch);
    }
  }
}

void emit_large(Context& c, const Extent& e, uint16_t arena) {
  // Size class SC_NSIZES ("none") on an active extent: a thread had taken it off a cache to
  // purge, split or hand out, or was freeing it, when the core was taken (gdb's inferior calls
  // let every thread run). Neither live nor cached, like a merging extent; not damage.
  if (e.szind == c.sc.index2size.size()) {
    c.extents_in_transit++;
    return;
  }
  uint64_t usize = c.sc.usize(e.szind);
  if (usize == 0 || e.szind < c.sc.nbins() || e.size < usize || e.size - usize > kPage || e.addr - e.base >= kPage) {
    c.finding("jemalloc-large-geometry", e.addr,
              fmt::format("large extent {:#x}: size class {} ({} B) does not fit its {} bytes", e.addr, e.szind, usize, e.size));
    if (usize == 0 || e.size < usize) return;
  }
  Chunk ch{};
  ch.address = e.addr;
  ch.size = usize;
  ch.overhead = static_cast<uint32_t>(std::min<uint64_t>(e.size - usize, UINT32_MAX));
  ch.arena = arena;
  ch.state = ChunkState::kLive;
  ch.bin = ChunkBin::kLarge;
  ch.allocator = c.allocator;
  c.out->chunks.push_back(ch);
}

void emit_free_extent(Context& c, const Extent& e, uint16_t arena) {
  Chunk ch{};
  ch.address = e.base;
  ch.size = std::min<uint64_t>(e.size, (uint64_t{1} << 48) - 1);
  ch.overhead = 0;
  ch.arena = arena;
  ch.state = ChunkState::kFree;
  ch.bin = ChunkBin::kExtent;
  ch.allocator = c.allocator;
  c.out->chunks.push_back(ch);
}

}  // namespace

size_t emit_chunks(Context& c) {
  // Overlaps first: extents come sorted by base.
  for (size_t i = 1; i < c.extents.size(); ++i) {
    const Extent& a = c.extents[i - 1];
    const Extent& b = c.extents[i];
    if (a.base + a.size > b.base)
      c.finding("jemalloc-extent-overlap", b.base,
                fmt::format("extent [{:#x}, {:#x}) overlaps [{:#x}, {:#x})", b.base, b.base + b.size, a.base, a.base + a.size));
  }
  uint64_t rows = 0;
  for (const Extent& e : c.extents)
    rows += (e.state == ExtentState::kActive && e.slab && e.szind < c.sc.nbins()) ? c.sc.bins[e.szind].nregs : 1;
  size_t first = c.out->chunks.size();
  c.out->chunks.reserve(first + rows);
  for (const Extent& e : c.extents) {
    if (e.size == 0 || e.size >= (uint64_t{1} << 47) || e.base + e.size < e.base) {
      c.finding("jemalloc-extent-size", e.base, fmt::format("extent {:#x} (edata {:#x}) claims {} bytes", e.base, e.edata, e.size));
      continue;
    }
    uint16_t arena = table_arena(c, e.arena);
    if (arena == kNoArena)
      c.finding("jemalloc-extent-bad-arena", e.base, fmt::format("extent {:#x} names arena {}, which does not exist", e.base, e.arena));
    switch (e.state) {
      case ExtentState::kActive:
        if (e.slab) {
          if (e.szind >= c.sc.nbins()) {
            c.finding("jemalloc-slab-geometry", e.addr, fmt::format("slab {:#x} has size class {}, not a small class", e.addr, e.szind));
            break;
          }
          emit_slab(c, e, arena);
        } else {
          emit_large(c, e, arena);
        }
        break;
      case ExtentState::kDirty:
      case ExtentState::kMuzzy:
      case ExtentState::kRetained: emit_free_extent(c, e, arena); break;
      case ExtentState::kOther: break;  // in transition or merging: neither live nor cached
    }
  }
  return first;
}

void overlay_tcaches(Context& c, size_t first) {
  auto& rows = c.out->chunks;
  auto begin = rows.begin() + static_cast<std::ptrdiff_t>(first);
  auto end = rows.end();
  std::sort(c.cached.begin(), c.cached.end(), [](const CachedItem& a, const CachedItem& b) { return a.ptr < b.ptr; });
  uint64_t prev = 0;
  for (const CachedItem& it : c.cached) {
    const TcacheInfo& t = c.tcaches[it.cache];
    std::string where = t.tid ? fmt::format("thread {}'s tcache", t.tid) : fmt::format("tcache {:#x}", t.tcache);
    if (it.ptr == prev && prev != 0) {
      c.finding("jemalloc-tcache-duplicate", it.ptr, fmt::format("{:#x} is cached twice (seen again in {} bin {})", it.ptr, where, it.szind));
      continue;
    }
    prev = it.ptr;
    auto pos = std::lower_bound(begin, end, it.ptr, [](const Chunk& ch, uint64_t a) { return ch.address < a; });
    if (pos == end || pos->address != it.ptr || pos->bin == ChunkBin::kExtent) {
      c.finding("jemalloc-tcache-stray", it.ptr,
                fmt::format("{} bin {} holds {:#x}, which is not a region of an active extent", where, it.szind, it.ptr));
      continue;
    }
    if (pos->size != c.sc.usize(it.szind)) {
      c.finding("jemalloc-tcache-wrong-class", it.ptr,
                fmt::format("{} bin {} ({} B) holds {:#x}, a region of {} bytes", where, it.szind, c.sc.usize(it.szind), it.ptr,
                            static_cast<uint64_t>(pos->size)));
      continue;
    }
    if (pos->state == ChunkState::kFree) {
      c.finding("jemalloc-tcache-double-free", it.ptr,
                fmt::format("{} holds {:#x}, which its slab bitmap also marks free (double free)", where, it.ptr));
      pos->bin = ChunkBin::kTcache;
      continue;
    }
    pos->state = ChunkState::kFree;
    if (pos->bin == ChunkBin::kSlab) pos->bin = ChunkBin::kTcache;  // large cached stay kLarge (see top)
  }
}

}  // namespace coresift::je
