// Thread caches. Each thread's tsd_t lives in the library's static TLS block at
// fs_base + tpoff. tpoff is the runtime value of a GOT slot carrying R_X86_64_TPOFF64; the
// exported malloc fast path loads that slot (mov GOT(%rip), reg) and then reads %fs:disp(reg),
// so decoding malloc in the on-disk library names the slot. Without the file, the tcaches come
// from each arena's tcache_ql ring (a stats build keeps every tcache on it), and tpoff is
// recovered from them. Cached items of every cache bin are then read (bounded).
#include <fmt/format.h>

#include <algorithm>
#include <map>

#include "allocators/common/tls_got.hpp"
#include "je_context.hpp"

namespace coresift::je {
namespace {

// The GOT slot (link-time address) whose value is the TLS offset of the tsd, from the code of
// the exported malloc; nullopt when the pattern is not there.
std::optional<uint64_t> tpoff_slot_from_malloc(const DiskElf& elf) {
  std::optional<uint64_t> sym;
  for (const char* name : {"malloc", "je_malloc", "_rjem_malloc"})  // plain, --with-jemalloc-prefix, Rust's jemallocator
    if (!sym) sym = elf.symbol(name);
  if (!sym) return std::nullopt;
  auto slots = tls_got_slots(elf, *sym, 512);
  if (slots.empty()) return std::nullopt;
  return slots.front();
}

// True when `tsd` holds an initialized tcache (a self-pointer of tcache_t checks out).
bool tsd_has_tcache(const Context& c, uint64_t tsd) {
  const Layout& l = c.layout;
  if (l.tsd_tcache == kNoField || l.tcache_check_off == kNoField) return false;
  uint64_t tcache = tsd + l.tsd_tcache;
  auto v = c.u64(tcache + l.tcache_check_off);
  return v && *v == tcache + static_cast<uint64_t>(static_cast<int64_t>(l.tcache_check_delta));
}

void add_tcache(Context& c, TcacheInfo t) {
  for (auto& have : c.tcaches)
    if (have.tcache == t.tcache) {
      if (!have.tid) have.tid = t.tid;
      if (!have.tsd) have.tsd = t.tsd;
      if (have.arena == UINT32_MAX) have.arena = t.arena;
      return;
    }
  c.tcaches.push_back(std::move(t));
}

void tcaches_from_tsd(Context& c) {
  const Layout& l = c.layout;
  for (const Thread& th : c.process->threads) {
    if (!c.tpoff || th.fs_base() == 0) continue;
    uint64_t tsd = th.fs_base() + static_cast<uint64_t>(*c.tpoff);
    if (!tsd_has_tcache(c, tsd)) continue;
    TcacheInfo t;
    t.tcache = tsd + l.tsd_tcache;
    t.tsd = tsd;
    t.tid = th.tid;
    if (l.tsd_arena != kNoField) {
      uint64_t a = c.u64_or0(tsd + l.tsd_arena);
      for (const auto& ar : c.arenas)
        if (ar.address == a) t.arena = ar.ind;
    }
    t.found_by = "tsd";
    add_tcache(c, std::move(t));
  }
}

void tcaches_from_ql(Context& c) {
  const Layout& l = c.layout;
  if (l.arena_tcache_ql == kNoField) return;
  for (const auto& ar : c.arenas) {
    uint64_t first = c.u64_or0(ar.address + l.arena_tcache_ql);
    uint64_t e = first;
    for (uint32_t n = 0; e != 0 && n < kMaxListWalk; ++n) {
      uint64_t tcache = l.tcache_elem_tcache != kNoField ? c.u64_or0(e + l.tcache_elem_tcache)
                                                          : e + static_cast<uint64_t>(static_cast<int64_t>(l.tcache_elem_is_tcache_delta));
      if (tcache == 0 || !c.mem->is_present(tcache, 8)) {
        c.finding("jemalloc-tcache-list-broken", e, fmt::format("arena {} tcache list element without a readable tcache", ar.ind));
        break;
      }
      TcacheInfo t;
      t.tcache = tcache;
      t.arena = ar.ind;
      t.found_by = "tcache_ql";
      // The tsd embeds the tcache; whether this one is a thread's (not a mallctl-created
      // tcache) is settled when a thread's fs_base matches (tpoff_from_tcaches).
      if (l.tsd_tcache != kNoField) t.tsd = tcache - l.tsd_tcache;
      add_tcache(c, std::move(t));
      auto next = c.u64(e + l.tcache_link);
      if (!next) {
        c.finding("jemalloc-tcache-list-broken", e, fmt::format("arena {} tcache list runs into unreadable memory", ar.ind));
        break;
      }
      e = *next;
      if (e == first) break;
      if (n + 1 == kMaxListWalk) c.finding("jemalloc-tcache-list-loop", first, fmt::format("arena {} tcache list does not close", ar.ind));
    }
  }
}

// tpoff from tcaches whose tsd is known: the value shared by most threads.
void tpoff_from_tcaches(Context& c) {
  std::map<int64_t, int> votes;
  for (const auto& t : c.tcaches) {
    if (!t.tsd) continue;
    for (const Thread& th : c.process->threads) {
      int64_t d = static_cast<int64_t>(t.tsd - th.fs_base());
      if (th.fs_base() && d < 0 && d > -(int64_t{1} << 24)) votes[d]++;
    }
  }
  int best = 0;
  for (auto [d, v] : votes)
    if (v > best) best = v, c.tpoff = d;
  if (best) c.tpoff_source = "tcache list";
}

// Last resort (no library file, no tcache list): each thread's static TLS block lies just below
// its fs_base; look for a tsd whose embedded tcache points into itself. tpoff is the same for
// every thread, so the offset that most threads agree on wins.
void tpoff_from_tls_scan(Context& c) {
  constexpr int64_t kMaxTls = 256 * 1024;
  std::map<int64_t, int> votes;
  for (const Thread& th : c.process->threads) {
    if (!th.fs_base()) continue;
    for (int64_t k = 8; k <= kMaxTls; k += 8) {
      uint64_t tsd = th.fs_base() - static_cast<uint64_t>(k);
      if (tsd_has_tcache(c, tsd)) votes[-k]++;
    }
  }
  int best = 0;
  for (auto [d, v] : votes)
    if (v > best) best = v, c.tpoff = d;
  if (best) c.tpoff_source = fmt::format("TLS scan ({} of {} threads)", best, c.process->threads.size());
}

void read_cache_bins(Context& c, uint32_t ti) {
  const Layout& l = c.layout;
  TcacheInfo& t = c.tcaches[ti];
  uint32_t nbins = l.tcache_nbins_max;
  for (uint32_t i = 0; i < nbins; ++i) {
    uint64_t cb = t.tcache + l.tcache_bins + uint64_t{i} * l.cache_bin_size;
    if (l.tcache_bins_large != kNoField && i >= c.sc.nbins())
      cb = t.tcache + l.tcache_bins_large + uint64_t{i - c.sc.nbins()} * l.cache_bin_size;
    uint64_t items = 0, ncached = 0;
    if (l.cache_bin == CacheBinKind::kStackHead) {
      auto head = c.u64(cb + l.cb_stack_head);
      auto full = c.mem->read_u32(cb + l.cb_low_bits_full);  // u16 full, u16 empty
      if (!head || !full) continue;
      uint16_t lb_full = static_cast<uint16_t>(*full & 0xffff);
      uint16_t lb_empty = static_cast<uint16_t>(*full >> 16);
      if (l.cb_low_bits_empty != l.cb_low_bits_full + 2) lb_empty = static_cast<uint16_t>(c.mem->read_u32(cb + l.cb_low_bits_empty).value_or(0) & 0xffff);
      uint16_t ncached16 = static_cast<uint16_t>(lb_empty - static_cast<uint16_t>(*head));
      uint16_t max16 = static_cast<uint16_t>(lb_empty - lb_full);
      if (*head == 0 && lb_empty == 0) continue;  // never initialized
      c.stack_words.push_back(*head);
      if ((ncached16 & 7) || (max16 & 7) || ncached16 > max16 || (*head & 7)) {
        c.finding("jemalloc-tcache-bin-corrupt", cb,
                  fmt::format("thread cache bin {} of tcache {:#x}: stack_head {:#x}, low bits full {:#x}, empty {:#x}", i, t.tcache,
                              *head, lb_full, lb_empty));
        continue;
      }
      ncached = ncached16 / 8;
      items = *head;
    } else {
      auto n = c.mem->read_u32(cb + l.cb_ncached);
      auto avail = c.u64(cb + l.cb_avail);
      if (!n || !avail) continue;
      if (*avail >= 8) c.stack_words.push_back(*avail - 8);  // avail: just past the stack
      if (*n == 0) continue;
      if (*n > kMaxCached || (*avail & 7)) {
        c.finding("jemalloc-tcache-bin-corrupt", cb,
                  fmt::format("thread cache bin {} of tcache {:#x}: ncached {}, avail {:#x}", i, t.tcache, *n, *avail));
        continue;
      }
      ncached = *n;
      items = *avail - 8 * ncached;
    }
    if (ncached == 0) continue;
    std::vector<uint64_t> ptrs(ncached);
    if (c.mem->read(items, ptrs.data(), ncached * 8) != ncached * 8) {
      c.finding("jemalloc-tcache-bin-unreadable", items,
                fmt::format("thread cache bin {} of tcache {:#x}: {} cached pointers not in the core", i, t.tcache, ncached));
      continue;
    }
    for (uint64_t p : ptrs) c.cached.push_back({p, i, ti});
    t.ncached += ncached;
  }
}

}  // namespace

void locate_tcaches(Context& c) {
  c.tcaches.clear();
  c.cached.clear();
  if (c.disk) {
    if (auto slot = tpoff_slot_from_malloc(*c.disk)) {
      bool reloc = c.disk->has_tpoff_reloc(*slot);
      if (auto v = c.u64(c.module->load_bias + *slot)) {
        int64_t tp = static_cast<int64_t>(*v);
        if (tp < 0 && tp > -(int64_t{1} << 30)) {
          c.tpoff = tp;
          c.tpoff_source = fmt::format("malloc disassembly (GOT {:#x}{})", *slot, reloc ? ", TPOFF64" : "");
        }
      }
    }
  }
  tcaches_from_tsd(c);
  tcaches_from_ql(c);
  if (!c.tpoff) {
    tpoff_from_tcaches(c);
    if (!c.tpoff) tpoff_from_tls_scan(c);
    if (c.tpoff) tcaches_from_tsd(c);  // names the threads
  }
  for (uint32_t i = 0; i < c.tcaches.size(); ++i) read_cache_bins(c, i);
}

}  // namespace coresift::je
