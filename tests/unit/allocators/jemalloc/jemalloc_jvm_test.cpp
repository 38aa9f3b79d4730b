// A JVM with jemalloc preloaded: its native allocations (direct ByteBuffers, zlib state of
// Inflaters) must show up as live jemalloc regions, next to glibc's own arena. The core is made
// at test time (kernel core on SIGABRT; JVM cores are too big to commit) and removed after, by
// this one test case, registered in tests/CMakeLists.txt as its own ctest (jvm_jemalloc).
#include <sys/wait.h>

#include <catch2/catch.hpp>
#include <cstdlib>
#include <filesystem>
#include <fstream>

#include "cli/session.hpp"
#include "support/cli.hpp"
#include "support/skip.hpp"

using namespace coresift;
namespace fs = std::filesystem;

TEST_CASE("jemalloc walker: a JVM's native allocations are jemalloc regions", "[jemalloc][jvm]") {
  // Nothing is checked before the maker has said whether this machine can make the core.
  char tmpl[] = "/tmp/coresift-je-jvm-XXXXXX";
  const bool have_dir = mkdtemp(tmpl) != nullptr;
  std::string dir = have_dir ? tmpl : "";
  struct Cleanup {
    std::string d;
    ~Cleanup() {
      std::error_code ec;
      if (!d.empty()) fs::remove_all(d, ec);
    }
  } cleanup{dir};
  int rc = -1;
  std::string text;
  if (have_dir) {
    std::string script = coresift::test::source_dir() + "/tests/unit/allocators/jemalloc/make_je_jvm_core.sh";
    int st = std::system(("bash '" + script + "' '" + dir + "' > '" + dir + "/make.log' 2>&1").c_str());
    rc = WIFEXITED(st) ? WEXITSTATUS(st) : -1;
    std::ifstream log(dir + "/make.log");
    text.assign(std::istreambuf_iterator<char>(log), std::istreambuf_iterator<char>());
    if (rc == 77) return coresift::test::skip_test("cannot make a JVM core with jemalloc here: " + text);
  }
  REQUIRE(have_dir);
  INFO(text);
  REQUIRE(rc == 0);

  Options o;
  o.inputs = {dir + "/jvm.core"};
  auto s = Session::open(o);
  const ChunkTable& t = s->heap();
  int je = -1, glibc = -1;
  for (size_t i = 0; i < t.allocators.size(); ++i) {
    if (t.allocators[i].name == "jemalloc") je = static_cast<int>(i);
    if (t.allocators[i].name == "glibc") glibc = static_cast<int>(i);
  }
  REQUIRE(je >= 0);
  // glibc's walker decides whether an untouched main_arena counts as an allocator in use.
  if (glibc < 0) WARN("the glibc walker reported no allocator for this process");
  for (const Finding& f : t.findings)
    if (f.allocator == je) FAIL_CHECK(f.kind << ": " << f.detail);

  std::ifstream truth(dir + "/truth.jsonl");
  std::string line;
  size_t n = 0;
  while (std::getline(truth, line)) {
    auto r = nlohmann::json::parse(line);
    uint64_t p = std::stoull(r["p"].get<std::string>(), nullptr, 16);
    INFO(line);
    auto idx = t.find(p);
    REQUIRE(idx);
    const Chunk& c = t.chunks[*idx];
    CHECK(c.address == p);
    CHECK(c.allocator == je);
    CHECK(c.state == ChunkState::kLive);
    CHECK(c.size >= r["req"].get<uint64_t>());
    ++n;
  }
  CHECK(n == 100);
  // Many JVM threads, each with its own tcache.
  size_t live = 0;
  for (const Chunk& c : t.chunks)
    if (c.allocator == je && c.state == ChunkState::kLive) ++live;
  CHECK(live > 1000);
}
