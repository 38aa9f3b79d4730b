// A memfd reopened by path (/proc/self/fd/N): fuzz inputs reach the readers through the same
// open + mmap/ifstream path as real files, without touching the disk.
#pragma once
#include <sys/mman.h>
#include <unistd.h>

#include <cstdint>
#include <span>
#include <stdexcept>
#include <string>

namespace coresift::fuzz {

class MemFile {
 public:
  explicit MemFile(const char* name) : fd_(::memfd_create(name, MFD_CLOEXEC)) {
    if (fd_ < 0) throw std::logic_error("memfd_create failed");
    path_ = "/proc/self/fd/" + std::to_string(fd_);
  }
  MemFile(const MemFile&) = delete;
  MemFile& operator=(const MemFile&) = delete;

  void assign(std::span<const uint8_t> b) {
    if (::ftruncate(fd_, 0) != 0) throw std::logic_error("ftruncate failed");
    for (size_t done = 0; done < b.size();) {
      ssize_t w = ::pwrite(fd_, b.data() + done, b.size() - done, static_cast<off_t>(done));
      if (w <= 0) throw std::logic_error("pwrite failed");
      done += static_cast<size_t>(w);
    }
  }
  const std::string& path() const { return path_; }
  int fd() const { return fd_; }

 private:
  int fd_;
  std::string path_;
};

}  // namespace coresift::fuzz
