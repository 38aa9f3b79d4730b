// Turns the user's INPUT arguments (core files, possibly compressed, and FILE@0xBASE raw
// ranges) into one AddressSpace plus the decoded core, if any.
#pragma once
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "coresift/diag.hpp"
#include "coresift/input/address_space.hpp"
#include "coresift/input/elf_core.hpp"
#include "coresift/input/mapped_file.hpp"

namespace coresift {

struct RawRangeSpec {
  std::string file;
  uint64_t base = 0;
};
// Parses "FILE@0xBASE"; nullopt when `arg` has no '@' followed by a hex address.
std::optional<RawRangeSpec> parse_raw_range(const std::string& arg);

// One line of a /proc/PID/maps or pmap listing.
struct MapsEntry {
  uint64_t start = 0;
  uint64_t end = 0;
  uint8_t perms = 0;
  uint64_t offset = 0;
  std::string path;  // file path, or a pseudo name like "[heap]", "[stack]", "" for anonymous
};
// Parses /proc/PID/maps (or smaps), `pmap`, `pmap -x`, `pmap -X`/`-XX` or `pmap -d` text.
// Damaged lines are skipped with a warning naming the line; a file that is not a regular file
// (FIFO, device, directory) or cannot be read is an InputError. Never throws anything else.
std::vector<MapsEntry> read_maps_file(const std::string& path, Diagnostics& diag);

struct RawRange {
  std::string file;
  uint64_t base = 0;
  uint64_t size = 0;
};

struct LoadedInputs {
  std::vector<std::unique_ptr<MappedFile>> files;  // keep the bytes alive
  std::optional<CoreFile> core;                    // at most one core per analysis
  std::vector<RawRange> raw_ranges;
  AddressSpace memory;
};

// Throws InputError for inputs that give nothing to analyse.
LoadedInputs load_inputs(const std::vector<std::string>& args, Diagnostics& diag);

}  // namespace coresift
