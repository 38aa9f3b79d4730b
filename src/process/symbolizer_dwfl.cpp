// The libdwfl session: which files stand for the process's modules and where their
// separate debug info is searched. Only files on disk are opened here; the core itself is
// never handed to libdwfl.
#include <elf.h>
#include <elfutils/libdwelf.h>
#include <fmt/format.h>
#include <gelf.h>
#include <libelf.h>
#include <unistd.h>

#include <cstdlib>
#include <cstring>
#include <filesystem>

#include "symbolizer_impl.hpp"
#include "coresift/process/debug_files.hpp"

namespace coresift {
namespace {

constexpr uint64_t kMaxVdsoBytes = 1 << 20;

// With --no-debuginfo, libdwfl is told that no separate debug file exists, so it uses only
// what the module file carries (.symtab/.dynsym, .eh_frame, minidebuginfo).
int no_debuginfo(Dwfl_Module*, void**, const char*, Dwarf_Addr, const char*, const char*, GElf_Word, char**) {
  return -1;
}

// Hands libdwfl the vDSO image copied out of the core (reported without a file).
int find_elf(Dwfl_Module*, void** userdata, const char* name, Dwarf_Addr, char**, Elf** elfp) {
  *elfp = nullptr;
  auto* image = static_cast<std::vector<uint8_t>*>(*userdata);
  if (image && std::strcmp(name, "[vdso]") == 0 && !image->empty())
    *elfp = elf_memory(reinterpret_cast<char*>(image->data()), image->size());
  return -1;
}

}  // namespace

Symbolizer::Impl::Impl(const Process& p, const AddressSpace& m, const SymbolOptions& o, Diagnostics& d)
    : process(p), memory(m), opts(o), diag(d) {
  open_session();
}

Symbolizer::Impl::~Impl() {
  if (dwfl) dwfl_end(dwfl);  // before backend_elf and vdso_image, which it still points into
  if (backend_elf) elf_end(backend_elf);
}

void Symbolizer::Impl::open_session() {
  elf_version(EV_CURRENT);
  // libdwfl asks debuginfod servers whenever DEBUGINFOD_URLS is set: an offline tool must
  // not do that unless told to.
  if (!opts.debuginfod) ::unsetenv("DEBUGINFOD_URLS");

  // Leading empty entry and ".debug": next to the module file, for .gnu_debuglink.
  debuginfo_path = ":.debug";
  for (const auto& r : debug_roots(opts)) debuginfo_path += ":" + r;
  debuginfo_path_ptr = debuginfo_path.data();
  callbacks.find_elf = find_elf;
  callbacks.find_debuginfo = opts.no_debuginfo ? no_debuginfo : dwfl_standard_find_debuginfo;
  callbacks.section_address = dwfl_offline_section_address;
  callbacks.debuginfo_path = &debuginfo_path_ptr;
  dwfl = dwfl_begin(&callbacks);
  if (!dwfl) {
    diag.warn("", std::nullopt, fmt::format("symbols unavailable: {}", dwfl_errmsg(-1)));
    return;
  }
  report_modules();
  attached = attach_state();
}

void Symbolizer::Impl::report_modules() {
  dwfl_modules.assign(process.modules.size(), nullptr);
  module_files.assign(process.modules.size(), "");
  module_is_debug_file.assign(process.modules.size(), false);
  dwfl_report_begin(dwfl);
  for (size_t i = 0; i < process.modules.size(); ++i) {
    const Module& m = process.modules[i];
    std::string file = m.disk_path;
    bool debug_file = false;
    if (file.empty() && !m.build_id.empty()) {
      file = find_by_build_id(opts, m.build_id, false);
      // A debug file has the symbols and the same layout, though not the code or .eh_frame.
      if (file.empty() && !opts.no_debuginfo) {
        file = find_by_build_id(opts, m.build_id, true);
        debug_file = !file.empty();
      }
    }
    if (file.empty()) continue;
    // add_p_vaddr: the bias is given directly (ignored by libdwfl for ET_EXEC).
    Dwfl_Module* dm = dwfl_report_elf(dwfl, m.path.c_str(), file.c_str(), -1, m.load_bias, true);
    if (!dm) {
      diag.warn(file, std::nullopt, fmt::format("not used for symbols of {}: {}", m.path, dwfl_errmsg(-1)));
      continue;
    }
    dwfl_modules[i] = dm;
    module_files[i] = file;
    module_is_debug_file[i] = debug_file;
  }
  report_vdso();
  dwfl_report_end(dwfl, nullptr, nullptr);
}

// The vDSO has no file on disk; its image in the core gives libdwfl its .eh_frame and
// symbols (frames in clock_gettime and friends).
void Symbolizer::Impl::report_vdso() {
  for (const Mapping& m : process.mappings) {
    if (m.kind != MappingKind::kVdso || m.size() > kMaxVdsoBytes || !memory.is_present(m.start, m.size())) continue;
    std::vector<uint8_t> image(m.size());
    if (memory.read(m.start, image.data(), image.size()) != image.size()) return;
    if (std::memcmp(image.data(), ELFMAG, SELFMAG) != 0) return;
    vdso_image = std::move(image);
    Dwfl_Module* dm = dwfl_report_module(dwfl, "[vdso]", m.start, m.end);
    if (!dm) return;
    void** userdata = nullptr;
    dwfl_module_info(dm, &userdata, nullptr, nullptr, nullptr, nullptr, nullptr, nullptr);
    if (userdata) *userdata = &vdso_image;
    return;
  }
}

std::optional<size_t> Symbolizer::Impl::module_index(const Module& m) const {
  const auto& mods = process.modules;
  if (!mods.empty() && &m >= mods.data() && &m < mods.data() + mods.size()) return &m - mods.data();
  for (size_t i = 0; i < mods.size(); ++i)
    if (mods[i].base == m.base && mods[i].path == m.path) return i;
  return std::nullopt;
}

}  // namespace coresift
