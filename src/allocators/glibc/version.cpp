// Which glibc the process ran: the libc file name (libc-2.31.so before 2.34), the
// "release version 2.36" banner of the on-disk libc (when it is the file the process had) or
// of libc's .rodata in the core, and failing both, tell-tales in the heap.
#include <fmt/format.h>

#include <algorithm>
#include <regex>

#include "glibc.hpp"

namespace coresift::glibc {
namespace {

std::optional<Version> version_in_banner(std::string_view bytes) {
  static constexpr std::string_view kNeedle = "release version ";
  size_t pos = 0;
  while ((pos = bytes.find(kNeedle, pos)) != std::string_view::npos) {
    pos += kNeedle.size();
    std::string_view rest = bytes.substr(pos, 8);
    if (auto v = parse_version(rest)) return v;
  }
  return std::nullopt;
}

std::optional<Version> version_from_name(const std::string& path) {
  static const std::regex re(R"(libc-(2)\.([0-9]+)(\.[0-9]+)?\.so)");
  std::smatch m;
  std::string base = path.substr(path.rfind('/') == std::string::npos ? 0 : path.rfind('/') + 1);
  if (!std::regex_search(base, m, re)) return std::nullopt;
  return parse_version(m[1].str() + "." + m[2].str());
}

std::optional<Version> version_from_core_rodata(const Ctx& c) {
  if (!c.libc) return std::nullopt;
  for (const Mapping& m : c.s.process().mappings) {
    if (m.path != c.libc->path || (m.perms & kPermWrite) || (m.perms & kPermExec)) continue;
    auto v = c.s.memory().view(m.start, m.size());
    if (v.empty()) {
      const Segment* seg = c.s.memory().find(m.start);
      if (!seg || seg->present == 0) continue;
      v = c.s.memory().view(m.start, std::min<uint64_t>(seg->present - (m.start - seg->start), m.size()));
    }
    if (v.empty()) continue;
    if (auto ver = version_in_banner(std::string_view(reinterpret_cast<const char*>(v.data()), v.size()))) return ver;
  }
  return std::nullopt;
}

}  // namespace

void detect_version(Ctx& c) {
  if (c.libc) {
    if (auto v = version_from_name(c.libc->path)) {
      c.version = *v;
      c.version_source = "libc file name";
      return;
    }
    if (c.libc_image) {
      if (auto v = version_in_banner(c.libc_image->file_bytes())) {
        c.version = *v;
        c.version_source = "version banner of " + c.libc_image->path();
        return;
      }
    }
    if (auto v = version_from_core_rodata(c)) {
      c.version = *v;
      c.version_source = "version banner in libc's memory";
      return;
    }
  }
}

void probe_layout(Ctx& c) {
  if (c.version.known()) return;
  Layout& l = c.layout;
  Version lo = min_supported(), hi = max_supported();
  std::string how;
  // heap_info grew in 2.35: an arena sits at heap_info + 0x20 before, + 0x30 after.
  for (const ArenaState& a : c.arenas) {
    if (a.main) continue;
    uint64_t off = a.address & (kHeapMax - 1);
    if (off == 0x20 || off == 0x30) {
      if (off == 0x30) lo = std::max(lo, Version{2, 35});
      else hi = std::min(hi, Version{2, 34});
      how += fmt::format("heap_info {:#x}", off);
    }
    break;
  }
  // The tcache struct is the first chunk of the main heap (when the main thread allocated
  // first) and of each arena's first heap: its size tells the tcache layout.
  for (const ArenaState& a : c.arenas) {
    if (a.heaps.empty()) continue;
    uint64_t sz = chunksize(c.mem.u64_or(a.heaps.front().first + 8, 0));
    Layout t;
    if (sz == 0x250) { t = layout_for({2, 29}); lo = std::max(lo, Version{2, 26}); hi = std::min(hi, Version{2, 29}); }
    else if (sz == 0x290) { t = layout_for({2, 36}); lo = std::max(lo, Version{2, 30}); hi = std::min(hi, Version{2, 41}); }
    else if (sz == 0x300) { t = layout_for({2, 42}); lo = std::max(lo, Version{2, 42}); }
    else continue;
    l.tcache = true;
    l.tc_count_width = t.tc_count_width;
    l.tc_bins = t.tc_bins;
    l.tc_entries = t.tc_entries;
    l.tc_struct_size = t.tc_struct_size;
    l.tc_counts_are_free_slots = t.tc_counts_are_free_slots;
    how += fmt::format("{}tcache struct chunk {:#x}", how.empty() ? "" : ", ", sz);
    break;
  }
  // Safe-linking: the last entry of a mangled list stores exactly (field address >> 12).
  int mangled = 0, plain = 0;
  auto vote = [&](uint64_t field, uint64_t stored) {
    if (stored == 0) { plain += (field >> 12) != 0; return; }
    if (stored == (field >> 12)) { mangled++; return; }
    uint64_t r = reveal(field, stored);
    bool r_ok = (r & kAlignMask) == 0 && c.in_any_heap(r < 16 ? 0 : r - 16);
    bool s_ok = (stored & kAlignMask) == 0 && c.in_any_heap(stored < 16 ? 0 : stored - 16);
    if (r_ok && !s_ok) mangled++;
    if (s_ok && !r_ok) plain++;
  };
  for (const ArenaState& a : c.arenas)
    for (uint64_t head : a.fastbins)
      if (head) vote(head + 16, c.mem.u64_or(head + 16, 0));
  for (const ArenaState& a : c.arenas) {
    if (a.heaps.empty() || !l.tcache) continue;
    uint64_t t = a.heaps.front().first + 16;
    for (uint32_t i = 0; i < l.tc_bins; ++i) {
      uint64_t e = c.mem.u64_or(t + l.tc_entries + 8ull * i, 0);
      if (e && (e & kAlignMask) == 0) vote(e, c.mem.u64_or(e, 0));
    }
  }
  if (mangled > plain) { l.safe_linking = true; lo = std::max(lo, Version{2, 32}); how += ", safe-linked lists"; }
  else if (plain > mangled) { l.safe_linking = false; hi = std::min(hi, Version{2, 31}); how += ", plain lists"; }
  l.tc_key = lo >= Version{2, 29} || hi >= Version{2, 29};
  l.tc_key_random = lo >= Version{2, 34};
  l.source = fmt::format("probed from the heap ({})", how.empty() ? "defaults" : how);
  c.layout_probed = true;
  c.notes.push_back(fmt::format("glibc version not identified; the heap says {}–{}", lo.str(), hi.str()));
}

}  // namespace coresift::glibc
