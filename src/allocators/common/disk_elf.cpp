#include "disk_elf.hpp"

#include <elf.h>
#include <elfutils/libdwelf.h>
#include <fcntl.h>
#include <fmt/format.h>
#include <gelf.h>
#include <libelf.h>
#include <unistd.h>

#include <algorithm>

namespace coresift {

std::unique_ptr<DiskElf> DiskElf::open(const std::string& path) {
  if (path.empty()) return nullptr;
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return nullptr;
  elf_version(EV_CURRENT);
  Elf* e = elf_begin(fd, ELF_C_READ_MMAP, nullptr);
  const char* ident = e ? elf_getident(e, nullptr) : nullptr;
  if (!e || elf_kind(e) != ELF_K_ELF || gelf_getclass(e) != ELFCLASS64 || !ident || ident[EI_DATA] != ELFDATA2LSB) {
    if (e) elf_end(e);
    ::close(fd);
    return nullptr;
  }
  std::unique_ptr<DiskElf> img(new DiskElf);
  img->path_ = path;
  img->fd_ = fd;
  img->elf_ = e;
  size_t n = 0;
  if (elf_getphdrnum(e, &n) == 0) {
    for (size_t i = 0; i < n; ++i) {
      GElf_Phdr ph;
      if (gelf_getphdr(e, static_cast<int>(i), &ph) && ph.p_type == PT_LOAD)
        img->loads_.push_back({ph.p_vaddr, ph.p_filesz, ph.p_offset});
    }
  }
  return img;
}

DiskElf::~DiskElf() {
  if (elf_) elf_end(static_cast<Elf*>(elf_));
  if (fd_ >= 0) ::close(fd_);
}

std::optional<uint64_t> DiskElf::symbol(std::string_view name, bool want_tls) const {
  Elf* e = static_cast<Elf*>(elf_);
  std::optional<uint64_t> found;
  for (Elf_Scn* scn = elf_nextscn(e, nullptr); scn && !found; scn = elf_nextscn(e, scn)) {
    GElf_Shdr sh;
    if (!gelf_getshdr(scn, &sh) || (sh.sh_type != SHT_DYNSYM && sh.sh_type != SHT_SYMTAB) || sh.sh_entsize == 0)
      continue;
    Elf_Data* data = elf_getdata(scn, nullptr);
    if (!data) continue;
    size_t count = sh.sh_size / sh.sh_entsize;
    for (size_t i = 0; i < count; ++i) {
      GElf_Sym sym;
      if (!gelf_getsym(data, static_cast<int>(i), &sym)) break;
      bool tls = GELF_ST_TYPE(sym.st_info) == STT_TLS;
      if (tls != want_tls || sym.st_shndx == SHN_UNDEF) continue;
      if (!tls && sym.st_value == 0) continue;
      const char* s = elf_strptr(e, sh.sh_link, sym.st_name);
      if (!s) continue;
      std::string_view sv(s);
      if (sv.size() < name.size() || sv.substr(0, name.size()) != name) continue;
      if (sv.size() > name.size() && sv[name.size()] != '@') continue;
      found = sym.st_value;
      break;
    }
  }
  return found;
}

std::vector<uint8_t> DiskElf::bytes_at(uint64_t vaddr, size_t n) const {
  std::string_view file = file_bytes();
  for (const Load& l : loads_) {
    if (vaddr < l.vaddr || vaddr - l.vaddr >= l.filesz) continue;
    uint64_t off = l.offset + (vaddr - l.vaddr);
    uint64_t avail = std::min<uint64_t>(l.filesz - (vaddr - l.vaddr), n);
    if (off >= file.size()) return {};
    avail = std::min<uint64_t>(avail, file.size() - off);
    return std::vector<uint8_t>(file.begin() + static_cast<ptrdiff_t>(off),
                                file.begin() + static_cast<ptrdiff_t>(off + avail));
  }
  return {};
}

std::vector<DiskElf::Reloc> DiskElf::all_tpoff_relocs() const {
  std::vector<Reloc> out;
  Elf* e = static_cast<Elf*>(elf_);
  for (Elf_Scn* scn = elf_nextscn(e, nullptr); scn; scn = elf_nextscn(e, scn)) {
    GElf_Shdr sh;
    if (!gelf_getshdr(scn, &sh) || sh.sh_type != SHT_RELA || sh.sh_entsize == 0) continue;
    Elf_Data* data = elf_getdata(scn, nullptr);
    if (!data) continue;
    size_t count = sh.sh_size / sh.sh_entsize;
    for (size_t i = 0; i < count; ++i) {
      GElf_Rela r;
      if (!gelf_getrela(data, static_cast<int>(i), &r)) break;
      if (GELF_R_TYPE(r.r_info) == R_X86_64_TPOFF64)
        out.push_back({r.r_offset, r.r_addend, static_cast<uint32_t>(GELF_R_SYM(r.r_info))});
    }
  }
  return out;
}

std::vector<std::pair<uint64_t, int64_t>> DiskElf::tpoff_relocs() const {
  std::vector<std::pair<uint64_t, int64_t>> out;
  for (const Reloc& r : all_tpoff_relocs())
    if (r.symbol == 0) out.push_back({r.slot, r.addend});
  return out;
}

bool DiskElf::has_tpoff_reloc(uint64_t slot) const {
  auto all = all_tpoff_relocs();
  return std::any_of(all.begin(), all.end(), [slot](const Reloc& r) { return r.slot == slot; });
}

std::string_view DiskElf::section_bytes(std::string_view name) const {
  Elf* e = static_cast<Elf*>(elf_);
  size_t shstrndx = 0;
  if (elf_getshdrstrndx(e, &shstrndx) != 0) return {};
  std::string_view file = file_bytes();
  for (Elf_Scn* scn = elf_nextscn(e, nullptr); scn; scn = elf_nextscn(e, scn)) {
    GElf_Shdr sh;
    if (!gelf_getshdr(scn, &sh)) continue;
    const char* n = elf_strptr(e, shstrndx, sh.sh_name);
    if (!n || name != n) continue;
    if (sh.sh_type == SHT_NOBITS || sh.sh_offset > file.size() || file.size() - sh.sh_offset < sh.sh_size) return {};
    return file.substr(sh.sh_offset, sh.sh_size);
  }
  return {};
}

std::string DiskElf::build_id() const {
  const void* id = nullptr;
  ssize_t n = dwelf_elf_gnu_build_id(static_cast<Elf*>(elf_), &id);
  std::string s;
  for (ssize_t i = 0; i < n; ++i) s += fmt::format("{:02x}", static_cast<const uint8_t*>(id)[i]);
  return s;
}

std::string_view DiskElf::file_bytes() const {
  size_t size = 0;
  char* raw = elf_rawfile(static_cast<Elf*>(elf_), &size);
  if (!raw) return {};
  return {raw, size};
}

}  // namespace coresift
