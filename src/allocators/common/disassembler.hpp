// Capstone over code read from an on-disk library (x86-64, with instruction details): the
// allocator walkers decode exported functions to find the globals and TLS slots they use.
#pragma once
#include <capstone/capstone.h>

#include <cstdint>
#include <vector>

#include "disk_elf.hpp"

namespace coresift {

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

  // Calls f(insn) for each instruction of the function at link address `fn` (at most
  // `max_bytes` of it) until f returns false or the bytes or the decodable code run out.
  template <class F>
  void each(const DiskElf& elf, uint64_t fn, size_t max_bytes, F&& f) {
    if (!h_) return;
    std::vector<uint8_t> code = elf.bytes_at(fn, max_bytes);
    if (code.empty()) return;
    const uint8_t* p = code.data();
    size_t left = code.size();
    uint64_t addr = fn;
    cs_insn* insn = cs_malloc(h_);
    if (!insn) return;
    while (left > 0 && cs_disasm_iter(h_, &p, &left, &addr, insn)) {
      if (!insn->detail) continue;
      if (!f(*insn)) break;
    }
    cs_free(insn, 1);
  }

 private:
  csh h_ = 0;
};

}  // namespace coresift
