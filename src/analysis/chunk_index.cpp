#include <algorithm>

#include "coresift/analysis/references.hpp"

namespace coresift {

ChunkIndex::ChunkIndex(const ChunkTable& table) {
  for (size_t i = 0; i < table.chunks.size(); ++i) {
    const Chunk& c = table.chunks[i];
    if (c.state == ChunkState::kFree || c.size == 0) continue;
    node_chunk_.push_back(static_cast<uint32_t>(i));
    addr_.push_back(c.address);
    end_.push_back(c.address + c.size);
  }
  // Spans: runs of nodes with gaps under 1 MiB. Most words in memory are not heap pointers,
  // and a search over a few spans rejects them cheaply.
  constexpr uint64_t kGap = 1 << 20;
  for (uint32_t n = 0; n < addr_.size(); ++n) {
    if (spans_.empty() || addr_[n] > spans_.back().second + kGap) {
      spans_.push_back({addr_[n], end_[n]});
      span_first_.push_back(n);
    } else {
      spans_.back().second = std::max(spans_.back().second, end_[n]);
    }
  }
  span_first_.push_back(static_cast<uint32_t>(addr_.size()));
}

int64_t ChunkIndex::find(uint64_t w) const {
  auto s = std::upper_bound(spans_.begin(), spans_.end(), w,
                            [](uint64_t a, const std::pair<uint64_t, uint64_t>& sp) { return a < sp.first; });
  if (s == spans_.begin()) return -1;
  --s;
  if (w >= s->second) return -1;
  size_t si = static_cast<size_t>(s - spans_.begin());
  auto lo = addr_.begin() + span_first_[si], hi = addr_.begin() + span_first_[si + 1];
  auto it = std::upper_bound(lo, hi, w);
  if (it == lo) return -1;
  size_t n = static_cast<size_t>(it - addr_.begin()) - 1;
  return w < end_[n] ? static_cast<int64_t>(n) : -1;
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
