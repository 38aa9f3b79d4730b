// A core with as many mappings as Linux allows (vm.max_map_count, 65530) must load in
// linear-ish time: hostile or just big cores must not turn quadratic loops into hangs.
#include <elf.h>

#include <catch2/catch.hpp>
#include <chrono>

#include "coresift/input/inputs.hpp"
#include "coresift/process/process.hpp"
#include "unit/input/synthetic_core.hpp"
#include "unit/input/temp_dir.hpp"

using namespace coresift;
using namespace coresift::test;

namespace {

constexpr uint64_t kMaps = 65530;

// One absent page per mapping (filesz 0), each named in NT_FILE, with a gap between them.
Bytes many_mappings_core() {
  CoreBuilder c;
  std::vector<FileNoteEntry> files;
  for (uint64_t i = 0; i < kMaps; ++i) {
    uint64_t start = 0x10000000 + i * 0x2000;
    c.load(start, 0x1000, {}, PF_R);
    files.push_back({start, start + 0x1000, 0x1000, "/lib/libmany.so." + std::to_string(i % 7)});
  }
  c.file_note(0x1000, files);
  return c.bytes();
}

double seconds_since(std::chrono::steady_clock::time_point t) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t).count();
}

}  // namespace

TEST_CASE("65530 mappings load and decode quickly", "[input][scale]") {
  TempDir dir;
  std::string core = dir.write("many.core", many_mappings_core());
  Diagnostics diag;
  auto t0 = std::chrono::steady_clock::now();
  LoadedInputs in = load_inputs({core}, diag);
  double load_s = seconds_since(t0);
  REQUIRE(in.core->loads.size() == kMaps);
  REQUIRE(in.core->files.size() == kMaps);
  CHECK(load_s < 5);
  CHECK(in.memory.find(0x10000000 + 1234 * 0x2000 + 5));
  CHECK_FALSE(in.memory.find(0x10000000 + 1234 * 0x2000 + 0x1005));
}

// build_process looks up NT_FILE entries and mappings by address in O(log n); before, each
// load scanned the NT_FILE list (3.4 s here, 0.1 s after).
TEST_CASE("65530 mappings build a process quickly", "[input][scale]") {
  TempDir dir;
  std::string core = dir.write("many.core", many_mappings_core());
  Diagnostics diag;
  LoadedInputs in = load_inputs({core}, diag);
  ProcessOptions opts;
  opts.sysroot = dir.path() + "/no-sysroot";
  auto t0 = std::chrono::steady_clock::now();
  Process p = build_process(in, opts, diag);
  double build_s = seconds_since(t0);
  CHECK(p.mappings.size() == kMaps);
  CHECK(p.mappings[77].path == "/lib/libmany.so.0");
  CHECK(build_s < 2);
}

// A hostile layout for overlap resolution: many small ranges, then as many large ones that
// each cover all of them. Every byte still belongs to the first range holding it.
TEST_CASE("65530 overlapping ranges resolve quickly", "[input][scale]") {
  constexpr uint64_t kHalf = kMaps / 2, kBase = 0x10000000;
  AddressSpace as;
  for (uint64_t i = 0; i < kHalf; ++i) {
    Segment s;
    s.start = kBase + i * 0x2000;
    s.end = s.start + 0x1000;
    s.perms = kPermRead;
    as.add(s);
  }
  for (uint64_t i = 0; i < kHalf; ++i) {
    Segment s;
    s.start = kBase - 0x1000 - i;
    s.end = kBase + kHalf * 0x2000 + i;
    s.perms = kPermWrite | kPermRead;
    as.add(s);
  }
  auto t0 = std::chrono::steady_clock::now();
  uint64_t shadowed = as.finalize();
  double s = seconds_since(t0);
  CHECK(s < 1);
  // The first large range fills the kHalf + 1 gaps; the others add one byte at each end.
  CHECK(as.segments().size() == kHalf + (kHalf + 1) + 2 * (kHalf - 1));
  const Segment* small = as.find(kBase + 77 * 0x2000);
  REQUIRE(small);
  CHECK(small->perms == kPermRead);
  const Segment* gap = as.find(kBase + 77 * 0x2000 + 0x1000);
  REQUIRE(gap);
  CHECK(gap->perms == (kPermRead | kPermWrite));
  CHECK(shadowed > 0);
}
