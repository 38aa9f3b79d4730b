// mmapped chunks: glibc keeps no list of them, so every anonymous writable mapping that is
// not a heap or a stack is scanned page by page for a chunk header with IS_MMAPPED; a hit
// is followed by the next chunk right after it (adjacent mmaps merge into one mapping).
// memalign leaves the original header at the page start and the real chunk a little further,
// with prev_size = its offset. The totals are checked against mp_.n_mmaps/mmapped_mem.
#include <fmt/format.h>

#include <algorithm>

#include "glibc.hpp"

namespace coresift::glibc {
namespace {

bool mmapped_header(uint64_t prev_size, uint64_t size, uint64_t p, uint64_t map_end) {
  uint64_t sz = chunksize(size);
  return prev_size == 0 && (size & kFlagBits) == kIsMmapped && sz >= kPage && !(sz & (kPage - 1)) && sz <= map_end - p;
}

// The chunk memalign placed inside the mapping that starts at p (length len), or p itself.
uint64_t memalign_chunk(const Ctx& c, uint64_t p, uint64_t len) {
  auto check = [&](uint64_t q) {
    uint64_t w[2];
    if (q <= p || q + 16 > p + len || !c.mem.read(q, w, 16)) return false;
    return w[0] == q - p && (w[1] & kFlagBits) == kIsMmapped && w[0] + chunksize(w[1]) == len;
  };
  // The user pointer is aligned to a power of two ≥ 32: for alignments up to a page it sits
  // at p + align, beyond that at the first multiple of align after p.
  for (uint64_t align = 32; align < len; align <<= 1) {
    uint64_t mem = align <= kPage ? p + align : ((p + 16 + align - 1) & ~(align - 1));
    if (check(mem - 16)) return mem - 16;
  }
  return p;
}

bool skipped_kind(MappingKind k) {
  // Not kArenaHeap: that kind is a guess; the arenas' own heaps are skipped below.
  return k == MappingKind::kStack || k == MappingKind::kHeap || k == MappingKind::kVvar || k == MappingKind::kVdso ||
         k == MappingKind::kVsyscall || k == MappingKind::kGuard;
}

}  // namespace

void scan_mmapped(Ctx& c) {
  std::vector<MmapCandidate> found;
  std::vector<std::pair<uint64_t, uint64_t>> heaps;  // memory owned by arenas
  for (const ArenaState& a : c.arenas)
    for (const HeapRegion& h : a.heaps) {
      if (h.info) heaps.push_back({h.info, h.info + kHeapMax});
      else heaps.push_back({h.first, h.end});
    }
  uint64_t missing = 0;
  for (const Mapping& m : c.s.process().mappings) {
    if (!m.path.empty() || !(m.perms & kPermWrite) || skipped_kind(m.kind)) continue;
    if (std::any_of(heaps.begin(), heaps.end(), [&](auto& r) { return m.start < r.second && r.first < m.end; })) continue;
    bool holds_sp = std::any_of(c.s.process().threads.begin(), c.s.process().threads.end(),
                                [&](const Thread& t) { return m.contains(t.sp()); });
    if (holds_sp) continue;
    uint64_t p = m.start, chain_end = m.start;
    while (p + 16 <= m.end && p >= m.start) {
      uint64_t w[2];
      if (!c.mem.read(p, w, 16)) {
        // Skip the whole absent stretch at once (kernel cores leave out what was never touched).
        const auto& segs = c.s.memory().segments();
        auto it = std::upper_bound(segs.begin(), segs.end(), p, [](uint64_t a, const Segment& sg) { return a < sg.start; });
        uint64_t next = m.end;
        if (it != segs.begin()) {
          const Segment& sg = *std::prev(it);
          if (sg.contains(p) && p - sg.start >= sg.present) next = std::min(next, sg.end);
        }
        if (it != segs.end()) next = std::min(next, std::max(it->start, p + kPage));
        next = std::max(next, p + kPage);
        next = (next + kPage - 1) & ~(kPage - 1);
        missing += next - p;
        p = next;
        continue;
      }
      if (!mmapped_header(w[0], w[1], p, m.end)) {
        p += kPage;
        continue;
      }
      uint64_t len = chunksize(w[1]);
      uint64_t q = memalign_chunk(c, p, len);
      uint64_t qsize = q == p ? len : chunksize(c.mem.u64_or(q + 8, 0));
      // mmap gives each chunk its own mapping (the kernel may merge neighbours): a header
      // in the middle of a mapping, after no chunk, may be data.
      found.push_back({p, q, len, qsize, p == chain_end});
      p += len;
      chain_end = p;
    }
  }
  if (missing) {
    c.mmapped_complete = false;
    c.notes.push_back(fmt::format("{:#x} bytes of anonymous memory are not in the core: mmapped chunks there are not seen",
                                  missing));
  }
  keep_what_mp_counts(c, found);
  for (const MmapCandidate& k : found) {
    Chunk ch{};
    ch.address = k.chunk + 16;
    ch.size = k.chunk_size - 16;
    ch.arena = kNoArena;
    ch.overhead = 16;
    ch.state = ChunkState::kLive;
    ch.bin = ChunkBin::kMmapped;
    ch.allocator = c.alloc;
    c.out().add(ch);
    c.mmapped_found++;
    c.mmapped_bytes += k.len;
  }
  if (c.mpv.valid && c.mmapped_complete &&
      (static_cast<uint64_t>(c.mpv.n_mmaps) != c.mmapped_found || c.mpv.mmapped_mem != c.mmapped_bytes))
    c.finding("mmapped-count-mismatch", c.mp,
              fmt::format("expected {} mmapped chunks of {:#x} bytes (mp_.n_mmaps, mp_.mmapped_mem), found {} of {:#x} bytes",
                          c.mpv.n_mmaps, c.mpv.mmapped_mem, c.mmapped_found, c.mmapped_bytes));
}

}  // namespace coresift::glibc
