// The jemalloc walker against the committed census_je cores and their truth: Debian bookworm
// (5.3.0, gcore and kernel core), trixie (5.3.0 built with LG_VADDR 57) and bullseye (5.2.1),
// the foreign ones through a sysroot made from corpus/cores/SUITE/lib.
#include <sys/wait.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <vector>

#include "cli/session.hpp"
#include "support/cli.hpp"
#include "support/skip.hpp"

using namespace coresift;
namespace fs = std::filesystem;

namespace {

uint64_t hexval(const nlohmann::json& v) { return std::stoull(v.get<std::string>(), nullptr, 16); }

struct Sysroots {
  std::map<std::string, std::string> made;  // complete ones
  std::vector<std::string> dirs;            // every one started, removed at exit
  ~Sysroots() {
    for (const auto& dir : dirs) {
      std::error_code ec;
      fs::remove_all(dir, ec);
    }
  }
};

// A sysroot with the suite's libraries (decompressed by zstd, aliases as relative symlinks),
// made once. Fails the test when the committed manifest is missing or zstd fails.
std::string suite_sysroot(const std::string& suite) {
  static Sysroots sysroots;
  auto& made = sysroots.made;
  if (made.count(suite)) return made[suite];
  std::string lib = coresift::test::corpus_core(suite + "/lib");
  std::ifstream mf(lib + "/manifest.json");
  INFO(lib + "/manifest.json");
  REQUIRE(mf.good());
  auto manifest = nlohmann::json::parse(mf);
  std::string root = (fs::temp_directory_path() / ("coresift-je-sysroot-" + suite + "-" + std::to_string(getpid()))).string();
  sysroots.dirs.push_back(root);  // removed at exit even when a step below fails
  for (const auto& l : manifest["libraries"]) {
    std::string path = l["path"];
    fs::path dst = root + path;
    fs::create_directories(dst.parent_path());
    std::string cmd = "zstd -qfd '" + lib + "/" + l["file"].get<std::string>() + "' -o '" + dst.string() + "'";
    INFO(cmd);
    REQUIRE(std::system(cmd.c_str()) == 0);
    for (const auto& a : l["aliases"]) {
      fs::path al = root + a.get<std::string>();
      fs::create_directories(al.parent_path());
      std::error_code ec;
      fs::create_symlink(fs::relative(dst, al.parent_path()), al, ec);
    }
  }
  return made[suite] = root;
}

// with_files: give the walker the suite's library files (version string, malloc disassembly);
// without them it must still find everything from the core alone.
void check_census_je(const std::string& core_name, const std::string& truth_stem, const std::string& suite,
                     bool with_files = true) {
  if (!coresift::test::corpus_core_present(core_name)) return;  // skipped: not in a regenerated corpus
  std::string core = coresift::test::corpus_core(core_name);
  Options o;
  o.inputs = {core};
  if (!with_files) {
    o.symbols.sysroot = (fs::temp_directory_path() / "coresift-je-empty-sysroot").string();
    fs::create_directories(o.symbols.sysroot);
  } else if (!suite.empty()) {
    // Before any check: the sysroot's own REQUIREs fail the test, they do not skip it.
    if (std::system("command -v zstd > /dev/null 2>&1") != 0)
      return coresift::test::skip_test("zstd is not installed: cannot unpack the " + suite + " libraries");
    o.symbols.sysroot = suite_sysroot(suite);
    REQUIRE(!o.symbols.sysroot.empty());
  }
  auto truth = coresift::test::corpus_truth(truth_stem);
  auto s = Session::open(o);
  const ChunkTable& t = s->heap();
  int je = -1;
  for (size_t i = 0; i < t.allocators.size(); ++i)
    if (t.allocators[i].name == "jemalloc") je = static_cast<int>(i);
  REQUIRE(je >= 0);
  const AllocatorInfo& a = t.allocators[je];
  CHECK(a.version == (with_files ? truth["jemalloc"]["version"].get<std::string>() : ""));
  CHECK(a.located_by == (with_files ? "scan+disassembly" : "scan"));
  for (const Finding& f : t.findings)
    if (f.allocator == je) FAIL_CHECK(f.kind << ": " << f.detail);
  bool stats_all_agree = false;
  for (const auto& n : a.notes)
    if (n.rfind("bin statistics: ", 0) == 0) {
      auto of = n.find(" of ");
      stats_all_agree = n.substr(16, of - 16) == n.substr(of + 4, n.find(' ', of + 4) - of - 4);
    }
  CHECK(stats_all_agree);

  std::map<int, int> ind_of;  // table arena index → jemalloc arena index
  std::map<int, std::string> kind_of;
  for (size_t i = 0; i < t.arenas.size(); ++i)
    if (t.arenas[i].allocator == je) ind_of[static_cast<int>(i)] = t.arenas[i].index, kind_of[t.arenas[i].index] = t.arenas[i].kind;
  for (const auto& th : truth["threads"]) CHECK(kind_of[th["arena"].get<int>()] == "arena");
  if (truth["jemalloc"].contains("huge_arena")) CHECK(kind_of[truth["jemalloc"]["huge_arena"].get<int>()] == "huge");

  std::set<uint64_t> live_addrs;
  for (const auto& r : truth["allocations"])
    if (r["state"] == "live") live_addrs.insert(hexval(r["addr"]));
  std::map<std::string, int> ok, reused;
  for (const auto& r : truth["allocations"]) {
    uint64_t p = hexval(r["addr"]);
    std::string where = r["where"].is_string() ? r["where"].get<std::string>() : "live";
    INFO(r.dump());
    auto idx = t.find(p);
    if (r["state"] == "live") {
      REQUIRE(idx);
      const Chunk& c = t.chunks[*idx];
      CHECK(c.address == p);
      CHECK(c.state == ChunkState::kLive);
      CHECK(c.size == r["usable"].get<uint64_t>());
      CHECK(ind_of[c.arena] == r["arena"].get<int>());
    } else if (where == "tcache" || where == "slab") {
      REQUIRE(idx);
      const Chunk& c = t.chunks[*idx];
      CHECK(c.address == p);
      CHECK(c.state == ChunkState::kFree);
      if (where == "slab") CHECK(c.bin == ChunkBin::kSlab);
      else CHECK((c.bin == ChunkBin::kTcache || c.bin == ChunkBin::kLarge));
    } else {
      // Back in its arena: inside a free extent, or purged out of the map, unless a later
      // allocation took the pages again.
      if (idx && t.chunks[*idx].state != ChunkState::kFree) {
        if (!live_addrs.count(t.chunks[*idx].address)) reused[where]++;
        continue;
      }
    }
    ok[where]++;
  }
  // jemalloc's own tcache_bytes per arena (stats at the time of the dump) equals the bytes
  // the walker found cached. 5.2.1 counts small bins only (its merge loop indexes bins_large
  // from SC_NBINS and reads nothing useful), 5.3 small and large.
  bool v52 = truth["jemalloc"]["version"].get<std::string>().rfind("5.2", 0) == 0;
  std::map<int, uint64_t> cached_bytes;
  for (const Chunk& c : t.chunks)
    if (c.allocator == je && c.state == ChunkState::kFree && (c.bin == ChunkBin::kTcache || (!v52 && c.bin == ChunkBin::kLarge)))
      cached_bytes[ind_of[c.arena]] += c.size;
  size_t tcache_checks = 0;
  for (const auto& sc : truth["stats_checks"])
    if (sc["what"] == "tcache_bytes") {
      INFO("arena " << sc["arena"]);
      CHECK(cached_bytes[sc["arena"].get<int>()] == sc["observed"].get<uint64_t>());
      ++tcache_checks;
    }
  CHECK(tcache_checks > 0);
  CHECK(ok["live"] > 200);
  CHECK(ok["tcache"] > 100);
  CHECK(ok["slab"] > 100);
  CHECK(ok["extent"] > 10);
  CHECK(reused["extent"] <= 2);  // e.g. a thread's 28 KiB tcache stack carved from a freed extent
}

}  // namespace

