// Internal interface of the glibc malloc walker (ptmalloc2, x86-64). Each .cpp file in this
// directory does one job; this header holds the types they share:
//   layout.cpp     versions and the struct layout tables
//   debuginfo.cpp  layouts and symbols from libc's separate debug file (libdw)
//   disasm.cpp     Capstone decoding of exported malloc functions
//   version.cpp    glibc version detection
//   locate.cpp     main_arena and mp_ (symbols, disassembly, memory scan)
//   arena_score.cpp  how well a malloc_state candidate validates
//   arena_checks.cpp findings for implausible malloc_state fields
//   arenas.cpp     malloc_state, the arena ring, heap_info chains
//   tcache.cpp     per-thread tcaches
//   bins.cpp       fastbins, unsorted, small and large bins
//   nextsize.cpp   the nextsize ring of large bins
//   heap_walk.cpp  the chunk-by-chunk walk of every heap
//   mmapped.cpp    mmapped chunks
//   mmapped_choice.cpp  which mmapped-chunk candidates mp_'s totals allow
//   checks.cpp     cross checks after the walk (double frees, counts, abort message)
//   raw_dump.cpp   walking raw memory ranges without a core
//   glibc_walker.cpp  the AllocatorWalker that ties them together
#pragma once
#include <array>
#include <compare>
#include <cstdint>
#include <cstring>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "allocators/common/disk_elf.hpp"
#include "allocators/common/tls_got.hpp"
#include "coresift/allocators/chunk_table.hpp"
#include "coresift/input/cached_reader.hpp"
#include "coresift/model/core_model.hpp"

namespace coresift::glibc {

constexpr uint64_t kPrevInuse = 1, kIsMmapped = 2, kNonMainArena = 4, kFlagBits = 7;
constexpr uint64_t kMinChunk = 0x20;
constexpr uint64_t kAlignMask = 15;
constexpr uint64_t kHeapMax = 64ull << 20;  // HEAP_MAX_SIZE on 64-bit (non-hugetlb)
constexpr uint64_t kPage = 4096;
constexpr int kNumFastbins = 10;
constexpr int kNumBins = 128;               // bins[] holds 2 * (kNumBins - 1) words
constexpr uint64_t kMinLargeSize = 0x400;   // smallest large-bin chunk
constexpr uint64_t kNoArena = 0xffff;       // Chunk::arena of mmapped chunks
constexpr uint64_t kMaxTcacheChunk = 0x410; // largest chunk a default tcache holds

inline uint64_t chunksize(uint64_t size_field) { return size_field & ~kFlagBits; }
inline uint64_t align16(uint64_t a) { return (a + kAlignMask) & ~kAlignMask; }
inline int smallbin_index(uint64_t sz) { return static_cast<int>(sz >> 4); }
inline int largebin_index(uint64_t sz) {
  if ((sz >> 6) <= 48) return 48 + static_cast<int>(sz >> 6);
  if ((sz >> 9) <= 20) return 91 + static_cast<int>(sz >> 9);
  if ((sz >> 12) <= 10) return 110 + static_cast<int>(sz >> 12);
  if ((sz >> 15) <= 4) return 119 + static_cast<int>(sz >> 15);
  if ((sz >> 18) <= 2) return 124 + static_cast<int>(sz >> 18);
  return 126;
}
inline int bin_index(uint64_t sz) { return sz < kMinLargeSize ? smallbin_index(sz) : largebin_index(sz); }
inline int fastbin_index(uint64_t sz) { return static_cast<int>(sz >> 4) - 2; }
inline uint64_t tcache_index(uint64_t sz) { return (sz - 0x11) / 16; }
// Safe-linking (2.32+): a stored link is (address of the field >> 12) ^ target.
inline uint64_t reveal(uint64_t field_addr, uint64_t stored) { return (field_addr >> 12) ^ stored; }

// ---------------------------------------------------------------------------------------
// Versions and layouts (layout.cpp)

struct Version {
  int major = 0, minor = 0;
  bool known() const { return major != 0; }
  std::string str() const;
  friend auto operator<=>(const Version&, const Version&) = default;
};
std::optional<Version> parse_version(std::string_view s);  // "2.36", "2.36.9000"
Version min_supported();  // 2.23
Version max_supported();  // 2.42

// Offsets of every field the walker reads. Filled from a version table, DWARF, or probes.
struct Layout {
  // struct malloc_state
  int32_t ms_have_fastchunks = 0x08;  // -1: absent
  uint32_t ms_fastbins = 0x10;
  uint32_t ms_top = 0x60, ms_last_remainder = 0x68, ms_bins = 0x70, ms_binmap = 0x860;
  uint32_t ms_next = 0x870, ms_next_free = 0x878;
  int32_t ms_attached_threads = 0x880;  // -1: absent
  uint32_t ms_system_mem = 0x888, ms_max_system_mem = 0x890, ms_size = 0x898;
  // struct heap_info
  uint32_t heap_info_size = 0x30;
  // struct malloc_par
  uint32_t mp_mmap_threshold = 0x10;
  uint32_t mp_n_mmaps = 0x3c, mp_n_mmaps_max = 0x40, mp_max_n_mmaps = 0x44;
  uint32_t mp_mmapped_mem = 0x50, mp_max_mmapped_mem = 0x58, mp_sbrk_base = 0x60;
  int32_t mp_tcache_bins = 0x68, mp_tcache_max_bytes = 0x70, mp_tcache_count = 0x78;  // -1: no tcache
  uint32_t mp_size = 0x88;
  // struct tcache_perthread_struct / tcache_entry
  bool tcache = true;
  uint32_t tc_count_width = 2;   // bytes per counts[] element
  uint32_t tc_bins = 64;         // entries in counts[] and entries[]
  uint32_t tc_entries = 0x80;    // offset of entries[]
  uint32_t tc_struct_size = 0x280;
  bool tc_counts_are_free_slots = false;  // 2.42: num_slots counts the room left
  bool tc_key = true;           // tcache_entry.key exists (2.29+)
  bool tc_key_random = true;    // key is the global tcache_key (2.34+), else the tcache struct
  bool safe_linking = true;     // 2.32+
  std::string source;           // where the offsets came from

