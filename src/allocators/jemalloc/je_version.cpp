// The jemalloc version string (as `malloc_conf`'s JEMALLOC_VERSION) from the on-disk
// library's .rodata: cores do not hold read-only data of mapped files.
#include "je_context.hpp"

namespace coresift::je {
namespace {

bool is_hex(char c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'); }
bool is_digit(char c) { return c >= '0' && c <= '9'; }

}  // namespace

std::string find_version_string(const DiskElf& elf) {
  std::string_view ro = elf.section_bytes(".rodata");
  const char* d = ro.data();
  const size_t n = ro.size();
  // Look for "-g" + 40 hex digits + NUL, then walk back over "X.Y.Z-N".
  for (size_t i = 1; i + 43 <= n; ++i) {
    if (d[i] != '-' || d[i + 1] != 'g') continue;
    size_t h = i + 2;
    size_t k = 0;
    while (k < 40 && is_hex(d[h + k])) ++k;
    if (k != 40 || d[h + 40] != '\0') continue;
    size_t s = i;
    while (s > 0 && (is_digit(d[s - 1]) || d[s - 1] == '.' || d[s - 1] == '-')) --s;
    std::string v(d + s, h + 40 - s);
    // Must look like digits '.' digits '.' digits '-' digits '-g'.
    int dots = 0;
    size_t p = 0;
    while (p < v.size() && (is_digit(v[p]) || v[p] == '.')) dots += v[p++] == '.';
    if (dots == 2 && p > 0 && is_digit(v[0]) && p < v.size() && v[p] == '-') return v;
  }
  return "";
}

}  // namespace coresift::je
