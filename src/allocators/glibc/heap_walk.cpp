// The chunk-by-chunk walk of every heap of every arena. Headers are read straight from the
// core segment holding the heap; each chunk's state comes from the free lists (sorted
// FreeRefs, consumed with a moving cursor) and the next chunk's PREV_INUSE bit. A size that
// cannot be right becomes a finding and the walk resyncs 16 bytes at a time.
#include <fmt/format.h>

#include <sys/mman.h>

#include <algorithm>

#include "glibc.hpp"

namespace coresift::glibc {
namespace {

// Reads 8-byte words, from the heap's segment when possible.
class Words {
 public:
  Words(const CachedReader& mem, uint64_t at) : mem_(mem) {
    seg_ = mem.space().find(at);
    if (seg_) {
      lo_ = seg_->start;
      hi_ = seg_->start + seg_->present;
    }
  }
  bool get(uint64_t a, uint64_t& v) const {
    if (a >= lo_ && a + 8 <= hi_ && a + 8 > a) {
      std::memcpy(&v, seg_->data + (a - lo_), 8);
      return true;
    }
    auto r = mem_.u64(a);
    if (!r) return false;
    v = *r;
    return true;
  }
  void prefetch(uint64_t a) const {
    if (a >= lo_ && a < hi_) __builtin_prefetch(seg_->data + (a - lo_));
  }

 private:
  const CachedReader& mem_;
  const Segment* seg_ = nullptr;
  uint64_t lo_ = 0, hi_ = 0;
};

struct Region {
  const ArenaState* arena;
  const HeapRegion* heap;
  uint64_t top;  // top chunk if it is in this heap, else 0
};

bool header_ok(uint64_t hdr, uint64_t p, uint64_t end, bool non_main) {
  uint64_t sz = chunksize(hdr);
  // Binned free chunks lose NON_MAIN_ARENA, so a main-arena heap only rules it out.
  return sz >= kMinChunk && !(sz & kAlignMask) && sz <= end - p && !(hdr & kIsMmapped) &&
         (non_main || !(hdr & kNonMainArena));
}

// First q ≥ from (16-aligned) from which three chunk headers chain consistently (or reach
// the top chunk / the end of the heap); 0 when there is none.
uint64_t resync(const Words& w, uint64_t from, const Region& r) {
  uint64_t end = r.heap->end;
  bool non_main = !r.arena->main;
  for (uint64_t q = align16(from); q + 16 <= end; q += 16) {
    if (r.top && q == r.top) return q;
    uint64_t p = q;
    int good = 0;
    while (good < 3) {
      if (r.top && p == r.top) { good = 3; break; }
      if (p == end) { good = good > 0 ? 3 : 0; break; }
      uint64_t hdr;
      if (!w.get(p + 8, hdr) || !header_ok(hdr, p, r.top && p < r.top ? r.top : end, non_main)) break;
      p += chunksize(hdr);
      good++;
    }
    if (good >= 3) return q;
  }
  return 0;
}

uint64_t count_region(const Ctx& c, const Region& r) {
  Words w(c.mem, r.heap->first);
  uint64_t n = 0, p = r.heap->first, end = r.heap->end;
  while (p < end) {
    if (p == r.top) return n + 1;
    uint64_t hdr;
    if (!w.get(p + 8, hdr)) break;
    uint64_t sz = chunksize(hdr);
    if (sz < kMinChunk || (sz & kAlignMask) || sz > end - p) {
      if (sz == 0x10) break;  // fencepost
      uint64_t q = resync(w, p + 16, r);
      if (!q) break;
      p = q;
      continue;
    }
    n++;
    p += sz;
  }
  return n;
}

class RegionWalker {
 public:
  RegionWalker(Ctx& c, const Region& r, std::vector<FreeRef>::iterator frees_end)
      : c_(c), r_(r), w_(c.mem, r.heap->first), end_(frees_end) {
    // The largest chunk a default tcache holds, or without tcache the largest fastbin chunk.
    cached_max_ = c.layout.tcache ? kMaxTcacheChunk : 0xb0;
  }

