// The one aggregation step: chunks grouped by a key → count, bytes, a few distinct sizes and
// example addresses, ordered by bytes. groups, leaks, owners' top signatures and diff all
// roll up through this, so a total means the same everywhere.
#pragma once
#include <algorithm>
#include <cstdint>
#include <map>
#include <set>
#include <vector>

namespace coresift {

struct RollupEntry {
  uint64_t chunks = 0, bytes = 0;
  std::set<uint64_t> sizes;        // distinct chunk sizes, capped
  std::vector<uint64_t> examples;  // addresses, capped, in the order added
};

// Map: std::map, or std::unordered_map where there are many chunks and a cheap hash.
template <typename Key, typename Map = std::map<Key, RollupEntry>>
class Rollup {
 public:
  explicit Rollup(size_t max_sizes = 8, size_t max_examples = 3) : max_sizes_(max_sizes), max_examples_(max_examples) {}

  void add(const Key& key, uint64_t address, uint64_t size) {
    RollupEntry& e = entries_[key];
    e.chunks++;
    e.bytes += size;
    if (e.sizes.size() < max_sizes_) e.sizes.insert(size);
    if (e.examples.size() < max_examples_) e.examples.push_back(address);
    total_chunks_++;
    total_bytes_ += size;
  }

  // Most bytes first; equal bytes in key order.
  std::vector<std::pair<Key, RollupEntry>> by_bytes() const {
    std::vector<std::pair<Key, RollupEntry>> out(entries_.begin(), entries_.end());
    std::sort(out.begin(), out.end(), [](const auto& a, const auto& b) {
      return a.second.bytes != b.second.bytes ? a.second.bytes > b.second.bytes : a.first < b.first;
    });
    return out;
  }
  const Map& entries() const { return entries_; }
  size_t size() const { return entries_.size(); }
  uint64_t total_chunks() const { return total_chunks_; }
  uint64_t total_bytes() const { return total_bytes_; }

 private:
  size_t max_sizes_, max_examples_;
  Map entries_;
  uint64_t total_chunks_ = 0, total_bytes_ = 0;
};

}  // namespace coresift
