// gdb's gcore leaves out read-only file-backed segments (program text, .rodata): NT_FILE
// still lists them. These are the mappings NT_FILE names where no load segment is, so that
// `maps` and `show` know them; the core holds none of their bytes.
#include <elf.h>

#include <algorithm>
#include <cstring>
#include <map>

#include "builders.hpp"

namespace coresift {
namespace {

// Permissions of the file range at `file_offset`, from the PT_LOAD headers of the ELF image
// whose header is mapped at `base` (read from the core); nullopt when they are not there.
std::optional<uint8_t> perms_from_elf(const AddressSpace& mem, uint64_t base, uint64_t file_offset) {
  Elf64_Ehdr eh;
  if (mem.read(base, &eh, sizeof eh) != sizeof eh || std::memcmp(eh.e_ident, ELFMAG, SELFMAG) != 0) return std::nullopt;
  if (eh.e_phentsize != sizeof(Elf64_Phdr) || eh.e_phnum > 256) return std::nullopt;
  std::vector<Elf64_Phdr> ph(eh.e_phnum);
  size_t bytes = ph.size() * sizeof(Elf64_Phdr);
  if (mem.read(base + eh.e_phoff, ph.data(), bytes) != bytes) return std::nullopt;
  for (const Elf64_Phdr& h : ph) {
    if (h.p_type != PT_LOAD) continue;
    uint64_t lo = h.p_offset & ~uint64_t{0xfff};
    if (file_offset < lo || file_offset >= h.p_offset + h.p_filesz) continue;
    return static_cast<uint8_t>(((h.p_flags & PF_R) ? kPermRead : 0) | ((h.p_flags & PF_W) ? kPermWrite : 0) |
                                ((h.p_flags & PF_X) ? kPermExec : 0));
  }
  return std::nullopt;
}

}  // namespace

std::vector<Mapping> file_note_only_mappings(const CoreFile& core, const std::vector<FileNoteEntry>& files,
                                             const AddressSpace& mem) {
  std::vector<std::pair<uint64_t, uint64_t>> loads;  // sorted, merged
  for (const LoadSegment& l : core.loads) loads.push_back({l.vaddr, l.vaddr + l.memsz});
  std::sort(loads.begin(), loads.end());
  std::map<std::string, uint64_t> header_at;  // path → address of its offset-0 mapping
  for (const FileNoteEntry& f : files)
    if (f.file_offset == 0 && !header_at.count(f.path)) header_at[f.path] = f.start;

  std::vector<Mapping> out;
  for (const FileNoteEntry& f : files) {
    // The parts of [f.start, f.end) that no load segment covers.
    auto it = std::upper_bound(loads.begin(), loads.end(), std::make_pair(f.start, ~uint64_t{0}));
    if (it != loads.begin()) --it;
    uint64_t cursor = f.start;
    auto emit = [&](uint64_t lo, uint64_t hi) {
      // Mappings are whole pages: a sliver next to a load segment is not a left-out mapping.
      if (hi <= lo || lo % 4096 != 0 || hi % 4096 != 0) return;
      Mapping m;
      m.start = lo;
      m.end = hi;
      m.path = f.path;
      m.offset = f.file_offset + (lo - f.start);
      auto h = header_at.find(f.path);
      uint8_t fallback = kPermRead;  // unknown: a file mapping gcore left out is at least readable
      m.perms = h != header_at.end() ? perms_from_elf(mem, h->second, m.offset).value_or(fallback) : fallback;
      out.push_back(std::move(m));
    };
    for (; it != loads.end() && it->first < f.end; ++it) {
      if (it->second <= cursor) continue;
      emit(cursor, std::min(it->first, f.end));
      cursor = std::max(cursor, it->second);
    }
    emit(cursor, f.end);
  }
  return out;
}

}  // namespace coresift