  void run() {
    const HeapRegion& h = *r_.heap;
    const ArenaState& a = *r_.arena;
    uint64_t end = h.end;
    uint64_t p = h.first;
    it_ = std::lower_bound(c_.frees.begin(), end_, p, [](const FreeRef& f, uint64_t x) { return f.chunk() < x; });
    ts_ = std::lower_bound(c_.tcache_structs.begin(), c_.tcache_structs.end(), p);
    bool reached_top = false, stopped_absent = false;
    while (p < end) {
      if (r_.top && p == r_.top) {
        emit_top(p, prev_binned_);
        reached_top = true;
        p = end;
        break;
      }
      uint64_t hdr;
      if (!w_.get(p + 8, hdr)) {
        c_.absent(p, fmt::format("the walk of arena {:#x}'s heap", a.address));
        stopped_absent = true;
        break;
      }
      uint64_t sz = chunksize(hdr);
      uint64_t limit = r_.top && p < r_.top ? r_.top : end;
      if (a.top_at_end && !r_.top && sz >= kMinChunk && !(sz & kAlignMask) && sz >= end - p) {
        emit_top(p, prev_binned_);  // a dump ends with top (or is cut inside it)
        reached_top = true;
        p = end;
        break;
      }
      if (sz < kMinChunk || (sz & kAlignMask) || sz > limit - p) {
        if (!skip_bad_size(p, hdr, limit)) break;
        continue;
      }
      check_header(p, hdr);
      p = walk_chunk(p, hdr);
    }
    if (r_.top && !reached_top && !stopped_absent)
      c_.finding("top-not-reached", r_.top,
                 fmt::format("expected the walk of arena {:#x}'s heap from {:#x} to end at top {:#x}, it did not", a.address,
                             h.first, r_.top));
    c_.walked.push_back({h.first, std::max(p, h.first)});
  }

 private:
  // A size field that cannot be: the fencepost that closes an old region ends the walk;
  // otherwise a finding, and the walk resumes at the next chain of chunk headers. False: stop.
  bool skip_bad_size(uint64_t& p, uint64_t hdr, uint64_t limit) {
    const ArenaState& a = *r_.arena;
    // Fenceposts close a region top no longer lives in: an old arena heap ends in a
    // 0x10 and a 0 chunk, a non-contiguous sbrk region in two 0x10 chunks.
    if (chunksize(hdr) == 0x10 && !r_.top) {
      uint64_t next;
      if (w_.get(p + 0x18, next) && (next == kPrevInuse || next == (0x10 | kPrevInuse))) {
        p = r_.heap->end;
        return false;
      }
    }
    c_.finding("bad-chunk-size", p,
               fmt::format("expected a chunk size, multiple of 16, between {:#x} and {:#x}, found size field {:#x}",
                           kMinChunk, limit - p, hdr));
    uint64_t q = resync(w_, p + 16, r_);
    if (!q) {
      c_.notes.push_back(fmt::format("heap of arena {:#x}: no chunk chain found after {:#x}", a.address, p));
      return false;
    }
    c_.notes.push_back(fmt::format("heap of arena {:#x}: skipped {:#x} unreadable bytes at {:#x}", a.address, q - p, p));
    p = q;
    prev_size_ = 0;
    prev_free_ = prev_binned_ = false;
    return true;
  }

  // IS_MMAPPED and PREV_INUSE against what the walk knows of the chunk before.
  void check_header(uint64_t p, uint64_t hdr) {
    if (hdr & kIsMmapped)
      c_.finding("bad-chunk-flags", p, fmt::format("expected IS_MMAPPED clear inside a heap, found size field {:#x}", hdr));
    if (hdr & kPrevInuse) return;
    uint64_t ps = 0;
    w_.get(p, ps);
    if (p == r_.heap->first)
      c_.finding("bad-prev-inuse", p, "expected PREV_INUSE set on the first chunk of a heap, found it clear");
    else if (prev_size_ && ps != prev_size_)
      c_.finding("bad-prev-size", p,
                 fmt::format("expected prev_size {:#x} (the previous chunk's size), found {:#x}", prev_size_, ps));
    else if (prev_size_ && !prev_free_)
      c_.finding("bad-prev-inuse", p, fmt::format("expected PREV_INUSE set: the previous chunk {:#x} is in use", p - prev_size_));
  }

  // One chunk with a valid size: its state (from the free lists, else the next chunk's
  // PREV_INUSE), the checks against its neighbours, its row. Returns the next chunk.
  uint64_t walk_chunk(uint64_t p, uint64_t hdr) {
    const ArenaState& a = *r_.arena;
    const uint64_t sz = chunksize(hdr), next = p + sz;
    w_.prefetch(next + 8192);  // headers are read in address order: stay ahead of the walk
    uint64_t next_hdr = kPrevInuse;
    bool next_known = next < r_.heap->end && w_.get(next + 8, next_hdr);
    bool next_prev_inuse = !next_known || (next_hdr & kPrevInuse);

    ChunkBin bin = ChunkBin::kNone;
    bool listed = false;
    while (it_ != end_ && it_->chunk() < p) ++it_;
    while (it_ != end_ && it_->chunk() == p) {
      if (!listed) bin = it_->bin();
      listed = true;
      it_->set_matched();
      ++it_;
    }
    ChunkState state = ChunkState::kLive;
    bool binned = false;
    if (listed) {
      state = ChunkState::kFree;
      binned = bin == ChunkBin::kUnsorted || bin == ChunkBin::kSmallbin || bin == ChunkBin::kLargebin;
      check_after_listed(p, sz, bin, binned, next_known, next_prev_inuse, next_hdr);
    } else if (!next_prev_inuse) {
      state = ChunkState::kFree;
      bin = ChunkBin::kUnbinned;
      binned = true;
      if (a.lists_known)
        c_.finding("free-chunk-not-in-bin", p,
                   fmt::format("expected a chunk marked free (next PREV_INUSE clear) in a bin of arena {:#x}, found it in "
                               "none",
                               a.address));
    } else if (!a.lists_known && !a.fastbins_recovered && sz <= cached_max_) {
      state = ChunkState::kLiveOrCached;  // may sit in a tcache or fastbin we cannot see
    }
    check_neighbours(p, hdr, binned);
    emit(p, sz, state, bin);
    prev_size_ = sz;
    prev_free_ = state == ChunkState::kFree && binned;
    prev_binned_ = binned;
    return next;
  }

