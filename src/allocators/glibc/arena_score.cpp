// How well a candidate malloc_state validates, judged by walking from it: top lies in a
// writable mapping and its size stays inside it, each non-empty bin's first and last chunk
// link back to the bin header and have a size of that bin, and the next ring closes. A
// candidate is judged by what links up, never by how many bins happen to be empty (a busy
// main arena may have few); one damaged word only costs its own point.
#include <algorithm>

#include "glibc.hpp"

namespace coresift::glibc {
namespace {

bool writable_at(const Ctx& c, uint64_t a) {
  const Mapping* m = c.s.process().mapping_at(a);
  return m && (m->perms & kPermWrite);
}

// A non-empty bin: both ends point at chunks whose links lead back to the header. Bytes not
// in the core cannot contradict, so a chunk we cannot read counts as linking back.
bool bin_links_back(const Ctx& c, int i, uint64_t self, uint64_t fd, uint64_t bk) {
  if ((fd & kAlignMask) || (bk & kAlignMask) || !writable_at(c, fd) || !writable_at(c, bk)) return false;
  uint64_t w[3];  // size, fd, bk
  if (c.mem.read(fd + 8, w, sizeof w)) {
    if (w[2] != self) return false;
    uint64_t sz = chunksize(w[0]);
    if (sz < kMinChunk || (i >= 2 && bin_index(sz) != i)) return false;
  }
  if (c.mem.read(bk + 8, w, sizeof w) && w[1] != self) return false;
  return true;
}

bool top_fits(const Ctx& c, uint64_t addr, uint64_t top) {
  if (top == addr + c.layout.ms_bins - 16) return true;  // initialised, nothing allocated yet
  if (top == 0 || (top & kAlignMask) || !writable_at(c, top)) return false;
  auto hdr = c.mem.u64(top + 8);
  if (!hdr) return true;  // not in the core: nothing contradicts it
  const Mapping* m = c.s.process().mapping_at(top);
  uint64_t sz = chunksize(*hdr);
  return sz >= kMinChunk && !(sz & kAlignMask) && sz <= m->end - top;
}

bool ring_closes(const Ctx& c, uint64_t addr, uint64_t next) {
  for (int steps = 0; steps < 4096; ++steps) {
    if (next == addr) return true;
    if (next == 0 || (next & 7) || !c.s.memory().is_mapped(next)) return false;
    auto n = c.mem.u64(next + c.layout.ms_next);
    if (!n) return false;
    next = *n;
  }
  return false;
}

}  // namespace

bool ArenaScore::valid() const {
  if (!readable) return false;
  if (uninitialised) return true;
  return bins_bad <= kNumBins / 8 && (top_ok || bins_ok >= kNumBins - 1 - kNumBins / 8);
}

int ArenaScore::points() const {
  return bins_ok - 4 * bins_bad + (top_ok ? 20 : 0) + (ring ? 20 : 0) + (uninitialised ? 40 : 0);
}

ArenaScore score_malloc_state(const Ctx& c, uint64_t addr) {
  const Layout& l = c.layout;
  ArenaScore s;
  std::vector<uint8_t> raw(l.ms_size);
  if (!c.mem.read(addr, raw.data(), raw.size())) return s;
  s.readable = true;
  auto word = [&](uint64_t off) {
    uint64_t v;
    std::memcpy(&v, raw.data() + off, 8);
    return v;
  };
  uint64_t top = word(l.ms_top);
  int zero_bins = 0;
  for (int i = 1; i < kNumBins; ++i) {
    uint64_t slot = l.ms_bins + static_cast<uint64_t>(i - 1) * 16;
    uint64_t fd = word(slot), bk = word(slot + 8), self = addr + slot - 16;
    if (fd == 0 && bk == 0) zero_bins++;
    else if ((fd == self && bk == self) || bin_links_back(c, i, self, fd, bk)) s.bins_ok++;
    else s.bins_bad++;
  }
  // Before malloc_init_state the static image has top and every bin zero, next = itself.
  uint64_t next = word(l.ms_next);
  s.uninitialised = top == 0 && zero_bins == kNumBins - 1 && next == addr;
  s.bins_bad += s.uninitialised ? 0 : zero_bins;
  s.top_ok = top_fits(c, addr, top);
  s.ring = ring_closes(c, addr, next);
  return s;
}

bool plausible_malloc_state(const Ctx& c, uint64_t addr, bool require_ring) {
  ArenaScore s = score_malloc_state(c, addr);
  return s.valid() && (!require_ring || s.ring);
}

}  // namespace coresift::glibc
