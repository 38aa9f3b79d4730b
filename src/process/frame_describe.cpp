// Turns an unwound pc into Frames: module and file offset (from the process model), the
// function (symbol table), source line, and the chain of inlined calls (DWARF scopes).
#include <dwarf.h>
#include <elfutils/libdw.h>

#include <cstdlib>

#include "symbolizer_impl.hpp"

namespace coresift {
namespace {

struct SourcePos {
  std::string file;
  int line = 0;
};

// A function scope at the pc: an inlined call, or the subprogram holding them all.
struct InlinedCall {
  std::string name;
  std::optional<uint64_t> entry;  // runtime address where the inlined body starts
  SourcePos call_site;            // where it was inlined, in the enclosing function
};

// The function's name as DWARF gives it: the linkage name (demangled) says more for C++.
std::string die_function_name(Dwarf_Die* die) {
  Dwarf_Attribute attr;
  for (int at : {DW_AT_linkage_name, DW_AT_MIPS_linkage_name})
    if (const char* n = dwarf_formstring(dwarf_attr_integrate(die, at, &attr))) return demangle(n);
  if (const char* n = dwarf_formstring(dwarf_attr_integrate(die, DW_AT_name, &attr))) return n;
  return "";
}

SourcePos call_site(Dwarf_Die* cudie, Dwarf_Die* inlined) {
  SourcePos pos;
  Dwarf_Attribute attr;
  Dwarf_Word file = 0, line = 0;
  if (dwarf_formudata(dwarf_attr(inlined, DW_AT_call_line, &attr), &line) == 0) pos.line = static_cast<int>(line);
  Dwarf_Files* files = nullptr;
  size_t nfiles = 0;
  if (dwarf_formudata(dwarf_attr(inlined, DW_AT_call_file, &attr), &file) == 0 &&
      dwarf_getsrcfiles(cudie, &files, &nfiles) == 0 && file < nfiles)
    if (const char* name = dwarf_filesrc(files, file, nullptr, nullptr)) pos.file = name;
  return pos;
}

SourcePos line_at(Dwfl_Module* mod, uint64_t addr) {
  SourcePos pos;
  if (Dwfl_Line* l = dwfl_module_getsrc(mod, addr)) {
    int line = 0;
    if (const char* file = dwfl_lineinfo(l, nullptr, &line, nullptr, nullptr, nullptr)) {
      pos.file = file;
      pos.line = line;
    }
  }
  return pos;
}

// Inlined calls at `addr`, innermost first, and the subprogram holding them.
std::vector<InlinedCall> inlined_calls(Dwfl_Module* mod, uint64_t addr, InlinedCall* subprogram) {
  std::vector<InlinedCall> calls;
  Dwarf_Addr bias = 0;
  Dwarf_Die* cudie = dwfl_module_addrdie(mod, addr, &bias);
  if (!cudie) return calls;
  Dwarf_Die* scopes = nullptr;
  int n = dwarf_getscopes(cudie, addr - bias, &scopes);
  for (int i = 0; i < n; ++i) {
    int tag = dwarf_tag(&scopes[i]);
    if (tag != DW_TAG_subprogram && tag != DW_TAG_inlined_subroutine) continue;
    InlinedCall c;
    c.name = die_function_name(&scopes[i]);
    Dwarf_Addr entry;
    if (dwarf_entrypc(&scopes[i], &entry) == 0) c.entry = entry + bias;
    if (tag == DW_TAG_subprogram) {
      *subprogram = std::move(c);
      break;
    }
    c.call_site = call_site(cudie, &scopes[i]);
    calls.push_back(std::move(c));
  }
  std::free(scopes);
  return calls;
}

}  // namespace

namespace {

// Start of the .eh_frame FDE covering `addr`, as a link-time address (what a stripped build
// still has: the symbol tables go, the unwind tables stay).
std::optional<uint64_t> fde_start(Dwfl_Module* mod, uint64_t addr) {
  Dwarf_Addr bias = 0;
  Dwarf_CFI* cfi = dwfl_module_eh_cfi(mod, &bias);
  if (!cfi) return std::nullopt;
  Dwarf_Frame* frame = nullptr;
  if (dwarf_cfi_addrframe(cfi, addr - bias, &frame) != 0 || !frame) return std::nullopt;
  Dwarf_Addr start = 0, end = 0;
  bool ok = dwarf_frame_info(frame, &start, &end, nullptr) >= 0;
  std::free(frame);
  if (!ok) return std::nullopt;
  return start;
}

}  // namespace

void Symbolizer::Impl::describe(const RawFrame& raw, std::vector<Frame>& out) {
  Frame f;
  f.pc = raw.pc;
  f.sp = raw.sp;
  // A return address may be the first byte after the caller's function (noreturn calls):
  // look up the call instruction instead, like eu-stack and gdb.
  uint64_t lookup = raw.activation || raw.pc == 0 ? raw.pc : raw.pc - 1;
  const Mapping* mapping = process.mapping_at(raw.pc);
  if (const Module* m = process.module_at(raw.pc)) {
    f.module = m->path;
    if (mapping) {
      f.module_offset = mapping->offset + (raw.pc - mapping->start);
    } else {  // text missing from the core (gcore): the file's program headers place it
      auto seg = module_segment(dwfl, raw.pc);
      f.module_offset = seg ? seg->file_offset : raw.pc - m->base;
    }
  } else if (mapping && mapping->kind == MappingKind::kVdso) {
    f.module = mapping->label;
    f.module_offset = raw.pc - mapping->start;
  }

  Dwfl_Module* mod = dwfl ? dwfl_addrmodule(dwfl, lookup) : nullptr;
  if (!mod) {
    out.push_back(std::move(f));
    return;
  }
  GElf_Off off = 0;
  GElf_Sym sym;
  if (const char* name = dwfl_module_addrinfo(mod, lookup, &off, &sym, nullptr, nullptr, nullptr)) {
    f.function = symbol_display_name(name);
    f.function_offset = raw.pc - (lookup - off);
    if (const Module* m = process.module_at(raw.pc)) f.function_start = lookup - off - m->load_bias;
  }
  if (auto start = fde_start(mod, lookup)) f.function_start = start;  // the FDE wins over the symbol

  SourcePos here = line_at(mod, lookup);
  InlinedCall subprogram;
  std::vector<InlinedCall> calls = inlined_calls(mod, lookup, &subprogram);
  // DWARF names the function the way the source does (glibc's symbol tables hold several
  // aliases per address, like __libc_start_main@@GLIBC_2.34 for __libc_start_main_impl).
  // Not for a part placed before its entry (foo.cold): the symbol says more there.
  bool entry_below = subprogram.entry && *subprogram.entry <= raw.pc;
  if (!subprogram.name.empty() && (entry_below || !f.function)) {
    f.function = subprogram.name;
    f.function_offset = entry_below ? raw.pc - *subprogram.entry : 0;
  }

  // Each inlined function is a frame of its own at the same pc; its source position is
  // the line table's (innermost) or the call site of the function it called.
  SourcePos pos = here;
  for (const InlinedCall& c : calls) {
    Frame g;
    g.pc = raw.pc;
    g.sp = raw.sp;
    g.is_inline = true;
    g.module = f.module;
    g.module_offset = f.module_offset;
    if (!c.name.empty()) g.function = c.name;
    if (c.entry && *c.entry <= raw.pc) g.function_offset = raw.pc - *c.entry;
    g.source_file = pos.file;
    g.line = pos.line;
    out.push_back(std::move(g));
    pos = c.call_site;
  }
  f.source_file = pos.file;
  f.line = pos.line;
  out.push_back(std::move(f));
}

}  // namespace coresift
