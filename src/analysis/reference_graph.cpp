// Builds the reference graph: root scan (single pass over non-heap memory), then the heap
// scan split across hardware threads by node range, merged into one CSR edge list.
#include <algorithm>
#include <cstring>
#include <optional>
#include <thread>

#include <fmt/format.h>

#include "coresift/analysis/hotspot_arena.hpp"
#include "coresift/analysis/references.hpp"
#include "nmt_block.hpp"

namespace coresift {
namespace {

struct RootRegion {
  uint64_t lo, hi;
  RootKind kind;
  int tid;
};

// The heaps of allocators whose heaps hold nothing but chunks and their headers (glibc's
// arena heaps, sbrk heap included), sorted: the walkers' own ranges, not mapping labels (a
// label is a guess from the address; HotSpot's compressed class space is 64 MiB-aligned too).
std::vector<std::pair<uint64_t, uint64_t>> chunk_only_heaps(const ChunkTable& t) {
  std::vector<std::pair<uint64_t, uint64_t>> out;
  for (const ArenaInfo& a : t.arenas)
    if (a.allocator < t.allocators.size() && t.allocators[a.allocator].heaps_hold_only_chunks)
      for (const auto& h : a.heaps) out.push_back(h);
  std::sort(out.begin(), out.end());
  return out;
}

// Calls fn(lo, hi) for the parts of [lo, hi) outside the ranges (sorted by start): the
// allocators' heaps and their bookkeeping (jemalloc's extent records point at every large
// allocation) are not the program's references.
template <typename Fn>
void outside_ranges(const std::vector<std::pair<uint64_t, uint64_t>>& ranges, uint64_t lo, uint64_t hi, Fn&& fn) {
  auto it = std::upper_bound(ranges.begin(), ranges.end(), std::pair<uint64_t, uint64_t>{lo, UINT64_MAX});
  if (it != ranges.begin() && std::prev(it)->second > lo) --it;
  uint64_t at = lo;
  for (; it != ranges.end() && it->first < hi; ++it) {
    if (it->first > at) fn(at, std::min(it->first, hi));
    at = std::max(at, it->second);
  }
  if (at < hi) fn(at, hi);
}

// Every readable mapping that is not allocator-owned heap is a root, JIT code (rwx anonymous
// memory) and writable file mappings (the CDS archive classes.jsa) included, except:
//  * a module's code (file-backed, executable, not writable): instructions from the file,
//    not pointers the program stored;
//  * other read-only file mappings (lib/modules, mapped jars, locale files): the file's bytes;
//  * the kernel's pages ([vvar], [vdso], [vsyscall]), guard pages and reservations
//    ([arena-reserve], [reserved]: PROT_NONE in the process, though gcore dumps them as
//    readable zeros): no program data;
//  * a stack below its thread's stack pointer (less the red zone), and a stack no thread's
//    stack pointer is in (kept by glibc for reuse after its thread exited): dead frames.
// The root region a whole mapping would be (stacks: only their live part), nullopt when
// it is no root at all.
std::optional<RootRegion> mapping_root(const Process& p, size_t i) {
  const Mapping& m = p.mappings[i];
  switch (m.kind) {
    case MappingKind::kVdso:
    case MappingKind::kVvar:
    case MappingKind::kVsyscall:
    case MappingKind::kGuard:
    case MappingKind::kArenaReserve:
    case MappingKind::kReserved:
      return std::nullopt;
    default:
      break;
  }
  if (!(m.perms & kPermRead)) return std::nullopt;
  if (m.kind == MappingKind::kStack) {
    // Live part of a stack: from the stack pointer (less the red zone) to the top.
    for (const Thread& t : p.threads)
      if (m.contains(t.sp())) return RootRegion{std::max(m.start, t.sp() - 128), m.end, RootKind::kStack, t.tid};
    return std::nullopt;
  }
  const bool writable = m.perms & kPermWrite;
  if (!m.path.empty()) {
    if (p.module_at(m.start)) {
      if (writable || !(m.perms & kPermExec)) return RootRegion{m.start, m.end, RootKind::kStatic, 0};
    } else if (writable) {
      return RootRegion{m.start, m.end, RootKind::kAnon, 0};
    }
    return std::nullopt;
  }
  // An anonymous mapping right after a module's file mapping is that module's .bss.
  bool bss = writable && i > 0 && p.mappings[i - 1].end == m.start && !p.mappings[i - 1].path.empty() &&
             p.module_at(p.mappings[i - 1].start);
  return RootRegion{m.start, m.end, bss ? RootKind::kStatic : RootKind::kAnon, 0};
}

std::vector<RootRegion> root_regions(const Process& p, const ChunkTable& table) {
  std::vector<RootRegion> out;
  const auto heaps = chunk_only_heaps(table);
  for (size_t i = 0; i < p.mappings.size(); ++i)
    if (auto r = mapping_root(p, i))
      outside_ranges(heaps, r->lo, r->hi, [&](uint64_t lo, uint64_t hi) { out.push_back({lo, hi, r->kind, r->tid}); });
  return out;
}

// Root memory that is not in the core (a cut core, a mapping coredump_filter left out) may
// have held the only pointer to a chunk: that chunk is then reported leaked. Say how much is
// missing and where, so a leak report from a damaged core is read as an upper bound.
void warn_absent_roots(const HeapModel& s, const std::vector<RootRegion>& regions) {
  uint64_t absent = 0, first_lo = 0, first_hi = 0;
  size_t ranges = 0;
  for (const RootRegion& r : regions) {
    // Read-only mappings are the file's bytes (kernel cores leave them out): no stored pointer.
    const Mapping* m = s.process().mapping_at(r.lo);
    if (!m || !(m->perms & kPermWrite)) continue;
    uint64_t present = 0;
    for (const auto& [lo, hi] : s.memory().present_parts(r.lo, r.hi)) present += hi - lo;
    if (present == r.hi - r.lo) continue;
    if (!ranges++) first_lo = r.lo, first_hi = r.hi;
    absent += r.hi - r.lo - present;
  }
  if (!absent) return;
  s.core().diag().warn(s.core().inputs().core ? s.core().inputs().core->path : std::string(), std::nullopt,
                fmt::format("{} bytes of memory that may hold roots (static data, stacks, anonymous mappings) are absent "
                            "from the core, in {} mapping{} (first [{:#x}, {:#x})): a chunk referenced only from there "
                            "is reported as leaked, so the leaks are an upper bound",
                            absent, ranges, ranges == 1 ? "" : "s", first_lo, first_hi));
}

// Calls fn(lo, hi) for the parts of [lo, hi) not covered by any chunk (live or free):
// allocator-owned memory is not a root.
template <typename Fn>
void outside_chunks(const ChunkTable& t, uint64_t lo, uint64_t hi, Fn&& fn) {
  auto it = std::upper_bound(t.chunks.begin(), t.chunks.end(), lo,
                             [](uint64_t a, const Chunk& c) { return a < c.address; });
  if (it != t.chunks.begin() && std::prev(it)->address + std::prev(it)->size > lo) --it;
  uint64_t at = lo;
  for (; it != t.chunks.end() && it->address < hi; ++it) {
    uint64_t cs = it->address, ce = it->address + it->size;
    if (cs > at) fn(at, std::min(cs, hi));
    at = std::max(at, ce);
  }
  if (at < hi) fn(at, hi);
}

// Visits every aligned, present word in [lo, hi) that lies in the index's address range (any
// other word cannot point into a chunk). `hint` remembers the last segment used: consecutive
// chunks almost always lie in the same one, which saves a search per chunk.
template <typename Fn>
void for_each_candidate(const AddressSpace& mem, const ChunkIndex& idx, uint64_t lo, uint64_t hi, const Segment*& hint, Fn&& fn) {
  // Local copies: the compiler cannot keep the index's fields in registers across fn's stores.
  const uint64_t base = idx.range_start(), span = idx.range_end() - idx.range_start();
  lo = (lo + 7) & ~uint64_t{7};
  while (lo + 8 <= hi) {
    const Segment* s = hint && hint->contains(lo) ? hint : mem.find(lo);
    if (!s) {
      // Skip to the next segment start.
      auto& segs = mem.segments();
      auto nx = std::upper_bound(segs.begin(), segs.end(), lo, [](uint64_t a, const Segment& g) { return a < g.start; });
      if (nx == segs.end() || nx->start >= hi) return;
      lo = (nx->start + 7) & ~uint64_t{7};
      continue;
    }
    hint = s;
    uint64_t present_end = std::min(hi, s->start + s->present);
    if (lo + 8 > present_end) {  // an absent segment (data may be null) or its absent tail
      lo = s->end;
      continue;
    }
    const uint8_t* p = s->data + (lo - s->start);
    for (uint64_t a = lo; a + 8 <= present_end; a += 8, p += 8) {
      uint64_t w;
      std::memcpy(&w, p, 8);
      if (w - base < span) fn(a, w);
    }
    lo = s->end;
  }
}

// Nodes that are HotSpot NMT blocks: a word pointing 16 bytes into one points at the block
// itself (its payload), so it is a start pointer, not an interior one. Empty when no libjvm
// is loaded (no NMT headers can exist).
std::vector<bool> nmt_blocks(const AddressSpace& mem, const Process& p, const ChunkIndex& idx) {
  bool jvm = false;
  for (const Module& m : p.modules) jvm = jvm || m.path.ends_with("/libjvm.so");
  std::vector<bool> out;
  if (!jvm) return out;
  out.resize(idx.nodes());
  for (uint32_t n = 0; n < idx.nodes(); ++n) out[n] = is_nmt_block(mem, idx.node_address(n), idx.node_size(n));
  return out;
}

// What a word pointing into a chunk means: a start pointer, an interior pointer, or allocator
// bookkeeping that is no reference at all.
class PointerRules {
 public:
  PointerRules(const ChunkTable& table, const ChunkIndex& idx, const Process& p, std::vector<bool> nmt)
      : table_(table), idx_(idx), p_(p), nmt_(std::move(nmt)) {}

