// The damage the sweep applies to one core: cuts at every 10 %, and byte flips in the notes,
// in glibc chunk headers and in each allocator's first arena.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "answer.hpp"
#include "core_layout.hpp"

namespace coresift::damage {

struct Case {
  std::string name;        // stable across runs: the KNOWN list names cases by it
  uint64_t keep = 0;       // cut: bytes kept (0 = not a cut)
  uint64_t offset = 0;     // patch: file offset ...
  std::vector<uint8_t> bytes;  // ... and the bytes written there
};

std::vector<Case> make_cases(const std::string& core_name, const std::vector<uint8_t>& core, const CoreLayout& layout,
                             const HeapTargets& targets);

}  // namespace coresift::damage
