// End-to-end: HotSpot's pooled arena chunks in the OpenJDK 17 cores without NMT (made by
// corpus/jvm/make-jvm-cores.sh once per ctest run, see jvm_cores.hpp). coresift finds the ChunkPools without symbols; the truth
// here comes from gdb instead, through libjvm's own symbol table (ChunkPool::_tiny_pool …
// _large_pool, kept by Debian's libjvm.so): each pool's _size and _num_chunks, read from the
// pool object (JDK 17 layout {_first, _num_chunks, _num_used, _size}). The number of chunks
// signed jvm:arena_chunk_free of each pool size must equal that pool's _num_chunks.
#include <sys/wait.h>

#include <catch2/catch.hpp>
#include <cstdlib>
#include <fstream>
#include <map>
#include <sstream>

#include "cli/jvm_cores.hpp"
#include "support/skip.hpp"
#include "support/cli.hpp"
#include "unit/input/temp_dir.hpp"

using coresift::test::run_json;
using coresift::test::read_text;
using coresift::test::TempDir;
using nlohmann::json;

namespace {

int shell(const std::string& cmd) {
  int st = std::system(cmd.c_str());
  return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

constexpr const char* kGdbScript = R"(set pagination off
python
inf = gdb.selected_inferior()
def u64(a): return int.from_bytes(inf.read_memory(a, 8).tobytes(), 'little')
for name in ('_tiny_pool', '_small_pool', '_medium_pool', '_large_pool'):
    pool = u64(int(gdb.parse_and_eval("(unsigned long)&'ChunkPool::%s'" % name)))
    print('POOL %d %d' % (u64(pool + 24), u64(pool + 8)))
end
)";

// pool _size → _num_chunks, from gdb; empty when gdb or the symbols are not there.
std::map<uint64_t, uint64_t> pools_from_gdb(const std::string& dir, const std::string& java, const std::string& core) {
  std::ofstream(dir + "/pools.gdb") << kGdbScript;
  std::string out = dir + "/pools.txt";
  shell("gdb -batch -q -nx -x '" + dir + "/pools.gdb' '" + java + "' '" + core + "' > '" + out + "' 2>&1");
  std::map<uint64_t, uint64_t> pools;
  std::istringstream in(read_text(out));
  for (std::string line; std::getline(in, line);) {
    std::istringstream l(line);
    std::string tag;
    uint64_t size = 0, count = 0;
    if (l >> tag >> size >> count && tag == "POOL") pools[size] = count;
  }
  return pools;
}

}  // namespace

TEST_CASE("signatures: pooled HotSpot arena chunks match the ChunkPool counts", "[e2e][signatures][jvm][arena]") {
  const auto& cores = coresift::test::jvm_cores();
  if (!cores.skip.empty()) return coresift::test::skip_test(cores.skip);
  // A failed maker fails below, whether gdb is there or not.
  if (cores.status == 0 && shell("command -v gdb > /dev/null 2>&1") != 0)
    return coresift::test::skip_test("no gdb for the independent pool counts");
  INFO(cores.log);
  REQUIRE(cores.status == 0);
  TempDir dir;  // gdb's script and output

  for (std::string run : {"jdwp", "plain"}) {
    INFO("core " << run);
    std::string core = cores.dir + "/" + run + ".core";
    json truth = json::parse(read_text(cores.dir + "/" + run + ".truth.json"));
    auto pools = pools_from_gdb(dir.path(), truth["java_home"].get<std::string>() + "/bin/java", core);
    INFO(read_text(dir.path() + "/pools.txt"));
    REQUIRE(pools.size() == 4);  // the four standard sizes
    uint64_t expected = 0;
    for (auto& [size, count] : pools) expected += count;
    CHECK(expected > 0);  // a JVM that ran code has pooled chunks

    json doc = run_json({"chunks", core});
    std::map<uint64_t, uint64_t> found;  // pool size → chunks signed free arena chunks
    uint64_t total = 0;
    for (const auto& c : doc["chunks"]) {
      if (c["signature"] != "jvm:arena_chunk_free") continue;
      CHECK(c["state"] == "live");  // free to HotSpot, still malloc'd
      uint64_t size = c["size"].get<uint64_t>();
      // The pool whose chunks fit: malloc rounds a request of _size up by less than 32 bytes.
      uint64_t pool = 0;
      for (auto& [s, n] : pools)
        if (size >= s && size < s + 32) pool = s;
      INFO("chunk " << c["address"] << " size " << size);
      CHECK(pool != 0);
      found[pool]++;
      ++total;
    }
    CHECK(total == expected);
    for (auto& [size, count] : pools) {
      INFO("pool size " << size);
      CHECK(found[size] == count);
    }
  }
}
