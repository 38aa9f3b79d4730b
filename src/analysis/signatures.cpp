#include "coresift/analysis/signatures.hpp"

#include "coresift/session.hpp"
#include "signatures/parts.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cctype>
#include <cstring>

namespace coresift {

namespace {
// ASCII-only character tests: the text is printable ASCII, and the C library's are calls
// through the locale tables, once per character of every chunk's text.
bool ascii_digit(char c) { return c >= '0' && c <= '9'; }
bool ascii_alpha(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }
bool ascii_xdigit(char c) { return ascii_digit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F'); }
}  // namespace

std::string normalise_text(const std::string& s) {
  std::string out;
  out.reserve(32);
  for (size_t i = 0; i < s.size() && out.size() < 32;) {
    // Digits that start a token are ids ("session-42" → "session-#"); digits glued to a
    // letter are part of a name ("k5", "utf8") and stay.
    bool after_letter = i > 0 && ascii_alpha(s[i - 1]);
    if (ascii_digit(s[i]) && !after_letter) {
      while (i < s.size() && ascii_xdigit(s[i])) ++i;
      out += '#';
      continue;
    }
    // A run of 8+ hex digits (ids, hashes) folds too, even when it starts with a letter.
    size_t j = i;
    while (j < s.size() && j - i < 8 && ascii_xdigit(s[j])) ++j;
    if (j - i >= 8) {
      while (j < s.size() && ascii_xdigit(s[j])) ++j;
      out += '#';
      i = j;
      continue;
    }
    out += s[i++];
  }
  return out;
}

std::string chunk_text(const AddressSpace& mem, const Chunk& c) {
  auto v = mem.view(c.address, std::min<uint64_t>(c.size, 96));
  return v.empty() ? std::string() : sig::leading_text(mem, v);
}

std::string chunk_signature(const AddressSpace& mem, const Chunk& c) {
  uint64_t n = std::min<uint64_t>(c.size, 96);
  auto v = mem.view(c.address, n);
  if (v.empty()) return "absent";
  std::string text = sig::leading_text(mem, v);
  if (!text.empty()) return "text:" + normalise_text(text);
  if (std::all_of(v.begin(), v.end(), [](uint8_t b) { return b == 0; })) return "zeros";
  return fmt::format("size:{}", static_cast<uint64_t>(c.size));
}

const char* signature_source_name(SignatureSource s) {
  switch (s) {
    case SignatureSource::kRule: return "rule";
    case SignatureSource::kVtable: return "vtable";
    case SignatureSource::kStructure: return "structure";
    case SignatureSource::kModulePtr: return "module_pointer";
    case SignatureSource::kText: return "text";
    case SignatureSource::kZeros: return "zeros";
    case SignatureSource::kBytes: return "bytes";
  }
  return "?";
}


}  // namespace coresift
