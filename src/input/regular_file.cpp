#include "coresift/input/regular_file.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace coresift {
namespace {

// Empty for a regular file, else why it is not one.
std::string not_regular(mode_t mode) {
  if (S_ISREG(mode)) return {};
  if (S_ISDIR(mode)) return "is a directory";
  if (S_ISFIFO(mode)) return "is a FIFO (named pipe), not a regular file; save the data to a file first";
  if (S_ISCHR(mode)) return "is a character device, not a regular file";
  if (S_ISBLK(mode)) return "is a block device, not a regular file";
  if (S_ISSOCK(mode)) return "is a socket, not a regular file";
  return "is not a regular file";
}

}  // namespace

OpenedFile open_regular_file(const std::string& path) {
  OpenedFile f;
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) {
    f.why = std::string("cannot open: ") + std::strerror(errno);
    return f;
  }
  if (f.why = not_regular(st.st_mode); !f.why.empty()) return f;
  // O_NONBLOCK: should the path turn into a FIFO after stat(), open() returns at once.
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY);
  if (fd < 0) {
    f.why = std::string("cannot open: ") + std::strerror(errno);
    return f;
  }
  if (::fstat(fd, &st) != 0) {
    f.why = std::string("cannot stat: ") + std::strerror(errno);
    ::close(fd);
    return f;
  }
  if (f.why = not_regular(st.st_mode); !f.why.empty()) {
    ::close(fd);
    return f;
  }
  f.fd = fd;
  f.size = static_cast<uint64_t>(st.st_size);
  return f;
}

}  // namespace coresift
