// AddressSpace: absent bytes are never read as zeros, overlaps resolve to the first range,
// and reads near the edges of the address space stay in bounds.
#include <catch2/catch.hpp>
#include <cstring>

#include "coresift/input/address_space.hpp"
#include "unit/input/synthetic_core.hpp"

using namespace coresift;
using namespace coresift::test;

namespace {

Segment seg(uint64_t start, uint64_t size, const Bytes& data, uint64_t present) {
  Segment s;
  s.start = start;
  s.end = start + size;
  s.data = data.data();
  s.present = present;
  s.perms = kPermRead;
  return s;
}

}  // namespace

TEST_CASE("the absent tail of a segment reads as absent, never as zeros", "[input][address_space]") {
  Bytes data = pattern(0x80);
  AddressSpace as;
  as.add(seg(0x1000, 0x200, data, 0x80));
  CHECK(as.finalize() == 0);

  uint8_t buf[0x100];
  std::memset(buf, 0xee, sizeof buf);
  CHECK(as.read(0x1000, buf, 0x80) == 0x80);
  CHECK(std::memcmp(buf, data.data(), 0x80) == 0);
  CHECK(as.read(0x1070, buf, 0x20) == 0x10);  // stops at the first absent byte
  CHECK(as.read(0x1080, buf, 1) == 0);
  CHECK(as.read(0x11f8, buf, 8) == 0);
  CHECK(as.view(0x1080, 1).empty());
  CHECK(as.view(0x1078, 16).empty());
  CHECK(as.view(0x1078, 8).size() == 8);
  CHECK_FALSE(as.is_present(0x1080));
  CHECK_FALSE(as.is_present(0x1000, 0x81));
  CHECK(as.is_present(0x1000, 0x80));
  CHECK(as.is_mapped(0x11ff));
  CHECK_FALSE(as.is_mapped(0x1200));
  CHECK_FALSE(as.read_u64(0x107c));
  CHECK_FALSE(as.read_u32(0x1100));
  CHECK(as.read_u32(0x107c));
  CHECK(as.total_mapped() == 0x200);
  CHECK(as.total_present() == 0x80);
}

TEST_CASE("a segment with no bytes at all is mapped but unreadable", "[input][address_space]") {
  AddressSpace as;
  Segment s;
  s.start = 0x5000;
  s.end = 0x6000;
  as.add(s);
  as.finalize();
  uint8_t b;
  CHECK(as.is_mapped(0x5000));
  CHECK(as.read(0x5000, &b, 1) == 0);
  CHECK(as.view(0x5000, 1).empty());
  CHECK_FALSE(as.read_cstring(0x5000));
}

TEST_CASE("present larger than the segment is clipped to it", "[input][address_space]") {
  Bytes data = pattern(0x100);
  AddressSpace as;
  as.add(seg(0x1000, 0x10, data, 0x100));
  as.finalize();
  uint8_t buf[0x20];
  CHECK(as.read(0x1000, buf, sizeof buf) == 0x10);
  CHECK(as.total_present() == 0x10);
}

TEST_CASE("overlapping ranges: the first added wins and shadowed bytes are counted", "[input][address_space]") {
  Bytes a = pattern(0x100, 1), b = pattern(0x100, 2), c = pattern(0x100, 3);
  AddressSpace as;
  as.add(seg(0x1000, 0x100, a, 0x100));
  as.add(seg(0x1080, 0x100, b, 0x100));  // second half shadowed by a
  as.add(seg(0x1000, 0x40, c, 0x40));    // entirely inside a
  CHECK(as.finalize() == 0x80 + 0x40);
  REQUIRE(as.segments().size() == 2);
  CHECK(as.segments()[1].start == 0x1100);
  CHECK(as.segments()[1].file_offset == 0x80);

  uint8_t buf[0x180];
  REQUIRE(as.read(0x1000, buf, sizeof buf) == sizeof buf);
  CHECK(std::memcmp(buf, a.data(), 0x100) == 0);
  CHECK(std::memcmp(buf + 0x100, b.data() + 0x80, 0x80) == 0);
}