  uint64_t tcache_chunk_size() const { return (tc_struct_size + 8 + kAlignMask) & ~kAlignMask; }
  // First chunk of an arena's first heap, relative to its heap_info.
  uint64_t first_chunk_offset() const { return align16(heap_info_size + ms_size); }
  bool operator==(const Layout& o) const;  // compares offsets, not `source`
};
// The table layout for a version (clamped to the supported range).
Layout layout_for(Version v);
// What differs between two layouts ("" when the offsets agree).
std::string layout_diff(const Layout& a, const Layout& b);

// ---------------------------------------------------------------------------------------
// Reading process memory: CachedReader (input/cached_reader.hpp)


// ---------------------------------------------------------------------------------------
// Files: the on-disk libc and its separate debug file (DiskElf of the allocator toolkit, debuginfo.cpp)

// What libc's separate debug file gives (no_debuginfo: never looked at).
struct DebugFacts {
  std::string path;
  std::optional<Layout> layout;  // from DWARF, on top of the table for `base`
  std::string dwarf_note;        // why there is no DWARF layout, or what it covered
  std::optional<uint64_t> main_arena, mp, global_max_fast, tcache_key, tcache_tls;  // link addresses / TLS offset
};
// Looks for the debug file of a module by build-id under /usr/lib/debug, the --debug-dir roots
// and --sysroot, and reads symbols and struct layouts from it.
DebugFacts read_debug_facts(const Module& libc, const SymbolOptions& opts, const Layout& base);
// The member offsets of malloc_state/malloc_par/heap_info/tcache_* from a DWARF file
// (`elf` is an Elf*); nullopt when the types are absent. Exposed for tests.
std::optional<Layout> layout_from_dwarf(void* elf, const Layout& base, std::string* note);

// ---------------------------------------------------------------------------------------
// Disassembly (disasm.cpp). Addresses are link addresses of `img`.

// Target of the first RIP-relative `lea` in the function at `fn` (within `max_bytes`).
std::optional<uint64_t> first_rip_lea(const DiskElf& img, uint64_t fn, size_t max_bytes = 256);
struct RipAccess {
  uint64_t insn = 0;    // instruction address
  uint64_t target = 0;  // effective address
  int size = 0;         // operand size in bytes
  bool is_cmp = false;
  bool is_lea = false;
};
// Every RIP-relative memory operand in the first `max_bytes` of a function.
std::vector<RipAccess> rip_accesses(const DiskElf& img, uint64_t fn, size_t max_bytes = 512);

// ---------------------------------------------------------------------------------------
// Walk state

struct MpValues {
  bool valid = false;
  uint64_t mmap_threshold = 0;
  int32_t n_mmaps = 0, n_mmaps_max = 0, max_n_mmaps = 0;
  uint64_t mmapped_mem = 0, max_mmapped_mem = 0, sbrk_base = 0;
  uint64_t tcache_bins = 64, tcache_max_bytes = 1032, tcache_count = 7;
};

struct HeapRegion {
  uint64_t info = 0;   // heap_info address (0 for the main heap)
  uint64_t first = 0;  // first chunk
  uint64_t end = 0;    // end of the usable memory (exclusive)
};

struct ArenaState {
  uint64_t address = 0;
  bool main = false;
  uint16_t index = 0;  // ChunkTable arena index
  uint32_t flags = 0;
  uint64_t top = 0, last_remainder = 0, next = 0, next_free = 0, system_mem = 0, attached_threads = 0;
  std::array<uint64_t, kNumFastbins> fastbins{};
  std::vector<uint64_t> bins;  // 2 * (kNumBins - 1) words (fd, bk pairs)
  std::vector<HeapRegion> heaps;
  uint64_t top_size = 0;  // as read (may be corrupt)
  bool initialized = false;  // top is no longer the initial (unsorted bin) pseudo chunk
  bool lists_known = true;   // false: a raw dump without this arena's malloc_state
  // lists unknown, but in a core whose fastbins were all recovered from their chains: a small
  // chunk in no list is live (as in an arena with its lists), not live-or-cached.
  bool fastbins_recovered = false;
  bool top_at_end = false;   // raw dump: top unknown, it is the chunk that reaches the end
  bool system_mem_bad = false;  // implausible: not used to bound other checks
  // What top and unsorted chunks may not exceed: system_mem, unless it is known to be bad.
  uint64_t mem_bound() const { return system_mem_bad ? UINT64_MAX : system_mem; }
  uint64_t bin_at(int i, const Layout& l) const;  // address of the bin header pseudo chunk
  bool in_heaps(uint64_t chunk) const;
};

struct TcacheInfo {
  uint64_t address = 0;  // the tcache_perthread_struct (user pointer of its chunk)
  int tid = 0;           // 0 when found by the heap heuristic
  std::vector<uint32_t> counts;
  std::vector<uint64_t> entries;
};

// One free-list entry, packed in 8 bytes (millions of them are possible): the chunk address
// (user-space, < 2^48), its list, and whether the heap walk found a chunk starting there.
struct FreeRef {
  uint64_t v = 0;
  FreeRef() = default;
  FreeRef(uint64_t chunk_addr, ChunkBin b) : v((chunk_addr & kAddrMask) | (static_cast<uint64_t>(b) << 48)) {}
  uint64_t chunk() const { return v & kAddrMask; }
  ChunkBin bin() const { return static_cast<ChunkBin>((v >> 48) & 0x7f); }
  bool matched() const { return v >> 63; }
  void set_matched() { v |= 1ull << 63; }
  static constexpr uint64_t kAddrMask = (1ull << 48) - 1;
};
static_assert(sizeof(FreeRef) == 8);

struct Ctx {
  const CoreModel& s;
  ChunkTable* table;  // where rows and findings go
  CachedReader mem;
  uint8_t alloc = 0;

