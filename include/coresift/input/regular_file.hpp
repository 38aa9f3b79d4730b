// Opening files named by the user or by a core. Only regular files are read: opening a FIFO
// blocks until a writer appears (coresift would hang), and opening a device can have side
// effects or never end. The type is checked before open() and again on the descriptor, so
// a file swapped in between is caught too.
#pragma once
#include <cstdint>
#include <string>

namespace coresift {

struct OpenedFile {
  int fd = -1;        // O_RDONLY | O_CLOEXEC; -1 when refused
  uint64_t size = 0;  // st_size
  std::string why;    // when refused: "cannot open: …", "is a FIFO (named pipe), not a regular file", …
};

// The caller owns (and closes) the descriptor.
OpenedFile open_regular_file(const std::string& path);

}  // namespace coresift
