// Stack unwinding. libdwfl walks the CFI (.eh_frame/.debug_frame) with registers and memory
// that come only from our Process and AddressSpace; where it gives up (module file missing,
// no CFI), a validated frame-pointer walk continues. Garbage registers or stacks end the
// walk early, never loop: frames are capped and a repeated (pc, sp) stops it.
#include <elf.h>
#include <libelf.h>

#include <cstring>
#include <optional>
#include <set>

#include "symbolizer_impl.hpp"

namespace coresift {
namespace {

constexpr size_t kMaxFrames = 256;
// libdwfl identifies threads by tid; we unwind one thread per walk under this fake tid, so
// duplicate or zero tids in a damaged core do not matter.
constexpr pid_t kWalkTid = 1;

const WalkSource& source_of(void* arg) { return *static_cast<const WalkSource*>(arg); }

pid_t next_thread(Dwfl*, void* arg, void** thread_argp) {
  if (*thread_argp) return 0;  // the single thread was already returned
  *thread_argp = arg;
  return kWalkTid;
}

bool get_thread(Dwfl*, pid_t tid, void* arg, void** thread_argp) {
  if (tid != kWalkTid) return false;
  *thread_argp = arg;
  return true;
}

bool memory_read(Dwfl*, Dwarf_Addr addr, Dwarf_Word* result, void* arg) {
  auto v = source_of(arg).memory->read_u64(addr);
  if (!v) return false;
  *result = *v;
  return true;
}

bool set_initial_registers(Dwfl_Thread* thread, void* arg) {
  const auto& regs = source_of(arg).regs;
  Dwarf_Word words[kDwarfRegs];
  for (int i = 0; i < kDwarfRegs; ++i) words[i] = regs[i];
  if (!dwfl_thread_state_registers(thread, 0, kDwarfRegs, words)) return false;
  dwfl_thread_state_register_pc(thread, regs[16]);
  return true;
}

void detach(Dwfl*, void*) {}
void thread_detach(Dwfl_Thread*, void*) {}

const Dwfl_Thread_Callbacks kThreadCallbacks = {next_thread, get_thread, memory_read, set_initial_registers,
                                                detach, thread_detach};

// A frame as the walk sees it: the raw frame plus the registers the next step needs.
struct WalkFrame {
  RawFrame raw;
  std::optional<uint64_t> sp, rbp;
};

struct Walk {
  const Process* process;
  Dwfl* dwfl;
  const Mapping* stack;  // the thread's stack mapping, when known
  std::vector<WalkFrame>* frames;
  std::set<std::pair<uint64_t, uint64_t>>* seen;
  bool first_is_return_address = false;  // the walk starts from a recovered return address
  bool stopped = false;                   // we ended it (cap, loop, garbage), not libdwfl
};

std::optional<uint64_t> frame_reg(Dwfl_Frame* f, unsigned regno) {
  Dwarf_Word v;
  if (dwfl_frame_reg(f, regno, &v) != 0) return std::nullopt;
  return v;
}

int on_frame(Dwfl_Frame* state, void* arg) {
  auto* w = static_cast<Walk*>(arg);
  Dwarf_Addr pc;
  bool activation = false;
  if (!dwfl_frame_pc(state, &pc, &activation)) return DWARF_CB_ABORT;  // a libdwfl failure
  WalkFrame f;
  f.raw.pc = pc;
  f.raw.activation = activation && !(w->first_is_return_address && w->frames->empty());
  f.sp = frame_reg(state, kDwarfRsp);
  f.rbp = frame_reg(state, kDwarfRbp);
  bool inner = w->frames->empty();
  // An outer frame whose pc is not code, or (outside signal frames, which may switch to an
  // alternate stack) whose stack pointer left the thread's stack or went below its callee's,
  // comes from a corrupt stack or a frame-pointer guess: show it and stop there.
  bool off_stack = f.sp && w->stack && (*f.sp < w->stack->start || *f.sp > w->stack->end);
  bool downwards = !inner && f.sp && w->frames->back().sp && *f.sp < *w->frames->back().sp;
  bool bogus = !inner && (!is_code(*w->process, w->dwfl, pc) || (!activation && (off_stack || downwards)));
  if (!w->seen->insert({pc, f.sp.value_or(0)}).second) {
    w->stopped = true;
    return DWARF_CB_ABORT;
  }
  w->frames->push_back(f);
  if (bogus || w->frames->size() >= kMaxFrames) {
    w->stopped = true;
    return DWARF_CB_ABORT;
  }
  return DWARF_CB_OK;
}

}  // namespace

std::array<uint64_t, kDwarfRegs> dwarf_registers(const Thread& t) {
  static constexpr Reg kOrder[kDwarfRegs] = {kRax, kRdx, kRcx, kRbx, kRsi, kRdi, kRbp, kRsp, kR8,
                                             kR9,  kR10, kR11, kR12, kR13, kR14, kR15, kRip};
  std::array<uint64_t, kDwarfRegs> out{};
  for (int i = 0; i < kDwarfRegs; ++i) out[i] = t.regs[kOrder[i]];
  return out;
}

bool Symbolizer::Impl::attach_state() {
  // libdwfl needs an Elf only to pick its x86-64 backend; a bare header is enough.
  Elf64_Ehdr eh{};
  std::memcpy(eh.e_ident, ELFMAG, SELFMAG);
  eh.e_ident[EI_CLASS] = ELFCLASS64;
  eh.e_ident[EI_DATA] = ELFDATA2LSB;
  eh.e_ident[EI_VERSION] = EV_CURRENT;
  eh.e_type = ET_CORE;
  eh.e_machine = EM_X86_64;
  eh.e_version = EV_CURRENT;
  eh.e_ehsize = sizeof eh;
  static_assert(sizeof eh == sizeof backend_header);
  std::memcpy(backend_header.data(), &eh, sizeof eh);
  backend_elf = elf_memory(reinterpret_cast<char*>(backend_header.data()), backend_header.size());
  if (!backend_elf) return false;
  walk_source.memory = &memory;
  return dwfl_attach_state(dwfl, backend_elf, process.pid > 0 ? process.pid : 1, &kThreadCallbacks, &walk_source);
}

std::vector<RawFrame> Symbolizer::Impl::unwind(const Thread& t) {
  std::vector<WalkFrame> frames;
  std::set<std::pair<uint64_t, uint64_t>> seen;
  auto regs = dwarf_registers(t);
  bool from_return_address = false;

  // A jump to a non-code address (a call through a bad pointer) leaves the return address
  // on top of the stack: show the bad pc, then unwind from the caller.
  if (!is_code(process, dwfl, regs[16])) {
    auto ret = memory.read_u64(regs[kDwarfRsp]);
    if (ret && is_code(process, dwfl, *ret)) {
      frames.push_back({{regs[16], true}, regs[kDwarfRsp], regs[kDwarfRbp]});
      seen.insert({regs[16], regs[kDwarfRsp]});
      regs[16] = *ret;
      regs[kDwarfRsp] += 8;
      from_return_address = true;
    }
  }

  const Mapping* stack = process.mapping_at(t.sp());
  bool cfi_failed = true;
  size_t before = frames.size();
  if (dwfl && attached) {
    walk_source.regs = regs;
    Walk w{&process, dwfl, stack, &frames, &seen, from_return_address};
    int rc = dwfl_getthread_frames(dwfl, kWalkTid, on_frame, &w);
    cfi_failed = rc != 0 && !w.stopped;
  }
  if (frames.size() == before) frames.push_back({{regs[16], !from_return_address}, regs[kDwarfRsp], regs[kDwarfRbp]});

  // Frame-pointer fallback ([rbp] = caller's rbp, [rbp+8] = return address) where the CFI
  // walk failed. It must stay in the thread's stack and move strictly upwards.
  if (cfi_failed && stack && frames.size() < kMaxFrames && frames.back().rbp) {
    uint64_t rbp = *frames.back().rbp;
    uint64_t floor = frames.back().sp.value_or(stack->start);
    while (frames.size() < kMaxFrames && rbp >= floor && rbp >= stack->start && rbp < stack->end &&
           stack->end - rbp >= 16) {
      auto saved_rbp = memory.read_u64(rbp);
      auto ret = memory.read_u64(rbp + 8);
      if (!saved_rbp || !ret || !is_code(process, dwfl, *ret)) break;
      uint64_t sp = rbp + 16;
      if (!seen.insert({*ret, sp}).second) break;
      frames.push_back({{*ret, false}, sp, *saved_rbp});
      if (*saved_rbp <= rbp) break;
      floor = sp;
      rbp = *saved_rbp;
    }
  }

  std::vector<RawFrame> out;
  out.reserve(frames.size());
  for (const auto& f : frames) {
    out.push_back(f.raw);
    out.back().sp = f.sp.value_or(0);
  }
  return out;
}

}  // namespace coresift
