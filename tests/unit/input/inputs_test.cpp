// load_inputs over real files: cores, FILE@0xBASE raw ranges, and the errors for inputs
// that give nothing to analyse.
#include <elf.h>

#include <catch2/catch.hpp>
#include <cstring>

#include "coresift/input/inputs.hpp"
#include "unit/input/synthetic_core.hpp"
#include "unit/input/temp_dir.hpp"

using namespace coresift;
using namespace coresift::test;

namespace {

std::string expect_input_error(const std::vector<std::string>& args) {
  Diagnostics diag;
  try {
    load_inputs(args, diag);
  } catch (const InputError& e) {
    return e.what();
  }
  FAIL("load_inputs did not throw InputError");
  return {};
}

bool has_warning(const Diagnostics& d, const std::string& part) {
  for (const Warning& w : d.warnings())
    if (w.to_string().find(part) != std::string::npos) return true;
  return false;
}

}  // namespace

TEST_CASE("parse_raw_range accepts FILE@HEX and nothing else", "[input][raw]") {
  auto r = parse_raw_range("heap.bin@0x7f0000001000");
  REQUIRE(r);
  CHECK(r->file == "heap.bin");
  CHECK(r->base == 0x7f0000001000);
  CHECK(parse_raw_range("dump@DEADBEEF")->base == 0xdeadbeef);
  CHECK(parse_raw_range("dump@0Xff")->base == 0xff);
  CHECK(parse_raw_range("a@b@0x10")->file == "a@b");  // the last '@' separates the address
  CHECK(parse_raw_range("x@0xffffffffffffffff")->base == ~0ull);
  for (const char* bad : {"plain", "@0x10", "f@", "f@0x", "f@0xzz", "f@12 ", "f@-1", "f@0x1ffffffffffffffff", ""}) {
    CAPTURE(bad);
    CHECK_FALSE(parse_raw_range(bad));
  }
}

TEST_CASE("raw ranges read back at base + offset", "[input][raw]") {
  TempDir dir;
  Bytes a = pattern(0x300, 1), b = pattern(0x40, 2);
  std::string fa = dir.write("a.bin", a), fb = dir.write("b.bin", b);
  Diagnostics diag;
  LoadedInputs in = load_inputs({fa + "@0x10000", fb + "@20000"}, diag);
  CHECK_FALSE(in.core);
  REQUIRE(in.raw_ranges.size() == 2);
  CHECK(in.raw_ranges[1].base == 0x20000);
  CHECK(in.raw_ranges[1].size == 0x40);
  for (uint64_t off : {0ull, 1ull, 0x123ull, 0x2ffull}) {
    uint8_t v = 0;
    REQUIRE(in.memory.read(0x10000 + off, &v, 1) == 1);
    CHECK(v == a[off]);
  }
  CHECK(in.memory.read_u64(0x20038) == *reinterpret_cast<const uint64_t*>(b.data() + 0x38));
  uint8_t v;
  CHECK(in.memory.read(0x10300, &v, 1) == 0);
  CHECK(in.memory.read(0x20040, &v, 1) == 0);
  CHECK(diag.warnings().empty());
}

TEST_CASE("overlapping raw ranges: the first wins, with a warning", "[input][raw]") {
  TempDir dir;
  Bytes a = pattern(0x100, 1), b = pattern(0x100, 2);
  std::string fa = dir.write("a.bin", a), fb = dir.write("b.bin", b);
  Diagnostics diag;
  LoadedInputs in = load_inputs({fa + "@0x1000", fb + "@0x1080"}, diag);
  uint8_t v = 0;
  in.memory.read(0x10a0, &v, 1);
  CHECK(v == a[0xa0]);
  in.memory.read(0x1100, &v, 1);
  CHECK(v == b[0x80]);
  CHECK(has_warning(diag, "128 bytes of overlapping ranges were ignored"));
}

TEST_CASE("a raw range that would wrap the address space is refused", "[input][raw]") {
  TempDir dir;
  std::string f = dir.write("a.bin", pattern(0x100));
  CHECK_THAT(expect_input_error({f + "@0xffffffffffffff80"}), Catch::Contains("wrap"));
  Diagnostics diag;
  CHECK(load_inputs({f + "@0xfffffffffffffe00"}, diag).memory.total_present() == 0x100);
}

TEST_CASE("a file whose name contains '@' is read as a file, not a range", "[input][raw]") {
  TempDir dir;
  std::string f = dir.write("core@0x1000", typical_core().bytes());
  Diagnostics diag;
  LoadedInputs in = load_inputs({f}, diag);
  CHECK(in.core);
  CHECK(in.raw_ranges.empty());
}

