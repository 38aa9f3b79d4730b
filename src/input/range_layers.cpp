#include "coresift/input/range_layers.hpp"

#include <algorithm>
#include <map>

namespace coresift {

std::vector<RangePiece> layer_first_wins(std::span<const Range> ranges) {
  // `covered` is the union of the ranges seen so far as disjoint intervals (start → end).
  // Each new range takes the gaps of the union it spans and then swallows the intervals it
  // met into one, so every interval is visited once before it disappears: O(n log n).
  std::map<uint64_t, uint64_t> covered;
  std::vector<RangePiece> pieces;
  for (size_t i = 0; i < ranges.size(); ++i) {
    const Range& r = ranges[i];
    if (r.end <= r.start) continue;
    auto it = covered.upper_bound(r.start);
    if (it != covered.begin() && std::prev(it)->second > r.start) --it;
    uint64_t cursor = r.start, lo = r.start, hi = r.end;
    while (it != covered.end() && it->first < r.end) {
      if (it->first > cursor) pieces.push_back({cursor, it->first, i});
      cursor = std::max(cursor, it->second);
      lo = std::min(lo, it->first);
      hi = std::max(hi, it->second);
      it = covered.erase(it);
    }
    if (cursor < r.end) pieces.push_back({cursor, r.end, i});
    covered[lo] = hi;
  }
  std::sort(pieces.begin(), pieces.end(), [](const RangePiece& a, const RangePiece& b) { return a.start < b.start; });
  return pieces;
}

std::optional<size_t> FirstRangeIndex::find(uint64_t addr) const {
  auto it = std::upper_bound(pieces_.begin(), pieces_.end(), addr,
                             [](uint64_t a, const RangePiece& p) { return a < p.start; });
  if (it == pieces_.begin()) return std::nullopt;
  --it;
  if (addr >= it->end) return std::nullopt;
  return it->index;
}

}  // namespace coresift
