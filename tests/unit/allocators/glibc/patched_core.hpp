// A committed corpus core rewritten in memory for damage tests: words written at virtual
// addresses (vaddr → file offset through the core's PT_LOADs), or a PT_LOAD header changed
// (moved, or its file bytes dropped as coredump_filter does), then walked again.
#pragma once
#include <nlohmann/json.hpp>

#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "corpus.hpp"

namespace glibc_test {

class PatchedCore {
 public:
  // The census kernel core (host glibc), made once; nullptr when the committed core is missing.
  static PatchedCore* census();
  const nlohmann::json& truth() const { return truth_; }
  const coresift::ChunkTable& clean() { return session_->heap(); }
  const coresift::Session& session() const { return *session_; }

  // File offset of a virtual address in the (decompressed) core.
  size_t offset(uint64_t addr) const;
  uint64_t read(uint64_t addr) const;
  // A copy of the core with the words written.
  std::vector<uint8_t> bytes_with(const std::vector<std::pair<uint64_t, uint64_t>>& patches) const;
  // Sets a 64-bit field of the PT_LOAD holding `addr` in `bytes` (p_vaddr, p_filesz, …).
  static constexpr size_t kVaddr = 0x10, kFilesz = 0x20;
  void set_load_field(std::vector<uint8_t>& bytes, uint64_t addr, size_t field, uint64_t value) const;
  // Walks a rewritten core (also the one from bytes_with).
  std::unique_ptr<coresift::Session> walk_bytes(const std::vector<uint8_t>& bytes, bool nodbg = true);
  std::unique_ptr<coresift::Session> walk(const std::vector<std::pair<uint64_t, uint64_t>>& patches, bool nodbg = true) {
    return walk_bytes(bytes_with(patches), nodbg);
  }

 private:
  std::vector<uint8_t> original_;
  nlohmann::json truth_;
  std::string path_;
  std::unique_ptr<coresift::Session> session_;
  int counter_ = 0;
};

const nlohmann::json* allocation(const nlohmann::json& truth, int thread, const std::string& cls, int index);
bool finding_at(const coresift::ChunkTable& t, const std::string& kind, uint64_t addr);
std::string findings_text(const coresift::ChunkTable& t);
// Chunk addresses of the free rows of one bin in a walk, in address order.
std::vector<uint64_t> rows_in(const coresift::ChunkTable& t, coresift::ChunkBin bin, uint16_t arena);

}  // namespace glibc_test
