// Every byte and every aligned field of a core's metadata (ELF header, program headers,
// notes) damaged in turn: loading and building the process may refuse with InputError or
// warn, but nothing else may escape, and under ASan no read may leave the file.
#include <catch2/catch.hpp>

#include "coresift/input/inputs.hpp"
#include "coresift/process/process.hpp"
#include "unit/input/synthetic_core.hpp"
#include "unit/input/temp_dir.hpp"

using namespace coresift;
using namespace coresift::test;

namespace {

// Loads `b` like the CLI does; returns false when refused with an InputError.
bool load_and_build(const TempDir& dir, const Bytes& b) {
  std::string f = dir.write("damaged.core", b);
  Diagnostics diag;
  try {
    LoadedInputs in = load_inputs({f}, diag);
    ProcessOptions opts;
    opts.sysroot = dir.path() + "/no-sysroot";
    Process p = build_process(in, opts, diag);
    for (const Mapping& m : p.mappings) (void)in.memory.read_cstring(m.start, 64);
    return true;
  } catch (const InputError&) {
    return false;
  }
}

void damage_metadata(const CoreImage& img) {
  TempDir dir;
  const uint64_t meta_end = img.layout.note_offset + img.layout.note_size;
  size_t refused = 0, loaded = 0;
  for (uint64_t off = 0; off < meta_end; ++off) {
    for (uint8_t v : {uint8_t{0}, uint8_t{0xff}, uint8_t{0x80}}) {
      Bytes b = img.bytes;
      b[off] = v;
      CAPTURE(off, v);
      REQUIRE_NOTHROW((load_and_build(dir, b) ? loaded : refused)++);
    }
  }
  for (uint64_t off = 0; off + 8 <= meta_end; off += 4) {
    for (uint64_t v : {~uint64_t{0}, uint64_t{0x7fffffffffffffff}, uint64_t{1} << 32, meta_end}) {
      Bytes b = img.bytes;
      put_u64(b, off, v);
      CAPTURE(off, v);
      REQUIRE_NOTHROW((load_and_build(dir, b) ? loaded : refused)++);
    }
  }
  CHECK(loaded > refused);  // most damage leaves something usable
}

}  // namespace

TEST_CASE("damaged metadata of the typical core", "[input][damage]") { damage_metadata(typical_core().build()); }

TEST_CASE("damaged metadata of the rich core", "[input][damage]") { damage_metadata(rich_core().build()); }

TEST_CASE("damaged PN_XNUM section header", "[input][damage]") {
  CoreImage img = typical_core().pn_xnum().build();
  TempDir dir;
  for (uint64_t off = img.layout.shoff; off + 4 <= img.bytes.size(); off += 4)
    for (uint32_t v : {0u, 0xffffffffu, 0xffffu}) {
      Bytes b = img.bytes;
      put_u32(b, off, v);
      CAPTURE(off, v);
      REQUIRE_NOTHROW(load_and_build(dir, b));
    }
}
