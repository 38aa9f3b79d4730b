// JVM NMT headers: a JVM started here with -XX:NativeMemoryTracking=summary is dumped with
// gdb's gcore right after `jcmd VM.native_memory summary`; coresift's nmt:<category> counts
// must agree with the JVM's own malloc counts. Skipped where java, jcmd or gdb is missing
// or ptrace is not allowed (the core is ~2 GB sparse, so it is made, not committed).
#include <catch2/catch.hpp>

#include <cstdlib>
#include <fstream>
#include <map>
#include <regex>

#include "input/temp_dir.hpp"
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

TEST_CASE("signatures: JVM NMT malloc headers give the JVM's own category counts", "[signatures][nmt]") {
  if (std::system("command -v java >/dev/null && command -v jcmd >/dev/null && command -v gdb >/dev/null") != 0) {
    WARN("java, jcmd or gdb not installed: skipped");
    return;
  }
  coresift::test::TempDir dir;
  dir.write("Sleep.java",
            "public class Sleep { public static void main(String[] a) throws Exception {"
            " System.out.println(\"READY\"); Thread.sleep(120000); } }\n");
  std::string script = dir.write("make-core.sh", R"(set -u
cd "$1"
java -Xmx16m -XX:NativeMemoryTracking=summary -XX:+UseSerialGC Sleep.java > out.txt 2>&1 &
pid=$!
for i in $(seq 1 120); do grep -q READY out.txt && break; sleep 0.5; done
rc=1
if grep -q READY out.txt; then
  jcmd $pid VM.native_memory summary > nmt.txt 2>&1 &&
    timeout 300 gdb -batch -nx -p $pid -ex "gcore $1/jvm.core" > gdb.log 2>&1 && [ -s jvm.core ] && rc=0
fi
kill -9 $pid 2>/dev/null; wait $pid 2>/dev/null
exit $rc
)");
  if (std::system(("bash " + script + " " + dir.path()).c_str()) != 0) {
    WARN("could not make a JVM core here (ptrace or JVM start failed): skipped");
    return;
  }
  auto want = jcmd_malloc_counts(dir.path() + "/nmt.txt");
  REQUIRE(want.count("Symbol"));
  auto doc = run_json({"groups", dir.path() + "/jvm.core", "--top", "0"});
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
  // The JVM was idle between jcmd and gcore, but jcmd's own attach allocates a little.
  for (const auto& [cat, n] : want) {
    if (n < 50) continue;
    INFO(cat << ": jcmd " << n << ", coresift " << got[cat]);
    CHECK(got[cat] + n / 20 + 20 >= n);
    CHECK(got[cat] <= n + n / 20 + 20);
  }
}
