#include "coresift/report/byte_strings.hpp"

#include <fmt/format.h>

namespace coresift {
namespace {

// Length of the valid UTF-8 sequence starting at s[i], or 0 when the byte there does not
// start one (overlong forms, surrogates and code points above U+10FFFF are invalid).
size_t utf8_sequence_length(std::string_view s, size_t i) {
  auto b = [&](size_t k) { return static_cast<unsigned char>(s[k]); };
  unsigned char c = b(i);
  if (c < 0x80) return 1;
  size_t n = c >= 0xc2 && c <= 0xdf ? 2 : c >= 0xe0 && c <= 0xef ? 3 : c >= 0xf0 && c <= 0xf4 ? 4 : 0;
  if (n == 0 || s.size() - i < n) return 0;
  for (size_t k = 1; k < n; ++k)
    if ((b(i + k) & 0xc0) != 0x80) return 0;
  if (c == 0xe0 && b(i + 1) < 0xa0) return 0;  // overlong
  if (c == 0xed && b(i + 1) > 0x9f) return 0;  // UTF-16 surrogate
  if (c == 0xf0 && b(i + 1) < 0x90) return 0;  // overlong
  if (c == 0xf4 && b(i + 1) > 0x8f) return 0;  // above U+10FFFF
  return n;
}

bool is_valid_utf8(std::string_view s) {
  for (size_t i = 0; i < s.size();) {
    size_t n = utf8_sequence_length(s, i);
    if (n == 0) return false;
    i += n;
  }
  return true;
}

template <typename F>
void for_each_string(nlohmann::json& j, const F& fix, bool keys) {
  if (j.is_string()) {
    fix(j.get_ref<std::string&>());
  } else if (j.is_array()) {
    for (auto& e : j) for_each_string(e, fix, keys);
  } else if (j.is_object()) {
    bool rename = false;
    for (auto it = j.begin(); it != j.end(); ++it) {
      for_each_string(it.value(), fix, keys);
      if (keys && !is_valid_utf8(it.key())) rename = true;
    }
    if (!rename) return;
    nlohmann::json fixed = nlohmann::json::object();
    for (auto it = j.begin(); it != j.end(); ++it) fixed[bytes_as_utf8(it.key())] = std::move(it.value());
    j = std::move(fixed);
  }
}

}  // namespace

std::string bytes_as_utf8(std::string_view s) {
  if (is_valid_utf8(s)) return std::string(s);
  std::string out;
  out.reserve(s.size() + 8);
  for (size_t i = 0; i < s.size();) {
    size_t n = utf8_sequence_length(s, i);
    if (n > 0) {
      out.append(s.substr(i, n));
      i += n;
      continue;
    }
    auto c = static_cast<unsigned char>(s[i++]);  // 0x80..0xff: U+0080..U+00FF in two bytes
    out += static_cast<char>(0xc0 | (c >> 6));
    out += static_cast<char>(0x80 | (c & 0x3f));
  }
  return out;
}

void make_json_safe(nlohmann::json& doc) {
  for_each_string(
      doc, [](std::string& s) { if (!is_valid_utf8(s)) s = bytes_as_utf8(s); }, true);
}

std::string printable(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (size_t i = 0; i < s.size(); ++i) {
    auto c = static_cast<unsigned char>(s[i]);
    if (c < 0x20 || c == 0x7f) {
      out += fmt::format("\\x{:02x}", c);
    } else if (c == 0xc2 && i + 1 < s.size() && static_cast<unsigned char>(s[i + 1]) < 0xa0) {
      out += fmt::format("\\u{:04x}", static_cast<unsigned char>(s[i + 1]));  // C1 control
      ++i;
    } else {
      out += static_cast<char>(c);
    }
  }
  return out;
}

void make_text_safe(nlohmann::json& doc) {
  for_each_string(
      doc,
      [](std::string& s) {
        for (char c : s) {
          auto u = static_cast<unsigned char>(c);
          if (u < 0x20 || u == 0x7f || u == 0xc2) {
            s = printable(s);
            return;
          }
        }
      },
      false);
}

}  // namespace coresift
