// Finding jemalloc in a process: the mapped library, its writable data and its size classes.
#include <algorithm>
#include <cstring>

#include <fmt/format.h>

#include "je_context.hpp"

namespace coresift::je {

int Context::arena_slot(uint32_t ind) const {
  for (size_t i = 0; i < arenas.size(); ++i)
    if (arenas[i].ind == ind) return static_cast<int>(i);
  return -1;
}

void Context::flush_findings() const {
  for (const auto& [kind, n] : finding_counts)
    if (n > kFindingsPerKind)
      out->add_finding(allocator, kind, 0, fmt::format("{} more findings of this kind not listed", n - kFindingsPerKind));
}

std::optional<uint32_t> Context::arena_ind_of(uint64_t a) const {
  if (layout.arena_ind != kNoField) return mem->read_u32(a + layout.arena_ind);
  if (layout.arena_base == kNoField || layout.base_ind == kNoField) return std::nullopt;
  auto base = u64(a + layout.arena_base);
  if (!base || *base == 0) return std::nullopt;
  return mem->read_u32(*base + layout.base_ind);
}

std::optional<uint64_t> Context::bin_of(uint64_t a, uint32_t szind) const {
  if (layout.arena_bins == kNoField) return std::nullopt;
  uint64_t slot = a + layout.arena_bins;
  if (layout.arena_bins_indirect) {
    auto p = u64(slot + 8ull * szind);
    if (!p || *p == 0 || (*p & 7)) return std::nullopt;
    return *p;
  }
  return slot + uint64_t{szind} * layout.bin_size;
}

const Module* find_jemalloc_module(const Process& p) {
  for (const Module& m : p.modules) {
    auto slash = m.path.rfind('/');
    std::string base = slash == std::string::npos ? m.path : m.path.substr(slash + 1);
    if (base.rfind("libjemalloc", 0) == 0 && base.find(".so") != std::string::npos) return &m;
  }
  return nullptr;
}

std::vector<Range> writable_ranges(const Process& p, const AddressSpace& mem, const Module& m) {
  std::vector<Range> mapped;
  const Mapping* last_file_rw = nullptr;
  for (const Mapping& mp : p.mappings) {
    if (mp.path == m.path && (mp.perms & kPermWrite)) {
      mapped.push_back({mp.start, mp.end});
      last_file_rw = &mp;
    }
  }
  // The .bss past the end of the file is an anonymous mapping right after the last
  // file-backed writable one.
  if (last_file_rw) {
    for (const Mapping& mp : p.mappings)
      if (mp.start == last_file_rw->end && mp.path.empty() && (mp.perms & kPermWrite)) mapped.push_back({mp.start, mp.end});
  }
  std::sort(mapped.begin(), mapped.end(), [](const Range& a, const Range& b) { return a.start < b.start; });
  // Only present bytes: the scans over these visit every word, and a damaged core can claim
  // terabytes of mapping with a few KiB present.
  std::vector<Range> out;
  for (const Range& r : mapped)
    for (auto [lo, hi] : mem.present_parts(r.start, r.end)) out.push_back({lo, hi});
  return out;
}

std::optional<uint64_t> find_size_class_table(const AddressSpace& mem, const std::vector<Range>& rw, SizeClasses* out) {
  // The runtime table is an array of increasing size_t in .bss starting 8, 16, 32, 48, …
  for (const Range& r : rw) {
    for (uint64_t a = r.start; a + 8 * 64 <= r.end; a += 8) {
      auto v = mem.view(a, 8);
      if (v.size() < 8) {
        a = (a | 0xfff);  // absent page: skip it
        continue;
      }
      uint64_t w;
      std::memcpy(&w, v.data(), 8);
      if (w != 8) continue;
      auto big = mem.view(a, std::min<uint64_t>(256 * 8, r.end - a));
      if (big.size() < 64 * 8) continue;
      std::vector<uint64_t> words(big.size() / 8);
      std::memcpy(words.data(), big.data(), words.size() * 8);
      SizeClasses sc;
      if (size_classes_from_table(words, sc)) {
        sc.table_address = a;
        if (out) *out = std::move(sc);
        return a;
      }
    }
  }
  return std::nullopt;
}

const Module* find_static_jemalloc(const Process& p, const AddressSpace& mem) {
  std::vector<const Module*> order;
  for (const Module& m : p.modules)
    if (m.path == p.executable) order.insert(order.begin(), &m);
    else order.push_back(&m);
  for (const Module* m : order) {
    auto slash = m->path.rfind('/');
    std::string base = slash == std::string::npos ? m->path : m->path.substr(slash + 1);
    if (base.rfind("libc.so", 0) == 0 || base.rfind("libc-", 0) == 0 || base.rfind("ld-", 0) == 0 || base.rfind("linux-vdso", 0) == 0)
      continue;
    if (find_size_class_table(mem, writable_ranges(p, mem, *m), nullptr)) return m;
  }
  return nullptr;
}

void load_size_classes(Context& c) {
  if (!find_size_class_table(*c.mem, c.rw, &c.sc)) c.sc = default_size_classes();
}

}  // namespace coresift::je
