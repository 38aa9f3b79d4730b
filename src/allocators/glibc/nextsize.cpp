// Large bins carry a second list: the first chunk of each size (in fd order) links to the
// first chunk of the next smaller size through fd_nextsize, and back through bk_nextsize,
// circularly. Other chunks' nextsize words are stale and not checked. A leader linking to
// itself while the bin holds other sizes (or to any wrong chunk) is a finding.
#include <fmt/format.h>

#include "glibc.hpp"

namespace coresift::glibc {

void check_nextsize(Ctx& c, const ArenaState& a, int i, uint64_t max_entries) {
  uint64_t head = a.bin_at(i, c.layout);
  struct Leader { uint64_t p, size, fd_ns, bk_ns; };
  std::vector<Leader> leaders;
  uint64_t p = a.bins[2 * (i - 1)], last_size = 0;
  for (uint64_t n = 0; p != head && n < max_entries; ++n) {
    uint64_t w[5];  // size, fd, bk, fd_nextsize, bk_nextsize
    if ((p & kAlignMask) || !c.mem.read(p + 8, w, sizeof w)) return;  // reported by the bin walk
    uint64_t sz = chunksize(w[0]);
    if (sz != last_size) leaders.push_back({p, sz, w[3], w[4]});
    last_size = sz;
    p = w[1];
  }
  if (p != head) return;  // a broken list: the bin walk said so
  int reported = 0;
  size_t m = leaders.size();
  for (size_t k = 0; k < m && reported < 8; ++k) {
    const Leader& l = leaders[k];
    uint64_t want_fd = leaders[(k + 1) % m].p, want_bk = leaders[(k + m - 1) % m].p;
    auto report = [&](const char* field, uint64_t off, uint64_t want, uint64_t found) {
      c.finding("largebin-nextsize-corrupt", l.p + off,
                fmt::format("expected {} of large-bin {} chunk {:#x} (size {:#x}) to be {:#x}, the first chunk of the next "
                            "{} size, found {:#x}{}",
                            field, i, l.p, l.size, want, off == 32 ? "smaller" : "larger", found,
                            found == l.p ? " (itself)" : ""));
      reported++;
    };
    if (l.fd_ns != want_fd) report("fd_nextsize", 32, want_fd, l.fd_ns);
    if (l.bk_ns != want_bk) report("bk_nextsize", 40, want_bk, l.bk_ns);
  }
}

}  // namespace coresift::glibc
