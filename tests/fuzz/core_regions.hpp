// Where a real core keeps what the heap walkers read, as file-offset ranges: the notes, the
// heap mappings ([heap], thread-arena heaps), the allocators' own data (libc / libjemalloc
// writable segments) and other writable anonymous memory (jemalloc extents, mmapped chunks).
// Computed once from the pristine core, which is trusted; the fuzzer then patches bytes there.
#pragma once
#include <cstdint>
#include <span>
#include <string>
#include <vector>

namespace coresift::fuzz {

struct FileRange {
  uint64_t offset = 0;
  uint64_t size = 0;
};

// A set of file ranges seen as one span of `total` bytes: at(i) is the file offset of byte i.
struct Region {
  std::vector<FileRange> ranges;
  uint64_t total = 0;
  void add(uint64_t offset, uint64_t size);
  uint64_t at(uint64_t i) const;  // i < total
};

struct CoreRegions {
  Region notes, heap, allocator_data, anon, whole;
};

// `path` names the same bytes for the library (it builds the process model to label mappings).
CoreRegions find_core_regions(const std::string& path, std::span<const uint8_t> bytes);

}  // namespace coresift::fuzz
