// One core's crash triage (see triage.hpp): reason, frames, signature, heap verdict.
// The signature rules follow ABRT/satyr's duphash and Socorro's skip lists: the frames of
// the abort/raise/assert/malloc_printerr machinery are cut, recursion is collapsed, and each
// frame is its module's build-id plus the function's entry address, which a stripped build
// keeps (its .eh_frame) so that stripped and unstripped cores of one binary group together.
#include "coresift/analysis/triage.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <csignal>

#include "coresift/allocators/chunk_table.hpp"
#include "coresift/util/paths.hpp"

namespace coresift {
namespace {

constexpr uint64_t kNullPage = 64 * 1024;       // below vm.mmap_min_addr: a null-based access
constexpr uint64_t kStackSlack = 256 * 1024;    // a fault this close below the stack pointer

// Frames in these modules are runtime machinery, never the bug's place (unless nothing else).
bool runtime_module(const std::string& path) {
  std::string b = base_name(path);
  for (const char* prefix : {"libc.so", "libc-", "ld-linux", "ld-", "libpthread", "libgcc_s", "linux-vdso", "[vdso]"})
    if (b.starts_with(prefix)) return true;
  return path.empty();
}

bool skipped_function(const std::optional<std::string>& f, const TriageOptions& o) {
  if (!f) return false;
  static const char* const kMachinery[] = {"raise", "abort", "__assert_fail", "__assert_fail_base", "malloc_printerr",
                                           "__libc_message", "__pthread_kill_implementation", "__pthread_kill_internal",
                                           "pthread_kill", "__restore_rt", "std::terminate", "__cxa_throw",
                                           "__gnu_cxx::__verbose_terminate_handler"};
  for (const char* m : kMachinery)
    if (*f == m) return true;
  return std::find(o.skip_functions.begin(), o.skip_functions.end(), *f) != o.skip_functions.end();
}

const char* access_word(const Mapping* m) {
  if (!m) return "unmapped";
  return m->perms & kPermWrite ? "writable" : m->perms & kPermRead ? "read-only" : "inaccessible";
}

std::string mapping_name(const HeapModel& h, const Mapping* m) {
  if (!m) return "no mapping";
  if (!m->path.empty()) return m->path;
  std::string label = h.label(*m);
  return label.empty() ? std::string("anonymous memory") : label;
}

CrashReason segv_reason(const HeapModel& h, const SignalInfo& sig, const Thread* t) {
  const Process& p = h.process();
  uint64_t a = sig.address.value_or(0);
  const Mapping* m = p.mapping_at(a);
  uint64_t pc = t ? t->pc() : 0, sp = t ? t->sp() : 0;
  std::string who = t ? fmt::format("thread {}", t->tid) : std::string("the crashing thread");
  if (a < kNullPage)
    return {"null-dereference", fmt::format("null pointer dereference: access at {:#x} by {}", a, who)};
  // The stack pointer ran into (or past) the end of its stack: a guard page, nothing, or the
  // fault lies just below sp.
  bool guard = m && (m->kind == MappingKind::kGuard || (m->perms == 0 && m->path.empty()));
  if (sp && a <= sp + 4096 && sp - std::min(sp, a) < kStackSlack && (!m || guard || m->kind == MappingKind::kStack))
    return {"stack-overflow", fmt::format("stack overflow in {}: fault at {:#x}, stack pointer {:#x}", who, a, sp)};
  if (a == pc)
    return {"jump-to-unmapped", fmt::format("jump to {} code at {:#x} ({})", m ? "non-executable" : "unmapped", a,
                                            mapping_name(h, m))};
  if (m && sig.code_name == "SEGV_ACCERR" && !(m->perms & kPermWrite))
    return {"write-to-read-only", fmt::format("write to read-only memory at {:#x} ({})", a, mapping_name(h, m))};
  return {"invalid-access", fmt::format("invalid memory access at {:#x} ({}, {})", a, access_word(m), mapping_name(h, m))};
}

CrashReason decode_reason(const HeapModel& h, const std::optional<std::string>& abort_msg) {
  const Process& p = h.process();
  if (!p.signal) return {"no-crash", "no crash: the core of a live process (e.g. gcore), no fatal signal"};
  const SignalInfo& sig = *p.signal;
  const Thread* t = p.crashed_thread();
  switch (sig.number) {
    case SIGSEGV:
      return segv_reason(h, sig, t);
    case SIGABRT:
      if (!abort_msg) return {"abort", "abort() without a message"};
      if (abort_msg->find("Assertion `") != std::string::npos) return {"assert", "assertion failed: " + *abort_msg};
      if (abort_msg->find("(): ") != std::string::npos || abort_msg->starts_with("double free") ||
          abort_msg->starts_with("corrupted") || abort_msg->starts_with("malloc") || abort_msg->starts_with("free"))
        return {"heap-corruption-abort", "glibc detected heap corruption: " + *abort_msg};
      return {"abort", "abort: " + *abort_msg};
    case SIGBUS:
      return {"bus-error", fmt::format("bus error ({}) at {:#x}", sig.code_name, sig.address.value_or(0))};
    case SIGFPE:
      return {"arithmetic", fmt::format("arithmetic exception ({})", sig.code_name)};
    default:
      return {"signal", fmt::format("killed by {} ({})", sig.name, sig.code_name.empty() ? std::to_string(sig.code)
                                                                                        : sig.code_name)};
  }
}

std::string frame_key(const TriageFrame& f) {
  std::string mod = !f.build_id.empty() ? f.build_id.substr(0, 16) : base_name(f.module);
  if (f.function_start) return fmt::format("{}+{:#x}", mod, *f.function_start);
  return fmt::format("{}@{:#x}", mod, f.module_offset);
}

// Marks the signature frames (in_signature) and returns the signature text.
std::string sign(std::vector<TriageFrame>& frames, const std::string& kind, const TriageOptions& o) {
  size_t first = 0;
  while (first < frames.size() && (runtime_module(frames[first].module) || skipped_function(frames[first].function, o)))
    ++first;
  if (first == frames.size()) first = 0;  // nothing but runtime frames: keep them
  std::vector<std::string> keys;
  const bool any_app = first < frames.size() && !runtime_module(frames[first].module);
  for (size_t i = first; i < frames.size() && keys.size() < o.signature_frames; ++i) {
    // Runtime frames further out (__libc_start_call_main below main, qsort between two
    // application frames) are left out too: the signature must not change with the libc build.
    if (any_app && runtime_module(frames[i].module)) continue;
    std::string k = frame_key(frames[i]);
    if (!keys.empty() && keys.back() == k) continue;  // recursion collapses to one frame
    keys.push_back(k);
    frames[i].in_signature = true;
  }
  return kind + (keys.empty() ? "" : " " + fmt::format("{}", fmt::join(keys, " ")));
}

}  // namespace

std::string signature_group(const std::string& signature) {
  uint64_t h = 1469598103934665603ull;
  for (unsigned char ch : signature) {
    h ^= ch;
    h *= 1099511628211ull;
  }
  return fmt::format("{:012x}", h >> 16);
}

CoreTriage triage_core(const HeapModel& s, const TriageOptions& opts) {
  const Process& p = s.process();
  CoreTriage r;
  if (p.pid) r.pid = p.pid;
  r.executable = p.executable;
  for (const Module& m : p.modules)
    if (!p.executable.empty() && m.path == p.executable) r.build_id = m.build_id;
  if (p.signal) {
    r.signal = p.signal->number;
    r.signal_name = p.signal->name;
    r.si_code = p.signal->code;
    r.si_code_name = p.signal->code_name;
    if (p.signal->number == SIGSEGV || p.signal->number == SIGBUS || p.signal->number == SIGFPE ||
        p.signal->number == SIGILL)
      r.fault_address = p.signal->address;
  }
  const ChunkTable& heap = s.table();
  for (const AllocatorInfo& a : heap.allocators)
    if (!a.abort_message.empty()) r.abort_message = a.abort_message;
  for (const Finding& f : heap.findings)
    r.heap_findings.push_back(fmt::format("{} at {:#x}: {}", f.kind, f.address, f.detail));
  r.reason = decode_reason(s, r.abort_message);

  const Thread* t = p.crashed_thread();
  if (t && p.signal) {
    r.crashed_tid = t->tid;
    for (const Frame& f : s.core().symbols().backtrace(*t)) {
      if (f.is_inline) continue;  // one frame per physical call: inlining differs between builds
      TriageFrame tf;
      tf.module = f.module;
      if (const Module* m = p.module_at(f.pc)) tf.build_id = m->build_id;
      tf.pc = f.pc;
      tf.module_offset = f.module_offset;
      tf.function_start = f.function_start;
      tf.function = f.function;
      if (!f.source_file.empty()) tf.source = fmt::format("{}:{}", f.source_file, f.line);
      r.frames.push_back(std::move(tf));
    }
    r.signature = sign(r.frames, r.reason.kind, opts);
  } else {
    r.signature = r.reason.kind + " " + base_name(p.executable);
  }
  r.group = signature_group(r.signature);
  return r;
}

}  // namespace coresift
