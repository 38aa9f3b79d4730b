#include "fuzz/core_regions.hpp"

#include <elf.h>

#include <algorithm>
#include <cstring>
#include <stdexcept>

#include "coresift/input/inputs.hpp"
#include "coresift/process/process.hpp"

namespace coresift::fuzz {

void Region::add(uint64_t offset, uint64_t size) {
  if (size == 0) return;
  ranges.push_back({offset, size});
  total += size;
}

uint64_t Region::at(uint64_t i) const {
  for (const FileRange& r : ranges) {
    if (i < r.size) return r.offset + i;
    i -= r.size;
  }
  return ranges.back().offset + ranges.back().size - 1;  // callers keep i < total
}

namespace {

// Allocator metadata sits at the start of its mappings (jemalloc base blocks, arena and
// extent headers); user data fills the rest. Anonymous memory is fuzzed only there.
constexpr uint64_t kAnonHead = 64 << 10;

void add_notes(std::span<const uint8_t> b, Region& notes) {
  Elf64_Ehdr eh;
  if (b.size() < sizeof eh) throw std::logic_error("core too small");
  std::memcpy(&eh, b.data(), sizeof eh);
  for (unsigned i = 0; i < eh.e_phnum; ++i) {
    Elf64_Phdr ph;
    uint64_t at = eh.e_phoff + uint64_t{i} * sizeof ph;
    if (at + sizeof ph > b.size()) break;
    std::memcpy(&ph, b.data() + at, sizeof ph);
    if (ph.p_type == PT_NOTE && ph.p_offset < b.size())
      notes.add(ph.p_offset, std::min<uint64_t>(ph.p_filesz, b.size() - ph.p_offset));
  }
}

// The file bytes of [start, end) (the parts a load segment holds), capped at `limit` bytes.
void add_memory(const CoreFile& core, uint64_t start, uint64_t end, uint64_t limit, Region& r) {
  for (const LoadSegment& l : core.loads) {
    uint64_t lo = std::max(start, l.vaddr), hi = std::min({end, l.vaddr + l.present, start + limit});
    if (lo < hi) r.add(l.offset + (lo - l.vaddr), hi - lo);
  }
}

bool is_allocator_library(const std::string& path) {
  return path.find("/libc.so") != std::string::npos || path.find("/libc-") != std::string::npos ||
         path.find("libjemalloc") != std::string::npos;
}

}  // namespace

CoreRegions find_core_regions(const std::string& path, std::span<const uint8_t> bytes) {
  CoreRegions out;
  add_notes(bytes, out.notes);
  out.whole.add(0, bytes.size());
  Diagnostics diag;
  LoadedInputs in = load_inputs({path}, diag);
  ProcessOptions opts;
  Process p = build_process(in, opts, diag);
  const Mapping* prev = nullptr;
  for (const Mapping& m : p.mappings) {
    // A library's .bss is the anonymous mapping right after its writable segment.
    bool library_bss = prev && m.path.empty() && prev->end == m.start && is_allocator_library(prev->path);
    prev = &m;
    if (!(m.perms & kPermWrite)) continue;
    if (m.label == "[heap]" || m.label == "[arena-heap]")
      add_memory(*in.core, m.start, m.end, UINT64_MAX, out.heap);
    else if (is_allocator_library(m.path) || library_bss)
      add_memory(*in.core, m.start, m.end, UINT64_MAX, out.allocator_data);
    else if (m.path.empty() && m.label.rfind("[stack", 0) != 0)
      add_memory(*in.core, m.start, m.end, kAnonHead, out.anon);
  }
  return out;
}

}  // namespace coresift::fuzz
