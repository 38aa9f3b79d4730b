// Per-thread tcaches. The `tcache` pointer is a TLS variable of libc: its thread-pointer
// offset (TPOFF) sits in a GOT slot of libc, found through the TLS symbol and its
// R_X86_64_TPOFF64 relocation (symbols), or through the `mov GOT(%rip),reg; mov %fs:(reg),…`
// pair in malloc's prologue (disassembly). Each thread's tcache is *(fs_base + TPOFF).
// Without either, the heap heuristic takes the first chunk of each heap when it has the
// tcache struct's size and its lists check out.
#include <fmt/format.h>

#include <algorithm>
#include <map>
#include <unordered_set>

#include "glibc.hpp"

namespace coresift::glibc {
namespace {

uint64_t runtime(const Ctx& c, uint64_t link) { return link + (c.libc ? c.libc->load_bias : 0); }

std::optional<int64_t> read_tpoff(const Ctx& c, uint64_t got_link) {
  auto v = c.mem.u64(runtime(c, got_link));
  if (!v) return std::nullopt;
  auto t = static_cast<int64_t>(*v);
  if (t >= 0 || t < -(64 << 20)) return std::nullopt;  // initial-exec TLS sits below the thread pointer
  return t;
}

bool read_tcache(const Ctx& c, uint64_t t, TcacheInfo& out) {
  const Layout& l = c.layout;
  std::vector<uint8_t> raw(l.tc_struct_size);
  if (!c.mem.read(t, raw.data(), raw.size())) return false;
  out.address = t;
  out.counts.assign(l.tc_bins, 0);
  out.entries.assign(l.tc_bins, 0);
  for (uint32_t i = 0; i < l.tc_bins; ++i) {
    uint32_t n = 0;
    if (l.tc_count_width == 1) n = raw[i];
    else {
      uint16_t v;
      std::memcpy(&v, raw.data() + 2 * i, 2);
      n = v;
    }
    if (l.tc_counts_are_free_slots) n = n <= c.mpv.tcache_count ? static_cast<uint32_t>(c.mpv.tcache_count - n) : 0;
    out.counts[i] = n;
    std::memcpy(&out.entries[i], raw.data() + l.tc_entries + 8 * i, 8);
  }
  return true;
}

// Is the chunk at t-16 a plausible tcache_perthread_struct? Every non-empty list head must be
// an aligned chunk of the bin's size inside a heap, and counts within the configured limit.
// A thread's own tcache pointer only needs to point at a chunk of the struct's size: its
// counts and lists are checked entry by entry when walked (one bad word is one finding).
bool tcache_header_ok(const Ctx& c, uint64_t t) {
  if (t & kAlignMask) return false;
  auto hdr = c.mem.u64(t - 8);
  return hdr && chunksize(*hdr) == c.layout.tcache_chunk_size() && !(*hdr & kIsMmapped);
}

bool plausible_tcache(const Ctx& c, uint64_t t, bool require_content) {
  if (!tcache_header_ok(c, t)) return false;
  TcacheInfo ti;
  if (!read_tcache(c, t, ti)) return false;
  int nonempty = 0;
  for (uint32_t i = 0; i < ti.counts.size(); ++i) {
    if (ti.counts[i] > std::max<uint64_t>(c.mpv.tcache_count, 7)) return false;
    if (!ti.entries[i]) continue;
    uint64_t e = ti.entries[i];
    if ((e & kAlignMask) || !c.in_any_heap(e - 16)) return false;
    auto h = c.mem.u64(e - 8);
    if (!h) return false;
    if (i < 64 && tcache_index(chunksize(*h)) != i) return false;
    nonempty++;
  }
  return nonempty > 0 || !require_content;
}

void walk_tcache(Ctx& c, const TcacheInfo& t, std::unordered_set<uint64_t>& seen,
                 std::vector<std::pair<uint64_t, uint64_t>>& keys) {
  const Layout& l = c.layout;
  uint64_t max_count = std::max<uint64_t>(c.mpv.tcache_count, 7);
  for (uint32_t i = 0; i < t.entries.size(); ++i) {
    uint64_t e = t.entries[i];
    uint64_t n = 0;
    uint64_t count_at = t.address + static_cast<uint64_t>(l.tc_count_width) * i;
    bool count_bad = t.counts[i] > max_count;
    if (count_bad)
      c.finding("tcache-bad-count", count_at,
                fmt::format("expected the count of tcache bin {} of tcache {:#x} at most {} (mp_.tcache_count), found {}", i,
                            t.address, max_count, t.counts[i]));
    // The list, not the count, says which chunks are cached: walk it with a bound.
    uint64_t cap = (count_bad ? max_count : std::max<uint64_t>(t.counts[i], max_count)) + 8;
    uint64_t prev = t.address + l.tc_entries + 8ull * i;  // where the link to e was read
    while (e && n < cap) {
      if ((e & kAlignMask) || !c.in_any_heap(e - 16)) {
        c.finding("tcache-bad-entry", prev,
                  fmt::format("expected a 16-aligned chunk inside a heap in tcache bin {} of tcache {:#x}, found link {:#x}",
                              i, t.address, e));
        break;
      }
      if (c.is_absent(e - 16, 32)) {
        c.absent(e - 16, fmt::format("tcache bin {} of tcache {:#x}", i, t.address));
        break;
      }
      if (!seen.insert(e).second) {
        c.finding("tcache-double-free", e,
                  fmt::format("expected each chunk once in the tcaches, found {:#x} again in bin {} of tcache {:#x}", e, i,
                              t.address));
        break;
      }
      uint64_t hdr = *c.mem.u64(e - 8);
      uint64_t sz = chunksize(hdr);
      if (i < 64 && tcache_index(sz) != i)
        c.finding("tcache-bad-entry", e,
                  fmt::format("expected chunk size {:#x} for tcache bin {}, found {:#x}", (i + 2) * 16ull, i, sz));
      if (hdr & kIsMmapped)
        c.finding("tcache-bad-entry", e, "expected a heap chunk in the tcache, found an mmapped chunk header");
      if (l.tc_key) keys.push_back({e, *c.mem.u64(e + 8)});
      c.frees.emplace_back(e - 16, ChunkBin::kTcache);
      n++;
      uint64_t stored = *c.mem.u64(e);
      prev = e;
      e = l.safe_linking ? reveal(e, stored) : stored;
    }
    if (count_bad || (e && c.is_absent(e - 16, 32))) continue;
    if (n != t.counts[i] && !(e && n >= cap))
      c.finding("tcache-count-mismatch", count_at,
                fmt::format("expected {} entries in tcache bin {} of tcache {:#x} (its count), found {}", t.counts[i], i,
                            t.address, n));
    else if (e && n >= cap)
      c.finding("tcache-count-mismatch", count_at,
                fmt::format("expected {} entries in tcache bin {} of tcache {:#x}, found more than {}", t.counts[i], i,
                            t.address, cap));
  }
}

// The thread-pointer offset of libc's `tcache` variable: from its TLS symbol, malloc's
// code, or (no usable libc file) the offset below every thread pointer that holds a tcache.
void find_tcache_tpoff(Ctx& c) {
  // 1. TPOFF of the `tcache` TLS variable.
  if (c.libc_image) {
    if (c.debug.tcache_tls) {
      for (auto [slot, addend] : c.libc_image->tpoff_relocs())
        if (static_cast<uint64_t>(addend) == *c.debug.tcache_tls)
          if (auto t = read_tpoff(c, slot)) {
            c.tcache_tpoff = t;
            c.tcache_method = fmt::format("TLS symbol tcache (+{:#x}) and its GOT slot: TPOFF {}", addend, *t);
            break;
          }
    }
    if (!c.tcache_tpoff)
      if (auto f = c.libc_image->symbol("malloc"))
        for (uint64_t slot : tls_got_slots(*c.libc_image, *f, 256))
          if (auto t = read_tpoff(c, slot)) {
            c.tcache_tpoff = t;
            c.tcache_method = fmt::format("malloc's TLS load through GOT slot libc+{:#x}: TPOFF {}", slot, *t);
            break;
          }
  }
  if (!c.tcache_tpoff) {
    // No usable libc file: the TPOFF is the offset below every thread pointer that holds,
    // in each thread, either nothing or a plausible tcache struct (and in some, one).
    const auto& threads = c.s.process().threads;
    int best_hits = 0;
    for (int64_t k = -8; k >= -4096; k -= 8) {
      int hits = 0;
      bool bad = false;
      for (const Thread& th : threads) {
        if (!th.fs_base()) continue;
        auto p = c.mem.u64(th.fs_base() + static_cast<uint64_t>(k));
        if (!p) {
          bad = true;
          break;
        }
        if (*p == 0) continue;
        if (!plausible_tcache(c, *p, false)) {
          bad = true;
          break;
        }
        hits++;
      }
      if (!bad && hits > best_hits) {
        best_hits = hits;
        c.tcache_tpoff = k;
      }
    }
    if (c.tcache_tpoff)
      c.tcache_method = fmt::format("scan of the threads' TLS: TPOFF {}", *c.tcache_tpoff);
  }
}

}  // namespace

void collect_tcaches(Ctx& c) {
  const Layout& l = c.layout;
  if (!l.tcache) return;
  find_tcache_tpoff(c);
  std::vector<TcacheInfo> found;
  if (c.tcache_tpoff) {
    for (const Thread& th : c.s.process().threads) {
      if (!th.fs_base()) continue;
      auto p = c.mem.u64(th.fs_base() + static_cast<uint64_t>(*c.tcache_tpoff));
      if (!p || *p == 0) continue;
      TcacheInfo ti;
      if (!(*p & kAlignMask) && c.is_absent(*p - 16, l.tc_struct_size + 16)) {
        c.absent(*p - 16, fmt::format("thread {}'s tcache", th.tid));
        continue;
      }
      if (!tcache_header_ok(c, *p) || !read_tcache(c, *p, ti)) {
        c.finding("tcache-bad-pointer", th.fs_base() + static_cast<uint64_t>(*c.tcache_tpoff),
                  fmt::format("expected thread {}'s tcache pointer to a {:#x}-byte heap chunk, found {:#x}", th.tid,
                              l.tcache_chunk_size(), *p));
        continue;
      }
      ti.tid = th.tid;
      found.push_back(std::move(ti));
    }
  }
  // The notes were cut: threads after the cut are unknown, and so are their tcache pointers.
  const auto& core = c.s.inputs().core;
  bool threads_lost = core && core->notes_cut_at;
  if (found.empty() || threads_lost) {
    // Heuristic: each arena's first chunk is the tcache of the first thread that used it.
    for (const ArenaState& a : c.arenas) {
      if (a.heaps.empty()) continue;
      uint64_t t = a.heaps.front().first + 16;
      TcacheInfo ti;
      if (plausible_tcache(c, t, false) && read_tcache(c, t, ti)) found.push_back(std::move(ti));
    }
    if (threads_lost && !found.empty() && !c.tcache_method.empty())
      c.tcache_method += "; the notes are cut, so also the first chunk of each heap (validated)";
    else
      c.tcache_method = c.tcache_tpoff ? "no thread has a tcache pointer: first chunk of each heap (validated)"
                                       : "first chunk of each heap with the tcache struct's size (validated)";
  }
  // Two threads cannot share one tcache.
  std::sort(found.begin(), found.end(), [](const TcacheInfo& a, const TcacheInfo& b) {
    return a.address != b.address ? a.address < b.address : a.tid > b.tid;  // keep the one a thread names
  });
  found.erase(std::unique(found.begin(), found.end(),
                          [](const TcacheInfo& a, const TcacheInfo& b) { return a.address == b.address; }),
              found.end());
  c.tcaches = std::move(found);

  std::unordered_set<uint64_t> seen;
  std::vector<std::pair<uint64_t, uint64_t>> keys;  // (entry, key)
  for (const TcacheInfo& t : c.tcaches) {
    c.tcache_structs.push_back(t.address - 16);
    size_t before = keys.size();
    walk_tcache(c, t, seen, keys);
    bool owner_keys = !l.tc_key_random;
    if (c.layout_probed && keys.size() > before) {  // 2.29-2.33 store the owning tcache, later a random key
      size_t own = 0;
      for (size_t k = before; k < keys.size(); ++k) own += keys[k].second == t.address;
      owner_keys = own * 2 > keys.size() - before;
    }
    if (l.tc_key && owner_keys) {
      for (size_t k = before; k < keys.size(); ++k)
        if (keys[k].second != t.address)
          c.finding("tcache-bad-key", keys[k].first,
                    fmt::format("expected key {:#x} (the owning tcache) in a free tcache entry, found {:#x}", t.address,
                                keys[k].second));
      keys.resize(before);  // not part of the random-key vote below
    }
  }
  std::sort(c.tcache_structs.begin(), c.tcache_structs.end());
  // 2.34+: the key is the global random tcache_key. Without symbols it is the value every
  // free entry shares.
  if (l.tc_key && (l.tc_key_random || c.layout_probed) && !keys.empty()) {
    if (!c.tcache_key) {
      std::map<uint64_t, size_t> votes;
      for (auto& [e, k] : keys) votes[k]++;
      auto best = std::max_element(votes.begin(), votes.end(), [](auto& a, auto& b) { return a.second < b.second; });
      if (best->second >= 2 && best->second * 2 > keys.size()) c.tcache_key = best->first;
    }
    if (c.tcache_key)
      for (auto& [e, k] : keys)
        if (k != *c.tcache_key)
          c.finding("tcache-bad-key", e,
                    fmt::format("expected tcache_key {:#x} in a free tcache entry, found {:#x}", *c.tcache_key, k));
  }
}

}  // namespace coresift::glibc
