// The layout of a pristine (trusted) ELF core, read just far enough to aim damage at it: its
// notes and where each memory address lies in the file.
#pragma once
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace coresift::damage {

struct NoteRecord {
  uint32_t type = 0;
  uint64_t header = 0;  // file offset of namesz/descsz/type
  uint64_t desc = 0;    // file offset of the descriptor
  uint64_t desc_size = 0;
};

struct CoreLayout {
  struct Load {
    uint64_t vaddr, offset, filesz;
  };
  std::vector<Load> loads;
  std::vector<NoteRecord> notes;
  // File offset of `addr`, when the core holds that byte.
  std::optional<uint64_t> file_offset(uint64_t addr) const;
};

CoreLayout read_core_layout(const std::vector<uint8_t>& core);
std::string note_type_name(uint32_t type);

}  // namespace coresift::damage
