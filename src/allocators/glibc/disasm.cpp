// Capstone decoding of libc's exported malloc functions, read from the on-disk file: the
// RIP-relative operands point at main_arena and mp_, and the TLS load in malloc's prologue
// names the GOT slot holding the thread-pointer offset of `tcache`.
#include <capstone/capstone.h>

#include "glibc.hpp"

namespace coresift::glibc {
namespace {

class Disassembler {
 public:
  Disassembler() {
    if (cs_open(CS_ARCH_X86, CS_MODE_64, &h_) != CS_ERR_OK) {
      h_ = 0;
      return;
    }
    cs_option(h_, CS_OPT_DETAIL, CS_OPT_ON);
  }
  ~Disassembler() {
    if (h_) cs_close(&h_);
  }
  Disassembler(const Disassembler&) = delete;
  Disassembler& operator=(const Disassembler&) = delete;

  // Calls f(insn) for each instruction until f returns false, a `ret`/`jmp` to elsewhere
  // ends a straight path, or the bytes run out.
  template <class F>
  void each(const DiskElf& img, uint64_t fn, size_t max_bytes, F&& f) {
    if (!h_) return;
    std::vector<uint8_t> code = img.bytes_at(fn, max_bytes);
    if (code.empty()) return;
    const uint8_t* p = code.data();
    size_t left = code.size();
    uint64_t addr = fn;
    cs_insn* insn = cs_malloc(h_);
    if (!insn) return;
    while (left > 0 && cs_disasm_iter(h_, &p, &left, &addr, insn)) {
      if (!f(*insn)) break;
    }
    cs_free(insn, 1);
  }

 private:
  csh h_ = 0;
};

}  // namespace

std::vector<RipAccess> rip_accesses(const DiskElf& img, uint64_t fn, size_t max_bytes) {
  std::vector<RipAccess> out;
  Disassembler d;
  d.each(img, fn, max_bytes, [&](const cs_insn& in) {
    const cs_x86& x = in.detail->x86;
    for (int i = 0; i < x.op_count; ++i) {
      const cs_x86_op& op = x.operands[i];
      if (op.type != X86_OP_MEM || op.mem.base != X86_REG_RIP || op.mem.index != X86_REG_INVALID) continue;
      RipAccess a;
      a.insn = in.address;
      a.target = in.address + in.size + static_cast<uint64_t>(op.mem.disp);
      a.size = op.size;
      a.is_lea = in.id == X86_INS_LEA;
      a.is_cmp = in.id == X86_INS_CMP;
      out.push_back(a);
    }
    return true;
  });
  return out;
}

std::optional<uint64_t> first_rip_lea(const DiskElf& img, uint64_t fn, size_t max_bytes) {
  for (const RipAccess& a : rip_accesses(img, fn, max_bytes))
    if (a.is_lea) return a.target;
  return std::nullopt;
}

std::vector<uint64_t> tls_got_slots(const DiskElf& img, uint64_t fn, size_t max_bytes) {
  std::vector<uint64_t> out;
  // register → GOT slot it was loaded from
  std::vector<std::pair<x86_reg, uint64_t>> loaded;
  Disassembler d;
  d.each(img, fn, max_bytes, [&](const cs_insn& in) {
    const cs_x86& x = in.detail->x86;
    if (in.id == X86_INS_MOV && x.op_count == 2) {
      const cs_x86_op& dst = x.operands[0];
      const cs_x86_op& src = x.operands[1];
      if (dst.type == X86_OP_REG && src.type == X86_OP_MEM && src.size == 8 && src.mem.base == X86_REG_RIP &&
          src.mem.segment == X86_REG_INVALID) {
        loaded.push_back({dst.reg, in.address + in.size + static_cast<uint64_t>(src.mem.disp)});
        return true;
      }
    }
    for (int i = 0; i < x.op_count; ++i) {
      const cs_x86_op& op = x.operands[i];
      if (op.type != X86_OP_MEM || op.mem.segment != X86_REG_FS || op.mem.disp != 0) continue;
      for (auto it = loaded.rbegin(); it != loaded.rend(); ++it)
        if (it->first == op.mem.base && op.mem.index == X86_REG_INVALID) {
          out.push_back(it->second);
          break;
        }
    }
    return true;
  });
  return out;
}

}  // namespace coresift::glibc
