// jemalloc's own memory, told apart from the program's so that its stale words keep nothing
// alive: the thread caches' pointer stacks (slots below the fill level keep pointers to
// regions since handed out) and the base blocks holding arena_t and extent records (e_addr
// points at every large allocation).
#include <algorithm>

#include "je_context.hpp"

namespace coresift::je {
namespace {

// Base blocks are mapped huge-page aligned and sized (base_block_alloc/base_map) and start
// with {size_t size; base_block_t* next;}. The kernel may merge them with extents into one
// mapping, so they are found by their headers, not by mappings.
constexpr uint64_t kHugePage = uint64_t{2} << 20;
constexpr uint64_t kMaxBlock = uint64_t{1} << 36;  // 64 GiB: anything bigger is not a header
constexpr unsigned kMaxSteps = 512;                // search down at most 1 GiB

void flag_stack_blocks(Context& c, size_t first) {
  auto& rows = c.out->chunks;
  auto begin = rows.begin() + static_cast<std::ptrdiff_t>(first);
  for (uint64_t w : c.stack_words) {
    auto it = std::upper_bound(begin, rows.end(), w, [](uint64_t a, const Chunk& k) { return a < k.address; });
    if (it == begin) continue;
    --it;
    if (w - it->address >= it->size || it->state == ChunkState::kFree || (it->flags & kChunkFlagBookkeeping)) continue;
    it->flags |= kChunkFlagBookkeeping;
    c.out->bookkeeping.push_back({it->address, it->address + it->size, c.allocator, "tcache-stack"});
  }
}

struct Block {
  uint64_t start = 0, size = 0, next = 0;
};

std::optional<Block> header_at(const Context& c, uint64_t b) {
  auto size = c.u64(b), next = c.u64(b + 8);
  if (!size || !next || *size == 0 || *size % kHugePage || *size > kMaxBlock || *next % kHugePage) return std::nullopt;
  return Block{b, *size, *next};
}

// The base block holding the metadata word at `a`: the nearest huge-page boundary at or below
// `a` whose header's size reaches past `a`.
std::optional<Block> block_holding(const Context& c, uint64_t a) {
  uint64_t b = a & ~(kHugePage - 1);
  for (unsigned i = 0; i < kMaxSteps && b >= kHugePage; ++i, b -= kHugePage)
    if (auto h = header_at(c, b); h && b + h->size > a) return h;
  return std::nullopt;
}

void add_block_chain(const Context& c, Block b, std::vector<std::pair<uint64_t, uint64_t>>& out) {
  for (unsigned n = 0; n < 4096; ++n) {
    out.push_back({b.start, b.start + b.size});
    if (!b.next) return;
    auto h = header_at(c, b.next);
    if (!h) return;
    b = *h;
  }
}

// A block links to the one mapped before it, so the newer blocks of a chain found from the
// oldest (where arena_t lives) are the headers whose `next` is a known block.
void add_newer_blocks(const Context& c, std::vector<std::pair<uint64_t, uint64_t>>& blocks) {
  std::vector<uint64_t> heads;
  for (const Mapping& m : c.process->mappings) {
    if (!m.path.empty() || !(m.perms & kPermWrite)) continue;
    for (uint64_t b = (m.start + kHugePage - 1) & ~(kHugePage - 1); b + 16 <= m.end; b += kHugePage) heads.push_back(b);
  }
  for (bool grew = true; grew;) {
    grew = false;
    for (uint64_t b : heads) {
      auto h = header_at(c, b);
      if (!h || !h->next) continue;
      bool linked = std::any_of(blocks.begin(), blocks.end(), [&](auto& r) { return r.first == h->next; });
      bool known = std::any_of(blocks.begin(), blocks.end(), [&](auto& r) { return r.first == b; });
      if (linked && !known) blocks.push_back({b, b + h->size}), grew = true;
    }
  }
}

void report_base_blocks(Context& c) {
  std::vector<uint64_t> meta;
  for (const JeArena& a : c.arenas) meta.push_back(a.address);
  for (const Extent& e : c.extents) meta.push_back(e.edata);
  std::sort(meta.begin(), meta.end());
  std::vector<std::pair<uint64_t, uint64_t>> blocks;
  for (uint64_t a : meta) {
    bool known = std::any_of(blocks.begin(), blocks.end(), [&](auto& r) { return r.first <= a && a < r.second; });
    if (known) continue;
    if (auto b = block_holding(c, a)) add_block_chain(c, *b, blocks);
  }
  add_newer_blocks(c, blocks);
  std::sort(blocks.begin(), blocks.end());
  blocks.erase(std::unique(blocks.begin(), blocks.end()), blocks.end());
  for (auto& r : blocks) c.out->bookkeeping.push_back({r.first, r.second, c.allocator, "base-block"});
}

}  // namespace

void mark_bookkeeping(Context& c, size_t first_chunk) {
  flag_stack_blocks(c, first_chunk);
  report_base_blocks(c);
}

}  // namespace coresift::je
