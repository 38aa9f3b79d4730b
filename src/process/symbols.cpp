// Public face of the Symbolizer: symbol lookups by address and by name, backtraces, and
// where a module's symbols came from. The libdwfl work lives in the files listed in
// symbolizer_impl.hpp.
#include <elf.h>
#include <gelf.h>

#include <cstring>

#include "symbolizer_impl.hpp"

namespace coresift {

Symbolizer::Symbolizer(const Process& process, const AddressSpace& memory, const SymbolOptions& opts, Diagnostics& diag)
    : impl_(std::make_unique<Impl>(process, memory, opts, diag)) {}

Symbolizer::~Symbolizer() = default;

std::optional<Symbol> Symbolizer::symbol_at(uint64_t addr) {
  if (!impl_->dwfl) return std::nullopt;
  Dwfl_Module* mod = dwfl_addrmodule(impl_->dwfl, addr);
  if (!mod) return std::nullopt;
  GElf_Off off = 0;
  GElf_Sym sym;
  const char* name = dwfl_module_addrinfo(mod, addr, &off, &sym, nullptr, nullptr, nullptr);
  if (!name) return std::nullopt;
  Symbol s;
  s.raw_name = name;
  s.name = symbol_display_name(name);
  s.address = addr - off;
  s.size = sym.st_size;
  s.offset = off;
  return s;
}

// Every defined, named symbol of the module at its runtime address. Global definitions win
// over local ones of the same name; otherwise the first one seen stays.
const std::unordered_map<std::string, uint64_t>& Symbolizer::Impl::symbol_table(Dwfl_Module* mod) {
  auto [it, inserted] = symbol_tables.try_emplace(mod);
  if (!inserted) return it->second;
  std::unordered_map<std::string, bool> is_global;
  int n = dwfl_module_getsymtab(mod);
  for (int i = 0; i < n; ++i) {
    GElf_Sym sym;
    GElf_Addr addr = 0;
    GElf_Word shndx = 0;
    const char* name = dwfl_module_getsym_info(mod, i, &sym, &addr, &shndx, nullptr, nullptr);
    if (!name || !*name || shndx == SHN_UNDEF) continue;
    int type = GELF_ST_TYPE(sym.st_info);
    if (type == STT_SECTION || type == STT_FILE || type == STT_TLS) continue;
    bool global = GELF_ST_BIND(sym.st_info) != STB_LOCAL;
    auto [e, fresh] = it->second.try_emplace(name, addr);
    if (fresh || (global && !is_global[name])) {
      e->second = addr;
      is_global[name] = global;
    }
  }
  return it->second;
}

std::optional<uint64_t> Symbolizer::find_symbol(const std::string& module_substring, const std::string& name) {
  const auto& mods = impl_->process.modules;
  for (size_t i = 0; i < mods.size(); ++i) {
    if (mods[i].path.find(module_substring) == std::string::npos) continue;
    Dwfl_Module* mod = impl_->dwfl_modules.empty() ? nullptr : impl_->dwfl_modules[i];
    if (mod) {
      const auto& table = impl_->symbol_table(mod);
      if (auto it = table.find(name); it != table.end()) return it->second;
    }
    if (!module_substring.empty()) return std::nullopt;  // only the first matching module
  }
  return std::nullopt;
}

std::vector<Frame> Symbolizer::backtrace(const Thread& thread) {
  std::vector<Frame> frames;
  for (const RawFrame& raw : impl_->unwind(thread)) impl_->describe(raw, frames);
  return frames;
}

std::string Symbolizer::symbol_source(const Module& module) {
  auto index = impl_->module_index(module);
  Dwfl_Module* mod = index && !impl_->dwfl_modules.empty() ? impl_->dwfl_modules[*index] : nullptr;
  if (!mod || dwfl_module_getsymtab(mod) <= 0) return "";
  if (impl_->module_is_debug_file[*index]) return "debuginfo:" + impl_->module_files[*index];
  const char* main_file = nullptr;
  const char* debug_file = nullptr;
  dwfl_module_info(mod, nullptr, nullptr, nullptr, nullptr, nullptr, &main_file, &debug_file);
  // libdwfl loads a separate debug file for symbols only when the module file has no .symtab.
  bool main_has_symtab = false;
  Dwarf_Addr bias = 0;
  if (Elf* elf = dwfl_module_getelf(mod, &bias))
    for (Elf_Scn* scn = nullptr; (scn = elf_nextscn(elf, scn));) {
      GElf_Shdr shdr;
      if (gelf_getshdr(scn, &shdr) && shdr.sh_type == SHT_SYMTAB) main_has_symtab = true;
    }
  if (!main_has_symtab && debug_file && (!main_file || std::strcmp(debug_file, main_file) != 0))
    return std::string("debuginfo:") + debug_file;
  return "file:" + (main_file ? std::string(main_file) : module.path);
}

}  // namespace coresift
