#include "je_disk_elf.hpp"

#include <elf.h>
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstring>

namespace coresift::je {
namespace {

template <typename T>
bool read_at(const uint8_t* data, uint64_t size, uint64_t off, T& out) {
  if (off > size || size - off < sizeof(T)) return false;
  std::memcpy(&out, data + off, sizeof(T));
  return true;
}

bool is_hex(char c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'); }
bool is_digit(char c) { return c >= '0' && c <= '9'; }

}  // namespace

DiskElf::~DiskElf() {
  if (data_) munmap(const_cast<uint8_t*>(data_), size_);
}

bool DiskElf::open(const std::string& path) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return false;
  struct stat st {};
  if (fstat(fd, &st) != 0 || st.st_size < static_cast<off_t>(sizeof(Elf64_Ehdr))) {
    close(fd);
    return false;
  }
  void* m = mmap(nullptr, static_cast<size_t>(st.st_size), PROT_READ, MAP_PRIVATE, fd, 0);
  close(fd);
  if (m == MAP_FAILED) return false;
  data_ = static_cast<const uint8_t*>(m);
  size_ = static_cast<uint64_t>(st.st_size);
  Elf64_Ehdr eh;
  if (!read_at(data_, size_, 0, eh) || std::memcmp(eh.e_ident, ELFMAG, SELFMAG) != 0 ||
      eh.e_ident[EI_CLASS] != ELFCLASS64 || eh.e_ident[EI_DATA] != ELFDATA2LSB ||
      eh.e_shentsize != sizeof(Elf64_Shdr) || eh.e_shnum > 4096) {
    munmap(const_cast<uint8_t*>(data_), size_);
    data_ = nullptr;
    return false;
  }
  std::vector<Elf64_Shdr> sh(eh.e_shnum);
  for (size_t i = 0; i < sh.size(); ++i)
    if (!read_at(data_, size_, eh.e_shoff + i * sizeof(Elf64_Shdr), sh[i])) return true;  // no sections
  const Elf64_Shdr* strtab = eh.e_shstrndx < sh.size() ? &sh[eh.e_shstrndx] : nullptr;
  for (const auto& s : sh) {
    Section out;
    if (strtab && s.sh_name < strtab->sh_size && strtab->sh_offset < size_) {
      const char* p = reinterpret_cast<const char*>(data_ + strtab->sh_offset + s.sh_name);
      size_t max = static_cast<size_t>(std::min<uint64_t>(strtab->sh_size - s.sh_name, size_ - strtab->sh_offset - s.sh_name));
      out.name.assign(p, strnlen(p, max));
    }
    out.addr = s.sh_addr, out.offset = s.sh_offset, out.size = s.sh_size, out.type = s.sh_type;
    sections_.push_back(std::move(out));
  }
  return true;
}

const DiskElf::Section* DiskElf::section(const std::string& name) const {
  for (const auto& s : sections_)
    if (s.name == name) return &s;
  return nullptr;
}

std::span<const uint8_t> DiskElf::bytes(const Section& s) const {
  if (s.type == SHT_NOBITS || s.offset > size_ || size_ - s.offset < s.size) return {};
  return {data_ + s.offset, s.size};
}

std::span<const uint8_t> DiskElf::at_vaddr(uint64_t vaddr, uint64_t n) const {
  for (const auto& s : sections_) {
    if (s.type == SHT_NOBITS || s.addr == 0 || vaddr < s.addr || vaddr - s.addr >= s.size) continue;
    auto b = bytes(s);
    if (b.empty()) return {};
    uint64_t off = vaddr - s.addr;
    return b.subspan(off, std::min<uint64_t>(n, b.size() - off));
  }
  return {};
}

std::optional<uint64_t> DiskElf::dynamic_symbol(const std::string& name) const {
  const Section* sym = section(".dynsym");
  const Section* str = section(".dynstr");
  if (!sym || !str) return std::nullopt;
  auto sb = bytes(*sym);
  auto tb = bytes(*str);
  for (size_t off = 0; off + sizeof(Elf64_Sym) <= sb.size(); off += sizeof(Elf64_Sym)) {
    Elf64_Sym s;
    std::memcpy(&s, sb.data() + off, sizeof s);
    if (s.st_name >= tb.size() || s.st_value == 0 || s.st_shndx == SHN_UNDEF) continue;
    const char* p = reinterpret_cast<const char*>(tb.data() + s.st_name);
    size_t len = strnlen(p, tb.size() - s.st_name);
    if (name.size() == len && std::memcmp(p, name.data(), len) == 0) return s.st_value;
  }
  return std::nullopt;
}

bool DiskElf::has_tpoff_reloc(uint64_t vaddr) const {
  for (const auto& s : sections_) {
    if (s.type != SHT_RELA) continue;
    auto b = bytes(s);
    for (size_t off = 0; off + sizeof(Elf64_Rela) <= b.size(); off += sizeof(Elf64_Rela)) {
      Elf64_Rela r;
      std::memcpy(&r, b.data() + off, sizeof r);
      if (r.r_offset == vaddr && ELF64_R_TYPE(r.r_info) == R_X86_64_TPOFF64) return true;
    }
  }
  return false;
}

std::string find_version_string(const DiskElf& elf) {
  const DiskElf::Section* ro = elf.section(".rodata");
  if (!ro) return "";
  auto b = elf.bytes(*ro);
  const char* d = reinterpret_cast<const char*>(b.data());
  const size_t n = b.size();
  // Look for "-g" + 40 hex digits + NUL, then walk back over "X.Y.Z-N".
  for (size_t i = 1; i + 43 <= n; ++i) {
    if (d[i] != '-' || d[i + 1] != 'g') continue;
    size_t h = i + 2;
    size_t k = 0;
    while (k < 40 && is_hex(d[h + k])) ++k;
    if (k != 40 || d[h + 40] != '\0') continue;
    size_t s = i;
    while (s > 0 && (is_digit(d[s - 1]) || d[s - 1] == '.' || d[s - 1] == '-')) --s;
    std::string v(d + s, h + 40 - s);
    // Must look like digits '.' digits '.' digits '-' digits '-g'.
    int dots = 0;
    size_t p = 0;
    while (p < v.size() && (is_digit(v[p]) || v[p] == '.')) dots += v[p++] == '.';
    if (dots == 2 && p > 0 && is_digit(v[0]) && p < v.size() && v[p] == '-') return v;
  }
  return "";
}

}  // namespace coresift::je