  // A chunk on a free list: binned ones have the next chunk's PREV_INUSE clear and its
  // prev_size set; tcache and fastbin chunks count as in use.
  void check_after_listed(uint64_t p, uint64_t sz, ChunkBin bin, bool binned, bool next_known, bool next_prev_inuse,
                          uint64_t next_hdr) {
    if (!next_known) return;
    uint64_t next = p + sz, next_ps = 0;
    if (binned) {
      if (next_prev_inuse)
        c_.finding("free-chunk-prev-inuse", p,
                   fmt::format("expected PREV_INUSE clear in the chunk after this {} chunk, found size field {:#x}",
                               bin_name(bin), next_hdr));
      else if (w_.get(next, next_ps) && next_ps != sz)
        c_.finding("bad-prev-size", next, fmt::format("expected prev_size {:#x} after a free chunk, found {:#x}", sz, next_ps));
    } else if (!next_prev_inuse) {
      c_.finding("free-chunk-prev-inuse", p,
                 fmt::format("expected PREV_INUSE set after a {} chunk (they count as in use), found it clear",
                             bin_name(bin)));
    }
  }

  // NON_MAIN_ARENA, and free chunks that should have been coalesced.
  void check_neighbours(uint64_t p, uint64_t hdr, bool binned) {
    const ArenaState& a = *r_.arena;
    // free() rewrites a binned chunk's header without NON_MAIN_ARENA; every other chunk keeps it.
    bool want_nma = !a.main && !binned;
    if (((hdr & kNonMainArena) != 0) != want_nma)
      c_.finding("bad-chunk-flags", p,
                 fmt::format("expected NON_MAIN_ARENA {} on a {} chunk in arena {:#x}, found size field {:#x}",
                             want_nma ? "set" : "clear", binned ? "binned" : "non-binned", a.address, hdr));
    if (binned && prev_binned_)
      c_.finding("adjacent-free-chunks", p,
                 fmt::format("expected free neighbours to be coalesced, found free chunks at {:#x} and {:#x}", p - prev_size_, p));
    if (binned && r_.top && p + chunksize(hdr) == r_.top)
      c_.finding("adjacent-free-chunks", p, "expected a free chunk next to top to be merged into top");
  }

  void emit(uint64_t p, uint64_t sz, ChunkState state, ChunkBin bin) {
    while (ts_ != c_.tcache_structs.end() && *ts_ < p) ++ts_;
    uint8_t flags = ts_ != c_.tcache_structs.end() && *ts_ == p ? kChunkFlagInterior : 0;
    Chunk ch{};
    ch.address = p + 16;
    ch.size = sz - 8;
    ch.arena = r_.arena->index;
    ch.overhead = 8;
    ch.state = state;
    ch.bin = bin;
    ch.allocator = c_.alloc;
    ch.flags = flags;
    c_.out().add(ch);
    if (state != ChunkState::kFree) {
      c_.use_live += sz - 8;
    } else if (bin != ChunkBin::kTcache) {  // malloc_trim leaves tcaches alone
      c_.use_binned += sz;
      uint64_t lo = (p + 0x30 + kPage - 1) & ~(kPage - 1), hi = (p + sz) & ~(kPage - 1);
      if (hi > lo) c_.use_trimmable += hi - lo;
    }
  }

