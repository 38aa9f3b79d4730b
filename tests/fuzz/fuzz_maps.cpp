// Fuzz target for read_maps_file: /proc/PID/maps, smaps and pmap text (--maps files
// are user-supplied and often hand-edited). InputError is a fine answer; any other
// exception or sanitizer report is a finding.
#include <cstddef>
#include <cstdint>
#include <span>

#include "coresift/input/inputs.hpp"
#include "fuzz/mem_file.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static coresift::fuzz::MemFile file("maps");
  file.assign(std::span<const uint8_t>(data, size));
  coresift::Diagnostics diag;
  try {
    for (const coresift::MapsEntry& e : coresift::read_maps_file(file.path(), diag))
      if (e.end <= e.start) __builtin_trap();  // entries must be non-empty ranges
  } catch (const coresift::InputError&) {
  }
  return 0;
}
