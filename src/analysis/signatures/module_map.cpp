// Address ranges of every module, for "does this word point into a module, and which".
#include <algorithm>
#include <cstring>

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

ModuleMap::ModuleMap(const Process& p, StaticReader& rd) {
  for (const Module& m : p.modules) {
    basenames_.push_back(base_of(m.path));
    int idx = static_cast<int>(basenames_.size() - 1);
    if (libc_ < 0 && (basenames_.back().starts_with("libc.so") || basenames_.back().starts_with("libc-"))) libc_ = idx;
    bool glibc = is_glibc(basenames_.back());
    // ELF64 header: e_phoff at 32, e_phnum at 56; each Elf64_Phdr is 56 bytes.
    auto phoff = rd.u64(m.base + 32);
    uint16_t phnum = 0;
    if (!phoff || rd.read(m.base + 56, &phnum, 2) != 2 || phnum > 256) continue;
    for (uint16_t i = 0; i < phnum; ++i) {
      uint8_t ph[56];
      if (rd.read(m.base + *phoff + i * 56ull, ph, sizeof ph) != sizeof ph) break;
      uint32_t type, flags;
      uint64_t vaddr, memsz;
      std::memcpy(&type, ph, 4);
      std::memcpy(&flags, ph + 4, 4);
      std::memcpy(&vaddr, ph + 16, 8);
      std::memcpy(&memsz, ph + 40, 8);
      if (type != 1 /* PT_LOAD */ || memsz == 0 || memsz > (1ull << 40)) continue;
      bool code = (flags & 1) != 0;  // PF_X
      ranges_.push_back({m.load_bias + vaddr, m.load_bias + vaddr + memsz, idx, code, code || !glibc});
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
