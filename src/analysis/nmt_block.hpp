// HotSpot's Native Memory Tracking header: with -XX:NativeMemoryTracking=summary|detail each
// os::malloc block (JVMTI's Allocate included) is preceded, inside its malloc chunk, by 16
// bytes — payload size (8), malloc-site marker (4), category (1), 0 (1), canary 0xE99E (2) —
// and followed by the footer bytes E8 8E. The program's pointers point at the payload,
// 16 bytes into the chunk. (JDK 17.0.x updates with the canary, and JDK 18+.)
#pragma once
#include <cstdint>

#include "coresift/input/address_space.hpp"

namespace coresift {

constexpr uint64_t kNmtHeaderBytes = 16;

// Whether the chunk [addr, addr + size) holds an NMT block: header, canary and footer agree.
inline bool is_nmt_block(const AddressSpace& mem, uint64_t addr, uint64_t size) {
  if (size < kNmtHeaderBytes + 2) return false;
  auto marks = mem.read_u64(addr + 8);
  if (!marks || *marks >> 48 != 0xE99E || (*marks >> 40 & 0xff) != 0) return false;
  auto payload = mem.read_u64(addr);
  if (!payload || *payload > size - kNmtHeaderBytes - 2) return false;
  uint8_t footer[2];
  return mem.read(addr + kNmtHeaderBytes + *payload, footer, 2) == 2 && footer[0] == 0xE8 && footer[1] == 0x8E;
}

}  // namespace coresift
