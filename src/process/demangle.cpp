// Demangling of C++ (Itanium) and Rust (v0 and legacy) symbol names with LLVM's Demangle
// library, which, unlike __cxa_demangle, also knows Rust v0.
#include <llvm/Demangle/Demangle.h>

#include <cstdlib>
#include <string_view>

#include "symbolizer_impl.hpp"

namespace coresift {
namespace {

// Takes ownership of a malloc'd demangler result.
std::optional<std::string> take(char* s, int status) {
  if (!s) return std::nullopt;
  std::string out = status == 0 ? std::string(s) : std::string();
  std::free(s);
  if (out.empty()) return std::nullopt;
  return out;
}

bool is_hex(std::string_view s) {
  for (char c : s)
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
  return true;
}

// Legacy Rust symbols are Itanium paths whose last element is "h" + 16 hex digits.
bool has_rust_hash(std::string_view s) {
  constexpr size_t kLen = 3 + 16;  // "::h" + hash
  return s.size() > kLen && s.substr(s.size() - kLen, 3) == "::h" && is_hex(s.substr(s.size() - 16));
}

// Legacy Rust escapes characters that Itanium identifiers cannot hold ("$LT$", "..").
std::string unescape_rust(std::string_view s) {
  static const std::pair<std::string_view, std::string_view> kEscapes[] = {
      {"$SP$", "@"}, {"$BP$", "*"}, {"$RF$", "&"}, {"$LT$", "<"}, {"$GT$", ">"}, {"$LP$", "("},
      {"$RP$", ")"}, {"$C$", ","},  {"$u7e$", "~"}, {"$u20$", " "}, {"$u27$", "'"}, {"$u5b$", "["},
      {"$u5d$", "]"}, {"$u7b$", "{"}, {"$u7d$", "}"}, {"$u3b$", ";"}, {"$u2b$", "+"}, {"$u22$", "\""}};
  std::string out;
  for (size_t i = 0; i < s.size();) {
    // A path element may start with "_$" when its first character had to be escaped.
    if (s.substr(i).starts_with("_$") && (i == 0 || s.substr(0, i).ends_with("::"))) {
      ++i;
      continue;
    }
    if (s[i] == '$') {
      bool matched = false;
      for (const auto& [from, to] : kEscapes)
        if (s.substr(i).starts_with(from)) {
          out += to;
          i += from.size();
          matched = true;
          break;
        }
      if (matched) continue;
    }
    if (s.substr(i).starts_with("..")) {
      out += "::";
      i += 2;
      continue;
    }
    out += s[i++];
  }
  return out;
}

}  // namespace

std::string demangle(const std::string& name) {
  int status = 0;
  if (name.starts_with("_R")) {
    if (auto r = take(llvm::rustDemangle(name.c_str(), nullptr, nullptr, &status), status)) return *r;
    return name;
  }
  if (!name.starts_with("_Z")) return name;
  auto r = take(llvm::itaniumDemangle(name.c_str(), nullptr, nullptr, &status), status);
  if (!r) return name;
  if (has_rust_hash(*r)) return unescape_rust(std::string_view(*r).substr(0, r->size() - 19));
  return *r;
}

std::string symbol_display_name(const char* raw) {
  std::string name = raw;
  if (auto at = name.find('@'); at != std::string::npos && at > 0) name.resize(at);
  return demangle(name);
}

}  // namespace coresift
