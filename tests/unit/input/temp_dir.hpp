// A private scratch directory for tests that need real files (cores, compressed copies,
// maps text), removed with everything in it when the test ends.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

namespace coresift::test {

class TempDir {
 public:
  TempDir();
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;

  const std::string& path() const { return path_; }
  // Writes `bytes` to path()/name and returns the full path.
  std::string write(const std::string& name, const std::vector<uint8_t>& bytes) const;
  std::string write(const std::string& name, const std::string& text) const;

 private:
  std::string path_;
};

std::vector<uint8_t> read_file(const std::string& path);
// read_file as text.
std::string read_text(const std::string& path);

// Runs `tool` (zstd, xz or gzip) on `path` and returns the compressed file's path
// (path + ".zst"/".xz"/".gz"). Throws std::runtime_error when the tool fails.
std::string compress_with(const std::string& tool, const std::string& path);

// Runs a shell command, capturing stdout. Throws std::runtime_error on failure.
std::string run_capture(const std::string& cmd);

// Single-quotes `s` for /bin/sh.
std::string shell_quote(const std::string& s);

}  // namespace coresift::test
