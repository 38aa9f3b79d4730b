// Capstone decoding of libc's exported malloc functions, read from the on-disk file: the
// RIP-relative operands point at main_arena and mp_ (the TLS load in malloc's prologue that
// names `tcache`'s GOT slot is the toolkit's tls_got_slots).
#include "allocators/common/disassembler.hpp"
#include "glibc.hpp"

namespace coresift::glibc {

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

}  // namespace coresift::glibc
