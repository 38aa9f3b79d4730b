// Synthetic heap corruption: the census kernel core is rewritten with one damage at a time
// (sizes, links, cycles, arena ring, heap_info, random bytes) and walked again. The walker
// must never crash or hang, must report the damage as a finding, and keep finding the rest.
#include <catch2/catch.hpp>
#include <fmt/format.h>

#include <cstdio>
#include <cstring>
#include <random>

#include "patched_core.hpp"

using namespace glibc_test;
using coresift::ChunkBin;
using coresift::ChunkState;
using coresift::ChunkTable;

TEST_CASE("corruption: a smashed chunk size is found and the walk resyncs", "[glibc][corruption]") {
  PatchedCore* pc = PatchedCore::census();
  REQUIRE(pc);
  const auto* a = allocation(pc->truth(), 0, "k5", 1);
  REQUIRE(a);
  uint64_t chunk = hex((*a)["chunk"]);
  auto s = pc->walk({{chunk + 8, 0x4141414141414141ull}});
  const ChunkTable& t = s->heap();
  INFO(findings_text(t));
  CHECK(finding_at(t, "bad-chunk-size", chunk));
  // Everything but the smashed chunk is still found in its place.
  CensusResult r = compare_census(t, pc->truth());
  for (const auto& p : r.problems) UNSCOPED_INFO(p);
  CHECK(r.ok >= r.checked - 1);
}

TEST_CASE("corruption: a tcache link pointing nowhere", "[glibc][corruption]") {
  PatchedCore* pc = PatchedCore::census();
  REQUIRE(pc);
  auto tc = rows_in(pc->clean(), ChunkBin::kTcache, 0);
  REQUIRE(!tc.empty());
  uint64_t e = tc.front() + 16;
  auto s = pc->walk({{e, 0x4141414141414140ull}});
  const ChunkTable& t = s->heap();
  INFO(findings_text(t));
  CHECK((has_finding(t, "tcache-bad-entry") || has_finding(t, "tcache-count-mismatch")));
}

TEST_CASE("corruption: a tcache entry linked to itself is a double free", "[glibc][corruption]") {
  PatchedCore* pc = PatchedCore::census();
  REQUIRE(pc);
  auto tc = rows_in(pc->clean(), ChunkBin::kTcache, 0);
  REQUIRE(!tc.empty());
  uint64_t e = tc.front() + 16;
  auto s = pc->walk({{e, (e >> 12) ^ e}});  // safe-linked self loop (glibc 2.36)
  const ChunkTable& t = s->heap();
  INFO(findings_text(t));
  CHECK(finding_at(t, "tcache-double-free", e));
}

TEST_CASE("corruption: a fastbin cycle ends the walk with a finding", "[glibc][corruption]") {
  PatchedCore* pc = PatchedCore::census();
  REQUIRE(pc);
  auto fb = rows_in(pc->clean(), ChunkBin::kFastbin, 0);
  REQUIRE(fb.size() >= 2);
  // Point every fastbin chunk's fd at the lowest one: whichever is last now loops.
  std::vector<std::pair<uint64_t, uint64_t>> patches;
  for (uint64_t p : fb)
    if (p != fb.front()) patches.push_back({p + 16, ((p + 16) >> 12) ^ fb.front()});
  patches.push_back({fb.front() + 16, ((fb.front() + 16) >> 12) ^ fb.back()});
  auto s = pc->walk(patches);
  const ChunkTable& t = s->heap();
  INFO(findings_text(t));
  CHECK((has_finding(t, "fastbin-double-free") || has_finding(t, "fastbin-index-mismatch")));
}

TEST_CASE("corruption: a small bin with a broken back link", "[glibc][corruption]") {
  PatchedCore* pc = PatchedCore::census();
  REQUIRE(pc);
  auto sb = rows_in(pc->clean(), ChunkBin::kSmallbin, 0);
  REQUIRE(!sb.empty());
  auto s = pc->walk({{sb.front() + 24, sb.front() + 0x1000}});
  const ChunkTable& t = s->heap();
  INFO(findings_text(t));
  CHECK(finding_at(t, "bin-link-corrupt", sb.front()));
}

TEST_CASE("corruption: a wrong prev_size after a free chunk", "[glibc][corruption]") {
  PatchedCore* pc = PatchedCore::census();
  REQUIRE(pc);
  auto sb = rows_in(pc->clean(), ChunkBin::kLargebin, 0);
  REQUIRE(!sb.empty());
  uint64_t next = sb.front() + (pc->read(sb.front() + 8) & ~7ull);
  auto s = pc->walk({{next, 0x30}});
  const ChunkTable& t = s->heap();
  INFO(findings_text(t));
  CHECK(finding_at(t, "bad-prev-size", next));
}