// "The first input wins" holds byte by byte, not just for ranges that start later.
TEST_CASE("the first added range wins even when a later one starts lower", "[input][address_space]") {
  Bytes a = pattern(0x100, 1), b = pattern(0x100, 2);
  AddressSpace as;
  as.add(seg(0x1080, 0x100, a, 0x100));
  as.add(seg(0x1000, 0x100, b, 0x100));
  CHECK(as.finalize() == 0x80);
  uint8_t buf[0x180];
  REQUIRE(as.read(0x1000, buf, sizeof buf) == sizeof buf);
  CHECK(std::memcmp(buf, b.data(), 0x80) == 0);           // b's unshadowed head
  CHECK(std::memcmp(buf + 0x80, a.data(), 0x100) == 0);  // all of a
}

TEST_CASE("a later range that spans several earlier ones keeps only the gaps", "[input][address_space]") {
  Bytes a = pattern(0x10, 1), b = pattern(0x10, 2), big = pattern(0x100, 3);
  AddressSpace as;
  as.add(seg(0x1020, 0x10, a, 0x10));
  as.add(seg(0x1080, 0x10, b, 0x10));
  as.add(seg(0x1000, 0x100, big, 0xc0));  // data for 0x1000..0x10c0, absent after
  CHECK(as.finalize() == 0x20);
  REQUIRE(as.segments().size() == 5);
  uint8_t buf[0x100];
  REQUIRE(as.read(0x1000, buf, sizeof buf) == 0xc0);
  for (uint64_t i = 0; i < 0xc0; ++i) {
    CAPTURE(i);
    uint8_t want = i >= 0x20 && i < 0x30 ? a[i - 0x20] : i >= 0x80 && i < 0x90 ? b[i - 0x80] : big[i];
    CHECK(buf[i] == want);
  }
  CHECK(as.is_mapped(0x10ff));
  CHECK_FALSE(as.is_present(0x10c0));
}

// Random overlapping ranges against a byte-by-byte model: each address reads from the first
// range (in order added) that covers it, or is absent where that range has no data.
TEST_CASE("overlap resolution matches a byte-by-byte model", "[input][address_space]") {
  constexpr uint64_t kBase = 0x10000, kSpan = 0x400;
  uint64_t x = 0x9e3779b97f4a7c15ull;
  auto next = [&](uint64_t n) {
    x ^= x << 13, x ^= x >> 7, x ^= x << 17;
    return x % n;
  };
  for (int round = 0; round < 200; ++round) {
    CAPTURE(round);
    size_t n = 1 + next(12);
    std::vector<Bytes> data;
    data.reserve(n);  // segments point into these
    std::vector<Segment> segs;
    for (size_t i = 0; i < n; ++i) {
      uint64_t start = kBase + next(kSpan), size = 1 + next(kSpan / 2);
      data.push_back(pattern(size, static_cast<uint8_t>(i + 1)));
      segs.push_back(seg(start, size, data.back(), next(size + 1)));
    }
    // The model: for each byte, -1 unmapped, -2 mapped but absent, else the value.
    std::vector<int> model(2 * kSpan, -1);
    uint64_t covered = 0, total = 0;
    for (const Segment& s : segs) {
      total += s.size();
      for (uint64_t a = s.start; a < s.end; ++a) {
        int& m = model[a - kBase];
        if (m != -1) continue;
        ++covered;
        m = a - s.start < s.present ? s.data[a - s.start] : -2;
      }
    }
    AddressSpace as;
    for (const Segment& s : segs) as.add(s);
    CHECK(as.finalize() == total - covered);
    for (uint64_t a = kBase; a < kBase + 2 * kSpan; ++a) {
      int m = model[a - kBase];
      uint8_t b = 0;
      size_t got = as.read(a, &b, 1);
      if (m == -1) CHECK_FALSE(as.is_mapped(a));
      if (m == -2) CHECK((as.is_mapped(a) && got == 0));
      if (m >= 0) CHECK((got == 1 && b == m));
    }
    for (size_t i = 1; i < as.segments().size(); ++i) CHECK(as.segments()[i - 1].end <= as.segments()[i].start);
  }
}

TEST_CASE("overlap with an absent tail does not resurrect data", "[input][address_space]") {
  Bytes a = pattern(0x40, 1), b = pattern(0x100, 2);
  AddressSpace as;
  as.add(seg(0x1000, 0x100, a, 0x40));   // 0x1040.. absent
  as.add(seg(0x1000, 0x200, b, 0x100));  // trimmed to 0x1100..0x1200, absent after b's data
  as.finalize();
  uint8_t buf[0x10];
  CHECK(as.read(0x1040, buf, 1) == 0);  // a's absent bytes are not filled from b
  CHECK(as.read(0x1100, buf, 1) == 0);  // b's bytes for 0x1100.. lie past its 0x100 present
  CHECK_FALSE(as.is_present(0x1100));
}

