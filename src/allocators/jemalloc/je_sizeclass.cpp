#include "je_sizeclass.hpp"

namespace coresift::je {
namespace {

// Small classes end below PAGE << LG_NGROUP (16 KiB for 4 KiB pages).
constexpr uint64_t kLargeMinClass = kPage << 2;

// The smallest multiple of the page size that holds a whole number of regions.
uint64_t slab_size_for(uint64_t reg) {
  uint64_t s = kPage;
  while (s % reg != 0 && s < 64 * kPage) s += kPage;
  return s;
}

}  // namespace

void compute_bin_geometry(SizeClasses& sc) {
  sc.bins.clear();
  for (uint64_t sz : sc.index2size) {
    if (sz >= kLargeMinClass) break;
    BinGeometry g;
    g.reg_size = sz;
    g.slab_size = slab_size_for(sz);
    g.nregs = static_cast<uint32_t>(g.slab_size / sz);
    sc.bins.push_back(g);
  }
}

SizeClasses default_size_classes() {
  SizeClasses sc;
  auto& t = sc.index2size;
  t.push_back(8);  // the one tiny class
  for (uint64_t k = 1; k <= 4; ++k) t.push_back(16 * k);  // 16..64
  // Then four classes per doubling up to the largest class below 2^63 that jemalloc uses
  // with LG_VADDR 48 (SC_LARGE_MAXCLASS = 2^62 + 3*2^60 would be past any real mapping).
  for (int lg = 6; lg < 63 && t.size() < 232; ++lg) {
    uint64_t base = uint64_t{1} << lg, delta = base / 4;
    for (uint64_t k = 1; k <= 4 && t.size() < 232; ++k) t.push_back(base + k * delta);
  }
  compute_bin_geometry(sc);
  return sc;
}

bool size_classes_from_table(std::span<const uint64_t> words, SizeClasses& out) {
  static const uint64_t kPrefix[] = {8, 16, 32, 48, 64, 80, 96, 112, 128, 160, 192, 224, 256};
  if (words.size() < std::size(kPrefix)) return false;
  for (size_t i = 0; i < std::size(kPrefix); ++i)
    if (words[i] != kPrefix[i]) return false;
  SizeClasses sc;
  uint64_t prev = 0;
  for (uint64_t w : words) {
    if (w <= prev || sc.index2size.size() >= 256) break;
    sc.index2size.push_back(w);
    prev = w;
    if (w >= 0x7000000000000000ull) break;  // SC_LARGE_MAXCLASS (LG_VADDR 48): the table ends here
  }
  if (sc.index2size.size() < 60) return false;  // must reach well into the large classes
  compute_bin_geometry(sc);
  out = std::move(sc);
  return true;
}

}  // namespace coresift::je