  void emit_top(uint64_t p, bool prev_binned) {
    const ArenaState& a = *r_.arena;
    uint64_t end = r_.heap->end;
    uint64_t hdr = 0;
    w_.get(p + 8, hdr);
    uint64_t sz = chunksize(hdr);
    bool bad = sz > a.mem_bound() || sz > end - p || sz < kMinChunk || (sz & kAlignMask);
    if (a.top_at_end && sz >= kMinChunk && !(sz & kAlignMask)) bad = false;  // the dump may stop inside top
    if (bad)
      c_.finding("corrupted-top-size", p,
                 fmt::format("expected the top chunk size at most system_mem {:#x} and ending inside the heap ({:#x} bytes "
                             "left), found size field {:#x}",
                             a.system_mem, end - p, hdr));
    if (!(hdr & kPrevInuse) && !bad)
      c_.finding("bad-prev-inuse", p, "expected PREV_INUSE set on the top chunk, found it clear");
    if (prev_binned) c_.finding("adjacent-free-chunks", p, "expected the free chunk before top to be merged into it");
    uint64_t shown = bad || sz > end - p ? end - p : sz;
    if (shown < 8) return;
    c_.out().arenas[a.index].top_size = shown;
    // Consume free refs that point at top (a corrupted list).
    while (it_ != end_ && it_->chunk() < p) ++it_;
    Chunk ch{};
    ch.address = p + 16;
    ch.size = shown - 8;
    ch.arena = a.index;
    ch.overhead = 8;
    ch.state = ChunkState::kFree;
    ch.bin = ChunkBin::kTop;
    ch.allocator = c_.alloc;
    c_.out().add(ch);
    c_.use_top += shown;
    if (shown > kMinChunk + kPage) c_.use_trimmable += (shown - kMinChunk - 1) & ~(kPage - 1);
  }

  Ctx& c_;
  Region r_;
  Words w_;
  std::vector<FreeRef>::iterator it_, end_;
  std::vector<uint64_t>::const_iterator ts_;
  uint64_t cached_max_ = kMaxTcacheChunk;
  uint64_t prev_size_ = 0;  // size of the previous chunk, 0 when unknown
  bool prev_free_ = false, prev_binned_ = false;
};

}  // namespace

// Sorts free-list entries by address: std::sort for few, an LSD radix sort on the bits that
// differ for many (millions of free chunks in one bin are not rare in a dying process).
static void sort_frees(std::vector<FreeRef>& v) {
  auto less = [](const FreeRef& a, const FreeRef& b) { return a.chunk() < b.chunk(); };
  // The radix sort's second buffer (8 bytes per entry) is gone before the rows are written,
  // so the peak stays at 16 bytes per free chunk, below the 24 of its row.
  if (v.size() < (1u << 16)) {
    std::sort(v.begin(), v.end(), less);
    return;
  }
  uint64_t lo = UINT64_MAX, hi = 0;
  for (const FreeRef& f : v) {
    lo = std::min(lo, f.chunk());
    hi = std::max(hi, f.chunk());
  }
  int bits = 64 - __builtin_clzll((hi - lo) | 1);
  std::vector<FreeRef> tmp(v.size());
  constexpr int kDigit = 11;
  std::vector<size_t> count(size_t{1} << kDigit);
  for (int shift = 0; shift < bits; shift += kDigit) {
    std::fill(count.begin(), count.end(), 0);
    for (const FreeRef& f : v) count[((f.chunk() - lo) >> shift) & ((1u << kDigit) - 1)]++;
    size_t sum = 0;
    for (size_t& n : count) {
      size_t k = n;
      n = sum;
      sum += k;
    }
    for (const FreeRef& f : v) tmp[count[((f.chunk() - lo) >> shift) & ((1u << kDigit) - 1)]++] = f;
    v.swap(tmp);
  }
}

void walk_arena_heaps(Ctx& c) {
  std::vector<Region> regions;
  for (const ArenaState& a : c.arenas)
    for (const HeapRegion& h : a.heaps) {
      uint64_t top = a.top >= h.first && a.top < h.end ? a.top : 0;
      regions.push_back({&a, &h, top});
    }
  std::sort(regions.begin(), regions.end(), [](const Region& x, const Region& y) { return x.heap->first < y.heap->first; });
  // Make room for every row up front (no doubling copies): the caller usually reserved enough
  // already; otherwise count the chunks first (a cheap header-only pass).
  auto& rows = c.out().chunks;
  uint64_t bound = 256;
  for (const Region& r : regions) bound += (r.heap->end - r.heap->first) / kMinChunk;
  if (rows.capacity() - rows.size() < bound) {
    uint64_t total = rows.size() + 256;
    for (const Region& r : regions) total += count_region(c, r);
    rows.reserve(total);
  }
  sort_frees(c.frees);
  {
    uintptr_t lo = (reinterpret_cast<uintptr_t>(rows.data() + rows.size()) + (2 << 20) - 1) & ~uintptr_t((2 << 20) - 1);
    uintptr_t hi = reinterpret_cast<uintptr_t>(rows.data() + rows.capacity()) & ~uintptr_t((2 << 20) - 1);
    if (hi > lo) ::madvise(reinterpret_cast<void*>(lo), hi - lo, 14 /*MADV_HUGEPAGE*/);
  }
  for (const Region& r : regions) {
    RegionWalker w(c, r, c.frees.end());
    w.run();
  }
}

}  // namespace coresift::glibc
