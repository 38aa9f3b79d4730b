// Symbols, demangling and stack unwinding over the process model, through elfutils libdwfl.
// Module files come from disk (optionally under --sysroot); separate debug info is looked up
// by build-id (/usr/lib/debug/.build-id, --debug-dir), .gnu_debuglink and minidebuginfo.
// libdwfl reads process memory and registers only through our AddressSpace/Process, so a
// damaged core can never make it read out of bounds.
#pragma once
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "coresift/diag.hpp"
#include "coresift/process/process.hpp"

namespace coresift {

struct SymbolOptions {
  std::string sysroot;
  std::vector<std::string> debug_dirs;  // extra roots searched like /usr/lib/debug
  bool no_debuginfo = false;            // ignore separate debug files (symbol-less path)
  bool debuginfod = false;              // allow debuginfod (DEBUGINFOD_URLS); off by default
};

struct Symbol {
  std::string name;       // demangled
  std::string raw_name;   // as in the symbol table
  uint64_t address = 0;   // start of the symbol
  uint64_t size = 0;
  uint64_t offset = 0;    // queried address - start
};

struct Frame {
  uint64_t pc = 0;
  uint64_t sp = 0;                    // stack pointer in this frame (0 = unknown): its slots are [sp, caller's sp)
  bool is_inline = false;             // an inlined call inside the previous (outer) frame's pc
  std::string module;                 // module path ("" if pc is outside every module)
  uint64_t module_offset = 0;         // file offset of pc in the module (like eu-stack -b)
  std::optional<std::string> function;  // demangled, when known
  uint64_t function_offset = 0;
  // Link-time address of the function's entry: the start of the CFI (FDE) range holding pc,
  // else the symbol's address. The same in a stripped and an unstripped build of one binary.
  std::optional<uint64_t> function_start;
  std::string source_file;            // when debug info has line data
  int line = 0;
};

// Demangles C++ (Itanium) and Rust names; returns the input unchanged when it is not mangled.
std::string demangle(const std::string& name);

class Symbolizer {
 public:
  Symbolizer(const Process& process, const AddressSpace& memory, const SymbolOptions& opts, Diagnostics& diag);
  ~Symbolizer();
  Symbolizer(const Symbolizer&) = delete;
  Symbolizer& operator=(const Symbolizer&) = delete;

  // The symbol containing `addr` (nullopt when none is known).
  std::optional<Symbol> symbol_at(uint64_t addr);
  // Address of the symbol `name` (raw, unmangled table name) in the first module whose path
  // contains `module_substring` ("" = any module). Looks at .symtab from debug info too.
  std::optional<uint64_t> find_symbol(const std::string& module_substring, const std::string& name);
  // Backtrace of one thread, innermost frame first (CFI, then frame-pointer fallback).
  std::vector<Frame> backtrace(const Thread& thread);
  // Where the symbols of a module came from: "debuginfo:PATH", "file:PATH", or "" if none.
  std::string symbol_source(const Module& module);

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace coresift
