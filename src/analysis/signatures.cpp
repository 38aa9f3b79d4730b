#include "coresift/analysis/signatures.hpp"

#include "coresift/session.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cctype>
#include <cstring>

namespace coresift {
namespace {

bool printable(uint8_t b) { return b >= 0x20 && b < 0x7f; }

// The first run of at least 4 printable bytes within the first 32 bytes of the chunk,
// starting at a word boundary (a header word or pointer often precedes the text).
std::string leading_text(const AddressSpace& mem, std::span<const uint8_t> v) {
  for (size_t start = 0; start < std::min<size_t>(v.size(), 32); start += 8) {
    if (start + 8 <= v.size()) {  // a pointer's bytes can look like text: "@(WUUU"
      uint64_t w;
      std::memcpy(&w, v.data() + start, 8);
      if (mem.is_mapped(w)) continue;
    }
    size_t end = start;
    while (end < v.size() && end - start < 64 && printable(v[end])) ++end;
    if (end - start >= 4 && (end == v.size() || v[end] == 0 || end - start >= 16))
      return std::string(reinterpret_cast<const char*>(v.data() + start), end - start);
  }
  return {};
}

}  // namespace

std::string normalise_text(const std::string& s) {
  std::string out;
  for (size_t i = 0; i < s.size() && out.size() < 32;) {
    // Digits that start a token are ids ("session-42" → "session-#"); digits glued to a
    // letter are part of a name ("k5", "utf8") and stay.
    bool after_letter = i > 0 && std::isalpha(static_cast<unsigned char>(s[i - 1]));
    if (std::isdigit(static_cast<unsigned char>(s[i])) && !after_letter) {
      while (i < s.size() && std::isxdigit(static_cast<unsigned char>(s[i]))) ++i;
      out += '#';
      continue;
    }
    // A run of 8+ hex digits (ids, hashes) folds too, even when it starts with a letter.
    size_t j = i;
    while (j < s.size() && std::isxdigit(static_cast<unsigned char>(s[j]))) ++j;
    if (j - i >= 8) {
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
  return v.empty() ? std::string() : leading_text(mem, v);
}

std::string chunk_signature(const AddressSpace& mem, const Chunk& c) {
  uint64_t n = std::min<uint64_t>(c.size, 96);
  auto v = mem.view(c.address, n);
  if (v.empty()) return "absent";
  std::string text = leading_text(mem, v);
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

// First cut: the content-only signature; vtables, structures, module pointers and rules
// are being added (docs/status.md).
struct Signer::Impl {
  const AddressSpace* mem;
};

Signer::Signer(Session& s) : impl_(std::make_unique<Impl>(Impl{&s.memory()})) {}
Signer::~Signer() = default;

Signature Signer::classify(const Chunk& c) const {
  Signature sig;
  sig.name = chunk_signature(*impl_->mem, c);
  if (sig.name.starts_with("text:")) sig.source = SignatureSource::kText;
  else if (sig.name == "zeros") sig.source = SignatureSource::kZeros;
  return sig;
}

}  // namespace coresift
