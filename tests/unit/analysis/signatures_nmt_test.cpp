// JVM NMT headers: the JVM cores' nmt.core (-XX:NativeMemoryTracking=summary, jdwp, jdb
// attached) is taken right after `jcmd VM.native_memory summary` (nmt.summary.txt, made by
// corpus/jvm/make-jvm-cores.sh once per ctest run, see jvm_cores.hpp); coresift's
// nmt:<category> counts must agree with the JVM's own malloc counts.
#include <catch2/catch.hpp>

#include <fstream>
#include <map>
#include <regex>

#include "cli/jvm_cores.hpp"
#include "support/skip.hpp"
#include "support/cli.hpp"

using coresift::test::run_json;

namespace {

// "-   Symbol (reserved=…" then "(malloc=2512KB #52503)" → {"Symbol": 52503}
std::map<std::string, uint64_t> jcmd_malloc_counts(const std::string& path) {
  std::ifstream in(path);
  std::map<std::string, uint64_t> out;
  std::regex category(R"(^-\s+(.+?) \(reserved=)"), malloc_count(R"(\(malloc=\d+KB #(\d+)\))");
  std::string line, current;
  std::smatch m;
  while (std::getline(in, line)) {
    if (std::regex_search(line, m, category)) current = m[1];
    else if (!current.empty() && std::regex_search(line, m, malloc_count)) out[current] = std::stoull(m[1]);
  }
  return out;
}

}  // namespace

TEST_CASE("signatures: JVM NMT malloc headers give the JVM's own category counts", "[signatures][nmt][jvm]") {
  const auto& cores = coresift::test::jvm_cores();
  if (!cores.skip.empty()) return coresift::test::skip_test(cores.skip);
  INFO(cores.log);
  REQUIRE(cores.status == 0);
  auto want = jcmd_malloc_counts(cores.dir + "/nmt.summary.txt");
  REQUIRE(want.count("Symbol"));
  auto doc = run_json({"groups", cores.dir + "/nmt.core", "--top", "0"});
  std::map<std::string, uint64_t> got;
  for (const auto& g : doc["groups"]) {
    std::string key = g["key"];
    if (key.starts_with("nmt:")) got[key.substr(4)] = g["chunks"];
  }
  // Every sizeable category we name is one the JVM reports mallocs for (jcmd leaves out
  // categories under 1 KB).
  for (const auto& [cat, n] : got) {
    INFO("nmt:" << cat << " " << n);
    if (n >= 50) CHECK(want.count(cat));
  }
  CHECK(got["Symbol"] > 1000);
  // The JVM was idle between jcmd and the core, but jcmd's own attach allocates a little.
  for (const auto& [cat, n] : want) {
    if (n < 50) continue;
    INFO(cat << ": jcmd " << n << ", coresift " << got[cat]);
    CHECK(got[cat] + n / 20 + 20 >= n);
    CHECK(got[cat] <= n + n / 20 + 20);
  }
}