TEST_CASE("a core plus raw ranges share one address space", "[input][raw]") {
  TempDir dir;
  std::string core = dir.write("core", typical_core().bytes());
  Bytes extra = pattern(0x100, 9);
  std::string raw = dir.write("extra.bin", extra);
  Diagnostics diag;
  LoadedInputs in = load_inputs({core, raw + "@0x900000"}, diag);
  REQUIRE(in.core);
  CHECK(in.memory.sources().size() == 2);
  CHECK(in.memory.read_u32(0x900000) == *reinterpret_cast<const uint32_t*>(extra.data()));
  CHECK(in.memory.read_u32(0x400000));
}

TEST_CASE("core data is read back from the file, absent tails stay absent", "[input][core]") {
  TempDir dir;
  CoreImage img = typical_core().build();
  std::string core = dir.write("core", img.bytes);
  Diagnostics diag;
  LoadedInputs in = load_inputs({core}, diag);
  CHECK(diag.warnings().empty());
  Bytes text = pattern(0x100, 1);
  Bytes got(0x100);
  REQUIRE(in.memory.read(0x400000, got.data(), got.size()) == 0x100);
  CHECK(got == text);
  const Segment* heap = in.memory.find(0x600000);
  REQUIRE(heap);
  CHECK(heap->perms == (kPermRead | kPermWrite));
  CHECK(heap->file_offset == img.layout.load_offsets[1]);
  CHECK(in.memory.read(0x600000, got.data(), 0x100) == 0x80);
  CHECK(in.memory.view(0x600080, 1).empty());
  CHECK_FALSE(in.memory.is_present(0x600080));
  CHECK(in.memory.is_mapped(0x6001ff));
}

TEST_CASE("overlapping core segments: first wins, with a warning", "[input][core]") {
  TempDir dir;
  Bytes a = pattern(0x100, 1), b = pattern(0x100, 2);
  std::string core = dir.write("core", CoreBuilder().load(0x1000, 0x100, a).load(0x1080, 0x100, b).bytes());
  Diagnostics diag;
  LoadedInputs in = load_inputs({core}, diag);
  CHECK(in.memory.read_u32(0x1080) == *reinterpret_cast<const uint32_t*>(a.data() + 0x80));
  CHECK(in.memory.read_u32(0x1100) == *reinterpret_cast<const uint32_t*>(b.data() + 0x80));
  CHECK(has_warning(diag, "overlapping"));
}

TEST_CASE("inputs that give nothing to analyse are InputErrors naming the file", "[input][errors]") {
  TempDir dir;
  std::string text = dir.write("notes.txt", std::string("just some text\n"));
  std::string empty = dir.write("empty", Bytes{});
  std::string exec = dir.write("exec", CoreBuilder().elf_type(ET_EXEC).bytes());
  std::string arm = dir.write("arm.core", CoreBuilder().machine(EM_AARCH64).bytes());
  Bytes b32 = typical_core().bytes();
  b32[EI_CLASS] = ELFCLASS32;
  std::string elf32 = dir.write("core32", b32);
  std::string core = dir.write("core", typical_core().bytes());

  struct Case {
    std::vector<std::string> args;
    std::string file, reason;
  };
  const Case cases[] = {
      {{text}, text, "not an ELF core"},
      {{empty}, empty, "empty"},
      {{dir.path() + "/missing"}, dir.path() + "/missing", "cannot open"},
      {{dir.path()}, dir.path(), "directory"},
      {{exec}, exec, "not a core"},
      {{arm}, arm, "architecture"},
      {{elf32}, elf32, "64-bit"},
      {{core, core}, core, "only one core"},
      {{dir.path() + "/missing@0x1000"}, dir.path() + "/missing", "cannot open"},
      {{empty + "@0x1000"}, empty, "empty"},
  };
  for (const Case& c : cases) {
    CAPTURE(c.file);
    std::string msg = expect_input_error(c.args);
    CHECK_THAT(msg, Catch::StartsWith(c.file + ": "));
    CHECK_THAT(msg, Catch::Contains(c.reason));
  }
  CHECK_THAT(expect_input_error({}), Catch::Contains("no input"));
}

TEST_CASE("an ELF executable also gives no core when read as one", "[input][errors]") {
  Diagnostics diag;
  CHECK_THROWS_AS(load_inputs({"/bin/sh"}, diag), InputError);
}