  Version version;
  std::string version_source;
  Layout layout;
  bool layout_probed = false;  // version unknown: features were probed from memory

  const Module* libc = nullptr;
  std::unique_ptr<DiskElf> libc_image;  // on-disk libc, when it matches the core
  DebugFacts debug;

  uint64_t main_arena = 0, mp = 0;
  std::string located_by;
  MpValues mpv;
  uint64_t global_max_fast = 0x80;
  std::optional<uint64_t> tcache_key;
  std::optional<int64_t> tcache_tpoff;
  std::string tcache_method;

  std::vector<ArenaState> arenas;
  std::vector<TcacheInfo> tcaches;
  std::vector<FreeRef> frees;                       // sorted by chunk after collect
  std::vector<uint64_t> tcache_structs;             // chunk addresses, sorted
  std::vector<std::pair<uint64_t, uint64_t>> walked;  // [start, end) ranges of walked heap memory
  std::vector<std::string> notes;
  // Filled by the heap walk for the arena-bloat note: bytes in use, free in bins (not tcache),
  // in top chunks, and what malloc_trim(0) could give back.
  uint64_t use_live = 0, use_binned = 0, use_top = 0, use_trimmable = 0;
  uint64_t mmapped_found = 0, mmapped_bytes = 0;
  bool mmapped_complete = true;

