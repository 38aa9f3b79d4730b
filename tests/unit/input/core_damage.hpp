// ELF-level damage for real corpus cores: decompress a committed core, then change one
// program header field, retag or rewrite one note, or cut the file, the way a bad disk, a
// killed gcore or a buggy dumper would. Tests then run the real binary on the copy.
#pragma once
#include <elf.h>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace coresift::test {

using CoreBytes = std::vector<uint8_t>;

// corpus/cores/NAME (a .zst file) decompressed into memory.
CoreBytes corpus_core_bytes(const std::string& name);

struct PhdrAt {
  size_t index = 0;     // position in the program header table
  uint64_t offset = 0;  // file offset of the header itself
  Elf64_Phdr ph{};
};
std::vector<PhdrAt> program_headers(const CoreBytes& core);
// The PT_LOAD whose [p_vaddr, p_vaddr + p_memsz) holds `vaddr`.
std::optional<PhdrAt> load_holding(const CoreBytes& core, uint64_t vaddr);
// Writes `value` into field `field` of program header `index`.
void set_phdr_field(CoreBytes& core, size_t index, uint64_t Elf64_Phdr::*field, uint64_t value);

struct NoteAt {
  uint64_t offset = 0;       // file offset of the note header
  uint64_t desc_offset = 0;  // file offset of its data
  uint32_t descsz = 0;
  uint32_t type = 0;
  std::string name;
};
std::vector<NoteAt> notes(const CoreBytes& core);
std::optional<NoteAt> find_note(const CoreBytes& core, uint32_t type, std::string_view name = "CORE");
// Changes the note's type so no reader recognises it: the note is "lost" while every other
// note stays where it was.
void retag_note(CoreBytes& core, uint32_t type, uint32_t new_type);
// Replaces every occurrence of `from` by `to` (same length) inside the note segments only;
// returns how many were replaced.
size_t replace_in_notes(CoreBytes& core, std::string_view from, std::string_view to);

}  // namespace coresift::test
