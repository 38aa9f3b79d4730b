// jemalloc size classes and slab geometry. The class table is read from the process (the
// runtime sz_index2size_tab in the library's writable data) when it can be found, else
// computed for the default configuration (LG_QUANTUM 4, LG_NGROUP 2, LG_PAGE 12).
#pragma once
#include <cstdint>
#include <span>
#include <vector>

namespace coresift::je {

struct BinGeometry {
  uint64_t reg_size = 0;
  uint32_t nregs = 0;
  uint64_t slab_size = 0;
};

struct SizeClasses {
  std::vector<uint64_t> index2size;  // every class, small then large
  std::vector<BinGeometry> bins;     // small classes (slab geometry)
  uint64_t table_address = 0;        // where the runtime table was found, 0 if computed
  uint32_t nbins() const { return static_cast<uint32_t>(bins.size()); }
  uint64_t usize(uint32_t szind) const { return szind < index2size.size() ? index2size[szind] : 0; }
};

constexpr uint64_t kPage = 4096;

// Default classes (as jemalloc 5.x on x86-64 computes them).
SizeClasses default_size_classes();
// Builds classes from a table read from memory: `words` begins at the candidate table.
// Returns false when it does not look like an index2size table.
bool size_classes_from_table(std::span<const uint64_t> words, SizeClasses& out);
// Fills bins[] (small classes: sizes below 4 pages) from index2size.
void compute_bin_geometry(SizeClasses& sc);

}  // namespace coresift::je
