// Crash triage of one core: why the process died (a decoded reason), the crashing thread's
// frames, a crash signature that is the same for the same bug (and for a stripped and an
// unstripped build of one binary), and the heap verdict. Grouping many cores by signature is
// the batch's job (cli/triage_command.cpp); this file knows one core.
#pragma once
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "coresift/model/heap_model.hpp"

namespace coresift {

struct TriageFrame {
  std::string module;          // path, "" when pc is in no module
  std::string build_id;        // of the module, "" when unknown
  uint64_t pc = 0;
  uint64_t module_offset = 0;  // file offset of pc (eu-stack -b)
  std::optional<uint64_t> function_start;  // link-time entry address (FDE, else symbol)
  std::optional<std::string> function;     // demangled, when known
  std::string source;                      // "file:line" when known
  bool in_signature = false;
};

struct CrashReason {
  // Stable identifier: "no-crash", "null-dereference", "stack-overflow", "write-to-read-only",
  // "jump-to-unmapped", "invalid-access", "abort", "assert", "heap-corruption-abort",
  // "bus-error", "arithmetic", "signal".
  std::string kind;
  std::string text;  // one line for people
};

struct CoreTriage {
  std::optional<int> pid;
  std::string executable;
  std::string build_id;  // of the executable
  std::optional<int> crashed_tid;
  std::optional<int> signal;
  std::string signal_name;
  std::optional<int> si_code;
  std::string si_code_name;
  std::optional<uint64_t> fault_address;
  CrashReason reason;
  std::optional<std::string> abort_message;  // glibc's __abort_msg
  std::vector<TriageFrame> frames;           // crashing thread, innermost first
  std::string signature;                     // reason kind + the signature frames
  std::string group;                         // short stable id of the signature
  std::vector<std::string> heap_findings;    // "kind at 0x…: detail"
};

struct TriageOptions {
  size_t signature_frames = 5;
  // Functions never part of a signature when they come before the first application frame
  // (abort/raise/assert/malloc_printerr machinery), besides every frame in libc, the dynamic
  // linker, libgcc, libstdc++'s terminate path and the vDSO. Extra names from --skip-frames.
  std::vector<std::string> skip_functions;
};

CoreTriage triage_core(const HeapModel& s, const TriageOptions& opts);

// The signature's short stable id: 12 hex digits of a 64-bit FNV-1a hash.
std::string signature_group(const std::string& signature);

}  // namespace coresift