  // The edge to node n for word w (stored at `at`, 0 in the heap scan), or nothing.
  std::optional<uint32_t> edge(uint32_t n, uint64_t w, uint64_t at = 0) const {
    bool interior = !is_start(n, w) && !(at && known_interior(at));
    if (interior && next_chunk_header(n, w)) return std::nullopt;
    return n | (interior ? kInteriorBit : 0);
  }

 private:
  bool is_start(uint32_t n, uint64_t w) const {
    uint64_t a = idx_.node_address(n);
    return w == a || (!nmt_.empty() && nmt_[n] && w == a + kNmtHeaderBytes);
  }
  // glibc's thread control block keeps `dtv` (at fs_base + 8) pointing one entry into the
  // calloc'd DTV: a known interior pointer that holds the DTV as firmly as a start pointer.
  bool known_interior(uint64_t at) const {
    for (const Thread& t : p_.threads)
      if (at == t.fs_base() + 8) return true;
    return false;
  }
  // glibc's bins, top and free chunks' fd/bk point at chunk headers, and stale copies of
  // them stay in the chunks later reused; a chunk's header is the last 8 usable bytes of the
  // chunk before it, so such a word looks like an interior pointer into that neighbour. It is
  // allocator bookkeeping, not a reference (a program holds the payload address, never the
  // header) — except in a JVM, where with NMT a pointer 16 bytes into a 24-byte chunk is the
  // block's own payload (NMT's 16-byte header), so there a live neighbour's header counts.
  bool next_chunk_header(uint32_t node, uint64_t w) const {
    const Chunk& c = table_.chunks[idx_.chunk_of_node(node)];
    if (c.size < 8 || w != c.address + c.size - 8 || c.allocator >= table_.allocators.size() ||
        !table_.allocators[c.allocator].boundary_tags)
      return false;
    auto next = std::lower_bound(table_.chunks.begin(), table_.chunks.end(), w + 16,
                                 [](const Chunk& k, uint64_t a) { return k.address < a; });
    bool next_live = next != table_.chunks.end() && next->address == w + 16 && next->state != ChunkState::kFree;
    return !(next_live && c.size == 24 && !nmt_.empty());
  }

