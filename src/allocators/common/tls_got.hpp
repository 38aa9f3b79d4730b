// The GOT→%fs matcher of the allocator toolkit: code that reads a thread-local variable of
// its own library (initial-exec TLS) loads the variable's thread-pointer offset from a GOT
// slot (`mov slot(%rip), reg`) and then addresses `%fs:disp(reg)`. The slot's runtime value,
// read from the core, is the TPOFF of the variable (glibc's `tcache`, jemalloc's tsd).
#pragma once
#include <cstdint>
#include <vector>

#include "disk_elf.hpp"

namespace coresift {

// The GOT slots (link addresses) whose loaded register addresses %fs memory, in code order,
// within the first `max_bytes` of the function at link address `fn`. A register written by
// anything else is no longer tracked.
std::vector<uint64_t> tls_got_slots(const DiskElf& elf, uint64_t fn, size_t max_bytes);

}  // namespace coresift
