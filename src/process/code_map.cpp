// Where the code is. Cores describe executable mappings, except that gdb's gcore leaves out
// file-backed text entirely; then the module file's program headers tell.
#include <elf.h>
#include <gelf.h>

#include "symbolizer_impl.hpp"

namespace coresift {

std::optional<ModuleSegment> module_segment(Dwfl* dwfl, uint64_t addr) {
  Dwfl_Module* mod = dwfl ? dwfl_addrmodule(dwfl, addr) : nullptr;
  Dwarf_Addr bias = 0;
  Elf* elf = mod ? dwfl_module_getelf(mod, &bias) : nullptr;
  size_t n = 0;
  if (!elf || elf_getphdrnum(elf, &n) != 0) return std::nullopt;
  uint64_t vaddr = addr - bias;
  for (size_t i = 0; i < n; ++i) {
    GElf_Phdr ph;
    if (!gelf_getphdr(elf, static_cast<int>(i), &ph) || ph.p_type != PT_LOAD) continue;
    if (vaddr >= ph.p_vaddr && vaddr - ph.p_vaddr < ph.p_memsz)
      return ModuleSegment{(ph.p_flags & PF_X) != 0, ph.p_offset + (vaddr - ph.p_vaddr)};
  }
  return std::nullopt;
}

bool is_code(const Process& process, Dwfl* dwfl, uint64_t addr) {
  if (const Mapping* m = process.mapping_at(addr)) return (m->perms & kPermExec) != 0;
  auto seg = module_segment(dwfl, addr);
  return seg && seg->exec;
}

}  // namespace coresift