  const ChunkTable& table_;
  const ChunkIndex& idx_;
  const Process& p_;
  const std::vector<bool> nmt_;
};

// Roots: every word of the root regions outside chunks and allocator bookkeeping. Runs on its
// own thread next to the heap workers (it only writes g.roots and g.scanned_root_bytes). A
// mapping the labeller did not recognise as a heap makes it visit millions of small gaps
// between chunks, so the segment hint is kept across gaps.
void scan_roots(ReferenceGraph& g, const AddressSpace& mem, const std::vector<RootRegion>& regions,
                const ChunkTable& table, const PointerRules& rules) {
  const Segment* hint = nullptr;
  std::vector<std::pair<uint64_t, uint64_t>> book;
  for (const BookkeepingRange& b : table.bookkeeping) book.push_back({b.start, b.end});
  std::sort(book.begin(), book.end());
  for (const RootRegion& r : regions)
    outside_chunks(table, r.lo, r.hi, [&](uint64_t clo, uint64_t chi) {
      outside_ranges(book, clo, chi, [&](uint64_t lo, uint64_t hi) {
        g.scanned_root_bytes += hi - lo;
        for_each_candidate(mem, g.index, lo, hi, hint, [&](uint64_t at, uint64_t w) {
          int64_t n = g.index.find(w);
          if (n < 0) return;
          if (auto e = rules.edge(static_cast<uint32_t>(n), w, at))
            g.roots.push_back({static_cast<uint32_t>(n), r.kind, (*e & kInteriorBit) != 0, at, r.tid});
        });
      });
    });
}

// Registers of every thread (general-purpose ones) are roots too.
void scan_registers(ReferenceGraph& g, const Process& p, const PointerRules& rules) {
  for (const Thread& t : p.threads)
    for (int r = 0; r < kNumRegs; ++r) {
      if (r >= kOrigRax) continue;  // general-purpose registers only (r15 … rdi)
      int64_t n = g.index.find(t.regs[r]);
      if (n < 0) continue;
      if (auto e = rules.edge(static_cast<uint32_t>(n), t.regs[r]))
        g.roots.push_back({static_cast<uint32_t>(n), RootKind::kRegister, (*e & kInteriorBit) != 0,
                           static_cast<uint64_t>(r), t.tid});
    }
}

// Heap scan: each worker owns a contiguous node range (balanced by bytes) and writes its
// edges into its own region of one lazily committed buffer sized for the worst case (every
// word a pointer); the regions are then compacted in place.
void scan_heap(ReferenceGraph& g, const AddressSpace& mem, const ChunkTable& table, const PointerRules& rules,
               unsigned workers) {
  const ChunkIndex& idx = g.index;
  const uint32_t nodes = static_cast<uint32_t>(idx.nodes());
  uint64_t total_words = 0;
  for (uint32_t n = 0; n < nodes; ++n) total_words += idx.node_size(n) / 8;
  std::vector<uint32_t> bound(workers + 1, nodes);  // node ranges
  std::vector<uint64_t> region(workers + 1, total_words);  // word offset of each worker's region
  bound[0] = 0;
  region[0] = 0;
  {
    uint64_t words = 0;
    unsigned w = 1;
    for (uint32_t n = 0; n < nodes && w < workers; ++n) {
      if (words >= total_words * w / workers) bound[w] = n, region[w] = words, ++w;
      words += idx.node_size(n) / 8;
    }
  }
  // Chunks free at a second-level allocator (HotSpot's pooled arena chunks) are scanned for
  // their free-list link only: the rest is stale, like the content of a free malloc chunk.
  std::vector<bool> link_only(nodes, false);
  for (uint64_t a : find_hotspot_chunk_pools(mem, table).pooled)
    if (int64_t n = idx.find(a); n >= 0 && idx.node_address(static_cast<uint32_t>(n)) == a) link_only[static_cast<size_t>(n)] = true;
  g.edge_target = LazyArray<uint32_t>(total_words);
  g.edge_start.assign(nodes + 1, 0);
  std::vector<uint64_t> used(workers, 0), bytes(workers, 0);
  auto scan = [&](unsigned w) {
    uint32_t* out = g.edge_target.data() + region[w];
    uint64_t k = 0;
    const Segment* hint = nullptr;
    for (uint32_t n = bound[w]; n < bound[w + 1]; ++n) {
      uint64_t a = idx.node_address(n), sz = idx.node_size(n);
      bytes[w] += sz;
      if (link_only[n]) sz = 8;
      if (table.chunks[idx.chunk_of_node(n)].flags & kChunkFlagBookkeeping) sz = 0;
      uint32_t count = 0;
      for_each_candidate(mem, idx, a, a + sz, hint, [&](uint64_t, uint64_t word) {
        int64_t t = idx.find(word);
        if (t < 0 || t == n) return;
        if (auto e = rules.edge(static_cast<uint32_t>(t), word)) {
          out[k++] = *e;
          ++count;
        }
      });
      g.edge_start[n + 1] = count;
    }
    used[w] = k;
  };
  std::vector<std::thread> pool;
  for (unsigned w = 1; w < workers; ++w) pool.emplace_back(scan, w);
  scan(0);
  for (auto& th : pool) th.join();

  uint64_t at = 0;
  for (unsigned w = 0; w < workers; ++w) {
    if (region[w] != at) std::memmove(g.edge_target.data() + at, g.edge_target.data() + region[w], used[w] * sizeof(uint32_t));
    at += used[w];
    g.scanned_heap_bytes += bytes[w];
  }
  g.edge_target.set_size(at);
  g.edge_target.trim();
  for (uint32_t n = 0; n < nodes; ++n) g.edge_start[n + 1] += g.edge_start[n];
}

}  // namespace

ReferenceGraph build_reference_graph(const HeapModel& s, const ChunkTable& table) {
  ReferenceGraph g(table);
  const AddressSpace& mem = s.memory();
  const Process& p = s.process();
  const PointerRules rules(table, g.index, p, nmt_blocks(mem, p, g.index));
  const std::vector<RootRegion> regions = root_regions(p, table);
  warn_absent_roots(s, regions);
  // Small graphs: one thread does it all (threads cost more than they save).
  const bool small = g.index.nodes() < 4096;
  unsigned workers = small ? 1 : std::max(1u, std::min(std::thread::hardware_concurrency(), 8u));
  {
    // The root scan writes only g.roots and g.scanned_root_bytes, the heap scan the rest.
    std::jthread root_thread;  // joins on every way out, exceptions included
    auto run_roots = [&] { scan_roots(g, mem, regions, table, rules); };
    if (small) run_roots();
    else root_thread = std::jthread(run_roots);
    scan_heap(g, mem, table, rules, workers);
  }
  scan_registers(g, p, rules);
  return g;
}

}  // namespace coresift
