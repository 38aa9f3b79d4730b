// Real gcore cores of unusual heaps (tests/unit/allocators/glibc/data, see its README):
// memalign'd mmapped chunks, a non-contiguous main arena, threads sharing arenas.
#include <catch2/catch.hpp>

#include <fstream>
#include <sstream>

#include "corpus.hpp"

using namespace glibc_test;
using coresift::ChunkBin;
using coresift::ChunkState;

namespace {

std::string data_dir() { return std::string(CORESIFT_SOURCE_DIR) + "/tests/unit/allocators/glibc/data/"; }

// "word 0xADDR usable N" lines of the program's output.
std::vector<std::pair<uint64_t, uint64_t>> usable_lines(const std::string& path) {
  std::vector<std::pair<uint64_t, uint64_t>> out;
  std::ifstream in(path);
  std::string line;
  while (std::getline(in, line)) {
    std::istringstream ls(line);
    std::string w, addr, u;
    uint64_t usable = 0;
    std::vector<std::string> words;
    while (ls >> w) words.push_back(w);
    for (size_t i = 0; i + 1 < words.size(); ++i)
      if (words[i] == "usable") usable = std::stoull(words[i + 1]);
    for (const auto& x : words)
      if (x.starts_with("0x") && addr.empty()) addr = x;
    if (!addr.empty() && usable) out.push_back({std::stoull(addr, nullptr, 16), usable});
  }
  return out;
}

}  // namespace

TEST_CASE("memalign'd mmapped chunks", "[glibc][edge]") {
  std::string core = data_dir() + "edge1.core.zst";
  REQUIRE(file_exists(core));  // committed
  for (bool nodbg : {false, true}) {
    auto s = open({core}, opts(nodbg));
    const auto& t = s->heap();
    REQUIRE(t.allocators.size() == 1);
    CHECK(t.findings.empty());
    CHECK(t.allocators[0].mmapped_chunks == 5);
    auto want = usable_lines(data_dir() + "edge1.txt");
    REQUIRE(want.size() == 5);
    for (auto [addr, usable] : want) {
      INFO(std::hex << addr);
      const auto* c = row_at(t, addr);
      REQUIRE(c);
      CHECK(c->bin == ChunkBin::kMmapped);
      CHECK(c->state == ChunkState::kLive);
      CHECK(c->size == usable);
    }
  }
}

TEST_CASE("non-contiguous main arena", "[glibc][edge]") {
  std::string core = data_dir() + "edge2.core.zst";
  REQUIRE(file_exists(core));  // committed
  for (bool nodbg : {false, true}) {
    auto s = open({core}, opts(nodbg));
    const auto& t = s->heap();
    REQUIRE(t.allocators.size() == 1);
    for (const auto& f : t.findings) UNSCOPED_INFO(f.kind << ": " << f.detail);
    CHECK(t.findings.empty());
    REQUIRE(t.arenas.size() == 1);
    CHECK(t.arenas[0].heaps.size() == 2);
    auto want = usable_lines(data_dir() + "edge2.txt");
    REQUIRE(want.size() == 8);
    for (auto [addr, usable] : want) {
      INFO(std::hex << addr);
      const auto* c = row_at(t, addr);
      REQUIRE(c);
      CHECK(c->state == ChunkState::kLive);
      CHECK(c->size == usable);
    }
    // The old top of the sbrk region was freed when the arena moved on.
    int tops = 0, large = 0;
    for (const auto& c : t.chunks) {
      tops += c.bin == ChunkBin::kTop;
      large += c.bin == ChunkBin::kLargebin;
    }
    CHECK(tops == 1);
    CHECK(large == 1);
  }
}

TEST_CASE("threads sharing arenas", "[glibc][edge]") {
  std::string core = data_dir() + "edge4.core.zst";
  REQUIRE(file_exists(core));  // committed
  for (bool nodbg : {false, true}) {
    auto s = open({core}, opts(nodbg));
    const auto& t = s->heap();
    REQUIRE(t.allocators.size() == 1);
    CHECK(t.findings.empty());
    CHECK(t.arenas.size() == 16);
    int tcache = 0, interior = 0;
    for (const auto& c : t.chunks) {
      tcache += c.bin == ChunkBin::kTcache;
      interior += (c.flags & coresift::kChunkFlagInterior) != 0;
    }
    CHECK(tcache == 281);   // gdb: the sum of every thread's tcache->counts
    CHECK(interior == 41);  // one tcache struct per thread
  }
}
