// JVM Native Memory Tracking: with -XX:NativeMemoryTracking=summary|detail, HotSpot puts a
// 16-byte header in front of every os::malloc block (JDK 17.0.x updates with the canary, and
// JDK 18+): payload size (8 bytes), malloc-site marker (4), category index (1), unused (1),
// canary 0xE99E (2); a 2-byte footer 0xE8 0x8E follows the payload. The category names are
// read from libjvm itself (NMTUtil's name table, found through the "Java Heap" string), so
// the categories of whichever JDK made the core are used.
#include <cstring>

#include "allocators/common/disk_elf.hpp"
#include "parts.hpp"

namespace coresift::sig {
namespace {

constexpr std::string_view kFirstName{"\0Java Heap\0", 11};

// Address of "Java Heap" in the module: from memory when the core has the page, else from
// the file (mapping its offset through the file's PT_LOAD headers).
std::optional<uint64_t> find_first_name(const AddressSpace& mem, const Module& m) {
  for (const Segment& s : mem.segments()) {
    if (s.end <= m.base || s.start >= m.end || !s.present) continue;
    std::string_view bytes(reinterpret_cast<const char*>(s.data), s.present);
    if (size_t at = bytes.find(kFirstName); at != std::string_view::npos) return s.start + at + 1;
  }
  if (m.disk_path.empty() || m.build_id_mismatch) return std::nullopt;
  auto img = DiskElf::open(m.disk_path);
  if (!img) return std::nullopt;
  std::string_view file = img->file_bytes();
  size_t at = file.find(kFirstName);
  if (at == std::string_view::npos || file.size() < 64) return std::nullopt;
  uint64_t phoff;
  uint16_t phnum;
  std::memcpy(&phoff, file.data() + 32, 8);
  std::memcpy(&phnum, file.data() + 56, 2);
  for (uint16_t i = 0; i < phnum && phoff + (i + 1) * 56ull <= file.size(); ++i) {
    const char* ph = file.data() + phoff + i * 56ull;
    uint32_t type;
    uint64_t off, vaddr, filesz;
    std::memcpy(&type, ph, 4);
    std::memcpy(&off, ph + 8, 8);
    std::memcpy(&vaddr, ph + 16, 8);
    std::memcpy(&filesz, ph + 32, 8);
    if (type == 1 && at + 1 >= off && at + 1 - off < filesz) return m.load_bias + vaddr + (at + 1 - off);
  }
  return std::nullopt;
}

}  // namespace

void NmtTable::build(const AddressSpace& mem, const Process& p, const ModuleMap& mods, StaticReader& rd) {
  for (size_t i = 0; i < p.modules.size(); ++i) {
    if (mods.basename(static_cast<int>(i)) != "libjvm.so") continue;
    const Module& m = p.modules[i];
    auto first = find_first_name(mem, m);
    if (!first) return;
    // The table of name pointers lives in libjvm's relocated data, which the core holds.
    for (const Segment& s : mem.segments()) {
      if (s.end <= m.base || s.start >= m.end || !s.present) continue;
      const ModuleRange* r = mods.find(s.start);
      if (!r || r->code) continue;
      for (uint64_t off = (8 - s.start % 8) % 8; off + 16 <= s.present; off += 8) {
        uint64_t w;
        std::memcpy(&w, s.data + off, 8);
        if (w != *first) continue;
        std::vector<std::string> found;
        for (uint64_t e = s.start + off; found.size() < 64; e += 8) {
          auto ptr = rd.u64(e);
          const ModuleRange* pr = ptr ? mods.find(*ptr) : nullptr;
          if (!pr || pr->module != static_cast<int>(i)) break;
          auto name = rd.cstring(*ptr, 64);
          if (!name || name->empty()) break;
          found.push_back(*name);
          if (*name == "Unknown") break;  // mtNone ends the list
        }
        if (found.size() >= 10 && found.back() == "Unknown") {
          names_ = std::move(found);
          module_ = static_cast<int>(i);
          return;
        }
      }
    }
    return;
  }
}

const std::string* NmtTable::category(std::span<const uint8_t> v) const {
  if (names_.empty() || v.size() < 18) return nullptr;
  if (v[14] != 0x9e || v[15] != 0xe9 || v[13] != 0 || v[12] >= names_.size()) return nullptr;
  uint64_t size;
  std::memcpy(&size, v.data(), 8);
  if (size > v.size() - 18 || v[16 + size] != 0xe8 || v[17 + size] != 0x8e) return nullptr;
  return &names_[v[12]];
}

}  // namespace coresift::sig
