// Locating je_arenas[] without symbols: the array sits in the library's writable data, slot i
// holding arena i (arena->ind == i, or arena->base->ind on 5.2). Every arena of a process
// shares one extent map.
#include <fmt/format.h>

#include <cstring>
#include <map>

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
  // Every word that points at a valid arena k votes for an array starting 8*k bytes before
  // it; the start with the most votes wins, so a damaged slot (even slot 0) costs one arena,
  // not the walk. Pointers to arena 0 elsewhere (a0) get one vote and lose to the array.
  std::map<uint64_t, uint32_t> votes;
  for (const Range& r : c.rw) {
    for (uint64_t p = r.start; p + 8 <= r.end; p += 8) {
      auto v = c.mem->view(p, 8);
      if (v.empty()) {
        p |= 0xfff;
        continue;
      }
      uint64_t a;
      std::memcpy(&a, v.data(), 8);
      if (a == 0 || (a & 63) != 0 || !c.mem->is_present(a + l.arena_base, 8)) continue;
      auto ind = c.arena_ind_of(a);
      if (!ind || *ind >= kMaxArenas || uint64_t{*ind} * 8 > p - r.start) continue;
      if (arena_valid(c, a, *ind, nullptr)) votes[p - 8ull * *ind]++;
    }
  }
  uint64_t best = 0;
  uint32_t best_votes = 0;
  for (auto [start, n] : votes)
    if (n > best_votes) best = start, best_votes = n;
  if (!best_votes) return false;
  // Read the chosen array; arenas must share one extent map (the most common one).
  std::vector<std::pair<JeArena, uint64_t>> found;
  std::map<uint64_t, uint32_t> emaps;
  std::vector<uint64_t> bad_slots;
  for (uint32_t i = 0; i < kMaxArenas; ++i) {
    auto w = c.u64(best + 8ull * i);
    if (!w) break;  // the array ran off the data
    if (*w == 0) continue;
    uint64_t emap = 0;
    if (!arena_valid(c, *w, i, &emap)) {
      bad_slots.push_back(best + 8ull * i);
      continue;
    }
    found.push_back({{*w, i}, emap});
    emaps[emap]++;
  }
  uint64_t emap = 0;
  uint32_t emap_n = 0;
  for (auto [e, n] : emaps)
    if (n > emap_n) emap = e, emap_n = n;
  for (auto& [ar, e] : found) {
    if (l.arena_emap != kNoField && e != emap) {
      c.finding("jemalloc-arena-corrupt", ar.address,
                fmt::format("arena {} names extent map {:#x}, the other arenas {:#x}", ar.ind, e, emap));
      continue;
    }
    c.arenas.push_back(ar);
  }
  for (uint64_t slot : bad_slots)
    c.finding("jemalloc-arena-slot-corrupt", slot,
              fmt::format("slot {} of the arena array holds {:#x}, which is not arena {}", (slot - best) / 8, c.u64_or0(slot),
                          (slot - best) / 8));
  c.arenas_array = best;
  if (l.arena_emap != kNoField) c.rtree = emap;
  return !c.arenas.empty();
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
