// The reference graph: which live chunks point at which (any aligned word equal to an
// address inside a live chunk), and which chunks the roots point at. Roots are the memory
// that is not heap: module data and .bss, every thread's stack from its stack pointer up,
// registers, and other writable mappings. Free chunks and allocator-owned ranges are never
// scanned, so stale pointers in freed memory keep nothing alive.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "coresift/allocators/chunk_table.hpp"
#include "coresift/analysis/lazy_array.hpp"
#include "coresift/session.hpp"

namespace coresift {

enum class RootKind : uint8_t { kStatic, kStack, kRegister, kAnon, kNone = 0xff };
const char* root_kind_name(RootKind k);

// Word → live chunk lookup over a ChunkTable. Nodes are the live chunks, in address order.
// A page table per span of nodes (runs with gaps under 1 MiB) makes a lookup a couple of
// loads instead of a binary search over millions of addresses.
class ChunkIndex {
 public:
  explicit ChunkIndex(const ChunkTable& table);
  size_t nodes() const { return node_chunk_.size(); }
  uint32_t chunk_of_node(uint32_t node) const { return node_chunk_[node]; }
  uint64_t node_address(uint32_t node) const { return addr_[node]; }
  uint64_t node_size(uint32_t node) const { return table_->chunks[node_chunk_[node]].size; }
  // Node whose [address, address+size) holds `word`, or -1.
  int64_t find(uint64_t word) const;
  // Frees the word → node lookup and the node addresses (find() then finds nothing, and
  // node_address() must not be called): for analyses done scanning that keep only the node
  // → chunk map.
  void release_lookup();

 private:
  struct Span {
    uint64_t lo, hi;           // [lo, hi) covered by its nodes
    uint32_t first, last;      // node range [first, last)
    std::vector<uint32_t> page_first;  // per 4 KiB page from lo: first node ending after the page start
  };
  const ChunkTable* table_;
  std::vector<uint32_t> node_chunk_;  // node → index in ChunkTable::chunks
  std::vector<uint64_t> addr_;        // node → start address
  std::vector<Span> spans_;
};

// Edge target with the interior flag in the top bit.
constexpr uint32_t kInteriorBit = 0x80000000u;

struct RootRef {
  uint32_t node;
  RootKind kind;
  bool interior;
  uint64_t from;  // address of the word (or register number for kRegister)
  int tid;        // thread for stack/register roots, else 0
};

struct ReferenceGraph {
  ChunkIndex index;
  std::vector<uint32_t> edge_start;   // CSR: node → first edge (size nodes+1)
  LazyArray<uint32_t> edge_target;    // target node | kInteriorBit
  std::vector<RootRef> roots;
  uint64_t scanned_root_bytes = 0;
  uint64_t scanned_heap_bytes = 0;

  explicit ReferenceGraph(const ChunkTable& t) : index(t) {}
};

// Scans roots and live chunks (both cores: the heap scan is split across threads).
ReferenceGraph build_reference_graph(Session& s, const ChunkTable& table);

}  // namespace coresift
