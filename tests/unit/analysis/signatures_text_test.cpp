// Leading text of a chunk starts where the text starts, not at the next 8-byte boundary:
// redis keeps "value:…" three bytes into an sds string (sdshdr8: len, alloc, flags), and the
// signature used to read "ue:…". Bytes laid out here as the allocator and redis lay them out.
#include <catch2/catch.hpp>

#include <cstring>
#include <string>
#include <vector>

#include "analysis/signatures/parts.hpp"

using coresift::AddressSpace;
using coresift::Segment;

namespace {

constexpr uint64_t kBase = 0x41414100;  // its address has printable bytes: "\0AAA" little-endian

struct Chunk {
  std::vector<uint8_t> bytes = std::vector<uint8_t>(96, 0);
  AddressSpace mem;

  Chunk() {
    mem.add_source("test");
    mem.add(Segment{kBase, kBase + bytes.size(), bytes.data(), bytes.size(), coresift::kPermRead, 0, 0});
    mem.finalize();
  }
  void put(size_t at, const std::string& s) { std::memcpy(bytes.data() + at, s.data(), s.size()); }
  void put_word(size_t at, uint64_t w) { std::memcpy(bytes.data() + at, &w, 8); }
  std::string text() const { return coresift::sig::leading_text(mem, bytes); }
};

}  // namespace

TEST_CASE("signatures: text starts where the text starts", "[signatures][text]") {
  SECTION("redis sds string (sdshdr8: len, alloc, flags, text)") {
    Chunk c;
    c.bytes[0] = 12, c.bytes[1] = 12, c.bytes[2] = 1;  // SDS_TYPE_8
    c.put(3, "value:123456");
    CHECK(c.text() == "value:123456");
  }
  SECTION("sds string shorter than the rest of its first word") {
    Chunk c;
    c.bytes[0] = 5, c.bytes[1] = 5, c.bytes[2] = 1;
    c.put(3, "value");
    CHECK(c.text() == "value");
  }
  SECTION("a length word, then the text") {
    Chunk c;
    c.put_word(0, 11);
    c.put(8, "hello world");
    CHECK(c.text() == "hello world");
  }
  SECTION("text at the chunk start") {
    Chunk c;
    c.put(0, "Lgen/C0042;");
    CHECK(c.text() == "Lgen/C0042;");
  }
  SECTION("a pointer word whose bytes look like text is skipped") {
    Chunk c;
    c.put_word(0, kBase + 0x41);  // "AAAA" bytes, but the address of mapped memory
    c.put(8, "text1234");
    CHECK(c.text() == "text1234");
  }
  SECTION("the tail of an older string after a NUL is not where text starts") {
    Chunk c;
    c.put_word(0, 0x7ff00c0b7d00);  // not mapped here: a plain number
    c.put(17, "-17-ope");          // bytes 16 and 24 are NUL
    CHECK(c.text().empty());
  }
  SECTION("short runs are not text") {
    Chunk c;
    c.bytes[0] = 9;
    c.put(1, "abc");
    c.put_word(8, 0x1234);
    CHECK(c.text().empty());
  }
}