  Ctx(const CoreModel& session, ChunkTable& t) : s(session), table(&t), mem(session.memory()) {}
  ChunkTable& out() { return *table; }
  void finding(const std::string& kind, uint64_t addr, const std::string& detail) {
    table->add_finding(alloc, kind, addr, detail);
  }
  const ArenaState* arena_of(uint64_t chunk) const;
  bool in_any_heap(uint64_t chunk) const;
  // Memory the walk needed that is not in the core (a mapping coredump_filter left out, a
  // truncated file): one warning per stretch naming it; never read as zeros.
  void absent(uint64_t addr, const std::string& what);
  bool is_absent(uint64_t addr, uint64_t n = 16) const { return !mem.present(addr, n); }
  std::vector<std::pair<uint64_t, uint64_t>> absent_warned;
};

std::string hex(uint64_t v);

// version.cpp
void detect_version(Ctx& c);
// Refines the layout from the heap when the version is unknown (tcache struct size, heap_info
// size, safe-linking). Called once arenas are read.
void probe_layout(Ctx& c);

// locate.cpp: sets c.main_arena, c.mp, c.located_by. False when no glibc malloc is found.
bool locate(Ctx& c);
bool read_mp(Ctx& c, uint64_t addr, MpValues& out, bool strict);

// arena_score.cpp: what links up when walking from a candidate malloc_state.
struct ArenaScore {
  bool readable = false;
  bool uninitialised = false;  // the static image: top and bins zero, next = itself
  bool top_ok = false;         // top is a chunk inside a writable mapping
  bool ring = false;           // the next ring closes
  int bins_ok = 0, bins_bad = 0;
  bool valid() const;   // enough links up to take it as a malloc_state
  int points() const;   // to rank candidates
};
ArenaScore score_malloc_state(const Ctx& c, uint64_t addr);
bool plausible_malloc_state(const Ctx& c, uint64_t addr, bool require_ring);

// arenas.cpp: reads main_arena, follows the ring, finds every heap.
void read_arenas(Ctx& c);
bool read_arena(const Ctx& c, uint64_t addr, ArenaState& a);
// arena_checks.cpp
void check_arena_fields(Ctx& c, ArenaState& a);
void check_main_system_mem(Ctx& c, const ArenaState& a);

// tcache.cpp: finds each thread's tcache and collects its entries as FreeRefs.
void collect_tcaches(Ctx& c);
// bins.cpp: fastbins and the doubly linked bins of every arena.
void collect_bins(Ctx& c);
// fastbin_recover.cpp: fastbin chunks of arenas whose malloc_state is absent, from their
// safe-linked chains; added to c.frees.
void recover_fastbins(Ctx& c);
// nextsize.cpp: the fd_nextsize/bk_nextsize ring of large bin i.
void check_nextsize(Ctx& c, const ArenaState& a, int i, uint64_t max_entries);
// heap_walk.cpp: every chunk of every arena heap, with its state.
void walk_arena_heaps(Ctx& c);
// mmapped.cpp
void scan_mmapped(Ctx& c);
// mmapped_choice.cpp: headers found in anonymous memory; when mp_ knows how many chunks and
// bytes are mmapped and they disagree, keeps the subset that matches (see the file).
struct MmapCandidate {
  uint64_t start = 0;       // the mapping of the chunk (memalign: before the chunk)
  uint64_t chunk = 0;       // the chunk header
  uint64_t len = 0;         // bytes mmapped
  uint64_t chunk_size = 0;  // the chunk's own size
  bool chained = false;     // at a mapping start or right after another candidate
};
void keep_what_mp_counts(Ctx& c, std::vector<MmapCandidate>& found);
// checks.cpp
void check_free_refs(Ctx& c);
void check_abort_message(Ctx& c);
void add_bloat_note(Ctx& c);
// raw_dump.cpp: no core, only FILE@BASE ranges. Finds the heaps (and any malloc_state) in
// the ranges and fills c.arenas and the layout; false when no range holds a glibc heap.
bool setup_raw_arenas(Ctx& c);
// The same over given ranges (a core's heap mappings when libc's data is absent), with the
// layout already chosen.
bool setup_raw_arenas(Ctx& c, std::vector<RawRange> ranges);

}  // namespace coresift::glibc
