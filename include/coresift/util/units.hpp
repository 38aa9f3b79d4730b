// Byte counts for people: "512 B", "1.5 MiB". One helper for the report tables and the
// allocators' notes and findings; the two keep their own precision because notes are part
// of the JSON documents, whose text must not change.
#pragma once
#include <fmt/format.h>

#include <cstdint>
#include <string>

namespace coresift {

enum class SizeStyle {
  kShort,     // tables: "1.5 MiB", "12 MiB" (a decimal only below 10), up to PiB
  kOneDigit,  // allocator notes: "12.0 MiB" (always one decimal), up to TiB
};

inline std::string human_bytes(uint64_t b, SizeStyle style = SizeStyle::kShort) {
  static const char* const units[] = {"B", "KiB", "MiB", "GiB", "TiB", "PiB"};
  if (b < 1024) return fmt::format("{} B", b);
  const int last = style == SizeStyle::kShort ? 5 : 4;
  double v = static_cast<double>(b);
  int u = 0;
  while (v >= 1024 && u < last) {
    v /= 1024;
    ++u;
  }
  if (style == SizeStyle::kShort && v >= 10) return fmt::format("{:.0f} {}", v, units[u]);
  return fmt::format("{:.1f} {}", v, units[u]);
}

}  // namespace coresift
