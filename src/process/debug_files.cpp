#include "coresift/process/debug_files.hpp"

#include <elfutils/libdwelf.h>
#include <fmt/format.h>
#include <libelf.h>
#include <unistd.h>

#include <filesystem>

#include "coresift/input/regular_file.hpp"

namespace coresift {
namespace {

bool is_hex_id(const std::string& id) {
  if (id.size() < 4 || id.size() % 2) return false;
  for (char c : id)
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
  return true;
}

}  // namespace

bool file_has_build_id(const std::string& path, const std::string& id) {
  int fd = open_regular_file(path).fd;  // never a FIFO or device named by the core
  if (fd < 0) return false;
  bool match = false;
  if (Elf* e = elf_begin(fd, ELF_C_READ_MMAP, nullptr)) {
    const void* bits = nullptr;
    ssize_t len = dwelf_elf_gnu_build_id(e, &bits);
    if (len > 0) {
      std::string hex;
      for (ssize_t i = 0; i < len; ++i) hex += fmt::format("{:02x}", static_cast<const uint8_t*>(bits)[i]);
      match = hex == id;
    }
    elf_end(e);
  }
  ::close(fd);
  return match;
}

std::vector<std::string> debug_roots(const SymbolOptions& opts) {
  std::vector<std::string> roots;
  for (const auto& d : opts.debug_dirs) {
    std::error_code ec;
    auto abs = std::filesystem::absolute(d, ec);
    // A ':' would split libdwfl's debuginfo path, which these roots also make up.
    if (!ec && d.find(':') == std::string::npos) roots.push_back(abs.lexically_normal().string());
  }
  if (!opts.sysroot.empty()) roots.push_back(opts.sysroot + "/usr/lib/debug");
  roots.push_back("/usr/lib/debug");
  return roots;
}

std::string find_by_build_id(const SymbolOptions& opts, const std::string& build_id, bool debug_file) {
  if (!is_hex_id(build_id)) return "";
  for (const auto& root : debug_roots(opts)) {
    std::string p = fmt::format("{}/.build-id/{}/{}{}", root, build_id.substr(0, 2), build_id.substr(2),
                                debug_file ? ".debug" : "");
    if (::access(p.c_str(), R_OK) == 0 && file_has_build_id(p, build_id)) return p;
  }
  return "";
}

}  // namespace coresift
