// Address ranges of every module, for "does this word point into a module, and which".
#include <algorithm>

#include "parts.hpp"

namespace coresift::sig {
namespace {

std::string base_of(const std::string& path) {
  size_t slash = path.rfind('/');
  return slash == std::string::npos ? path : path.substr(slash + 1);
}

// glibc's own libraries: their data is what glibc internals point at (locale tables, stdio
// vtables, main_arena, _rtld_global…) from memory no user code owns, so pointers into it say
// nothing about who allocated a chunk. Pointers into their code still count.
bool is_glibc(const std::string& base) {
  return base.starts_with("libc.so") || base.starts_with("libc-") || base.starts_with("ld-linux") ||
         base.starts_with("ld-2.") || base.starts_with("ld64.so");
}

}  // namespace

ModuleMap::ModuleMap(const Process& p) {
  for (const Module& m : p.modules) {
    basenames_.push_back(base_of(m.path));
    if (libc_ < 0 && (basenames_.back().starts_with("libc.so") || basenames_.back().starts_with("libc-"))) libc_ = static_cast<int>(basenames_.size() - 1);
  }
  for (size_t i = 0; i < p.mappings.size(); ++i) {
    const Mapping& map = p.mappings[i];
    if (map.path.empty()) continue;
    const Module* mod = p.module_at(map.start);
    if (!mod || mod->path != map.path) continue;
    int idx = static_cast<int>(mod - p.modules.data());
    bool glibc = is_glibc(basenames_[static_cast<size_t>(idx)]);
    bool code = (map.perms & kPermExec) != 0;
    ranges_.push_back({map.start, map.end, idx, code, code || !glibc});
    // The module's .bss continues in the anonymous mapping right after its last file mapping.
    if (i + 1 < p.mappings.size()) {
      const Mapping& next = p.mappings[i + 1];
      if (next.path.empty() && next.label.empty() && next.start == map.end && (next.perms & kPermWrite) &&
          (map.perms & kPermWrite) && next.size() <= (64ull << 20))
        ranges_.push_back({next.start, next.end, idx, false, !glibc});
    }
  }
  std::sort(ranges_.begin(), ranges_.end(), [](const auto& a, const auto& b) { return a.start < b.start; });
  for (const auto& r : ranges_) {
    lo_ = std::min(lo_, r.start);
    hi_ = std::max(hi_, r.end);
  }
}

const ModuleRange* ModuleMap::find_slow(uint64_t a) const {
  auto it = std::upper_bound(ranges_.begin(), ranges_.end(), a, [](uint64_t x, const ModuleRange& r) { return x < r.start; });
  if (it == ranges_.begin()) return nullptr;
  --it;
  return a < it->end ? &*it : nullptr;
}

}  // namespace coresift::sig
