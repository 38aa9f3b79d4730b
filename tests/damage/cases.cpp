#include "cases.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <set>

namespace coresift::damage {

namespace {

constexpr size_t kChunkCases = 6;
constexpr uint32_t kNtFile = 0x46494c45;
// glibc malloc_state (2.36): mutex, flags, fastbins, top, last_remainder, bins, binmap,
// next, next_free, attached_threads, system_mem.
const uint64_t kGlibcArenaOffsets[] = {0x0, 0x4, 0x10, 0x28, 0x60, 0x68, 0x70, 0x78, 0x200, 0x460, 0x860, 0x870, 0x880, 0x890};
// jemalloc arena_t: no fixed layout across versions; spread over its first 8 KiB.
constexpr uint64_t kJemallocArenaSpan = 0x2000;
constexpr size_t kJemallocArenaCases = 8;

// What the cases are built from: the pristine bytes and their layout.
struct Source {
  const std::vector<uint8_t>& core;
  const CoreLayout& layout;
};

Case flip(const Source& src, const std::string& name, uint64_t offset, uint8_t mask) {
  return {name, 0, offset, {static_cast<uint8_t>(src.core.at(offset) ^ mask)}};
}

// Flips bits of the byte at `addr`, when the core holds it.
void add_flip(std::vector<Case>& out, const Source& src, const std::string& name, uint64_t addr, uint8_t mask) {
  if (auto off = src.layout.file_offset(addr)) out.push_back(flip(src, name, *off, mask));
}

// Zeroes the 8-byte word at `addr`, when the core holds it (and it is not zero already).
void add_zero_word(std::vector<Case>& out, const Source& src, const std::string& name, uint64_t addr) {
  auto off = src.layout.file_offset(addr);
  if (!off || *off + 8 > src.core.size()) return;
  if (std::all_of(src.core.begin() + static_cast<long>(*off), src.core.begin() + static_cast<long>(*off + 8),
                  [](uint8_t b) { return b == 0; }))
    return;
  out.push_back({name, 0, *off, std::vector<uint8_t>(8, 0)});
}

void add_note_cases(std::vector<Case>& out, const std::string& core, const Source& src) {
  std::set<uint32_t> seen;
  for (const NoteRecord& n : src.layout.notes) {
    if (!seen.insert(n.type).second) continue;  // first note of each type
    std::string t = note_type_name(n.type);
    out.push_back(flip(src, fmt::format("{} note {} descsz", core, t), n.header + 4, 0xff));
    if (n.desc_size >= 8) {
      out.push_back(flip(src, fmt::format("{} note {} desc+0", core, t), n.desc, 0xff));
      out.push_back(flip(src, fmt::format("{} note {} desc+{}", core, t, n.desc_size / 2), n.desc + n.desc_size / 2, 0xff));
    }
    // NT_FILE: count, page size, then (start, end, offset) per file. Byte 6 of the third
    // entry's end: that one range now spans ~57 TiB (found by fuzz_heap).
    if (n.type == kNtFile && n.desc_size >= 16 + 3 * 24)
      out.push_back(flip(src, fmt::format("{} note NT_FILE entry#2 end", core), n.desc + 16 + 2 * 24 + 8 + 6, 0x34));
  }
}

void add_heap_cases(std::vector<Case>& out, const std::string& core, const Source& src, const HeapTargets& t) {
  const auto& c = t.glibc_chunks;
  for (size_t i = 0; i < kChunkCases && !c.empty(); ++i) {
    size_t k = i * (c.size() - 1) / (kChunkCases - 1);
    // Byte 1 of the size field: the chunk claims ~23 KiB more or less than it has.
    add_flip(out, src, fmt::format("{} glibc chunk #{} size", core, k), c[k] - 8 + 1, 0x5a);
  }
}

void add_arena_cases(std::vector<Case>& out, const std::string& core, const Source& src, const HeapTargets& t) {
  for (const auto& [alloc, arena] : t.arenas) {
    std::vector<uint64_t> offsets;
    if (alloc == "glibc") offsets.assign(std::begin(kGlibcArenaOffsets), std::end(kGlibcArenaOffsets));
    else
      for (size_t i = 0; i < kJemallocArenaCases; ++i) offsets.push_back(i * kJemallocArenaSpan / kJemallocArenaCases & ~7ull);
    // Byte 1 of a word: a pointer moves to a wrong but nearby address, a count jumps. A zero
    // word: a pointer or count that was never written.
    for (uint64_t o : offsets) {
      add_flip(out, src, fmt::format("{} {} arena+{:#x} flip", core, alloc, o), arena + o + 1, 0xa5);
      add_zero_word(out, src, fmt::format("{} {} arena+{:#x} zero", core, alloc, o), arena + o);
    }
  }
}

}  // namespace

std::vector<Case> make_cases(const std::string& core, const std::vector<uint8_t>& bytes, const CoreLayout& layout,
                             const HeapTargets& t) {
  std::vector<Case> out;
  for (int pct = 10; pct <= 90; pct += 10)
    out.push_back({fmt::format("{} cut {}%", core, pct), bytes.size() * pct / 100, 0, {}});
  Source src{bytes, layout};
  add_note_cases(out, core, src);
  add_heap_cases(out, core, src, t);
  add_arena_cases(out, core, src, t);
  return out;
}

}  // namespace coresift::damage
