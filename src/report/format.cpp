#include "coresift/report/format.hpp"

#include <fmt/format.h>

#include <algorithm>

#include "coresift/util/units.hpp"

namespace coresift {

std::string hex_addr(uint64_t a) { return fmt::format("{:#x}", a); }

std::string human_size(uint64_t b) { return human_bytes(b); }

std::string size_with_bytes(uint64_t b) {
  if (b < 1024) return fmt::format("{} B", b);
  return fmt::format("{} ({} B)", human_size(b), b);
}

Table::Table(std::vector<std::string> header, std::vector<bool> right_aligned)
    : header_(std::move(header)), right_(std::move(right_aligned)) {
  right_.resize(header_.size(), false);
}

void Table::add(std::vector<std::string> row) {
  row.resize(header_.size());
  rows_.push_back(std::move(row));
}

std::string Table::render() const {
  std::vector<size_t> w(header_.size());
  for (size_t c = 0; c < header_.size(); ++c) {
    w[c] = header_[c].size();
    for (const auto& r : rows_) w[c] = std::max(w[c], r[c].size());
  }
  std::string out;
  auto line = [&](const std::vector<std::string>& r) {
    std::string l;
    for (size_t c = 0; c < r.size(); ++c) {
      bool last = c + 1 == r.size();
      if (right_[c])
        l += fmt::format("{:>{}}", r[c], w[c]);
      else
        l += last ? r[c] : fmt::format("{:<{}}", r[c], w[c]);
      if (!last) l += "  ";
    }
    while (!l.empty() && l.back() == ' ') l.pop_back();
    out += l + "\n";
  };
  line(header_);
  for (const auto& r : rows_) line(r);
  return out;
}

std::string hexdump(uint64_t address, const std::vector<int>& bytes) {
  std::string out;
  for (size_t i = 0; i < bytes.size(); i += 16) {
    std::string hex, ascii;
    for (size_t j = 0; j < 16; ++j) {
      if (j == 8) hex += ' ';
      if (i + j >= bytes.size()) {
        hex += "   ";
        continue;
      }
      int b = bytes[i + j];
      if (b < 0) {
        hex += "?? ";
        ascii += '?';
      } else {
        hex += fmt::format("{:02x} ", b);
        ascii += (b >= 0x20 && b < 0x7f) ? static_cast<char>(b) : '.';
      }
    }
    out += fmt::format("{:016x}  {} |{}|\n", address + i, hex, ascii);
  }
  return out;
}

}  // namespace coresift
