// The process model: what the dead process was (pid, command line, signal), its threads,
// its mappings (with labels for anonymous regions we can identify) and its ELF modules.
#pragma once
#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "coresift/diag.hpp"
#include "coresift/input/address_space.hpp"
#include "coresift/input/elf_core.hpp"
#include "coresift/input/inputs.hpp"

namespace coresift {

struct Thread {
  int tid = 0;
  std::string name;  // known only for the main thread (the core's command name)
  bool crashed = false;
  std::array<uint64_t, kNumRegs> regs{};
  uint64_t pc() const { return regs[kRip]; }
  uint64_t sp() const { return regs[kRsp]; }
  uint64_t fs_base() const { return regs[kFsBase]; }
};

struct SignalInfo {
  int number = 0;
  std::string name;       // "SIGSEGV"
  int code = 0;
  std::string code_name;  // "SEGV_MAPERR"
  std::optional<uint64_t> address;
  std::optional<int> sender_pid;
  int tid = 0;            // thread that received it
};
std::string signal_name(int signo);
std::string signal_code_name(int signo, int code);

// What a mapping is. The label shown to users is derived from the kind ("[stack:TID]",
// "[guard:TID]" carry the thread); code tests the kind, never the label text.
enum class MappingKind : uint8_t {
  kAnonymous,     // no name
  kFile,          // file-backed (path set)
  kHeap,          // the program-break heap
  kArenaHeap,     // a 64 MiB-aligned malloc arena heap (the used, writable head)
  kArenaReserve,  // its inaccessible tail
  kStack,
  kGuard,         // a stack's guard page(s)
  kReserved,      // other inaccessible anonymous memory
  kVdso,
  kVvar,
  kVsyscall,
  kDump,          // a raw range no --maps line named
  kOtherPseudo,   // another "[name]" from a maps file
};
// "[heap]", "[stack]", …; "" for kAnonymous, kFile and kOtherPseudo.
const char* mapping_kind_label(MappingKind k);
// The kind a maps file's pseudo name ("[heap]", "[stack:12]", "[anon:x]") stands for.
MappingKind mapping_kind_from_name(std::string_view name);

struct Mapping {
  uint64_t start = 0;
  uint64_t end = 0;
  uint8_t perms = 0;
  uint64_t offset = 0;        // file offset for file-backed mappings
  std::string path;           // file path ("" when anonymous)
  std::string label;          // "[heap]", "[stack]", "[stack:TID]", "[guard:TID]", "[arena-heap]", …
  MappingKind kind = MappingKind::kAnonymous;
  uint64_t present_bytes = 0; // bytes of this range present in the inputs
  uint64_t size() const { return end - start; }
  bool contains(uint64_t a) const { return a >= start && a < end; }
  std::string display_name() const { return path.empty() ? label : path; }
  // Sets the kind and its label; `tid` names the thread of a stack or guard (0: none).
  void mark(MappingKind k, int tid = 0);
};

struct Module {
  std::string path;            // as the process saw it
  uint64_t base = 0;           // address of the mapping with file offset 0 (ELF header)
  uint64_t end = 0;            // end of the last mapping of this file
  uint64_t load_bias = 0;      // base - first PT_LOAD p_vaddr
  std::string build_id;        // hex, "" when unknown
  std::string build_id_source; // "core" (read from the process memory) or "file"
  std::string disk_path;       // file used for symbols (after --sysroot), "" when not found
  bool build_id_mismatch = false;  // the file on disk is not the one the process had mapped
  bool contains(uint64_t a) const { return a >= base && a < end; }
};

struct ProcessOptions {
  std::string sysroot;                 // prefix for module paths (foreign cores)
  std::vector<std::string> module_dirs; // also look for modules here by file name (build-id checked)
  std::vector<std::string> maps_files; // --maps: names for raw ranges
};

// Bytes read from a module's file on disk (see Process::file_bytes).
struct ModuleFileBytes {
  std::string file;             // the file read ("" when none could be)
  std::vector<uint8_t> bytes;   // from the requested address on; may be shorter than asked
};

struct Process {
  int pid = 0;
  std::string executable;
  std::vector<std::string> argv;
  std::vector<std::string> envp;
  std::vector<std::pair<uint64_t, uint64_t>> auxv;
  std::optional<SignalInfo> signal;
  std::vector<Thread> threads;
  std::vector<Mapping> mappings;  // sorted by start
  std::vector<Module> modules;    // sorted by base

  const Mapping* mapping_at(uint64_t addr) const;
  const Module* module_at(uint64_t addr) const;
  const Thread* crashed_thread() const;
  std::optional<uint64_t> auxv_value(uint64_t key) const;
  // Up to `n` bytes at `addr` of a file-backed mapping, read from its module's file (for
  // mappings the core has no bytes of: gcore omits read-only file mappings). Empty when the
  // address is not in a module's mapping or its file is missing or not the process's copy.
  ModuleFileBytes file_bytes(uint64_t addr, uint64_t n) const;
};

// Builds the process model from loaded inputs (a core and/or raw ranges).
Process build_process(const LoadedInputs& in, const ProcessOptions& opts, Diagnostics& diag);

}  // namespace coresift
