#include "unit/input/core_damage.hpp"

#include <unistd.h>

#include <cstdio>
#include <cstring>
#include <stdexcept>

#include "input/decompress.hpp"
#include "support/cli.hpp"
#include "unit/input/temp_dir.hpp"

namespace coresift::test {
namespace {

template <typename T>
T load(const CoreBytes& b, uint64_t off) {
  if (off > b.size() || b.size() - off < sizeof(T)) throw std::runtime_error("core_damage: read past the end");
  T v;
  std::memcpy(&v, b.data() + off, sizeof v);
  return v;
}

template <typename T>
void store(CoreBytes& b, uint64_t off, T v) {
  if (off > b.size() || b.size() - off < sizeof(T)) throw std::runtime_error("core_damage: write past the end");
  std::memcpy(b.data() + off, &v, sizeof v);
}

}  // namespace

CoreBytes corpus_core_bytes(const std::string& name) {
  CoreBytes packed = read_file(corpus_core(name));
  FILE* tmp = std::tmpfile();
  if (!tmp) throw std::runtime_error("core_damage: no temporary file");
  DecompressResult r = decompress_to_fd(Compression::kZstd, packed, fileno(tmp));
  if (!r.error.empty()) {
    std::fclose(tmp);
    throw std::runtime_error("core_damage: " + name + ": " + r.error);
  }
  CoreBytes out(r.written);
  if (::pread(fileno(tmp), out.data(), out.size(), 0) != static_cast<ssize_t>(out.size())) out.clear();
  std::fclose(tmp);
  if (out.empty()) throw std::runtime_error("core_damage: cannot read back " + name);
  return out;
}

std::vector<PhdrAt> program_headers(const CoreBytes& core) {
  auto eh = load<Elf64_Ehdr>(core, 0);
  std::vector<PhdrAt> out;
  for (size_t i = 0; i < eh.e_phnum; ++i) {
    PhdrAt p;
    p.index = i;
    p.offset = eh.e_phoff + i * sizeof(Elf64_Phdr);
    p.ph = load<Elf64_Phdr>(core, p.offset);
    out.push_back(p);
  }
  return out;
}

std::optional<PhdrAt> load_holding(const CoreBytes& core, uint64_t vaddr) {
  for (const PhdrAt& p : program_headers(core))
    if (p.ph.p_type == PT_LOAD && p.ph.p_vaddr <= vaddr && vaddr - p.ph.p_vaddr < p.ph.p_memsz) return p;
  return std::nullopt;
}

void set_phdr_field(CoreBytes& core, size_t index, uint64_t Elf64_Phdr::*field, uint64_t value) {
  std::vector<PhdrAt> all = program_headers(core);
  if (index >= all.size()) throw std::runtime_error("core_damage: no program header " + std::to_string(index));
  Elf64_Phdr ph = all[index].ph;
  ph.*field = value;
  store(core, all[index].offset, ph);
}

std::vector<NoteAt> notes(const CoreBytes& core) {
  std::vector<NoteAt> out;
  for (const PhdrAt& p : program_headers(core)) {
    if (p.ph.p_type != PT_NOTE) continue;
    uint64_t pos = p.ph.p_offset, end = std::min<uint64_t>(p.ph.p_offset + p.ph.p_filesz, core.size());
    while (pos + 12 <= end) {
      NoteAt n;
      n.offset = pos;
      auto namesz = load<uint32_t>(core, pos);
      n.descsz = load<uint32_t>(core, pos + 4);
      n.type = load<uint32_t>(core, pos + 8);
      uint64_t name_off = pos + 12;
      n.desc_offset = name_off + ((uint64_t{namesz} + 3) & ~uint64_t{3});
      if (n.desc_offset + n.descsz > end) break;
      n.name.assign(reinterpret_cast<const char*>(core.data() + name_off), namesz ? namesz - 1 : 0);
      out.push_back(n);
      pos = n.desc_offset + ((uint64_t{n.descsz} + 3) & ~uint64_t{3});
    }
  }
  return out;
}

std::optional<NoteAt> find_note(const CoreBytes& core, uint32_t type, std::string_view name) {
  for (const NoteAt& n : notes(core))
    if (n.type == type && n.name == name) return n;
  return std::nullopt;
}

void retag_note(CoreBytes& core, uint32_t type, uint32_t new_type) {
  auto n = find_note(core, type);
  if (!n) throw std::runtime_error("core_damage: no note of type " + std::to_string(type));
  store(core, n->offset + 8, new_type);
}

size_t replace_in_notes(CoreBytes& core, std::string_view from, std::string_view to) {
  if (from.size() != to.size() || from.empty()) throw std::runtime_error("core_damage: replacement must keep the length");
  size_t count = 0;
  for (const PhdrAt& p : program_headers(core)) {
    if (p.ph.p_type != PT_NOTE) continue;
    uint64_t end = std::min<uint64_t>(p.ph.p_offset + p.ph.p_filesz, core.size());
    for (uint64_t pos = p.ph.p_offset; pos + from.size() <= end; ++pos) {
      if (std::memcmp(core.data() + pos, from.data(), from.size()) != 0) continue;
      std::memcpy(core.data() + pos, to.data(), to.size());
      ++count;
      pos += from.size() - 1;
    }
  }
  return count;
}

}  // namespace coresift::test
