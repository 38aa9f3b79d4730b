// Internal state of the Symbolizer, shared by the files that implement it:
// symbolizer_dwfl.cpp (libdwfl session, module reporting), unwind.cpp (thread callbacks,
// CFI and frame-pointer walks), frame_describe.cpp (names, lines, inline frames) and
// symbols.cpp (the public methods).
#pragma once
#include <elfutils/libdwfl.h>

#include <array>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "coresift/process/symbols.hpp"

namespace coresift {

// One physical frame found by the unwinder, before symbolization.
struct RawFrame {
  uint64_t pc = 0;
  bool activation = false;  // pc is where execution stopped, not a return address
  uint64_t sp = 0;          // stack pointer in this frame, 0 when unknown
};

// libdwfl numbers x86-64 registers in DWARF order; rip is column 16.
constexpr int kDwarfRegs = 17;
constexpr unsigned kDwarfRbp = 6, kDwarfRsp = 7;
std::array<uint64_t, kDwarfRegs> dwarf_registers(const Thread& t);

// What libdwfl's thread callbacks see: the memory and the registers of the walk in progress.
struct WalkSource {
  const AddressSpace* memory = nullptr;
  std::array<uint64_t, kDwarfRegs> regs{};
};

// A symbol table name for display: without its "@VERSION"/"@@VERSION" suffix (glibc's
// .symtab holds such aliases), demangled.
std::string symbol_display_name(const char* raw);

// The PT_LOAD of a reported module file that holds a runtime address.
struct ModuleSegment {
  bool exec = false;
  uint64_t file_offset = 0;  // of the address in the file
};
std::optional<ModuleSegment> module_segment(Dwfl* dwfl, uint64_t addr);

// True when addr is code: in an executable mapping, or, where the core lists no mapping
// (gcore omits file-backed text), in an executable segment of a module file.
bool is_code(const Process& p, Dwfl* dwfl, uint64_t addr);

struct Symbolizer::Impl {
  Impl(const Process& p, const AddressSpace& m, const SymbolOptions& o, Diagnostics& d);
  ~Impl();
  Impl(const Impl&) = delete;
  Impl& operator=(const Impl&) = delete;

  const Process& process;
  const AddressSpace& memory;
  SymbolOptions opts;
  Diagnostics& diag;

  // libdwfl session. callbacks and the path string must outlive dwfl (it keeps pointers).
  Dwfl* dwfl = nullptr;
  Dwfl_Callbacks callbacks{};
  std::string debuginfo_path;
  char* debuginfo_path_ptr = nullptr;
  std::array<unsigned char, 64> backend_header{};  // fake ELF header: selects the x86-64 backend
  Elf* backend_elf = nullptr;
  bool attached = false;

  // Parallel to process.modules: the libdwfl module (null when no file was found) and the
  // file that was reported for it.
  std::vector<Dwfl_Module*> dwfl_modules;
  std::vector<std::string> module_files;
  std::vector<bool> module_is_debug_file;  // no module file: its separate debug file stands in
  std::vector<uint8_t> vdso_image;  // copy of the vDSO from the core, backing an elf_memory Elf

  // find_symbol: name → runtime address, built once per module on first use.
  std::map<const Dwfl_Module*, std::unordered_map<std::string, uint64_t>> symbol_tables;

  WalkSource walk_source;  // argument of the thread callbacks

  // symbolizer_dwfl.cpp
  void open_session();
  void report_modules();
  void report_vdso();
  bool attach_state();
  std::optional<size_t> module_index(const Module& m) const;  // in process.modules

  // unwind.cpp
  std::vector<RawFrame> unwind(const Thread& t);

  // frame_describe.cpp
  void describe(const RawFrame& raw, std::vector<Frame>& out);

  // symbols.cpp
  const std::unordered_map<std::string, uint64_t>& symbol_table(Dwfl_Module* mod);
};

}  // namespace coresift
