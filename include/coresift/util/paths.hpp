// File-path helpers shared by the layers.
#pragma once
#include <string>

namespace coresift {

// The last component of a path ("/usr/lib/libc.so.6" → "libc.so.6"); the path itself when it
// has no slash.
inline std::string base_name(const std::string& path) {
  auto slash = path.rfind('/');
  return slash == std::string::npos ? path : path.substr(slash + 1);
}

}  // namespace coresift
