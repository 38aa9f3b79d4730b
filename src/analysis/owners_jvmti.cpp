// JVMTI tag maps belong to the agent whose environment holds them. Conservative scanning
// cannot: stale words in other chunks (the slack last word of small chunks, reused arrays)
// point at tag-map entries, so the dominator of those entries becomes the virtual root and
// they, the entries after them on bucket chains and the tags behind them end up unknown.
// So for every agent-owned JVMTI environment the tag map is followed by its structure and
// each of its chunks is given to the agent.
//
// HotSpot (JDK 17) layout, checked on jdwp cores with libjvm's symbols but not relied on by
// offset alone: every step is validated and any failure leaves the dominator result alone.
//   JvmtiEnvBase: +0 the jvmtiEnv function table (in libjvm), +8 u32 magic 0x71EE, then
//                 event callbacks (into the agent) and somewhere a JvmtiTagMap*;
//   JvmtiTagMap:  +0 back-pointer to its env, then a JvmtiTagMapTable*;
//   table:        +0 int bucket count, +8 bucket array (count * 8 bytes);
//   entry:        +8 next entry (chains end in NULL), +0x18 the jlong tag — an agent's
//                 malloc'd data when it is a chunk start (jdwp: the class signature).
// With Native Memory Tracking each of these blocks sits 16 bytes into its chunk, behind
// HotSpot's malloc header, and the pointers between them point at the blocks, not the chunks.
#include <algorithm>
#include <optional>

#include "nmt_block.hpp"
#include "owners_internal.hpp"

namespace coresift {
namespace {

constexpr uint32_t kJvmtiMagic = 0x71EE;
constexpr uint64_t kEntryNext = 8, kEntryTag = 0x18, kEntryMinSize = 0x20;
constexpr uint32_t kMaxBuckets = 1u << 24;
constexpr uint64_t kEnvScanBytes = 0x400;  // the tag-map pointer is in the env's first words
constexpr uint64_t kTagMapScanBytes = 0x100;

// The live chunks as nodes in address order (the reference graph's numbering), read through
// the chunk table once the graph's index is gone.
struct NodeView {
  const ChunkTable& table;
  const std::vector<uint32_t>& chunk_row;
  size_t nodes() const { return chunk_row.size(); }
  uint64_t node_address(uint32_t v) const { return table.chunks[chunk_row[v]].address; }
  uint64_t node_size(uint32_t v) const { return table.chunks[chunk_row[v]].size; }
};

// Live chunk starting exactly at addr (node), if any: nodes are in address order.
std::optional<uint32_t> node_at(const NodeView& index, uint64_t addr) {
  uint32_t lo = 0, hi = static_cast<uint32_t>(index.nodes());
  while (lo < hi) {
    uint32_t mid = lo + (hi - lo) / 2;
    if (index.node_address(mid) < addr) lo = mid + 1;
    else hi = mid;
  }
  if (lo < index.nodes() && index.node_address(lo) == addr) return lo;
  return std::nullopt;
}

bool in_libjvm(const Process& p, uint64_t addr) {
  for (const Module& m : p.modules)
    if (m.contains(addr)) {
      size_t k = m.path.rfind('/');
      return m.path.substr(k == std::string::npos ? 0 : k + 1) == "libjvm.so";
    }
  return false;
}

// HotSpot's 16-byte NMT malloc header (nmt_block.hpp) in front of a block: with
// -XX:NativeMemoryTracking every os::malloc'd structure, JVMTI's included, starts 16 bytes
// into its chunk and every pointer to it points there.
constexpr uint64_t kNmtHeader = kNmtHeaderBytes;

struct TagMapWalk {
  const AddressSpace& mem;
  const NodeView& index;

  uint64_t word(uint64_t addr) const { return mem.read_u64(addr).value_or(0); }

  // Where a block's data starts: the chunk start, or after the NMT header.
  uint64_t payload(uint32_t node) const {
    uint64_t a = index.node_address(node);
    return is_nmt_block(mem, a, index.node_size(node)) ? a + kNmtHeader : a;
  }
  uint64_t payload_size(uint32_t node) const { return index.node_size(node) - (payload(node) - index.node_address(node)); }

  // The live chunk whose block ptr points at: a chunk start, or the payload after an NMT header.
  std::optional<uint32_t> block_at(uint64_t ptr) const {
    if (auto n = node_at(index, ptr)) return n;
    if (ptr < kNmtHeader) return std::nullopt;
    auto n = node_at(index, ptr - kNmtHeader);
    if (n && payload(*n) == ptr) return n;
    return std::nullopt;
  }

