// The chunk table: every heap block the allocator walkers found, live or free, sorted by
// address. It is the spine of every later analysis, so each row is kept to 24 bytes and
// everything else refers to chunks by index.
#pragma once
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace coresift {

enum class ChunkState : uint8_t { kLive, kFree, kLiveOrCached };
enum class ChunkBin : uint8_t {
  kNone,      // live chunks
  kTcache, kFastbin, kUnsorted, kSmallbin, kLargebin, kTop, kMmapped,  // glibc
  kSlab, kExtent, kLarge,                                              // jemalloc
  kUnbinned,  // free by the heap's own marks but on no list (corruption or an unreadable arena)
};
const char* state_name(ChunkState s);
const char* bin_name(ChunkBin b);  // "tcache", …; nullptr for kNone

struct Chunk {
  uint64_t address;        // the pointer malloc returned (user pointer)
  uint64_t size : 48;      // usable size (malloc_usable_size)
  uint64_t arena : 16;     // index into ChunkTable::arenas
  uint32_t overhead;       // chunk size - usable size (header, padding)
  ChunkState state;
  ChunkBin bin;
  uint8_t allocator;       // index into ChunkTable::allocators
  uint8_t flags;           // kChunkFlag… bits
  uint64_t chunk_size() const { return size + overhead; }
};
static_assert(sizeof(Chunk) == 24, "chunk rows must stay compact");
constexpr uint8_t kChunkFlagInterior = 1;  // e.g. glibc tcache struct or allocator metadata block
// An allocator's own block taken from its heap (jemalloc's thread-cache pointer stacks): its
// words are the allocator's bookkeeping, stale slots included, never the program's references.
constexpr uint8_t kChunkFlagBookkeeping = 2;

struct BookkeepingRange {
  uint64_t start = 0, end = 0;
  uint8_t allocator = 0;
  const char* kind = "";  // stable identifier: "base-block", "tcache-stack"
};

struct Finding {
  std::string kind;       // stable identifier, e.g. "corrupted-top-size", "tcache-double-free"
  uint64_t address = 0;   // where it was seen
  std::string detail;     // what was expected and what was found
  uint8_t allocator = 0;
};

struct ArenaInfo {
  uint64_t address = 0;
  std::string kind;       // "main", "thread" (glibc); "arena"/"huge" (jemalloc)
  int index = -1;         // jemalloc arena index
  uint8_t allocator = 0;
  std::vector<std::pair<uint64_t, uint64_t>> heaps;  // [start, end) ranges of memory it owns
  uint64_t system_mem = 0;   // bytes obtained from the system
  uint64_t top_size = 0;
  bool program_break = false;  // its heap is the program break heap ([heap], grown by sbrk)
  // Starts of the mappings it reserved for itself as arena heaps (glibc: each heap_info's
  // 64 MiB-aligned mapping); the process model's `[arena-heap]` guess defers to these.
  std::vector<uint64_t> heap_mappings;
  // Filled by ChunkTable::summarize():
  uint64_t live_chunks = 0, live_bytes = 0, free_chunks = 0, free_bytes = 0;
  std::vector<std::pair<ChunkBin, std::pair<uint64_t, uint64_t>>> free_by_bin;  // bin → (chunks, bytes)
};

struct AllocatorInfo {
  std::string name;        // "glibc", "jemalloc"
  std::string version;     // "2.36", "" if unknown
  std::string located_by;  // how the structures were found ("symbols", "disassembly", "scan", …)
  std::vector<std::string> notes;  // other facts worth showing (layout source, tcache method…)
  uint64_t mmapped_chunks = 0, mmapped_bytes = 0;  // summarize()
  // Facts the analyses need about this allocator's memory, so they never test its name:
  // its arenas' heaps hold only chunks and chunk headers (no program data between chunks);
  bool heaps_hold_only_chunks = false;
  // a chunk's size field is the last word of the chunk before it (boundary tags), so stale
  // copies of header addresses look like interior pointers into that chunk;
  bool boundary_tags = false;
  // the signature of the chunks it flags kChunkFlagInterior (its own metadata), "" if none.
  std::string metadata_signature;
  // The message the allocator left before it aborted the process (glibc's __abort_msg).
  std::string abort_message;
};

class ChunkTable {
 public:
  std::vector<Chunk> chunks;
  std::vector<ArenaInfo> arenas;
  std::vector<AllocatorInfo> allocators;
  std::vector<Finding> findings;
  // Memory an allocator keeps for itself (jemalloc's base blocks: arena_t, extent records,
  // radix-tree nodes; its thread caches' pointer stacks): not program data, so never a root
  // or a source of references.
  std::vector<BookkeepingRange> bookkeeping;

  uint8_t add_allocator(AllocatorInfo a);
  uint16_t add_arena(ArenaInfo a);
  void add(const Chunk& c) { chunks.push_back(c); }
  void add_finding(uint8_t allocator, std::string kind, uint64_t address, std::string detail);

  // Sorts by address, drops exact duplicates (the same chunk reported twice), and fills the
  // per-arena and per-allocator totals.
  void finalize();
  // Index of the chunk whose [address, address+size) holds `addr`.
  std::optional<size_t> find(uint64_t addr) const;
};

}  // namespace coresift
