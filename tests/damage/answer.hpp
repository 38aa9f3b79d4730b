// What coresift answers about one core (from `info --json` and `heap --json`), reduced to the
// counts the sweep compares and the messages that could explain a loss.
#pragma once
#include <cstdint>
#include <map>
#include <set>
#include <string>
#include <vector>

namespace coresift::damage {

struct Answer {
  bool crashed = false;    // killed by a signal or the time limit
  int info_status = 0, heap_status = 0;
  uint64_t modules = 0, threads = 0, chunks = 0;
  std::map<std::string, uint64_t> allocator_chunks;  // name -> live + free chunks
  std::set<std::string> warnings;  // stderr lines
  // Heap findings ("jemalloc's arenas were not found…"): the heap report's own word on damage.
  // Allocator notes are not counted: they describe the heap ("1 thread tcache"), not losses.
  std::set<std::string> findings;
  bool complete() const { return info_status == 0 && heap_status == 0; }
};

Answer ask(const std::string& core, const std::vector<std::string>& extra_args);

// Glibc/jemalloc chunk addresses and arena addresses of the answer's heap (from `chunks --json`
// and `heap --json`), to aim damage at.
struct HeapTargets {
  std::vector<uint64_t> glibc_chunks;              // user addresses; the size field is 8 below
  std::vector<std::pair<std::string, uint64_t>> arenas;  // (allocator, address), first per allocator
};
HeapTargets heap_targets(const std::string& core, const std::vector<std::string>& extra_args);

}  // namespace coresift::damage
