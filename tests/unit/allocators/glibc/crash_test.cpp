// Heap-corruption crash cores of the corpus: glibc's own fatal checks must show up as findings.
#include <catch2/catch.hpp>

#include "corpus.hpp"

using namespace glibc_test;

namespace {
const std::vector<std::string> kSuites = {"", "bullseye", "trixie"};
}

TEST_CASE("corrupted top size is a finding", "[glibc][corpus]") {
  for (const auto& suite : kSuites) {
    std::string core = cores_dir(suite) + "corrupt_top.kcore.core.zst";
    INFO("committed corpus core " << core);
    REQUIRE(file_exists(core));
    auto truth = load_json(cores_dir(suite) + "corrupt_top.kcore.truth.json");
    for (bool nodbg : {false, true}) {
      INFO((suite.empty() ? "host" : suite) << (nodbg ? " --no-debuginfo" : ""));
      auto s = open({core}, opts(nodbg));
      const auto& t = s->heap();
      REQUIRE(t.allocators.size() == 1);
      bool found = false;
      for (const auto& f : t.findings)
        if (f.kind == "corrupted-top-size" && f.address == hex(truth["crash"]["top_chunk"])) found = true;
      CHECK(found);
      // The victim is still a live row; the top row does not claim memory beyond the heap.
      const auto* victim = row_at(t, hex(truth["crash"]["victim"]));
      REQUIRE(victim);
      CHECK(victim->state == coresift::ChunkState::kLive);
      const auto* top = row_at(t, hex(truth["crash"]["top_chunk"]) + 16);
      REQUIRE(top);
      CHECK(top->bin == coresift::ChunkBin::kTop);
      CHECK(top->chunk_size() < (1u << 20));
    }
  }
}

TEST_CASE("tcache double free is a finding", "[glibc][corpus]") {
  for (const auto& suite : kSuites) {
    std::string core = cores_dir(suite) + "double_free.kcore.core.zst";
    INFO("committed corpus core " << core);
    REQUIRE(file_exists(core));
    auto truth = load_json(cores_dir(suite) + "double_free.kcore.truth.json");
    for (bool nodbg : {false, true}) {
      INFO((suite.empty() ? "host" : suite) << (nodbg ? " --no-debuginfo" : ""));
      auto s = open({core}, opts(nodbg));
      const auto& t = s->heap();
      REQUIRE(t.allocators.size() == 1);
      bool found = false;
      for (const auto& f : t.findings)
        if (f.kind == "tcache-double-free" && f.address == hex(truth["crash"]["ptr"])) found = true;
      CHECK(found);
      const auto* c = row_at(t, hex(truth["crash"]["ptr"]));
      REQUIRE(c);
      CHECK(c->state == coresift::ChunkState::kFree);
      CHECK(c->bin == coresift::ChunkBin::kTcache);
    }
  }
}

TEST_CASE("a plain abort or segfault has a clean heap", "[glibc][corpus]") {
  for (const auto& suite : kSuites)
    for (const char* prog : {"crash_abort", "crash_segv"}) {
      std::string core = cores_dir(suite) + prog + ".kcore.core.zst";
      INFO("committed corpus core " << core);
      REQUIRE(file_exists(core));
      INFO((suite.empty() ? "host" : suite) << " " << prog);
      auto s = open({core}, opts(true));
      const auto& t = s->heap();
      if (std::string(prog) == "crash_abort") {
        // Never called malloc: glibc's heap was never set up. glibc is still reported, empty.
        REQUIRE(t.allocators.size() == 1);
        CHECK(t.allocators[0].name == "glibc");
        CHECK(t.chunks.empty());
        CHECK(t.arenas.empty());
        CHECK(t.allocators[0].notes.at(0).find("not initialised") != std::string::npos);
      } else {
        REQUIRE(t.allocators.size() == 1);
        CHECK(t.findings.empty());
      }
    }
}
