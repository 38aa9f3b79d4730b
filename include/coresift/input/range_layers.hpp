// Laying possibly overlapping ranges over each other, earliest on top: every range keeps
// the bytes no earlier range covers. Used for core segments and raw dumps (the first input
// wins) and for lookups in lists a hostile core may fill with overlaps (NT_FILE, mappings).
#pragma once
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <vector>

namespace coresift {

struct Range {
  uint64_t start = 0;
  uint64_t end = 0;  // one past the last address; empty ranges (end <= start) cover nothing
};

// A visible part [start, end) of ranges[index].
struct RangePiece {
  uint64_t start = 0;
  uint64_t end = 0;
  size_t index = 0;
};

// The visible pieces, sorted by start and disjoint. For every address, the piece holding it
// belongs to the first range (in the given order) that contains it. O(n log n), and the
// number of pieces is at most 2n, whatever the overlaps.
std::vector<RangePiece> layer_first_wins(std::span<const Range> ranges);

// Answers "which range is the first one containing addr?" in O(log n).
class FirstRangeIndex {
 public:
  FirstRangeIndex() = default;
  explicit FirstRangeIndex(std::span<const Range> ranges) : pieces_(layer_first_wins(ranges)) {}
  std::optional<size_t> find(uint64_t addr) const;

 private:
  std::vector<RangePiece> pieces_;
};

}  // namespace coresift
