// Where a module's separate debug file (or the module file itself) is found by build-id:
// the one search order shared by the symbolizer and the allocator walkers' debug-fact
// readers, so they never disagree about which file stands for a module.
#pragma once
#include <string>
#include <vector>

#include "coresift/process/symbols.hpp"

namespace coresift {

// Roots searched like /usr/lib/debug, in order: --debug-dir (absolute, as given), the
// sysroot's /usr/lib/debug, then the host's.
std::vector<std::string> debug_roots(const SymbolOptions& opts);

// ROOT/.build-id/xx/rest.debug (debug_file) or ROOT/.build-id/xx/rest (the module file, where
// distributions ship that link) under the first root where the file carries that build-id;
// "" when none does or the id is not hex.
std::string find_by_build_id(const SymbolOptions& opts, const std::string& build_id, bool debug_file);

// True when `path` is an ELF file whose GNU build-id is `id` (lower-case hex).
bool file_has_build_id(const std::string& path, const std::string& id);

}  // namespace coresift
