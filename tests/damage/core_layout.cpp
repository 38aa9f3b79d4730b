#include "core_layout.hpp"

#include <elf.h>

#include <cstring>
#include <stdexcept>

namespace coresift::damage {

std::optional<uint64_t> CoreLayout::file_offset(uint64_t addr) const {
  for (const Load& l : loads)
    if (addr >= l.vaddr && addr - l.vaddr < l.filesz) return l.offset + (addr - l.vaddr);
  return std::nullopt;
}

namespace {

template <class T>
T read_at(const std::vector<uint8_t>& b, uint64_t off) {
  T v;
  if (off > b.size() || b.size() - off < sizeof v) throw std::runtime_error("pristine core is damaged");
  std::memcpy(&v, b.data() + off, sizeof v);
  return v;
}

void read_notes(const std::vector<uint8_t>& b, uint64_t off, uint64_t size, CoreLayout& out) {
  uint64_t end = off + size;
  while (off + 12 <= end) {
    auto namesz = read_at<uint32_t>(b, off), descsz = read_at<uint32_t>(b, off + 4);
    NoteRecord n{read_at<uint32_t>(b, off + 8), off, off + 12 + ((namesz + 3) & ~3u), descsz};
    out.notes.push_back(n);
    off = n.desc + ((descsz + 3) & ~3u);
  }
}

}  // namespace

CoreLayout read_core_layout(const std::vector<uint8_t>& b) {
  CoreLayout out;
  auto eh = read_at<Elf64_Ehdr>(b, 0);
  for (unsigned i = 0; i < eh.e_phnum; ++i) {
    auto ph = read_at<Elf64_Phdr>(b, eh.e_phoff + uint64_t{i} * sizeof(Elf64_Phdr));
    if (ph.p_type == PT_LOAD) out.loads.push_back({ph.p_vaddr, ph.p_offset, ph.p_filesz});
    if (ph.p_type == PT_NOTE) read_notes(b, ph.p_offset, ph.p_filesz, out);
  }
  return out;
}

std::string note_type_name(uint32_t type) {
  switch (type) {
    case NT_PRSTATUS: return "NT_PRSTATUS";
    case NT_PRFPREG: return "NT_FPREGSET";
    case NT_PRPSINFO: return "NT_PRPSINFO";
    case NT_AUXV: return "NT_AUXV";
    case NT_SIGINFO: return "NT_SIGINFO";
    case NT_FILE: return "NT_FILE";
    case NT_X86_XSTATE: return "NT_X86_XSTATE";
    default: return "NT_" + std::to_string(type);
  }
}

}  // namespace coresift::damage
