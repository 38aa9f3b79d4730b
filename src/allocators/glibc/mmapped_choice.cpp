// glibc keeps no list of mmapped chunks, only their number and bytes (mp_.n_mmaps,
// mp_.mmapped_mem), so the scan of anonymous memory can take data for a chunk header (a
// JVM mapping holding what looks like one). When mp_ is known and the scan found more, the
// candidates that cannot be chunks are dropped if exactly one way of dropping them makes
// both totals agree; otherwise all are kept and the doubtful ones are marked by a finding.
#include <fmt/format.h>

#include <algorithm>
#include <map>

#include "glibc.hpp"

namespace coresift::glibc {
namespace {

using Set = std::vector<size_t>;  // indices into the candidates

// Every set of `k` (1 or 2) indices from `pool` whose lengths add up to `bytes`; stops at 2.
std::vector<Set> sets_with_sum(const std::vector<MmapCandidate>& f, const Set& pool, uint64_t k, uint64_t bytes) {
  std::vector<Set> out;
  if (k == 1) {
    for (size_t i : pool)
      if (f[i].len == bytes && out.size() < 2) out.push_back({i});
    return out;
  }
  std::multimap<uint64_t, size_t> by_len;
  for (size_t i : pool) by_len.insert({f[i].len, i});
  for (size_t i : pool) {
    if (f[i].len >= bytes) continue;
    auto [lo, hi] = by_len.equal_range(bytes - f[i].len);
    for (auto it = lo; it != hi && out.size() < 2; ++it)
      if (it->second > i) out.push_back({i, it->second});
    if (out.size() >= 2) break;
  }
  return out;
}

// The one set of candidates to drop, if there is exactly one (unchained ones first).
std::optional<Set> unique_drop(const std::vector<MmapCandidate>& f, uint64_t k, uint64_t bytes) {
  Set unchained, all;
  for (size_t i = 0; i < f.size(); ++i) {
    all.push_back(i);
    if (!f[i].chained) unchained.push_back(i);
  }
  uint64_t unchained_bytes = 0;
  for (size_t i : unchained) unchained_bytes += f[i].len;
  if (unchained.size() == k && unchained_bytes == bytes) return unchained;
  if (k > 2) return std::nullopt;
  for (const Set* pool : {&unchained, &all}) {
    auto sets = sets_with_sum(f, *pool, k, bytes);
    if (sets.size() == 1) return sets.front();
    if (sets.size() > 1) return std::nullopt;
  }
  return std::nullopt;
}

}  // namespace

void keep_what_mp_counts(Ctx& c, std::vector<MmapCandidate>& found) {
  if (!c.mpv.valid || !c.mmapped_complete || c.mpv.n_mmaps < 0) return;
  uint64_t want_n = static_cast<uint64_t>(c.mpv.n_mmaps), bytes = 0;
  for (const MmapCandidate& k : found) bytes += k.len;
  if (found.size() <= want_n || bytes <= c.mpv.mmapped_mem) return;
  uint64_t extra_n = found.size() - want_n, extra_bytes = bytes - c.mpv.mmapped_mem;
  if (auto drop = unique_drop(found, extra_n, extra_bytes)) {
    std::string what;
    for (size_t i : *drop) what += fmt::format("{}{:#x} ({:#x} bytes)", what.empty() ? "" : ", ", found[i].chunk, found[i].len);
    c.notes.push_back(fmt::format("{} mmapped-chunk header{} in anonymous memory not counted by mp_ ({} chunks, {:#x} "
                                  "bytes) taken for data: {}",
                                  drop->size(), drop->size() == 1 ? "" : "s", want_n, c.mpv.mmapped_mem, what));
    std::vector<MmapCandidate> kept;
    for (size_t i = 0; i < found.size(); ++i)
      if (std::find(drop->begin(), drop->end(), i) == drop->end()) kept.push_back(found[i]);
    found = std::move(kept);
    return;
  }
  for (const MmapCandidate& k : found)
    if (!k.chained)
      c.finding("mmapped-chunk-doubtful", k.chunk + 16,
                fmt::format("expected {} mmapped chunks of {:#x} bytes (mp_), found {} of {:#x}: this one sits inside a "
                            "mapping after no other chunk and may be data",
                            want_n, c.mpv.mmapped_mem, found.size(), bytes));
}

}  // namespace coresift::glibc
