// Exception-free number parsing for untrusted text (maps listings, FILE@0xBASE): the whole
// token must be a number that fits, or the answer is false.
#pragma once
#include <charconv>
#include <cstdint>
#include <string_view>

namespace coresift {

inline bool parse_unsigned(std::string_view s, int base, uint64_t& out) {
  if (s.empty()) return false;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), out, base);
  return ec == std::errc() && p == s.data() + s.size();
}

// Hex with or without 0x.
inline bool parse_hex(std::string_view s, uint64_t& out) {
  if (s.starts_with("0x") || s.starts_with("0X")) s.remove_prefix(2);
  return parse_unsigned(s, 16, out);
}

inline bool parse_dec(std::string_view s, uint64_t& out) { return parse_unsigned(s, 10, out); }

}  // namespace coresift
