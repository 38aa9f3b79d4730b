#include <algorithm>

#include "coresift/analysis/references.hpp"

namespace coresift {

ChunkIndex::ChunkIndex(const ChunkTable& table) : table_(&table) {
  // Reserving for every chunk costs only address space: the pages of free chunks' share are
  // never touched. One pass fills the nodes and their spans.
  nodes_.reserve(table.chunks.size());
  constexpr uint64_t kGap = 1 << 20;
  for (size_t i = 0; i < table.chunks.size(); ++i) {
    const Chunk& c = table.chunks[i];
    if (c.state == ChunkState::kFree || c.size == 0) continue;
    uint32_t size = c.size < kSizeInTable ? static_cast<uint32_t>(c.size) : kSizeInTable;
    uint32_t n = static_cast<uint32_t>(nodes_.size());
    nodes_.push_back({c.address, size, static_cast<uint32_t>(i)});
    uint64_t end = c.address + c.size;
    if (spans_.empty() || c.address > spans_.back().hi + kGap) {
      spans_.push_back({c.address, end, n, n + 1, {}});
    } else {
      spans_.back().hi = std::max(spans_.back().hi, end);
      spans_.back().last = n + 1;
    }
  }
  for (Span& s : spans_) {
    uint64_t pages = ((s.hi - s.lo) >> 12) + 1;
    s.page_first.resize(pages);
    uint32_t n = s.first;
    for (uint64_t p = 0; p < pages; ++p) {
      uint64_t page_start = s.lo + (p << 12);
      while (n < s.last && nodes_[n].address + node_size(n) <= page_start) ++n;
      s.page_first[p] = n;
    }
    span_lo_.push_back(s.lo);
    hi_ = std::max(hi_, s.hi);
  }
  if (!spans_.empty()) lo_ = spans_.front().lo;
}

int64_t ChunkIndex::find_in_spans(uint64_t w) const {
  auto after = std::upper_bound(span_lo_.begin(), span_lo_.end(), w);
  if (after == span_lo_.begin()) return -1;
  const Span& s = spans_[static_cast<size_t>(after - span_lo_.begin()) - 1];
  if (w >= s.hi) return -1;
  // Candidates: from the first node still alive at this page's start to the first node
  // alive at the next page's start (inclusive); the last one starting at or below w wins.
  uint64_t p = (w - s.lo) >> 12;
  uint32_t lo = s.page_first[p];
  uint32_t hi = p + 1 < s.page_first.size() ? std::min(s.page_first[p + 1] + 1, s.last) : s.last;
  auto it = std::upper_bound(nodes_.begin() + lo, nodes_.begin() + hi, w, [](uint64_t a, const Node& n) { return a < n.address; });
  if (it == nodes_.begin() + lo) return -1;
  uint32_t n = static_cast<uint32_t>(it - nodes_.begin()) - 1;
  return w < nodes_[n].address + node_size(n) ? static_cast<int64_t>(n) : -1;
}

void ChunkIndex::release_lookup() {
  std::vector<Span>().swap(spans_);
  lo_ = hi_ = 0;  // find() answers -1 from now on
}

const char* root_kind_name(RootKind k) {
  switch (k) {
    case RootKind::kStatic: return "static";
    case RootKind::kStack: return "stack";
    case RootKind::kRegister: return "register";
    case RootKind::kAnon: return "anon";
    case RootKind::kNone: break;
  }
  return "none";
}

}  // namespace coresift
