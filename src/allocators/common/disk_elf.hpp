// The allocator toolkit's reader for an on-disk library (libc, libjemalloc) or its separate
// debug file, through libelf: symbols, the bytes of the loaded image at link addresses,
// named sections, TPOFF relocations and the build-id. Cores hold neither the code nor the
// read-only data a walker decodes, so the walkers read them from here.
#pragma once
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace coresift {

class DiskElf {
 public:
  // nullptr when the file cannot be opened or is not a 64-bit little-endian ELF.
  static std::unique_ptr<DiskElf> open(const std::string& path);
  ~DiskElf();
  DiskElf(const DiskElf&) = delete;
  DiskElf& operator=(const DiskElf&) = delete;

  const std::string& path() const { return path_; }
  // Link address of a defined symbol in .dynsym or .symtab ("malloc" also matches
  // "malloc@@GLIBC_2.2.5"). `want_tls` selects STT_TLS symbols (whose value is the offset in
  // the TLS block); other symbols with value 0 are skipped.
  std::optional<uint64_t> symbol(std::string_view name, bool want_tls = false) const;
  // Bytes of the file image at a link address (from PT_LOAD file contents); fewer when the
  // range runs past the segment's file bytes.
  std::vector<uint8_t> bytes_at(uint64_t vaddr, size_t n) const;
  // File bytes of the first section with this name (empty when absent, NOBITS or cut short).
  std::string_view section_bytes(std::string_view name) const;
  // Every R_X86_64_TPOFF64 relocation without a symbol: (GOT slot link address, addend),
  // the addend being the thread-pointer offset within the library's TLS block.
  std::vector<std::pair<uint64_t, int64_t>> tpoff_relocs() const;
  // True when any R_X86_64_TPOFF64 relocation (with or without a symbol) targets `slot`.
  bool has_tpoff_reloc(uint64_t slot) const;
  // GNU build-id in hex ("" when absent).
  std::string build_id() const;
  // The whole file, for string searches.
  std::string_view file_bytes() const;
  void* elf_handle() const { return elf_; }  // Elf*

 private:
  DiskElf() = default;
  struct Reloc {
    uint64_t slot;
    int64_t addend;
    uint32_t symbol;
  };
  std::vector<Reloc> all_tpoff_relocs() const;

  std::string path_;
  int fd_ = -1;
  void* elf_ = nullptr;  // Elf*
  struct Load {
    uint64_t vaddr, filesz, offset;
  };
  std::vector<Load> loads_;
};

}  // namespace coresift
