// Raw memory dumps (FILE@0xBASE) of the census heaps, without a core: the main heap (its
// arena is in libc, not in the dump) and worker 1's arena heap (malloc_state included).
#include <catch2/catch.hpp>
#include <fmt/format.h>

#include <random>

#include "corpus.hpp"

using namespace glibc_test;
using coresift::ChunkBin;
using coresift::ChunkState;

namespace {
const std::vector<std::string> kSuites = {"", "bullseye", "trixie"};
}

TEST_CASE("raw dumps of census heaps", "[glibc][corpus][raw]") {
  for (const auto& suite : kSuites) {
    std::string truth_path = cores_dir(suite) + "census.gcore.truth.json";
    INFO("committed corpus truth " << truth_path);
    REQUIRE(file_exists(truth_path));
    auto truth = load_json(truth_path);
    REQUIRE(truth.contains("dumps"));
    std::vector<std::string> inputs;
    std::map<int, std::string> kind_of_thread;
    for (const auto& d : truth["dumps"]) {
      std::string f = cores_dir(suite) + d["file"].get<std::string>();
      INFO("committed corpus dump " << f);
      REQUIRE(file_exists(f));
      inputs.push_back(temp_file(fmt::format("{}-{}", suite.empty() ? "host" : suite,
                                             d["file"].get<std::string>().substr(0, d["file"].get<std::string>().size() - 4)),
                                 read_all(f)) +
                       "@" + d["start"].get<std::string>());
      kind_of_thread[d["thread"].get<int>()] = d["kind"].get<std::string>();
    }
    REQUIRE(!inputs.empty());
    INFO((suite.empty() ? "host" : suite));
    auto s = open(inputs, opts(true));
    const auto& t = s->heap();
    REQUIRE(t.allocators.size() == 1);
    CHECK(t.allocators[0].name == "glibc");
    CHECK(t.allocators[0].located_by == "scan");
    for (const auto& f : t.findings) UNSCOPED_INFO(f.kind << " at " << f.address << ": " << f.detail);
    CHECK(t.findings.empty());
    int checked = 0, exact = 0, cached = 0;
    std::string glibc = truth["glibc"].get<std::string>();  // "2.36"
    bool safe_linking = std::stoi(glibc.substr(glibc.find('.') + 1)) >= 32;
    for (const auto& a : truth["allocations"]) {
      int th = a["thread"].get<int>();
      if (!kind_of_thread.count(th) || a["class"] == "mmapped") continue;
      bool main_heap = kind_of_thread[th] == "main_heap";
      uint64_t addr = hex(a["addr"]);
      std::string bin = a.contains("observed_bin") && a["observed_bin"].is_string() ? a["observed_bin"].get<std::string>()
                                                                                     : a["bin"].is_string() ? a["bin"].get<std::string>() : "";
      const auto* c = row_at(t, addr);
      INFO("id " << a["id"] << " " << a["class"].get<std::string>() << " thread " << th << " bin " << bin);
      REQUIRE(c);
      checked++;
      CHECK(c->chunk_size() == a["chunk_size"].get<uint64_t>());
      uint64_t csize = a["chunk_size"].get<uint64_t>();
      if (!main_heap) {  // the arena is in the dump: exact
        if (a["state"] == "live") {
          CHECK(c->state == ChunkState::kLive);
          CHECK(c->size == a["usable"].get<uint64_t>());
        } else {
          CHECK(c->state == ChunkState::kFree);
          CHECK(std::string(coresift::bin_name(c->bin) ? coresift::bin_name(c->bin) : "-") == bin);
        }
        exact++;
        continue;
      }
      // Main heap without main_arena: the main thread's tcache (first chunk) is seen, other
      // threads' tcaches are not; binned chunks are free by their neighbour's bit; fastbins
      // are recovered from their safe-linked chains (2.32+), before that they are not seen.
      if (bin == "fastbin" && safe_linking) {
        CHECK(c->state == ChunkState::kFree);
        CHECK(c->bin == ChunkBin::kFastbin);
        exact++;
      } else if (a["state"] == "live" || bin == "fastbin") {
        if (csize <= 0x410) {
          CHECK(c->state == ChunkState::kLiveOrCached);
          cached++;
        } else {
          CHECK(c->state == ChunkState::kLive);
          exact++;
        }
      } else if (bin == "tcache") {
        CHECK(c->state == ChunkState::kFree);
        CHECK(c->bin == ChunkBin::kTcache);
        exact++;
      } else {
        CHECK(c->state == ChunkState::kFree);
        CHECK(c->bin == ChunkBin::kUnbinned);
        exact++;
      }
    }
    CHECK(checked > 200);
    CHECK(exact + cached == checked);
  }
}

TEST_CASE("a raw range that is not a heap finds no allocator", "[glibc][raw]") {
  std::vector<uint8_t> junk(1 << 16);
  std::mt19937_64 rng(42);
  for (auto& b : junk) b = static_cast<uint8_t>(rng());
  std::string f = temp_file("junk.bin", junk);
  auto s = open({f + "@0x7f0000000000"}, opts(true));
  CHECK(s->heap().allocators.empty());
  CHECK(s->heap().chunks.empty());
}
