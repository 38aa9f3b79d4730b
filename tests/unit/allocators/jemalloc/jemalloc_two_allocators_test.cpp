// Two allocators in one process. With jemalloc preloaded, glibc's malloc is normally never
// initialised (ld.so uses its own minimal malloc, and every later malloc call resolves to
// jemalloc): glibc is still reported, with 0 chunks and a note. A program that calls
// __libc_malloc does have glibc chunks: both allocators' chunks are reported, each tagged.
#include <catch2/catch.hpp>
#include <map>
#include <set>

#include "allocators/jemalloc/je_generated_core.hpp"
#include "cli/session.hpp"
#include "support/cli.hpp"

using namespace coresift;
using coresift::test::hex;
using coresift::test::JeCore;
using nlohmann::json;

namespace {

// Index of the allocator called `name` in the chunk table, or -1.
int allocator_index(const ChunkTable& t, const std::string& name) {
  for (size_t i = 0; i < t.allocators.size(); ++i)
    if (t.allocators[i].name == name) return static_cast<int>(i);
  return -1;
}

const json* allocator_named(const json& heap, const std::string& name) {
  for (const auto& a : heap["allocators"])
    if (a["name"] == name) return &a;
  return nullptr;
}

bool has_note(const json& allocator, const std::string& text) {
  for (const auto& n : allocator["notes"])
    if (n.get<std::string>().find(text) != std::string::npos) return true;
  return false;
}

}  // namespace

TEST_CASE("two allocators: glibc never initialised under a preloaded jemalloc is reported empty", "[jemalloc][glibc]") {
  // The census_je corpus cores: the program observed that glibc's heap was never set up.
  for (std::string stem : {"census_je.kcore", "census_je.gcore", "bullseye/census_je.kcore", "trixie/census_je.kcore"}) {
    DYNAMIC_SECTION(stem) {
      json truth = coresift::test::corpus_truth(stem);
      REQUIRE(truth["glibc_heap"]["present"] == false);
      json doc = coresift::test::run_json({"heap", coresift::test::corpus_core(stem + ".core.zst")});
      const json* glibc = allocator_named(doc, "glibc");
      REQUIRE(glibc);
      REQUIRE(allocator_named(doc, "jemalloc"));
      CHECK((*glibc)["totals"]["live_chunks"] == 0);
      CHECK((*glibc)["totals"]["free_chunks"] == 0);
      CHECK((*glibc)["arenas"].empty());
      CHECK(has_note(*glibc, "main_arena " + truth["main_arena"].get<std::string>() + " not initialised"));
    }
  }
}

TEST_CASE("two allocators: a jemalloc program that never calls glibc's malloc has only jemalloc chunks",
          "[jemalloc][glibc][je-cores]") {
  // The test program under jemalloc without any glibc call: every chunk is jemalloc's.
  const JeCore* c = coresift::test::je_core_or_skip("kcore");
  if (!c) return;
  REQUIRE(c->truth.glibc_allocations.empty());
  Options o;
  o.inputs = {c->core};
  auto s = Session::open(o);
  const ChunkTable& t = s->heap();
  int glibc = allocator_index(t, "glibc"), je = allocator_index(t, "jemalloc");
  REQUIRE(glibc >= 0);
  REQUIRE(je >= 0);
  for (const Chunk& ch : t.chunks) REQUIRE(ch.allocator == je);
}

TEST_CASE("two allocators: __libc_malloc chunks next to jemalloc regions, each tagged", "[jemalloc][glibc][je-cores]") {
  const JeCore* c = coresift::test::je_core_or_skip("kcore", "mixed");
  if (!c) return;
  const auto& glibc_truth = c->truth.glibc_allocations;
  REQUIRE(glibc_truth.size() == 25);

  Options o;
  o.inputs = {c->core};
  auto s = Session::open(o);
  const ChunkTable& t = s->heap();
  int glibc = allocator_index(t, "glibc"), je = allocator_index(t, "jemalloc");
  REQUIRE(glibc >= 0);
  REQUIRE(je >= 0);
  for (const Finding& f : t.findings) FAIL_CHECK(f.kind << ": " << f.detail);

  // Every glibc chunk the program made, at its address, with glibc's usable size.
  std::set<uint64_t> glibc_live;
  for (const auto& a : glibc_truth) {
    INFO(a.dump());
    uint64_t p = hex(a["glibc_p"]);
    auto idx = t.find(p);
    REQUIRE(idx);
    const Chunk& ch = t.chunks[*idx];
    CHECK(ch.address == p);
    CHECK(ch.allocator == glibc);
    if (a["live"] == 1) {
      CHECK(ch.state == ChunkState::kLive);
      CHECK(ch.size == a["usable"].get<uint64_t>());
      glibc_live.insert(p);
    } else {
      CHECK(ch.state == ChunkState::kFree);
    }
  }
  // glibc's live chunks are exactly those, plus its own per-thread tcache block.
  for (const Chunk& ch : t.chunks)
    if (ch.allocator == glibc && ch.state == ChunkState::kLive && !glibc_live.count(ch.address)) {
      INFO("glibc live chunk not in the truth: " << std::hex << ch.address);
      CHECK((ch.flags & kChunkFlagInterior) != 0);
    }
  // Every jemalloc allocation still belongs to jemalloc.
  size_t je_live = 0;
  for (const auto& a : c->truth.allocations) {
    if (a["live"] != 1) continue;
    auto idx = t.find(hex(a["p"]));
    INFO(a.dump());
    REQUIRE(idx);
    CHECK(t.chunks[*idx].allocator == je);
    ++je_live;
  }
  CHECK(je_live > 1000);

  // The CLI tags every row with its allocator.
  json rows = coresift::test::run_json({"chunks", c->core, "--state", "all"});
  std::map<std::string, std::string> owner;
  for (const auto& r : rows["chunks"]) owner[r["address"]] = r["allocator"];
  for (const auto& a : glibc_truth) CHECK(owner[a["glibc_p"]] == "glibc");
  for (const auto& a : c->truth.allocations)
    if (a["live"] == 1) CHECK(owner[a["p"]] == "jemalloc");
  json heap = coresift::test::run_json({"heap", c->core});
  const json* g = allocator_named(heap, "glibc");
  REQUIRE(g);
  CHECK((*g)["totals"]["live_chunks"].get<size_t>() >= glibc_live.size());
  CHECK(!has_note(*g, "not initialised"));
}