TEST_CASE("jemalloc corpus: bookworm 5.3.0 gcore matches its truth", "[jemalloc][e2e]") {
  check_census_je("census_je.gcore.core.zst", "census_je.gcore", "");
}

TEST_CASE("jemalloc corpus: bookworm 5.3.0 kernel core matches its truth", "[jemalloc][e2e]") {
  check_census_je("census_je.kcore.core.zst", "census_je.kcore", "");
}

TEST_CASE("jemalloc corpus: trixie 5.3.0 (LG_VADDR 57) kernel core matches its truth", "[jemalloc][e2e]") {
  check_census_je("trixie/census_je.kcore.core.zst", "trixie/census_je.kcore", "trixie");
}

TEST_CASE("jemalloc corpus: bullseye 5.2.1 kernel core matches its truth", "[jemalloc][e2e]") {
  check_census_je("bullseye/census_je.kcore.core.zst", "bullseye/census_je.kcore", "bullseye");
}

TEST_CASE("jemalloc corpus: bullseye 5.2.1 core without its library files", "[jemalloc][e2e]") {
  check_census_je("bullseye/census_je.kcore.core.zst", "bullseye/census_je.kcore", "bullseye", false);
}

TEST_CASE("jemalloc corpus: trixie core without its library files", "[jemalloc][e2e]") {
  check_census_je("trixie/census_je.kcore.core.zst", "trixie/census_je.kcore", "trixie", false);
}
