// ELF modules: one per mapped file that starts with an ELF header, with its GNU build-id,
// read from the process memory when the core holds the first page, else from the file.
#include <elf.h>
#include <elfutils/libdwelf.h>
#include <fmt/format.h>
#include <gelf.h>
#include <libelf.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>
#include <map>
#include <optional>

#include "builders.hpp"
#include "coresift/input/regular_file.hpp"

namespace coresift {
namespace {

std::string to_hex(const uint8_t* p, size_t n) {
  std::string s;
  s.reserve(n * 2);
  for (size_t i = 0; i < n; ++i) s += fmt::format("{:02x}", p[i]);
  return s;
}

// The program header table of the ELF image whose header `eh` was read at `base`, from the
// process memory; nullopt when it is implausible or not in the core.
std::optional<std::vector<Elf64_Phdr>> program_headers(const AddressSpace& mem, uint64_t base, const Elf64_Ehdr& eh) {
  if (eh.e_phentsize != sizeof(Elf64_Phdr) || eh.e_phnum > 256) return std::nullopt;
  std::vector<Elf64_Phdr> ph(eh.e_phnum);
  size_t bytes = ph.size() * sizeof(Elf64_Phdr);
  if (mem.read(base + eh.e_phoff, ph.data(), bytes) != bytes) return std::nullopt;
  return ph;
}

bool read_elf_header(const AddressSpace& mem, uint64_t base, Elf64_Ehdr& eh) {
  return mem.read(base, &eh, sizeof eh) == sizeof eh && std::memcmp(eh.e_ident, ELFMAG, SELFMAG) == 0;
}

}  // namespace

// Walks the program headers of an ELF image mapped at `base` in the process memory.
ElfFacts elf_facts_from_memory(const AddressSpace& mem, uint64_t base) {
  ElfFacts f;
  Elf64_Ehdr eh;
  if (!read_elf_header(mem, base, eh) || eh.e_ident[EI_CLASS] != ELFCLASS64) return f;
  f.is_elf = true;
  auto ph = program_headers(mem, base, eh);
  if (!ph) return f;
  bool have_load = false;
  for (const auto& h : *ph)
    if (h.p_type == PT_LOAD && !have_load) {
      f.first_load_vaddr = h.p_vaddr & ~uint64_t{0xfff};
      have_load = true;
    }
  uint64_t bias = base - f.first_load_vaddr;
  for (const auto& h : *ph) {
    if (h.p_type != PT_NOTE || h.p_filesz > 4096) continue;
    std::vector<uint8_t> notes(h.p_filesz);
    if (mem.read(bias + h.p_vaddr, notes.data(), notes.size()) != notes.size()) continue;
    for (size_t pos = 0; pos + 12 <= notes.size();) {
      uint32_t namesz, descsz, type;
      std::memcpy(&namesz, &notes[pos], 4);
      std::memcpy(&descsz, &notes[pos + 4], 4);
      std::memcpy(&type, &notes[pos + 8], 4);
      size_t name = pos + 12, desc = name + ((namesz + 3u) & ~3u), next = desc + ((descsz + 3u) & ~3u);
      if (desc > notes.size() || desc + descsz > notes.size()) break;
      if (type == NT_GNU_BUILD_ID && namesz == 4 && std::memcmp(&notes[name], "GNU", 4) == 0) {
        f.build_id = to_hex(&notes[desc], descsz);
        return f;
      }
      pos = next;
    }
  }
  return f;
}

ElfFacts elf_facts_from_file(const std::string& path) {
  ElfFacts f;
  int fd = open_regular_file(path).fd;  // never a FIFO or device named by the core
  if (fd < 0) return f;
  elf_version(EV_CURRENT);
  Elf* e = elf_begin(fd, ELF_C_READ_MMAP, nullptr);
  if (e && elf_kind(e) == ELF_K_ELF) {
    f.is_elf = true;
    size_t n = 0;
    if (elf_getphdrnum(e, &n) == 0)
      for (size_t i = 0; i < n; ++i) {
        GElf_Phdr ph;
        if (gelf_getphdr(e, static_cast<int>(i), &ph) && ph.p_type == PT_LOAD) {
          f.first_load_vaddr = ph.p_vaddr & ~uint64_t{0xfff};
          break;
        }
      }
    const void* id = nullptr;
    ssize_t len = dwelf_elf_gnu_build_id(e, &id);
    if (len > 0) f.build_id = to_hex(static_cast<const uint8_t*>(id), static_cast<size_t>(len));
  }
  if (e) elf_end(e);
  ::close(fd);
  return f;
}

std::optional<uint64_t> elf_image_end(const AddressSpace& mem, uint64_t base) {
  Elf64_Ehdr eh;
  if (!read_elf_header(mem, base, eh)) return std::nullopt;
  auto ph = program_headers(mem, base, eh);
  if (!ph) return std::nullopt;
  std::optional<uint64_t> first;
  uint64_t end = 0;
  for (const auto& h : *ph) {
    if (h.p_type != PT_LOAD) continue;
    if (!first) first = h.p_vaddr & ~uint64_t{0xfff};
    end = std::max(end, h.p_vaddr + h.p_memsz);
  }
  if (!first) return std::nullopt;
  return base - *first + end;
}

bool elf_is_program(const AddressSpace& mem, uint64_t base) {
  Elf64_Ehdr eh;
  if (!read_elf_header(mem, base, eh)) return false;
  if (eh.e_type == ET_EXEC) return true;
  if (eh.e_type != ET_DYN) return false;
  auto ph = program_headers(mem, base, eh);
  return ph && std::any_of(ph->begin(), ph->end(), [](const Elf64_Phdr& h) { return h.p_type == PT_INTERP; });
}

namespace {

bool is_pseudo_path(const std::string& p) { return p.empty() || p.front() == '[' || p.starts_with("/memfd:"); }

}  // namespace

std::vector<Module> build_modules(const std::vector<Mapping>& mappings, const AddressSpace& mem,
                                  const ProcessOptions& opts, Diagnostics& diag) {
  std::vector<Module> out;
  // The ELF header sits in the mapping with file offset 0; the module extends over the
  // following mappings of the same file.
  for (size_t i = 0; i < mappings.size(); ++i) {
    const Mapping& m = mappings[i];
    if (m.offset != 0 || is_pseudo_path(m.path)) continue;
    Module mod;
    mod.path = m.path;
    mod.base = m.start;
    mod.end = m.end;
    for (size_t j = i + 1; j < mappings.size() && mappings[j].path == m.path && mappings[j].offset != 0; ++j)
      mod.end = mappings[j].end;

    ElfFacts mem_facts = elf_facts_from_memory(mem, m.start);
    // Candidate files: the path under --sysroot, then the same file name in each --module-dir.
    std::vector<std::string> candidates{opts.sysroot.empty() ? m.path : opts.sysroot + m.path};
    std::string base_name = m.path.substr(m.path.rfind('/') + 1);
    for (const std::string& d : opts.module_dirs) candidates.push_back(d + "/" + base_name);
    ElfFacts file_facts;
    std::string mismatched;  // a file that exists but is not the one the process had
    for (const std::string& c : candidates) {
      ElfFacts f = elf_facts_from_file(c);
      if (!f.is_elf) continue;
      if (!mem_facts.build_id.empty() && !f.build_id.empty() && f.build_id != mem_facts.build_id) {
        if (mismatched.empty()) mismatched = c + " (build-id " + f.build_id + ")";
        continue;
      }
      file_facts = f;
      mod.disk_path = c;
      break;
    }
    if (!mem_facts.is_elf && !file_facts.is_elf && mismatched.empty()) {
      // Not an ELF file (locale archive, fonts…) unless we simply cannot see it.
      bool invisible = !mem.is_present(m.start, 4) && m.path.find(".so") != std::string::npos;
      if (!invisible) continue;
    }
    if (mod.disk_path.empty() && !mismatched.empty()) {
      mod.build_id_mismatch = true;
      diag.warn(m.path, std::nullopt,
                fmt::format("the file found, {}, is not the one in the core (build-id {}): not used for symbols; "
                            "give --sysroot or --module-dir",
                            mismatched, mem_facts.build_id));
    }
    if (!mem_facts.build_id.empty()) {
      mod.build_id = mem_facts.build_id;
      mod.build_id_source = "core";
    } else if (!file_facts.build_id.empty()) {
      mod.build_id = file_facts.build_id;
      mod.build_id_source = "file";
    }
    uint64_t first_vaddr = mem_facts.is_elf ? mem_facts.first_load_vaddr : file_facts.first_load_vaddr;
    mod.load_bias = mod.base - first_vaddr;
    out.push_back(std::move(mod));
  }
  std::sort(out.begin(), out.end(), [](const Module& a, const Module& b) { return a.base < b.base; });
  return out;
}

}  // namespace coresift
