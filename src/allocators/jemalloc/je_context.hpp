// State shared by the pieces of the jemalloc walker: what was found in the process, and
// how. Internal to src/allocators/jemalloc/.
#pragma once
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "allocators/common/disk_elf.hpp"
#include "coresift/allocators/chunk_table.hpp"
#include "coresift/input/address_space.hpp"
#include "coresift/process/process.hpp"
#include "je_layout.hpp"
#include "je_rtree.hpp"
#include "je_sizeclass.hpp"

namespace coresift::je {

// Caps that keep every walk finite on a damaged heap.
constexpr uint32_t kMaxArenas = 4095;      // MALLOCX_ARENA_LIMIT
constexpr uint32_t kMaxListWalk = 100000;  // elements of any linked list
constexpr uint32_t kMaxCached = 65536;     // items of one cache bin

struct Range {
  uint64_t start = 0, end = 0;
  bool contains(uint64_t a) const { return a >= start && a < end; }
};

struct JeArena {
  uint64_t address = 0;
  uint32_t ind = 0;
  bool huge = false;
  uint16_t table_index = 0;  // in ChunkTable::arenas
};

enum class ExtentState : uint8_t { kActive, kDirty, kMuzzy, kRetained, kOther };

struct Extent {
  uint64_t edata = 0;
  uint64_t addr = 0;     // e_addr (large: user pointer incl. the cache-oblivious offset)
  uint64_t base = 0;     // page-aligned start
  uint64_t size = 0;     // e_size
  uint64_t bits = 0;     // e_bits
  uint32_t arena = 0;    // arena ind
  uint32_t szind = 0;
  uint32_t nfree = 0;
  uint32_t binshard = 0;
  ExtentState state = ExtentState::kOther;
  bool slab = false;
};

struct CachedItem {
  uint64_t ptr = 0;
  uint32_t szind = 0;
  uint32_t cache = 0;  // index into Context::tcaches
};

struct TcacheInfo {
  uint64_t tcache = 0;   // tcache_t address
  uint64_t tsd = 0;      // 0 when not known
  int tid = 0;           // thread owning it, 0 when not known
  uint32_t arena = UINT32_MAX;
  uint64_t ncached = 0;
  std::string found_by;  // "tsd", "tcache_ql"
};

struct Context {
  const Process* process = nullptr;
  const AddressSpace* mem = nullptr;
  ChunkTable* out = nullptr;
  uint8_t allocator = 0;

  const Module* module = nullptr;
  std::vector<Range> rw;  // the library's writable data (.data, .got, .bss)
  std::unique_ptr<DiskElf> disk;
  std::string version;

  Layout layout;
  SizeClasses sc;

  std::vector<JeArena> arenas;  // by ascending ind
  uint64_t arenas_array = 0;    // address of je_arenas[]
  uint64_t rtree = 0;           // emap address (5.3), 0 when found by probing
  RtreeGeometry geom;
  uint64_t rtree_root = 0;      // address of the root array

  std::optional<int64_t> tpoff;
  std::string tpoff_source;
  std::vector<TcacheInfo> tcaches;
  std::vector<CachedItem> cached;
  // One address inside each thread cache's pointer-stack block (a region of arena 0).
  std::vector<uint64_t> stack_words;

  std::vector<Extent> extents;  // sorted by base

  // Layout confirmation counters (je_regions.cpp, je_stats.cpp).
  uint64_t slabs_checked = 0, slabs_nfree_bad = 0;
  uint64_t extents_in_transit = 0;  // active, not a slab, no size class (see emit_large)
  uint64_t bins_checked = 0, bins_stats_bad = 0;
  // Active large extents whose end-page leaf still says "slab" (je_extents.cpp): not damage.
  uint64_t stale_large_ends = 0;

  // Index of arena `ind` in `arenas`, or -1.
  int arena_slot(uint32_t ind) const;
  // At most kFindingsPerKind findings of one kind; the rest are counted (flush_findings).
  static constexpr uint64_t kFindingsPerKind = 50;
  mutable std::map<std::string, uint64_t> finding_counts;
  void finding(std::string kind, uint64_t addr, std::string detail) const {
    if (++finding_counts[kind] > kFindingsPerKind) return;
    out->add_finding(allocator, std::move(kind), addr, std::move(detail));
  }
  // Adds one summary finding per kind that went over the limit.
  void flush_findings() const;
  std::optional<uint64_t> u64(uint64_t a) const { return mem->read_u64(a); }
  // arena ind of the arena_t at `a` (through base_t on 5.2).
  std::optional<uint32_t> arena_ind_of(uint64_t a) const;
  // bin_t of size class `szind`, shard 0, of arena `a`.
  std::optional<uint64_t> bin_of(uint64_t a, uint32_t szind) const;
  uint64_t u64_or0(uint64_t a) const { return mem->read_u64(a).value_or(0); }
  bool in_rw(uint64_t a) const {
    for (const auto& r : rw)
      if (r.contains(a)) return true;
    return false;
  }
};

// je_version.cpp: "5.3.0-0-g54eaed1d8b56b1aa528be3bdd1877e59c56fa90c" from the library's
// .rodata, "" if none.
std::string find_version_string(const DiskElf& elf);

// je_detect.cpp
const Module* find_jemalloc_module(const Process& p);
// The library's writable ranges (file-backed RW mappings plus the anonymous .bss after them),
// cut to the bytes present in the core.
std::vector<Range> writable_ranges(const Process& p, const AddressSpace& mem, const Module& m);
// A module other than libjemalloc*.so holding jemalloc's runtime size-class table (jemalloc
// linked statically), or null.
const Module* find_static_jemalloc(const Process& p, const AddressSpace& mem);
std::optional<uint64_t> find_size_class_table(const AddressSpace& mem, const std::vector<Range>& rw, SizeClasses* out);
// Reads the size-class table from the process (or computes the default).
void load_size_classes(Context& c);

// je_arenas.cpp: finds je_arenas[] with the current layout; false when it is not found.
bool locate_arenas(Context& c);
// Marks the huge arena (index narenas_auto) when it can be told apart.
void identify_huge_arena(Context& c);

// je_extents.cpp: walks the extent map into c.extents; false when it cannot be read.
bool walk_extent_map(Context& c);

// je_tsd.cpp: tpoff from the malloc fast path, then each thread's tcache; plus tcache_ql.
void locate_tcaches(Context& c);

// je_regions.cpp: emits every region/extent as chunks, then overlays the tcache contents.
// Returns the index of the first emitted chunk.
size_t emit_chunks(Context& c);
void overlay_tcaches(Context& c, size_t first_chunk);

// je_bookkeeping.cpp: flags the thread-cache stack blocks and reports the base blocks (the
// anonymous mappings holding arena_t and extent records, and no extent) as bookkeeping.
void mark_bookkeeping(Context& c, size_t first_chunk);

// je_stats.cpp: recomputes malloc_stats-like counts, cross-checks bin stats, adds notes.
void cross_check_stats(Context& c, AllocatorInfo& info, size_t first_chunk);

}  // namespace coresift::je