  // Words [from, from + n) of a node's payload, as (value) pointing at other blocks.
  template <class F>
  void for_each_block_pointer(uint32_t node, uint64_t from, uint64_t n, F&& f) const {
    uint64_t base = payload(node);
    uint64_t end = std::min(payload_size(node), from + n);
    for (uint64_t at = from; at + 8 <= end; at += 8) {
      uint64_t w = word(base + at);
      if (auto t = block_at(w); t && f(*t, w)) return;
    }
  }

  // The table behind a tag map: a bucket count and a bucket array of exactly that many slots.
  bool is_table(uint64_t table, uint32_t table_node, uint32_t& buckets, uint32_t& count) const {
    if (payload_size(table_node) < 16) return false;
    count = mem.read_u32(table).value_or(0);
    if (count == 0 || count > kMaxBuckets) return false;
    auto b = block_at(word(table + 8));
    if (!b) return false;
    uint64_t size = payload_size(*b);
    if (size < uint64_t{count} * 8 || size >= uint64_t{count} * 8 + 32) return false;
    buckets = *b;
    return true;
  }

  // Every entry on every chain, then the tags that are blocks; false (nothing added) when a
  // slot or link is not a live block, or a chain does not end.
  bool entries(uint32_t buckets, uint32_t count, std::vector<uint32_t>& out) const {
    const size_t first = out.size();
    const uint64_t limit = index.nodes();  // no chain is longer than the number of chunks
    uint64_t walked = 0;
    uint64_t slots = payload(buckets);
    auto fail = [&] {
      out.resize(first);
      return false;
    };
    std::vector<uint64_t> tags;
    for (uint32_t i = 0; i < count; ++i) {
      auto head = mem.read_u64(slots + uint64_t{i} * 8);
      if (!head) return fail();
      for (uint64_t e = *head; e != 0;) {
        auto n = block_at(e);
        if (!n || payload_size(*n) < kEntryMinSize || ++walked > limit) return fail();
        out.push_back(*n);
        tags.push_back(word(e + kEntryTag));
        auto next = mem.read_u64(e + kEntryNext);
        if (!next) return fail();
        e = *next;
      }
    }
    for (uint64_t tag : tags)
      if (auto t = block_at(tag)) out.push_back(*t);
    return true;
  }

  // The env's tag map and everything it holds, or nothing.
  std::vector<uint32_t> follow(uint32_t env) const {
    std::vector<uint32_t> out;
    const uint64_t env_addr = payload(env);
    for_each_block_pointer(env, 16, kEnvScanBytes, [&](uint32_t map, uint64_t map_addr) {
      if (word(map_addr) != env_addr) return false;  // the tag map points back
      bool found = false;
      for_each_block_pointer(map, 8, kTagMapScanBytes, [&](uint32_t table, uint64_t table_addr) {
        uint32_t buckets = 0, count = 0;
        if (!is_table(table_addr, table, buckets, count)) return false;
        std::vector<uint32_t> walked{map, table, buckets};
        if (!entries(buckets, count, walked)) return false;
        out = std::move(walked);
        return found = true;
      });
      return found;
    });
    return out;
  }
};

}  // namespace

void claim_jvmti_tag_maps(const HeapModel& s, const ChunkTable& table, const std::vector<uint32_t>& chunk_row,
                          const OwnerTable& owners, std::vector<uint16_t>& own) {
  const AddressSpace& mem = s.memory();
  const Process& p = s.process();
  const NodeView index{table, chunk_row};
  const uint32_t chunks = static_cast<uint32_t>(index.nodes());
  TagMapWalk walk{mem, index};
  // Candidates: agent-owned by content, JVMTI magic at +8, function table in libjvm.
  std::vector<std::pair<uint32_t, uint16_t>> envs;  // (node, agent owner)
  for (uint32_t v = 0; v < chunks; ++v) {
    if (own[v] == kNoOwner || OwnerAnalysis::evidence(own[v]) != OwnerEvidence::kContent) continue;
    uint16_t o = OwnerAnalysis::owner_index(own[v]);
    if (owners.owners()[o].kind != OwnerKind::kAgent || walk.payload_size(v) < 0x100) continue;
    uint64_t a = walk.payload(v);
    if (mem.read_u32(a + 8).value_or(0) != kJvmtiMagic || !in_libjvm(p, mem.read_u64(a).value_or(0))) continue;
    envs.push_back({v, o});
  }
  for (auto [env, agent] : envs)
    for (uint32_t n : walk.follow(env)) {
      uint16_t& o = own[n];
      if (o == kNoOwner || OwnerAnalysis::evidence(o) != OwnerEvidence::kRule)
        o = static_cast<uint16_t>(agent | static_cast<uint16_t>(OwnerEvidence::kContent) << 14);
    }
}

}  // namespace coresift