TEST_CASE("corruption: a broken arena ring", "[glibc][corruption]") {
  PatchedCore* pc = PatchedCore::census();
  REQUIRE(pc);
  const auto& clean = pc->clean();
  REQUIRE(clean.arenas.size() == 3);
  uint64_t main_arena = clean.arenas[0].address;
  // Find `next` in main_arena: the word that holds another arena's address.
  uint64_t next_at = 0;
  for (uint64_t off = 0x800; off < 0x900 && !next_at; off += 8)
    if (pc->read(main_arena + off) == clean.arenas[1].address || pc->read(main_arena + off) == clean.arenas[2].address)
      next_at = main_arena + off;
  REQUIRE(next_at);
  for (bool nodbg : {false, true}) {
    auto s = pc->walk({{next_at, 0x1234567}}, nodbg);
    const ChunkTable& t = s->heap();
    INFO((nodbg ? "--no-debuginfo\n" : "") << findings_text(t));
    REQUIRE(t.allocators.size() == 1);
    CHECK(has_finding(t, "arena-ring-broken"));
    CHECK(t.arenas.size() == 3);  // the other two come back through their heap_info
    CensusResult r = compare_census(t, pc->truth());
    CHECK(r.ok == r.checked);
  }
}

TEST_CASE("corruption: a bad heap_info", "[glibc][corruption]") {
  PatchedCore* pc = PatchedCore::census();
  REQUIRE(pc);
  const auto& clean = pc->clean();
  uint64_t h = clean.arenas[1].address & ~uint64_t{(64 << 20) - 1};
  auto s = pc->walk({{h + 16, 0x123}});  // heap_info.size
  const ChunkTable& t = s->heap();
  INFO(findings_text(t));
  CHECK(has_finding(t, "bad-heap-info"));
}

TEST_CASE("corruption: a lost mmapped chunk header", "[glibc][corruption]") {
  PatchedCore* pc = PatchedCore::census();
  REQUIRE(pc);
  const auto* a = allocation(pc->truth(), 1, "mmapped", 0);
  REQUIRE(a);
  auto s = pc->walk({{hex((*a)["chunk"]) + 8, 0}});
  const ChunkTable& t = s->heap();
  INFO(findings_text(t));
  CHECK(has_finding(t, "mmapped-count-mismatch"));
  CHECK(t.allocators.at(0).mmapped_chunks == 4);
}

TEST_CASE("corruption: random damage never crashes or hangs", "[glibc][corruption]") {
  PatchedCore* pc = PatchedCore::census();
  REQUIRE(pc);
  const auto& clean = pc->clean();
  std::vector<std::pair<uint64_t, uint64_t>> heaps;
  for (const auto& a : clean.arenas)
    for (auto [lo, hi] : a.heaps) heaps.push_back({lo, hi});
  heaps.push_back({clean.arenas[0].address, clean.arenas[0].address + 0x898});  // main_arena itself
  std::mt19937_64 rng(1234);
  int with_findings = 0;
  for (int round = 0; round < 40; ++round) {
    std::vector<std::pair<uint64_t, uint64_t>> patches;
    int n = 1 + static_cast<int>(rng() % 12);
    for (int i = 0; i < n; ++i) {
      auto [lo, hi] = heaps[rng() % heaps.size()];
      uint64_t addr = (lo + rng() % (hi - lo - 8)) & ~7ull;
      if (rng() % 2) {  // a chunk's prev_size, size, fd or bk
        const auto& c = clean.chunks[rng() % clean.chunks.size()];
        if (c.bin != ChunkBin::kMmapped) addr = c.address - 16 + 8 * (rng() % 4);
      }
      uint64_t v;
      switch (rng() % 5) {
        case 0: v = rng(); break;                                   // garbage
        case 1: v = pc->read(addr) ^ (1ull << (rng() % 64)); break; // bit flip
        case 2: v = 0; break;
        case 3: v = lo + (rng() % (hi - lo)); break;                // a pointer into the heap
        default: v = (rng() % 0x4000) | (rng() % 8); break;         // a size-like value
      }
      patches.push_back({addr, v});
    }
    auto s = pc->walk(patches);
    const ChunkTable& t = s->heap();
    with_findings += !t.findings.empty();
    for (const auto& c : t.chunks) REQUIRE(c.chunk_size() < (1ull << 32));
  }
  CHECK(with_findings >= 15);
}

TEST_CASE("corruption: every flipped size bit is noticed", "[glibc][corruption]") {
  PatchedCore* pc = PatchedCore::census();
  REQUIRE(pc);
  const auto& clean = pc->clean();
  std::mt19937_64 rng(99);
  int rounds = 0, noticed = 0;
  std::string missed;
  for (int round = 0; round < 60; ++round) {
    const auto& c = clean.chunks[rng() % clean.chunks.size()];
    if (c.bin == ChunkBin::kMmapped || c.bin == ChunkBin::kTop) continue;
    uint64_t at = c.address - 8;
    uint64_t v = pc->read(at) ^ (1ull << (rng() % 16));
    auto s = pc->walk({{at, v}});
    rounds++;
    if (!s->heap().findings.empty()) noticed++;
    else missed += fmt::format("{:#x} {} {} -> {:#x}\n", c.address, coresift::state_name(c.state),
                               coresift::bin_name(c.bin) ? coresift::bin_name(c.bin) : "-", v);
  }
  INFO(missed);
  CHECK(noticed * 10 >= rounds * 9);
}
