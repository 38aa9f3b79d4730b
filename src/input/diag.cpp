#include "coresift/diag.hpp"

#include <fmt/format.h>

#include <algorithm>

namespace coresift {

static std::string describe(const std::string& file, std::optional<uint64_t> offset,
                            const std::string& message) {
  std::string out;
  if (!file.empty()) out += file + ": ";
  if (offset) out += fmt::format("offset {:#x}: ", *offset);
  out += message;
  return out;
}

InputError::InputError(std::string file, std::optional<uint64_t> offset, const std::string& reason)
    : std::runtime_error(describe(file, offset, reason)),
      file_(std::move(file)),
      offset_(offset),
      reason_(reason) {}

std::string Warning::to_string() const { return describe(file, offset, message); }

void Diagnostics::warn(std::string file, std::optional<uint64_t> offset, std::string message) {
  constexpr size_t kMaxWarnings = 200;
  bool seen = std::any_of(warnings_.begin(), warnings_.end(), [&](const Warning& w) {
    return w.file == file && w.message == message;
  });
  if (seen || warnings_.size() >= kMaxWarnings) {
    ++suppressed_;
    return;
  }
  warnings_.push_back({std::move(file), offset, std::move(message)});
}

}  // namespace coresift
