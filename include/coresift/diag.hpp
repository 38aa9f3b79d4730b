// Errors and warnings about inputs. Bad input never aborts the analysis: fatal problems
// (nothing usable) throw InputError, everything else becomes a Warning and the work goes on.
#pragma once
#include <cstdint>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

namespace coresift {

// A problem with an input that leaves nothing to analyse (exit status 3 in the CLI).
class InputError : public std::runtime_error {
 public:
  InputError(std::string file, std::optional<uint64_t> offset, const std::string& reason);
  const std::string& file() const { return file_; }
  std::optional<uint64_t> offset() const { return offset_; }
  const std::string& reason() const { return reason_; }

 private:
  std::string file_;
  std::optional<uint64_t> offset_;
  std::string reason_;
};

struct Warning {
  std::string file;                // input the warning is about ("" when not tied to one)
  std::optional<uint64_t> offset;  // file offset, when it points at specific bytes
  std::string message;

  std::string to_string() const;
};

// Collects warnings; a repeated (file, message) pair is kept once so a corrupt table
// with a million bad entries does not flood the user.
class Diagnostics {
 public:
  void warn(std::string file, std::optional<uint64_t> offset, std::string message);
  const std::vector<Warning>& warnings() const { return warnings_; }
  size_t suppressed() const { return suppressed_; }

 private:
  std::vector<Warning> warnings_;
  size_t suppressed_ = 0;
};

}  // namespace coresift
