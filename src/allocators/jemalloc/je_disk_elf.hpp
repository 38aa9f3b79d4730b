// A minimal, bounds-checked reader for the on-disk copy of the jemalloc library: its
// sections, exported symbols and TPOFF relocations. Used for the version string (.rodata)
// and for decoding the malloc fast path (.text), which cores do not contain.
#pragma once
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <vector>

namespace coresift::je {

class DiskElf {
 public:
  DiskElf() = default;
  ~DiskElf();
  DiskElf(const DiskElf&) = delete;
  DiskElf& operator=(const DiskElf&) = delete;

  // False when the file cannot be mapped or is not a 64-bit little-endian ELF.
  bool open(const std::string& path);
  bool is_open() const { return data_ != nullptr; }

  struct Section {
    std::string name;
    uint64_t addr = 0;  // link-time virtual address
    uint64_t offset = 0;
    uint64_t size = 0;
    uint32_t type = 0;
  };
  const std::vector<Section>& sections() const { return sections_; }
  const Section* section(const std::string& name) const;
  // File bytes of a section (empty for NOBITS or out-of-file).
  std::span<const uint8_t> bytes(const Section& s) const;
  // Bytes at a link-time virtual address inside a PROGBITS section, at most n.
  std::span<const uint8_t> at_vaddr(uint64_t vaddr, uint64_t n) const;
  // Link-time address of a dynamic symbol (defined, non-zero), nullopt otherwise.
  std::optional<uint64_t> dynamic_symbol(const std::string& name) const;
  // True when a R_X86_64_TPOFF64 dynamic relocation targets `vaddr`.
  bool has_tpoff_reloc(uint64_t vaddr) const;

 private:
  const uint8_t* data_ = nullptr;
  uint64_t size_ = 0;
  std::vector<Section> sections_;
};

// "5.3.0-0-g54eaed1d8b56b1aa528be3bdd1877e59c56fa90c" from the library's .rodata, "" if none.
std::string find_version_string(const DiskElf& elf);

}  // namespace coresift::je
