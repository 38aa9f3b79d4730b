#include <algorithm>

#include "coresift/analysis/references.hpp"

namespace coresift {

ChunkIndex::ChunkIndex(const ChunkTable& table) : table_(&table) {
  size_t live = 0;
  for (const Chunk& c : table.chunks) live += c.state != ChunkState::kFree && c.size > 0;
  node_chunk_.reserve(live);
  addr_.reserve(live);
  for (size_t i = 0; i < table.chunks.size(); ++i) {
    const Chunk& c = table.chunks[i];
    if (c.state == ChunkState::kFree || c.size == 0) continue;
    node_chunk_.push_back(static_cast<uint32_t>(i));
    addr_.push_back(c.address);
  }
  constexpr uint64_t kGap = 1 << 20;
  for (uint32_t n = 0; n < addr_.size(); ++n) {
    uint64_t end = addr_[n] + node_size(n);
    if (spans_.empty() || addr_[n] > spans_.back().hi + kGap) {
      spans_.push_back({addr_[n], end, n, n + 1, {}});
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
      while (n < s.last && addr_[n] + node_size(n) <= page_start) ++n;
      s.page_first[p] = n;
    }
  }
}

int64_t ChunkIndex::find(uint64_t w) const {
  auto span = std::upper_bound(spans_.begin(), spans_.end(), w, [](uint64_t a, const Span& s) { return a < s.lo; });
  if (span == spans_.begin()) return -1;
  const Span& s = *--span;
  if (w >= s.hi) return -1;
  // Candidates: from the first node still alive at this page's start to the first node
  // alive at the next page's start (inclusive); the last one starting at or below w wins.
  uint64_t p = (w - s.lo) >> 12;
  uint32_t lo = s.page_first[p];
  uint32_t hi = p + 1 < s.page_first.size() ? std::min(s.page_first[p + 1] + 1, s.last) : s.last;
  auto it = std::upper_bound(addr_.begin() + lo, addr_.begin() + hi, w);
  if (it == addr_.begin() + lo) return -1;
  uint32_t n = static_cast<uint32_t>(it - addr_.begin()) - 1;
  return w < addr_[n] + node_size(n) ? static_cast<int64_t>(n) : -1;
}

void ChunkIndex::release_lookup() {
  std::vector<uint64_t>().swap(addr_);
  std::vector<Span>().swap(spans_);
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
