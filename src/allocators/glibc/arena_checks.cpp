// Findings for malloc_state fields that cannot be right. The arena is still walked (a
// symbol-located arena is never dropped); each bad field is named with its address and
// value, and a bad system_mem no longer bounds the other checks.
#include <fmt/format.h>

#include "glibc.hpp"

namespace coresift::glibc {
namespace {

uint64_t writable_bytes(const Ctx& c) {
  uint64_t t = 0;
  for (const Mapping& m : c.s.process().mappings)
    if (m.perms & kPermWrite) t += m.size();
  return t;
}

void bad_field(Ctx& c, const ArenaState& a, const char* kind, const char* field, uint64_t off, uint64_t value,
               const std::string& expected) {
  c.finding(kind, a.address + off,
            fmt::format("expected malloc_state.{} of arena {:#x} {}, found {:#x}", field, a.address, expected, value));
}

}  // namespace

void check_arena_fields(Ctx& c, ArenaState& a) {
  const Layout& l = c.layout;
  uint64_t limit = writable_bytes(c);
  if (a.initialized && (a.system_mem == 0 || (a.system_mem & (kPage - 1)) || a.system_mem > limit)) {
    a.system_mem_bad = true;
    bad_field(c, a, "arena-bad-system-mem", "system_mem", l.ms_system_mem, a.system_mem,
              fmt::format("a non-zero page multiple no larger than the process's {:#x} writable bytes", limit));
  }
  if (a.initialized) {
    const Mapping* m = c.s.process().mapping_at(a.top);
    if ((a.top & kAlignMask) || !m || !(m->perms & kPermWrite))
      bad_field(c, a, "arena-bad-top", "top", l.ms_top, a.top, "a 16-aligned chunk in writable memory");
  } else if (a.top != 0 && a.top != a.address + l.ms_bins - 16) {
    bad_field(c, a, "arena-bad-top", "top", l.ms_top, a.top, "0 or the initial top");
  }
  if (a.next & 7) bad_field(c, a, "arena-bad-next", "next", l.ms_next, a.next, "an 8-aligned malloc_state address");
}

// The main arena's sbrk heap runs from mp_.sbrk_base to the end of top: that is what it
// obtained from the system when the heap is contiguous.
void check_main_system_mem(Ctx& c, const ArenaState& a) {
  if (!a.main || a.system_mem_bad || !c.mpv.valid || !c.mpv.sbrk_base || a.heaps.size() != 1) return;
  const HeapRegion& h = a.heaps.front();
  uint64_t top_end = a.top + a.top_size;
  if (top_end != h.end || a.top < h.first || c.mpv.sbrk_base > h.first) return;
  uint64_t span = top_end - c.mpv.sbrk_base;
  if (span != a.system_mem)
    c.finding("system-mem-mismatch", a.address + c.layout.ms_system_mem,
              fmt::format("expected main arena system_mem {:#x} (mp_.sbrk_base {:#x} to the end of top {:#x}), found {:#x}",
                          span, c.mpv.sbrk_base, top_end, a.system_mem));
}

}  // namespace coresift::glibc
