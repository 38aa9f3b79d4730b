// A read-only view of an input file's bytes. Plain files are mmapped (never copied);
// zstd/xz/gzip files are detected by magic and decompressed once into an unlinked
// temporary file that is then mmapped the same way.
#pragma once
#include <cstdint>
#include <memory>
#include <span>
#include <string>

#include "coresift/diag.hpp"

namespace coresift {

enum class Compression { kNone, kZstd, kXz, kGzip };
const char* compression_name(Compression c);
Compression detect_compression(std::span<const uint8_t> head);

class MappedFile {
 public:
  // Throws InputError when the file cannot be opened or is empty. A damaged compressed
  // stream keeps what was decompressed and records a warning.
  static std::unique_ptr<MappedFile> open(const std::string& path, Diagnostics& diag);
  ~MappedFile();
  MappedFile(const MappedFile&) = delete;
  MappedFile& operator=(const MappedFile&) = delete;

  const std::string& path() const { return path_; }
  std::span<const uint8_t> bytes() const { return {data_, size_}; }
  uint64_t size() const { return size_; }
  Compression compression() const { return compression_; }

 private:
  MappedFile() = default;
  std::string path_;
  const uint8_t* data_ = nullptr;
  uint64_t size_ = 0;
  Compression compression_ = Compression::kNone;
};

}  // namespace coresift
