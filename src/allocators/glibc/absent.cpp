// Memory the walker needs but the core does not hold: the kernel writes a mapping that
// coredump_filter excludes as a PT_LOAD with no file bytes, a truncated file loses its tail.
// Such bytes are unknown, not zero: the walk stops there without findings and says so once.
#include <fmt/format.h>

#include <algorithm>

#include "glibc.hpp"

namespace coresift::glibc {
namespace {

// The stretch of absent bytes around `addr`: the segment's missing tail, or the mapping.
std::pair<uint64_t, uint64_t> absent_stretch(const Ctx& c, uint64_t addr) {
  if (const Segment* s = c.s.memory().find(addr)) {
    if (addr - s->start >= s->present) return {s->start + s->present, s->end};
    return {addr, addr + 16};  // present but cut just after: only this header
  }
  if (const Mapping* m = c.s.process().mapping_at(addr)) return {m->start, m->end};
  return {addr & ~(kPage - 1), (addr & ~(kPage - 1)) + kPage};
}

}  // namespace

void Ctx::absent(uint64_t addr, const std::string& what) {
  auto r = absent_stretch(*this, addr);
  if (std::find(absent_warned.begin(), absent_warned.end(), r) != absent_warned.end()) return;
  absent_warned.push_back(r);
  std::string file = s.inputs().core ? s.inputs().core->path : "";
  s.diag().warn(file, std::nullopt,
                fmt::format("glibc: {:#x}-{:#x} is not in the core (its bytes are unknown, not zero): {} stops there; "
                            "chunks in it are not reported and cannot be checked",
                            r.first, r.second, what));
  notes.push_back(fmt::format("{:#x}-{:#x} not in the core: {} stops there", r.first, r.second, what));
}

}  // namespace coresift::glibc
