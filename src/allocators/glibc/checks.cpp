// Checks that need the whole picture: list entries that are not chunks or sit in two lists,
// glibc's own abort message (a process killed by malloc_printerr), and the arena-bloat note.
#include <fmt/format.h>

#include <algorithm>
#include <csignal>

#include "coresift/util/units.hpp"
#include "glibc.hpp"

namespace coresift::glibc {
namespace {

std::string human(uint64_t b) { return human_bytes(b, SizeStyle::kOneDigit); }

uint64_t runtime(const Ctx& c, uint64_t link) { return link + (c.libc ? c.libc->load_bias : 0); }

std::optional<std::string> read_abort_msg(const Ctx& c, uint64_t buf) {
  auto size = c.mem.u32(buf);
  if (!size || *size < 8 || *size > (1u << 20)) return std::nullopt;
  auto s = c.s.memory().read_cstring(buf + 4, *size - 4);
  if (!s || s->empty()) return std::nullopt;
  while (!s->empty() && (s->back() == '\n' || s->back() == ' ')) s->pop_back();
  return s;
}

std::optional<std::string> abort_message(const Ctx& c) {
  // __abort_msg is exported (GLIBC_PRIVATE): a pointer to {u32 size; char msg[]} in an mmap.
  if (c.libc_image)
    if (auto sym = c.libc_image->symbol("__abort_msg"))
      if (auto buf = c.mem.u64(runtime(c, *sym)); buf && *buf)
        if (auto m = read_abort_msg(c, *buf)) return m;
  // Without the file: a page of a small anonymous mapping that starts with its own mmap size
  // (adjacent anonymous mappings merge, so every page start is a candidate).
  for (const Mapping& m : c.s.process().mappings) {
    if (!m.path.empty() || m.size() > 64 * kPage || !(m.perms & kPermWrite)) continue;
    for (uint64_t p = m.start; p < m.end; p += kPage) {
      auto size = c.mem.u32(p);
      if (!size || *size < kPage || (*size & (kPage - 1)) || *size > m.end - p) continue;
      if (auto s = read_abort_msg(c, p))
        if (s->find("(): ") != std::string::npos || s->starts_with("double free") || s->starts_with("corrupted"))
          return s;
    }
  }
  return std::nullopt;
}

// The first word on the crashed thread's stack (from its stack pointer up) that names one of
// the candidate chunks, by user pointer or chunk address.
std::optional<uint64_t> pointer_on_stack(const Ctx& c, const std::vector<uint64_t>& chunks) {
  const Thread* t = c.s.process().crashed_thread();
  if (!t || chunks.empty()) return std::nullopt;
  std::vector<uint64_t> sorted = chunks;
  std::sort(sorted.begin(), sorted.end());
  auto known = [&](uint64_t ch) { return std::binary_search(sorted.begin(), sorted.end(), ch); };
  uint64_t sp = t->sp() & ~7ull;
  for (uint64_t a = sp; a < sp + 64 * 1024; a += 8) {
    auto v = c.mem.u64(a);
    if (!v) break;
    if (*v >= 16 && known(*v - 16)) return *v - 16;
    if (known(*v)) return *v;
  }
  return std::nullopt;
}

bool has_finding(const Ctx& c, const std::string& kind) {
  for (const Finding& f : c.table->findings)
    if (f.allocator == c.alloc && f.kind == kind) return true;
  return false;
}

}  // namespace

void check_free_refs(Ctx& c) {
  // c.frees is sorted by chunk (walk_arena_heaps sorted it).
  for (size_t i = 0; i < c.frees.size();) {
    size_t j = i + 1;
    while (j < c.frees.size() && c.frees[j].chunk() == c.frees[i].chunk()) ++j;
    const FreeRef& f = c.frees[i];
    if (!f.matched() && !c.is_absent(f.chunk()))
      c.finding("bin-entry-not-a-chunk", f.chunk(),
                fmt::format("expected the {} entry {:#x} to start a chunk of a heap walk, found no chunk starting there",
                            bin_name(f.bin()), f.chunk()));
    if (j - i > 1) {
      bool all_tcache = true, all_fast = true;
      std::string where;
      for (size_t k = i; k < j; ++k) {
        all_tcache &= c.frees[k].bin() == ChunkBin::kTcache;
        all_fast &= c.frees[k].bin() == ChunkBin::kFastbin;
        where += (k > i ? ", " : "") + std::string(bin_name(c.frees[k].bin()));
      }
      // Repeats inside one tcache or one fastbin list were reported by the list walks.
      if (!all_tcache && !all_fast)
        c.finding(std::any_of(c.frees.begin() + static_cast<ptrdiff_t>(i), c.frees.begin() + static_cast<ptrdiff_t>(j),
                              [](const FreeRef& r) { return r.bin() == ChunkBin::kTcache; })
                      ? "tcache-double-free"
                      : "double-free",
                  f.chunk() + 16,
                  fmt::format("expected a free chunk in one list, found {:#x} in {} lists ({})", f.chunk() + 16, j - i, where));
    }
    i = j;
  }
}

void check_abort_message(Ctx& c) {
  const auto& sig = c.s.process().signal;
  if (!sig || sig->number != SIGABRT) return;
  auto msg = abort_message(c);
  if (!msg) return;
  c.notes.push_back("the process aborted with glibc's message \"" + *msg + "\"");
  c.out().allocators[c.alloc].abort_message = *msg;
  auto tcache_chunks = [&] {
    std::vector<uint64_t> v;
    for (const FreeRef& f : c.frees)
      if (f.bin() == ChunkBin::kTcache) v.push_back(f.chunk());
    return v;
  };
  if (msg->find("double free detected in tcache") != std::string::npos) {
    if (has_finding(c, "tcache-double-free")) return;
    if (auto ch = pointer_on_stack(c, tcache_chunks()))
      c.finding("tcache-double-free", *ch + 16,
                fmt::format("expected a pointer freed once, found {:#x} freed again while already in a tcache list "
                            "(glibc: \"{}\")",
                            *ch + 16, *msg));
    else
      c.finding("tcache-double-free", 0, fmt::format("glibc aborted with \"{}\"; the chunk was not identified", *msg));
  } else if (msg->find("corrupted top size") != std::string::npos) {
    if (!has_finding(c, "corrupted-top-size"))
      c.finding("corrupted-top-size", 0, fmt::format("glibc aborted with \"{}\"", *msg));
  } else if (msg->find("double free or corruption (fasttop)") != std::string::npos) {
    if (!has_finding(c, "fastbin-double-free")) c.finding("fastbin-double-free", 0, "glibc aborted with \"" + *msg + "\"");
  } else {
    c.finding("malloc-abort", 0, "glibc aborted with \"" + *msg + "\"");
  }
}

void add_bloat_note(Ctx& c) {
  if (c.arenas.empty()) return;
  uint64_t reserved = 0, system = 0, thread_reserved = 0;
  size_t thread_arenas = 0;
  for (const ArenaState& a : c.arenas) {
    uint64_t r = 0, used = 0;
    for (const HeapRegion& h : a.heaps) {
      r += h.info ? kHeapMax : h.end - h.first;
      used += h.end - h.first;
    }
    system += a.system_mem_bad ? used : a.system_mem;  // a damaged field is not a size
    reserved += r;
    if (!a.main) {
      thread_arenas++;
      thread_reserved += r;
    }
  }
  uint64_t live = c.use_live, binned = c.use_binned, top = c.use_top, trimmable = c.use_trimmable;
  std::string s = fmt::format("{} arena{} reserve{} {} of address space ({} obtained from the system): {} in use, {} free "
                              "in bins, {} in top chunks; malloc_trim(0) could return about {}",
                              c.arenas.size(), c.arenas.size() == 1 ? "" : "s", c.arenas.size() == 1 ? "s" : "",
                              human(reserved), human(system), human(live), human(binned), human(top), human(trimmable));
  if (thread_arenas)
    s += fmt::format("; the {} thread arena{} alone reserve{} {} (MALLOC_ARENA_MAX caps how many are created)",
                     thread_arenas, thread_arenas == 1 ? "" : "s", thread_arenas == 1 ? "s" : "", human(thread_reserved));
  c.notes.push_back(s);
}

}  // namespace coresift::glibc
