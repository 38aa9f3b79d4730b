// The reference graph: which live chunks point at which (any aligned word equal to an
// address inside a live chunk), and which chunks the roots point at. Roots are the memory
// that is not heap: module data and .bss, every thread's stack from its stack pointer up,
// registers, and other readable mappings (reference_graph.cpp says which are left out, why). Free chunks and allocator-owned ranges are never
// scanned, so stale pointers in freed memory keep nothing alive; nor are chunks free at a
// second-level allocator (HotSpot's pooled arena chunks), but for their free-list link.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "coresift/allocators/chunk_table.hpp"
#include "coresift/analysis/lazy_array.hpp"
#include "coresift/model/heap_model.hpp"

namespace coresift {

enum class RootKind : uint8_t { kStatic, kStack, kRegister, kAnon, kNone = 0xff };
const char* root_kind_name(RootKind k);

// Word → live chunk lookup over a ChunkTable. Nodes are the live chunks, in address order.
// A page table per span of nodes (runs with gaps under 1 MiB) makes a lookup a couple of
// loads instead of a binary search over millions of addresses. Most words of a heap are not
// pointers at all: one compare against the whole indexed range rejects them inline.
class ChunkIndex {
 public:
  explicit ChunkIndex(const ChunkTable& table);
  size_t nodes() const { return nodes_.size(); }
  uint32_t chunk_of_node(uint32_t node) const { return nodes_[node].chunk; }
  uint64_t node_address(uint32_t node) const { return nodes_[node].address; }
  uint64_t node_size(uint32_t node) const {
    return nodes_[node].size != kSizeInTable ? nodes_[node].size : table_->chunks[nodes_[node].chunk].size;
  }
  // Every node lies in [range_start(), range_end()): a word outside cannot point into one.
  uint64_t range_start() const { return lo_; }
  uint64_t range_end() const { return hi_; }
  // Node whose [address, address+size) holds `word`, or -1.
  int64_t find(uint64_t word) const { return word - lo_ < hi_ - lo_ ? find_in_spans(word) : -1; }
  // Frees the word → node page tables (find() then finds nothing; the nodes stay): for
  // analyses that are done scanning.
  void release_lookup();

 private:
  static constexpr uint32_t kSizeInTable = UINT32_MAX;  // chunks of 4 GiB and more
  // Address, size and chunk side by side: a lookup that hits touches one cache line.
  struct Node {
    uint64_t address;
    uint32_t size;   // kSizeInTable: read it from the chunk table
    uint32_t chunk;  // index in ChunkTable::chunks
  };
  struct Span {
    uint64_t lo, hi;           // [lo, hi) covered by its nodes
    uint32_t first, last;      // node range [first, last)
    std::vector<uint32_t> page_first;  // per 4 KiB page from lo: first node ending after the page start
  };
  int64_t find_in_spans(uint64_t word) const;

  const ChunkTable* table_;
  std::vector<Node> nodes_;
  std::vector<uint64_t> span_lo_;  // spans_[i].lo, searched without touching the spans
  std::vector<Span> spans_;
  uint64_t lo_ = 0, hi_ = 0;       // every span lies in [lo_, hi_)
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
ReferenceGraph build_reference_graph(const HeapModel& s, const ChunkTable& table);

}  // namespace coresift
