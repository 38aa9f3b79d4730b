#include <algorithm>
#include <catch2/catch.hpp>
#include <random>

#include "coresift/allocators/chunk_table.hpp"

using namespace coresift;

namespace {
Chunk chunk(uint64_t addr, uint64_t size, ChunkState st = ChunkState::kLive) {
  Chunk c{};
  c.address = addr;
  c.size = size;
  c.overhead = 8;
  c.state = st;
  c.bin = st == ChunkState::kFree ? ChunkBin::kTcache : ChunkBin::kNone;
  return c;
}
bool sorted(const ChunkTable& t) {
  return std::is_sorted(t.chunks.begin(), t.chunks.end(), [](const Chunk& a, const Chunk& b) { return a.address < b.address; });
}
}  // namespace

TEST_CASE("finalize orders disjoint sorted runs, as walkers emit them", "[chunk_table]") {
  std::mt19937 rng(42);
  for (int trial = 0; trial < 50; ++trial) {
    int runs = 1 + static_cast<int>(rng() % 10);
    std::vector<std::vector<Chunk>> parts(runs);
    for (int r = 0; r < runs; ++r)
      for (uint64_t i = 0, n = rng() % 50; i < n; ++i) parts[r].push_back(chunk(0x10000000ull * (r + 1) + i * 32, 24));
    std::shuffle(parts.begin(), parts.end(), rng);
    ChunkTable t;
    size_t total = 0;
    for (auto& p : parts)
      for (auto& c : p) t.add(c), ++total;
    t.finalize();
    CHECK(sorted(t));
    CHECK(t.chunks.size() == total);
  }
}

TEST_CASE("finalize sorts arbitrary order and drops duplicate rows", "[chunk_table]") {
  ChunkTable t;
  for (uint64_t a : {0x500, 0x100, 0x300, 0x100, 0x200, 0x400}) t.add(chunk(a, 16));
  t.finalize();
  CHECK(sorted(t));
  CHECK(t.chunks.size() == 5);
}

TEST_CASE("finalize totals per arena and bin; find locates interior addresses", "[chunk_table]") {
  ChunkTable t;
  AllocatorInfo glibc;
  glibc.name = "glibc";
  glibc.version = "2.36";
  glibc.located_by = "test";
  t.add_allocator(glibc);
  t.add_arena({});
  t.add(chunk(0x1000, 40));
  t.add(chunk(0x1040, 24, ChunkState::kFree));
  t.finalize();
  REQUIRE(t.arenas.size() == 1);
  CHECK(t.arenas[0].live_chunks == 1);
  CHECK(t.arenas[0].live_bytes == 40);
  CHECK(t.arenas[0].free_chunks == 1);
  CHECK(t.arenas[0].free_bytes == 32);
  CHECK(t.find(0x1000 + 39) == 0u);
  CHECK_FALSE(t.find(0x1000 + 40).has_value());
  CHECK(t.find(0x1045) == 1u);
}

TEST_CASE("finalize merges a few late rows into one long run (mmapped chunks after arenas)", "[chunk_table]") {
  ChunkTable t;
  for (uint64_t i = 0; i < 1000; ++i) t.add(chunk(0x100000 + i * 0x1000, 32));       // long run, wide range
  for (uint64_t a : {0x300800ull, 0x100010ull, 0x5000000ull, 0x10ull}) t.add(chunk(a, 8));  // inside, before, after
  t.finalize();
  CHECK(sorted(t));
  CHECK(t.chunks.size() == 1004);
  CHECK(t.chunks.front().address == 0x10);
  CHECK(t.chunks.back().address == 0x5000000);
}
