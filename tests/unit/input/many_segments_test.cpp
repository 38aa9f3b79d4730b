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

// Known bug (see report): build_process matches every load against every NT_FILE entry
// (file_entry_at) and every mapping against every segment (present_in): ~4e9 steps here.
TEST_CASE("65530 mappings build a process quickly", "[input][scale][known-bug][!mayfail]") {
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
