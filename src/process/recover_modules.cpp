// A core whose NT_FILE note is lost (gcore writes its notes after all the memory, so a core
// cut short loses them first) still holds the ELF headers of its modules: every load segment
// that starts with one is a module image. Names come from the dynamic linker's link map
// (DT_DEBUG → r_debug → link_map chain) when that memory survived, else from a file found by
// build-id: by DT_SONAME in the usual library directories, or among the --module-dir files.
#include <dirent.h>
#include <elf.h>
#include <fmt/format.h>

#include <cstring>
#include <map>

#include "builders.hpp"

namespace coresift {
namespace {

struct Image {
  uint64_t base = 0;  // address of the ELF header
  uint64_t bias = 0;  // base - first PT_LOAD's page
  std::vector<Elf64_Phdr> loads;
  std::string build_id;
  std::string soname;
  uint64_t r_debug = 0;  // DT_DEBUG value (the executable's only)
};

// DT_SONAME and DT_DEBUG from the image's dynamic section, read from memory.
void read_dynamic(const AddressSpace& mem, const std::vector<Elf64_Phdr>& ph, Image& img) {
  for (const Elf64_Phdr& h : ph) {
    if (h.p_type != PT_DYNAMIC) continue;
    uint64_t strtab = 0, soname = 0;
    bool have_soname = false;
    for (uint64_t i = 0; i < std::min<uint64_t>(h.p_memsz / sizeof(Elf64_Dyn), 512); ++i) {
      Elf64_Dyn d;
      if (mem.read(img.bias + h.p_vaddr + i * sizeof d, &d, sizeof d) != sizeof d || d.d_tag == DT_NULL) break;
      if (d.d_tag == DT_STRTAB) strtab = d.d_un.d_ptr;
      if (d.d_tag == DT_SONAME) soname = d.d_un.d_val, have_soname = true;
      if (d.d_tag == DT_DEBUG) img.r_debug = d.d_un.d_ptr;
    }
    // ld.so relocates the d_ptr entries of loaded objects; an unrelocated one is image-relative.
    if (strtab && strtab < img.bias) strtab += img.bias;
    if (have_soname && strtab)
      if (auto s = mem.read_cstring(strtab + soname, 256)) img.soname = *s;
  }
}

std::optional<Image> image_at(const AddressSpace& mem, uint64_t base) {
  Elf64_Ehdr eh;
  if (mem.read(base, &eh, sizeof eh) != sizeof eh || std::memcmp(eh.e_ident, ELFMAG, SELFMAG) != 0) return std::nullopt;
  if (eh.e_ident[EI_CLASS] != ELFCLASS64 || (eh.e_type != ET_DYN && eh.e_type != ET_EXEC)) return std::nullopt;
  if (eh.e_phentsize != sizeof(Elf64_Phdr) || eh.e_phnum == 0 || eh.e_phnum > 256) return std::nullopt;
  std::vector<Elf64_Phdr> ph(eh.e_phnum);
  size_t bytes = ph.size() * sizeof(Elf64_Phdr);
  if (mem.read(base + eh.e_phoff, ph.data(), bytes) != bytes) return std::nullopt;
  Image img;
  img.base = base;
  for (const Elf64_Phdr& h : ph)
    if (h.p_type == PT_LOAD) img.loads.push_back(h);
  if (img.loads.empty()) return std::nullopt;
  img.bias = base - (img.loads.front().p_vaddr & ~uint64_t{0xfff});
  img.build_id = elf_facts_from_memory(mem, base).build_id;
  read_dynamic(mem, ph, img);
  return img;
}

// l_addr → l_name of every object on the link map, when r_debug and the chain are present.
std::map<uint64_t, std::string> link_map_names(const AddressSpace& mem, uint64_t r_debug) {
  std::map<uint64_t, std::string> out;
  auto lm = mem.read_u64(r_debug + 8);  // r_debug.r_map
  for (int n = 0; lm && *lm && n < 4096; ++n) {
    auto l_addr = mem.read_u64(*lm), l_name = mem.read_u64(*lm + 8), next = mem.read_u64(*lm + 24);
    if (!l_addr || !l_name) break;
    if (auto name = mem.read_cstring(*l_name, 4096); name && !name->empty() && name->front() == '/')
      out.emplace(*l_addr, *name);
    lm = next;
  }
  return out;
}

bool build_id_matches(const std::string& path, const std::string& build_id) {
  ElfFacts f = elf_facts_from_file(path);
  return f.is_elf && !build_id.empty() && f.build_id == build_id;
}

// A file with the image's build-id: by its soname in the library directories (under
// --sysroot) and the --module-dirs, then any file in a --module-dir.
std::string find_by_build_id(const Image& img, const ProcessOptions& opts) {
  if (img.build_id.empty()) return {};
  if (!img.soname.empty()) {
    std::vector<std::string> dirs = {"/usr/lib/x86_64-linux-gnu", "/lib/x86_64-linux-gnu", "/usr/lib64", "/lib64",
                                     "/usr/lib", "/lib"};
    for (std::string& d : dirs) d = opts.sysroot + d;
    dirs.insert(dirs.end(), opts.module_dirs.begin(), opts.module_dirs.end());
    for (const std::string& d : dirs)
      if (build_id_matches(d + "/" + img.soname, img.build_id)) return d + "/" + img.soname;
  }
  for (const std::string& d : opts.module_dirs) {
    DIR* dir = ::opendir(d.c_str());
    if (!dir) continue;
    std::string found;
    int looked = 0;
    while (dirent* e = ::readdir(dir)) {
      if (e->d_name[0] == '.' || ++looked > 2000) continue;
      std::string p = d + "/" + e->d_name;
      if (build_id_matches(p, img.build_id)) {
        found = p;
        break;
      }
    }
    ::closedir(dir);
    if (!found.empty()) return found;
  }
  return {};
}

// The file-backed part of each PT_LOAD, as NT_FILE would list it.
void add_entries(const Image& img, const std::string& path, std::vector<FileNoteEntry>& out) {
  for (const Elf64_Phdr& h : img.loads) {
    FileNoteEntry e;
    e.start = img.bias + (h.p_vaddr & ~uint64_t{0xfff});
    e.end = (img.bias + h.p_vaddr + h.p_filesz + 0xfff) & ~uint64_t{0xfff};
    e.file_offset = h.p_offset & ~uint64_t{0xfff};
    e.path = path;
    if (e.end > e.start) out.push_back(std::move(e));
  }
}

}  // namespace

std::vector<FileNoteEntry> recover_file_entries(const CoreFile& core, const AddressSpace& mem,
                                                const ProcessOptions& opts, Diagnostics& diag) {
  std::vector<Image> images;
  for (const LoadSegment& l : core.loads)
    if (auto img = image_at(mem, l.vaddr)) images.push_back(std::move(*img));
  std::map<uint64_t, std::string> names;
  uint64_t r_debug = 0;
  for (const Image& img : images)
    if (img.r_debug) r_debug = img.r_debug, names = link_map_names(mem, img.r_debug);

  std::vector<FileNoteEntry> out;
  size_t by_link_map = 0, by_build_id = 0, unnamed = 0;
  for (const Image& img : images) {
    std::string path;
    if (auto it = names.find(img.bias); it != names.end()) {
      path = it->second;
      ++by_link_map;
    } else if (!(path = find_by_build_id(img, opts)).empty()) {
      ++by_build_id;
    } else {
      ++unnamed;  // the vdso, or a module whose file is not here
      continue;
    }
    add_entries(img, path, out);
  }
  if (images.empty()) return out;  // build_process warns that there are no modules, and why
  diag.warn(core.path, core.notes_cut_at,
            fmt::format("no NT_FILE note{}: mapped files recovered from the {} ELF images in memory ({} named by the "
                        "dynamic linker's link map{}, {} by build-id under --sysroot/--module-dir, {} left unnamed)",
                        core.notes_cut_at ? fmt::format(" (the notes are cut at file offset {:#x})", *core.notes_cut_at)
                                          : std::string(),
                        images.size(), by_link_map,
                        r_debug ? fmt::format(" at r_debug {:#x}", r_debug) : std::string(" (not in the core)"),
                        by_build_id, unnamed));
  return out;
}

}  // namespace coresift
