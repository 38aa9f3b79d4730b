// Content tests: leading ASCII or UTF-16 text, JVM type signatures, byte entropy.
#include <array>
#include <cctype>
#include <cmath>
#include <cstring>

#include "parts.hpp"

namespace coresift::sig {
namespace {

bool printable(uint8_t b) { return b >= 0x20 && b < 0x7f; }

// A word that is the address of mapped memory is a pointer, even when its bytes look like
// text ("@(WUUU"): text is never looked for there.
bool pointer_word(const AddressSpace& mem, std::span<const uint8_t> v, size_t start) {
  if (start + 8 > v.size()) return false;
  uint64_t w;
  std::memcpy(&w, v.data() + start, 8);
  // x86-64 user addresses are below 2^47: most words are rejected without a lookup.
  return w >= 0x1000 && w < (1ull << 47) && mem.is_mapped(w);
}

// JVM names: a class name is one or more identifiers joined by '/'.
bool class_name(const std::string& s, size_t& i) {
  size_t start = i;
  bool seg = false;
  for (; i < s.size() && s[i] != ';'; ++i) {
    char c = s[i];
    if (c == '/') {
      if (!seg) return false;
      seg = false;
    } else if (std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '$') {
      seg = true;
    } else {
      return false;
    }
  }
  return i > start && seg && i < s.size();
}

bool field_type(const std::string& s, size_t& i) {
  while (i < s.size() && s[i] == '[') ++i;
  if (i >= s.size()) return false;
  char c = s[i];
  if (std::strchr("BCDFIJSZ", c)) {
    ++i;
    return true;
  }
  if (c != 'L') return false;
  ++i;
  if (!class_name(s, i)) return false;
  ++i;  // ';'
  return true;
}

}  // namespace

// The first run of at least 4 printable bytes starting within the first 32 bytes of the
// chunk, ending with NUL or the chunk, or at least 16 long. The run starts where the text
// does, not at a word boundary: a header of a few bytes often precedes the text (redis's sds
// strings: length, allocation and type bytes, then the text). Off a word boundary the byte
// before the text must look like such a header's last byte — a small non-zero number that
// is not white space (sds's type flags are 1–4) — and the run at least 5 long: after a NUL,
// a newline or a binary byte it is more likely the tail of an older string. Otherwise the
// text is looked for from the next word boundary on, as it is at every word boundary. No
// run starts in a word that is a pointer.
std::string leading_text(const AddressSpace& mem, std::span<const uint8_t> v) {
  const size_t limit = std::min<size_t>(v.size(), 32);
  auto header_byte = [](uint8_t b) { return b > 0 && b < 0x20 && (b < '\t' || b > '\r'); };
  for (size_t start = 0; start < limit; ++start) {
    if (!printable(v[start])) continue;
    const bool mid_word = start % 8 != 0;
    if (mid_word && !header_byte(v[start - 1])) continue;
    if (pointer_word(mem, v, start & ~size_t{7})) {
      start |= 7;  // the rest of this word
      continue;
    }
    size_t end = start;
    while (end < v.size() && end - start < 64 && printable(v[end])) ++end;
    if (end - start >= (mid_word ? 5u : 4u) && (end == v.size() || v[end] == 0 || end - start >= 16))
      return std::string(reinterpret_cast<const char*>(v.data() + start), end - start);
    start = end;  // the next run starts after this one
  }
  return {};
}

// The same for UTF-16LE text of ASCII characters (Java and Windows-style strings).
std::string leading_utf16(const AddressSpace& mem, std::span<const uint8_t> v) {
  for (size_t start = 0; start < std::min<size_t>(v.size(), 32); start += 8) {
    if (pointer_word(mem, v, start)) continue;
    std::string out;
    size_t i = start;
    while (i + 1 < v.size() && out.size() < 64 && v[i + 1] == 0 && printable(v[i])) {
      out += static_cast<char>(v[i]);
      i += 2;
    }
    bool ends = i + 1 >= v.size() || (v[i] == 0 && v[i + 1] == 0);
    if (out.size() >= 4 && (ends || out.size() >= 16)) return out;
  }
  return {};
}

// A JVM field descriptor ("Ljava/lang/String;", "[I") or method descriptor
// ("(Ljava/lang/Object;I)V"), exactly and nothing else.
bool is_jvm_signature(const std::string& s) {
  size_t i = 0;
  if (!s.empty() && s[0] == '(') {
    ++i;
    while (i < s.size() && s[i] != ')')
      if (!field_type(s, i)) return false;
    if (i >= s.size()) return false;
    ++i;
    if (i < s.size() && s[i] == 'V') return i + 1 == s.size();
    return field_type(s, i) && i == s.size();
  }
  // A lone field descriptor must name a class: "[[I" alone is too likely to be chance.
  if (s.find('L') == std::string::npos) return false;
  return field_type(s, i) && i == s.size();
}

bool may_be_random(std::span<const uint8_t> v) {
  // 64 random bytes hold about 56 distinct values; fewer than 32 means structured data,
  // which is most chunks, so the full histogram is rarely computed.
  if (v.size() < 64) return false;
  std::array<uint64_t, 4> seen{};
  int distinct = 0;
  for (size_t i = 0; i < 64; ++i) {
    uint64_t bit = 1ull << (v[i] & 63);
    uint64_t& word = seen[v[i] >> 6];
    if (!(word & bit)) {
      word |= bit;
      ++distinct;
    }
  }
  return distinct >= 32;
}

double entropy_bits(std::span<const uint8_t> v) {
  if (v.empty()) return 0;
  std::array<uint32_t, 256> hist{};
  for (uint8_t b : v) hist[b]++;
  double n = static_cast<double>(v.size()), h = 0;
  for (uint32_t k : hist)
    if (k) {
      double p = k / n;
      h -= p * std::log2(p);
    }
  return h;
}

}  // namespace coresift::sig
