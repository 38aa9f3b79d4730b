// Streaming decompressors writing into a file descriptor. Internal to the input layer.
#pragma once
#include <cstdint>
#include <span>
#include <string>

#include "coresift/input/mapped_file.hpp"

namespace coresift {

struct DecompressResult {
  uint64_t written = 0;
  std::string error;           // empty when the stream ended cleanly
  uint64_t error_offset = 0;   // compressed-input offset where the problem was seen
};

// Decompresses `in` (whose format is `kind`) into `out_fd`.
DecompressResult decompress_to_fd(Compression kind, std::span<const uint8_t> in, int out_fd);

}  // namespace coresift
