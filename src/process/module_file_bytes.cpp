// Bytes of a file-backed mapping read from the module's file on disk, for the mappings whose
// bytes the core does not hold (gcore leaves out read-only file mappings). Only a file whose
// build-id was not found to differ from the process's copy is read.
#include <unistd.h>

#include "coresift/input/regular_file.hpp"
#include "coresift/process/process.hpp"

namespace coresift {

ModuleFileBytes Process::file_bytes(uint64_t addr, uint64_t n) const {
  ModuleFileBytes out;
  const Mapping* m = mapping_at(addr);
  const Module* mod = module_at(addr);
  if (!m || !mod || m->path.empty() || m->path != mod->path || mod->disk_path.empty() || mod->build_id_mismatch)
    return out;
  n = std::min(n, m->end - addr);
  OpenedFile f = open_regular_file(mod->disk_path);
  if (f.fd < 0) return out;
  uint64_t offset = m->offset + (addr - m->start);
  if (offset < f.size) {
    out.bytes.resize(std::min(n, f.size - offset));
    ssize_t got = ::pread(f.fd, out.bytes.data(), out.bytes.size(), static_cast<off_t>(offset));
    out.bytes.resize(got > 0 ? static_cast<size_t>(got) : 0);
  }
  ::close(f.fd);
  if (!out.bytes.empty()) out.file = mod->disk_path;
  return out;
}

}  // namespace coresift
