// Fastbins of an arena whose malloc_state is not in the core (libc's data cut off, a raw dump
// of [heap]): the list heads are gone, but from glibc 2.32 each link is safe-linked, so a
// fastbin's last chunk holds exactly (its fd address >> 12) and every other one the mangled
// address of a chunk of the same size. Chains that run that way to their end are the fastbins.
// Stale links survive in reused chunks (malloc leaves fd in place), so a size class is taken
// only when its chunks form one chain with a single head, as one arena list does.
#include <fmt/format.h>

#include <algorithm>
#include <map>
#include <unordered_map>

#include "glibc.hpp"

namespace coresift::glibc {
namespace {

struct Candidate {
  uint64_t size = 0;
  uint64_t next = 0;  // revealed fd: 0 ends the list
};

// Chunks of fastbin size that the next chunk's PREV_INUSE says are "in use", and are no tcache
// entry: what a fastbin chunk looks like from its neighbours.
std::unordered_map<uint64_t, Candidate> candidates(Ctx& c, const ArenaState& a,
                                                   const std::vector<uint64_t>& listed) {
  std::unordered_map<uint64_t, Candidate> out;
  for (const HeapRegion& h : a.heaps) {
    uint64_t p = h.first;
    while (p + 32 <= h.end) {
      auto hdr = c.mem.u64(p + 8);
      if (!hdr) break;
      uint64_t sz = chunksize(*hdr);
      if (sz < kMinChunk || (sz & kAlignMask) || sz > h.end - p) break;
      auto next_hdr = c.mem.u64(p + sz + 8);
      if (!next_hdr) break;  // the last chunk (top) or absent memory
      if (sz <= c.global_max_fast && (*next_hdr & kPrevInuse) &&
          !std::binary_search(listed.begin(), listed.end(), p))
        if (auto fd = c.mem.u64(p + 16)) out[p] = {sz, reveal(p + 16, *fd)};
      p += sz;
    }
  }
  return out;
}

}  // namespace

void recover_fastbins(Ctx& c) {
  if (!c.layout.safe_linking) return;  // before 2.32 a tail is a plain 0, as in any live chunk
  std::vector<uint64_t> listed;
  for (const FreeRef& f : c.frees) listed.push_back(f.chunk());
  std::sort(listed.begin(), listed.end());
  // A core (not a raw dump) holds every heap, so its tcache structs were all found with them.
  bool whole_process = c.s.inputs().raw_ranges.empty() && !c.tcaches.empty();
  for (ArenaState& a : c.arenas) {
    if (a.lists_known) continue;
    auto cand = candidates(c, a, listed);
    // In a chain: every link reaches 0 through candidates of the same size, without a loop.
    std::unordered_map<uint64_t, int> pointed;
    for (const auto& [p, k] : cand)
      if (k.next && cand.count(k.next)) pointed[k.next]++;
    std::map<uint64_t, std::vector<std::vector<uint64_t>>> heads_by_size;
    for (const auto& [p, k] : cand) {
      if (pointed.count(p)) continue;  // not a head
      std::vector<uint64_t> chain;
      uint64_t q = p;
      bool ok = true;
      while (q) {
        auto it = cand.find(q);
        if (it == cand.end() || it->second.size != k.size || chain.size() > cand.size()) {
          ok = false;
          break;
        }
        chain.push_back(q);
        q = it->second.next;
      }
      if (ok) heads_by_size[k.size].push_back(std::move(chain));
    }
    size_t taken = 0, refused = 0;
    for (auto& [size, chains] : heads_by_size) {
      // Two chains of one size cannot both be the arena's single list: leave them unknown.
      bool merged = std::any_of(chains.front().begin(), chains.front().end(), [&](uint64_t q) { return pointed[q] > 1; });
      if (chains.size() != 1 || merged) {
        refused += chains.size();
        continue;
      }
      for (uint64_t q : chains.front()) c.frees.emplace_back(q, ChunkBin::kFastbin);
      taken += chains.front().size();
    }
    a.fastbins_recovered = whole_process && !refused;
    if (taken || refused)
      c.notes.push_back(fmt::format("arena {:#x}: {} fastbin chunk{} recovered from their safe-linked chains{}", a.address,
                                    taken, taken == 1 ? "" : "s",
                                    refused ? fmt::format("; {} chains left unknown (more than one per size)", refused) : ""));
  }
}

}  // namespace coresift::glibc
