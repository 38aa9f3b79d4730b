// Small formatting helpers shared by the text renderers.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

namespace coresift {

std::string hex_addr(uint64_t a);           // "0x7f12…" (JSON and text)
std::string human_size(uint64_t bytes);     // "1.5 MiB"
std::string size_with_bytes(uint64_t bytes);  // "1.5 MiB (1572864 B)" — exact bytes beside

// A plain aligned table: header row, then rows; columns listed in `right_aligned` are
// right-aligned (numbers), the others left-aligned.
class Table {
 public:
  explicit Table(std::vector<std::string> header, std::vector<bool> right_aligned = {});
  void add(std::vector<std::string> row);
  std::string render() const;
  size_t rows() const { return rows_.size(); }

 private:
  std::vector<std::string> header_;
  std::vector<bool> right_;
  std::vector<std::vector<std::string>> rows_;
};

// Classic 16-bytes-per-line hexdump with ASCII; `absent` bytes print as "??".
std::string hexdump(uint64_t address, const std::vector<int>& bytes);

}  // namespace coresift
