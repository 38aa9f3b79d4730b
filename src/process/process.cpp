#include "coresift/process/process.hpp"

#include <elf.h>

#include <algorithm>
#include <csignal>

#include "builders.hpp"

namespace coresift {
namespace {

// Signals whose default action dumps core. gcore of a live process records the SIGSTOP gdb
// attached with; that is not why the process "died", so it is not reported.
bool is_core_signal(int s) {
  return s == SIGSEGV || s == SIGBUS || s == SIGILL || s == SIGFPE || s == SIGABRT || s == SIGTRAP ||
         s == SIGSYS || s == SIGQUIT || s == SIGXCPU || s == SIGXFSZ;
}

void build_threads(Process& p, const CoreFile& core) {
  for (const ThreadNote& n : core.threads) {
    Thread t;
    t.tid = n.tid;
    t.regs = n.regs;
    if (n.tid == p.pid && core.process) t.name = core.process->fname;
    p.threads.push_back(t);
  }
  // The kernel writes the thread that took the fatal signal first, and only it carries
  // NT_SIGINFO. gcore of a live process carries no fatal signal at all.
  for (size_t i = 0; i < core.threads.size(); ++i) {
    const ThreadNote& n = core.threads[i];
    int signo = n.siginfo ? n.siginfo->signo : n.cursig;
    if (!is_core_signal(signo) || !(n.siginfo || i == 0)) continue;
    SignalInfo s;
    s.number = signo;
    s.name = signal_name(signo);
    s.tid = n.tid;
    if (n.siginfo) {
      s.code = n.siginfo->code;
      s.code_name = signal_code_name(signo, s.code);
      s.address = n.siginfo->address;
      s.sender_pid = n.siginfo->sender_pid;
    }
    p.signal = s;
    p.threads[i].crashed = true;
    break;
  }
}

}  // namespace

const Mapping* Process::mapping_at(uint64_t addr) const {
  auto it = std::upper_bound(mappings.begin(), mappings.end(), addr,
                             [](uint64_t a, const Mapping& m) { return a < m.start; });
  if (it == mappings.begin()) return nullptr;
  --it;
  return it->contains(addr) ? &*it : nullptr;
}

const Module* Process::module_at(uint64_t addr) const {
  auto it = std::upper_bound(modules.begin(), modules.end(), addr,
                             [](uint64_t a, const Module& m) { return a < m.base; });
  if (it == modules.begin()) return nullptr;
  --it;
  return it->contains(addr) ? &*it : nullptr;
}

const Thread* Process::crashed_thread() const {
  for (const Thread& t : threads)
    if (t.crashed) return &t;
  return nullptr;
}

std::optional<uint64_t> Process::auxv_value(uint64_t key) const {
  for (auto [k, v] : auxv)
    if (k == key) return v;
  return std::nullopt;
}

Process build_process(const LoadedInputs& in, const ProcessOptions& opts, Diagnostics& diag) {
  Process p;
  std::vector<MapsEntry> maps;
  for (const std::string& f : opts.maps_files) {
    auto m = read_maps_file(f, diag);
    maps.insert(maps.end(), m.begin(), m.end());
  }
  if (in.core) {
    const CoreFile& core = *in.core;
    if (core.process) p.pid = core.process->pid;
    if (p.pid == 0 && !core.threads.empty()) p.pid = core.threads.front().tid;
    p.auxv = core.auxv;
    build_threads(p, core);
    if (core.threads.empty())
      diag.warn(core.path, core.notes_cut_at,
                core.notes_cut_at ? "core has no thread notes (NT_PRSTATUS): the notes are cut at this offset"
                                  : "core has no thread notes (NT_PRSTATUS)");
  }
  std::vector<FileNoteEntry> files;
  if (in.core) files = in.core->files.empty() ? recover_file_entries(*in.core, in.memory, opts, diag) : in.core->files;
  p.mappings = build_mappings(in, files, maps);
  p.modules = build_modules(p.mappings, in.memory, opts, diag);
  if (in.core && p.modules.empty())
    diag.warn(in.core->path, in.core->notes_cut_at,
              in.core->files.empty() ? "no modules: the core has no NT_FILE note and no ELF image with a known file was "
                                       "found in its memory"
                                     : "no modules: no file listed in NT_FILE starts with an ELF header");
  label_mappings(p, in.memory);

  if (auto entry = p.auxv_value(AT_ENTRY))
    if (const Module* m = p.module_at(*entry)) p.executable = m->path;
  read_command_line(p, in.memory);
  if (p.executable.empty())
    if (auto fn = p.auxv_value(AT_EXECFN))
      if (auto s = in.memory.read_cstring(*fn)) p.executable = *s;
  if (p.argv.empty() && in.core && in.core->process && !in.core->process->psargs.empty()) {
    // Fall back to the kernel's 80-byte summary, split on spaces.
    std::string a = in.core->process->psargs;
    for (size_t i = 0; i < a.size();) {
      size_t j = a.find(' ', i);
      if (j == std::string::npos) j = a.size();
      if (j > i) p.argv.push_back(a.substr(i, j - i));
      i = j + 1;
    }
  }
  return p;
}

}  // namespace coresift
