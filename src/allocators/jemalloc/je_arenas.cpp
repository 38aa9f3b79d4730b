// Locating je_arenas[] without symbols: the array sits in the library's writable data, slot i
// holding arena i (arena->ind == i). Every arena of a process shares one base/emap layout, so
// a candidate array is accepted only when each non-null slot validates.
#include <cstring>

#include "je_context.hpp"

namespace coresift::je {
namespace {

// One arena_t candidate at `a` claiming index `ind`.
bool arena_valid(const Context& c, uint64_t a, uint32_t ind, uint64_t* emap_out) {
  const Layout& l = c.layout;
  if (a == 0 || (a & 63) != 0) return false;  // arenas are cache-line aligned
  auto got_ind = c.arena_ind_of(a);
  if (!got_ind || *got_ind != ind) return false;
  auto base = c.u64(a + l.arena_base);
  if (!base || *base == 0 || (*base & 7) != 0 || !c.mem->is_present(*base, 8)) return false;
  if (l.arena_emap != kNoField) {
    auto emap = c.u64(a + l.arena_emap);
    if (!emap || !c.in_rw(*emap)) return false;
    if (emap_out) *emap_out = *emap;
  }
  auto bin0 = c.bin_of(a, 0);
  if (!bin0 || !c.mem->is_present(*bin0, l.bin_size)) return false;
  return true;
}

}  // namespace

bool locate_arenas(Context& c) {
  c.arenas.clear();
  const Layout& l = c.layout;
  if (l.arena_ind == kNoField && l.base_ind == kNoField) return false;
  for (const Range& r : c.rw) {
    for (uint64_t p = r.start; p + 8 <= r.end; p += 8) {
      auto v = c.mem->view(p, 8);
      if (v.empty()) {
        p |= 0xfff;
        continue;
      }
      uint64_t a0;
      std::memcpy(&a0, v.data(), 8);
      if (a0 == 0 || (a0 & 63) != 0 || !c.mem->is_present(a0 + l.arena_base, 8)) continue;
      uint64_t emap0 = 0;
      if (!arena_valid(c, a0, 0, &emap0)) continue;
      // Candidate: every non-null slot must be arena i, sharing arena 0's emap.
      std::vector<JeArena> found{{a0, 0}};
      bool ok = true;
      for (uint32_t i = 1; i < kMaxArenas && ok; ++i) {
        uint64_t slot = p + 8ull * i;
        auto w = c.u64(slot);
        if (!w) break;  // the array ran off the data: accept what we have
        if (*w == 0) continue;
        uint64_t emap = 0;
        if (!arena_valid(c, *w, i, &emap) || (l.arena_emap != kNoField && emap != emap0)) {
          ok = false;
          break;
        }
        found.push_back({*w, i});
      }
      if (!ok) continue;
      c.arenas = std::move(found);
      c.arenas_array = p;
      if (l.arena_emap != kNoField) c.rtree = emap0;
      return true;
    }
  }
  return false;
}

void identify_huge_arena(Context& c) {
  // The huge arena is index narenas_auto. Threads are never bound to it; arena_choose fills
  // auto arenas from index 0 up, so the huge arena is the first index after a gap, or — with
  // every auto arena in use — the one whose dirty decay differs (0 vs the default).
  const Layout& l = c.layout;
  if (l.arena_dirty_decay_ms != kNoField && c.arenas.size() >= 2) {
    std::vector<int64_t> decay;
    for (const auto& a : c.arenas) decay.push_back(static_cast<int64_t>(c.u64_or0(a.address + l.arena_dirty_decay_ms)));
    // A single arena with decay 0 while the others have a positive one.
    int zero = -1, nzero = 0, npos = 0;
    for (size_t i = 0; i < decay.size(); ++i) {
      if (decay[i] == 0) zero = static_cast<int>(i), ++nzero;
      else if (decay[i] > 0) ++npos;
    }
    if (nzero == 1 && npos >= 1) {
      c.arenas[zero].huge = true;
      return;
    }
  }
  // Fallback: a gap in the indices. Arenas 0..k-1 dense, then a jump: the first after the jump.
  for (size_t i = 1; i < c.arenas.size(); ++i) {
    if (c.arenas[i].ind != c.arenas[i - 1].ind + 1) {
      c.arenas[i].huge = true;
      return;
    }
  }
}

}  // namespace coresift::je
