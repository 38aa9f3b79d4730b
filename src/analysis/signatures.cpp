#include "coresift/analysis/signatures.hpp"

#include "coresift/model/heap_model.hpp"
#include "signatures/parts.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cstring>

namespace coresift {

namespace {
// ASCII-only classes: the locale-aware <cctype> calls are slow and chunk bytes are not text
// in any locale.
bool ascii_digit(char c) { return c >= '0' && c <= '9'; }
bool ascii_alpha(char c) { return (c | 0x20) >= 'a' && (c | 0x20) <= 'z'; }
bool ascii_xdigit(char c) { return ascii_digit(c) || ((c | 0x20) >= 'a' && (c | 0x20) <= 'f'); }
}  // namespace

std::string normalise_text(const std::string& s) {
  std::string out;
  out.reserve(32);
  for (size_t i = 0; i < s.size() && out.size() < 32;) {
    if (ascii_digit(s[i])) {
      // Digits that start a token are ids ("session-42" → "session-#"). Short runs glued to
      // a letter are part of a name ("k5", "utf8", "x86") and stay; longer ones are numbered
      // names ("Lgen/C0042;" → "Lgen/C#;").
      size_t digits = i;
      while (digits < s.size() && ascii_digit(s[digits])) ++digits;
      bool after_letter = i > 0 && ascii_alpha(s[i - 1]);
      if (after_letter && digits - i <= 2) {
        out.append(s, i, digits - i);
        i = digits;
        continue;
      }
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