TEST_CASE("reads cross adjacent segments and stop at gaps", "[input][address_space]") {
  Bytes a = pattern(0x10, 1), b = pattern(0x10, 2);
  AddressSpace as;
  as.add(seg(0x2000, 0x10, a, 0x10));
  as.add(seg(0x2010, 0x10, b, 0x10));
  as.add(seg(0x2030, 0x10, a, 0x10));
  as.finalize();
  uint8_t buf[0x40];
  CHECK(as.read(0x2008, buf, 0x10) == 0x10);
  CHECK(buf[8] == b[0]);
  CHECK(as.read(0x2000, buf, 0x40) == 0x20);
  CHECK(as.is_present(0x2000, 0x20));
  CHECK_FALSE(as.is_present(0x2000, 0x21));
  CHECK(as.view(0x2008, 0x10).empty());  // views never span segments
  CHECK(as.read_u64(0x201c) == std::nullopt);
}

TEST_CASE("C strings: terminated, unterminated, cut by absence, capped", "[input][address_space]") {
  Bytes a = {'a', 'b', 'c'}, b = {'d', 'e', 0, 'x'}, c = {'z', 'z', 'z', 'z'};
  AddressSpace as;
  as.add(seg(0x3000, 3, a, 3));
  as.add(seg(0x3003, 4, b, 4));
  as.add(seg(0x4000, 0x10, c, 4));
  as.finalize();
  CHECK(as.read_cstring(0x3000) == "abcde");
  CHECK(as.read_cstring(0x3000, 3) == std::nullopt);
  CHECK(as.read_cstring(0x3006) == std::nullopt);  // 'x' then the end of memory
  CHECK(as.read_cstring(0x4000) == std::nullopt);  // runs into absent bytes
  CHECK(as.read_cstring(0x9000) == std::nullopt);
}

TEST_CASE("reads at the top of the address space do not wrap", "[input][address_space]") {
  Bytes hi = pattern(0x10, 1), lo = pattern(0x10, 2);
  AddressSpace as;
  as.add(seg(~0ull - 0x10, 0x10, hi, 0x10));  // ends at 2^64-1, exclusive
  as.add(seg(0, 0x10, lo, 0x10));
  as.finalize();
  uint8_t buf[0x40];
  CHECK(as.read(~0ull - 8, buf, 0x40) == 8);
  CHECK(as.view(~0ull - 8, 0x40).empty());
  CHECK(as.view(~0ull - 8, ~0ull).empty());
  CHECK_FALSE(as.is_present(~0ull - 8, 0x40));
  CHECK_FALSE(as.read_u64(~0ull - 4));
  CHECK(as.read(0, buf, 0x10) == 0x10);
  CHECK_FALSE(as.find(~0ull));
}

TEST_CASE("empty and degenerate segments", "[input][address_space]") {
  AddressSpace as;
  Bytes d = pattern(4);
  as.add(seg(0x1000, 0, d, 4));  // end == start: dropped
  Segment inv = seg(0x2000, 0, d, 4);
  inv.end = 0x1000;  // end < start: dropped
  as.add(inv);
  CHECK(as.finalize() == 0);
  CHECK(as.segments().empty());
  uint8_t b;
  CHECK(as.read(0x1000, &b, 1) == 0);
  CHECK(as.view(0, 0).empty());
  CHECK(as.total_mapped() == 0);
}

TEST_CASE("present_parts lists only bytes that are there, merging touching parts", "[input][address_space]") {
  Bytes data = pattern(0x3000);
  AddressSpace as;
  as.add(seg(0x1000, 0x1000, data, 0x1000));                   // fully present
  as.add(seg(0x2000, 0x1000, data, 0x800));                    // touches the first; tail absent
  as.add(seg(0x10000, 1ull << 40, data, 0x100));               // claims a TiB, 256 bytes present
  as.finalize();
  using Parts = std::vector<std::pair<uint64_t, uint64_t>>;
  CHECK(as.present_parts(0, ~0ull) == Parts{{0x1000, 0x2800}, {0x10000, 0x10100}});
  CHECK(as.present_parts(0x1800, 0x2400) == Parts{{0x1800, 0x2400}});
  CHECK(as.present_parts(0x2800, 0x10000).empty());
  CHECK(as.present_parts(0x10080, 0x20000) == Parts{{0x10080, 0x10100}});
}
