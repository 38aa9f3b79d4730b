// The shared byte formatter keeps both texts it replaced: report tables ("12 MiB") and
// allocator notes ("12.0 MiB", which appear in the JSON findings).
#include <catch2/catch.hpp>

#include "coresift/report/format.hpp"
#include "coresift/util/units.hpp"

using namespace coresift;

TEST_CASE("human_bytes: table and note styles", "[util]") {
  CHECK(human_bytes(0) == "0 B");
  CHECK(human_bytes(1023, SizeStyle::kOneDigit) == "1023 B");
  CHECK(human_bytes(1536) == "1.5 KiB");
  CHECK(human_bytes(1536, SizeStyle::kOneDigit) == "1.5 KiB");
  CHECK(human_bytes(12ull << 20) == "12 MiB");
  CHECK(human_bytes(12ull << 20, SizeStyle::kOneDigit) == "12.0 MiB");
  CHECK(human_bytes(2ull << 50) == "2.0 PiB");
  CHECK(human_bytes(2ull << 50, SizeStyle::kOneDigit) == "2048.0 TiB");
  CHECK(human_size(12ull << 20) == human_bytes(12ull << 20));
  CHECK(size_with_bytes(1536) == "1.5 KiB (1536 B)");
}
