// Static data from memory, else from the module file (see parts.hpp).
#include <cstring>
#include <map>

#include "allocators/common/disk_elf.hpp"
#include "parts.hpp"

namespace coresift::sig {

struct StaticReader::Files {
  std::map<const Module*, std::unique_ptr<DiskElf>> open;  // null: could not be used
};

StaticReader::StaticReader(const AddressSpace& mem, const Process& p) : mem_(mem), p_(p), files_(std::make_unique<Files>()) {}
StaticReader::~StaticReader() = default;

size_t StaticReader::read(uint64_t addr, void* out, size_t n) {
  size_t got = mem_.read(addr, out, n);
  if (got == n) return n;
  // Only read-only pages of the module hold the file's bytes unchanged (gcore may leave
  // whole read-only mappings out, so a missing mapping is fine; a writable one is not).
  const Mapping* map = p_.mapping_at(addr + got);
  if (map && (map->perms & kPermWrite)) return got;
  const Module* mod = p_.module_at(addr + got);
  if (!mod || (map && mod->path != map->path) || mod->disk_path.empty() || mod->build_id_mismatch) return got;
  auto [it, fresh] = files_->open.try_emplace(mod);
  if (fresh) it->second = DiskElf::open(mod->disk_path);
  if (!it->second) return got;
  auto bytes = it->second->bytes_at(addr + got - mod->load_bias, n - got);
  std::memcpy(static_cast<uint8_t*>(out) + got, bytes.data(), bytes.size());
  return got + bytes.size();
}

std::optional<uint64_t> StaticReader::u64(uint64_t addr) {
  uint64_t v = 0;
  if (read(addr, &v, 8) != 8) return std::nullopt;
  return v;
}

std::optional<std::string> StaticReader::cstring(uint64_t addr, size_t max_len) {
  char buf[512];
  size_t n = read(addr, buf, std::min(max_len, sizeof buf));
  const void* nul = std::memchr(buf, 0, n);
  if (!nul) return std::nullopt;
  return std::string(buf, static_cast<size_t>(static_cast<const char*>(nul) - buf));
}

}  // namespace coresift::sig
