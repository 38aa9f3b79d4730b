// A real main arena with almost every bin in use (data/busy_bins.c, compiled and dumped by
// the kernel at test time), checked against glibc's own malloc_info: located by symbols and
// without them, free chunk counts per kind and system_mem exact, no findings. Registered in
// tests/CMakeLists.txt as its own ctest (one core per run); skipped (skip_test) when this
// machine has no C compiler or does not write plain kernel cores.
#include <catch2/catch.hpp>

#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <regex>
#include <sstream>

#include "corpus.hpp"
#include "support/skip.hpp"

using namespace glibc_test;

namespace {

std::string read_text(const std::string& p) {
  std::ifstream in(p);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// The core and malloc_info's report; or why this machine cannot make them (why_not: no C
// compiler, no plain kernel cores), or how making them failed (failed).
struct BusyCore {
  std::string dir, core, truth, why_not, failed;
};

BusyCore make_busy_core() {
  BusyCore b;
  std::string pattern = read_text("/proc/sys/kernel/core_pattern");
  if (pattern.rfind("core", 0) != 0 || pattern.find('|') != std::string::npos) {
    b.why_not = "core_pattern is not a plain file name";
    return b;
  }
  if (std::system("command -v cc > /dev/null 2>&1") != 0) {
    b.why_not = "no C compiler (cc)";
    return b;
  }
  char tmpl[] = "/tmp/coresift-busy-XXXXXX";
  if (!mkdtemp(tmpl)) {
    b.failed = "mkdtemp failed";
    return b;
  }
  b.dir = tmpl;
  std::string src = std::string(CORESIFT_SOURCE_DIR) + "/tests/unit/allocators/glibc/data/busy_bins.c";
  if (std::system(("cd " + b.dir + " && cc -O0 -g -o busy_bins " + src + " > cc.log 2>&1").c_str()) != 0) {
    b.failed = "compiling busy_bins.c failed: " + read_text(b.dir + "/cc.log");
    return b;
  }
  std::string cmd = "cd " + b.dir + " && (ulimit -c unlimited; ./busy_bins truth.xml) >/dev/null 2>&1; true";
  if (std::system(cmd.c_str()) != 0) b.failed = "could not run the shell";
  for (const auto& e : std::filesystem::directory_iterator(b.dir))
    if (e.path().filename().string().rfind("core", 0) == 0) b.core = e.path();
  b.truth = b.dir + "/truth.xml";
  if (b.core.empty()) b.why_not = "no kernel core written (core size limit?)";
  return b;
}

// <heap nr="0"> … <total type="KIND" count="N" size="S"/> and <system type="current" size="S"/>.
uint64_t malloc_info_value(const std::string& xml, const std::string& what) {
  std::string heap0 = xml.substr(0, xml.find("</heap>"));
  std::smatch m;
  std::regex re(what);
  REQUIRE(std::regex_search(heap0, m, re));
  return std::stoull(m[1]);
}

}  // namespace

TEST_CASE("a real main arena with almost no empty bin matches malloc_info", "[.][glibc-busy]") {
  BusyCore b = make_busy_core();
  if (!b.failed.empty()) FAIL(b.failed);
  if (!b.why_not.empty()) return coresift::test::skip_test(b.why_not);
  std::string xml = read_text(b.truth);
  uint64_t fast = malloc_info_value(xml, "<total type=\"fast\" count=\"(\\d+)\"");
  uint64_t rest = malloc_info_value(xml, "<total type=\"rest\" count=\"(\\d+)\"");
  uint64_t fast_bytes = malloc_info_value(xml, "<total type=\"fast\" count=\"\\d+\" size=\"(\\d+)\"");
  uint64_t rest_bytes = malloc_info_value(xml, "<total type=\"rest\" count=\"\\d+\" size=\"(\\d+)\"");
  uint64_t system = malloc_info_value(xml, "<system type=\"current\" size=\"(\\d+)\"");
  for (bool nodbg : {false, true}) {
    INFO((nodbg ? "--no-debuginfo" : "symbols"));
    auto s = open({b.core}, opts(nodbg));
    const auto& t = s->heap();
    REQUIRE(t.allocators.size() == 1);
    CHECK(t.allocators[0].located_by == (nodbg ? "disassembly" : "symbols"));
    REQUIRE(t.arenas.size() == 1);
    CHECK(t.arenas[0].system_mem == system);
    // Fewer than 20 empty bins (the old refusal): count header pairs pointing at themselves.
    uint64_t ma = t.arenas[0].address;
    int empty = 0;
    for (uint64_t off = 0; off < 0x900; off += 16) {
      uint64_t w[2];
      if (s->memory().read(ma + off, w, 16) == 16 && w[0] == ma + off - 16 && w[1] == ma + off - 16) empty++;
    }
    CHECK(empty < 20);
    // malloc_info counts fastbins ("fast") and bins 1..126 plus the top chunk ("rest"); its
    // bytes are the binned chunks' size fields with their flag bits, and top's size.
    uint64_t listed = 0, listed_bytes = 0;
    for (const auto& c : t.chunks) {
      bool binned = c.bin == coresift::ChunkBin::kFastbin || c.bin == coresift::ChunkBin::kUnsorted ||
                    c.bin == coresift::ChunkBin::kSmallbin || c.bin == coresift::ChunkBin::kLargebin;
      if (c.state != coresift::ChunkState::kFree || !(binned || c.bin == coresift::ChunkBin::kTop)) continue;
      uint64_t size_field = 0;
      REQUIRE(s->memory().read(c.address - 8, &size_field, 8) == 8);
      listed++;
      bool raw = binned && c.bin != coresift::ChunkBin::kFastbin;  // fastbins: chunksize()
      listed_bytes += raw ? size_field : c.chunk_size();
    }
    CHECK(listed == fast + rest);
    CHECK(listed_bytes == fast_bytes + rest_bytes);
    CHECK(rest > 150);
    for (const auto& f : t.findings) UNSCOPED_INFO(f.kind << ": " << f.detail);
    CHECK(t.findings.empty());
  }
  std::error_code ec;
  std::filesystem::remove_all(b.dir, ec);
}
