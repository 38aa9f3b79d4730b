#include "tls_got.hpp"

#include <map>

#include "disassembler.hpp"

namespace coresift {
namespace {

// `mov reg64, qword ptr [rip + disp]`: the GOT slot it loads, or 0.
uint64_t got_load(const cs_insn& in) {
  const cs_x86& x = in.detail->x86;
  if (in.id != X86_INS_MOV || x.op_count != 2) return 0;
  const cs_x86_op& dst = x.operands[0];
  const cs_x86_op& src = x.operands[1];
  if (dst.type != X86_OP_REG || dst.size != 8 || src.type != X86_OP_MEM || src.size != 8 || src.mem.base != X86_REG_RIP ||
      src.mem.index != X86_REG_INVALID || src.mem.segment != X86_REG_INVALID)
    return 0;
  return in.address + in.size + static_cast<uint64_t>(src.mem.disp);
}

}  // namespace

std::vector<uint64_t> tls_got_slots(const DiskElf& elf, uint64_t fn, size_t max_bytes) {
  std::vector<uint64_t> out;
  std::map<unsigned, uint64_t> reg_slot;  // register → GOT slot it was loaded from
  Disassembler d;
  d.each(elf, fn, max_bytes, [&](const cs_insn& in) {
    const cs_x86& x = in.detail->x86;
    if (uint64_t slot = got_load(in)) {
      reg_slot[x.operands[0].reg] = slot;
      return true;
    }
    for (uint8_t k = 0; k < x.op_count; ++k) {
      const cs_x86_op& op = x.operands[k];
      if (op.type != X86_OP_MEM || op.mem.segment != X86_REG_FS) continue;
      auto it = reg_slot.find(op.mem.base);
      if (it == reg_slot.end()) it = reg_slot.find(op.mem.index);
      if (it != reg_slot.end()) out.push_back(it->second);
      break;
    }
    // A register written by this instruction no longer holds the slot's value.
    if (x.op_count >= 1 && x.operands[0].type == X86_OP_REG && in.id != X86_INS_CMP && in.id != X86_INS_TEST)
      reg_slot.erase(x.operands[0].reg);
    return true;
  });
  return out;
}

}  // namespace coresift
