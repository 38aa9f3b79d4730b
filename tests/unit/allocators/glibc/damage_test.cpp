// Damaged arenas and damaged cores: the census kernel core rewritten one way at a time. The
// main_arena must be located (by symbol, and by the scan without debug info) however many of
// its bins are busy or whichever word is bad; every bad field is a finding; memory missing
// from the core is a warning, never zeros; and the census truth holds for what is left.
#include <catch2/catch.hpp>
#include <fmt/format.h>

#include <random>

#include "allocators/glibc/glibc.hpp"
#include "patched_core.hpp"

using namespace glibc_test;
using coresift::ChunkBin;
using coresift::ChunkTable;

namespace {

uint64_t main_arena(PatchedCore& pc) { return hex(pc.truth()["main_arena"]); }

// Offset in main_arena of the word holding `value` (searched in the struct's 0x900 bytes).
uint64_t field_holding(PatchedCore& pc, uint64_t value, uint64_t from = 0) {
  for (uint64_t off = from; off < 0x900; off += 8)
    if (pc.read(main_arena(pc) + off) == value) return off;
  FAIL("no main_arena word holds " << std::hex << value);
  return 0;
}

const coresift::Chunk* top_of(const ChunkTable& t, uint16_t arena) {
  for (const auto& c : t.chunks)
    if (c.bin == ChunkBin::kTop && c.arena == arena) return &c;
  return nullptr;
}

void require_census(const ChunkTable& t, const nlohmann::json& truth, int may_fail = 0) {
  REQUIRE(t.allocators.size() == 1);
  CHECK(t.allocators[0].name == "glibc");
  REQUIRE(t.arenas.size() == 3);
  CHECK(t.arenas[0].address == hex(truth["main_arena"]));
  CensusResult r = compare_census(t, truth);
  for (const auto& p : r.problems) UNSCOPED_INFO(p);
  CHECK(r.checked == static_cast<int>(truth["allocations"].size()));
  CHECK(r.ok >= r.checked - may_fail);
}

// The first chunk size of each bin index (2..126), as glibc's bin_index assigns them.
uint64_t size_of_bin(int i) {
  for (uint64_t sz = 0x20; sz < (1ull << 22); sz += 16)
    if (coresift::glibc::bin_index(sz) == i) return sz;
  return 0;
}

// Fills all but 11 of main_arena's empty bins with one chunk each (fake chunks inside the
// top chunk, linked both ways with a size of their bin), as in the python core of issue #9.
std::vector<std::pair<uint64_t, uint64_t>> busy_bins(PatchedCore& pc) {
  uint64_t ma = main_arena(pc);
  const coresift::Chunk* top = top_of(pc.clean(), 0);
  REQUIRE(top);
  uint64_t bins = field_holding(pc, top->address - 16) + 16;  // bins[] follows top and last_remainder
  std::vector<std::pair<uint64_t, uint64_t>> patches;
  uint64_t fake = top->address + 0x100;
  int empty = 0, filled = 0;
  for (int i = 2; i < 127; ++i) {
    uint64_t slot = ma + bins + 16ull * (i - 1), head = slot - 16;
    if (pc.read(slot) != head || pc.read(slot + 8) != head) continue;
    if (++empty <= 11) continue;
    patches.insert(patches.end(), {{slot, fake}, {slot + 8, fake}, {fake + 8, size_of_bin(i) | 1}, {fake + 16, head},
                                   {fake + 24, head}, {fake + 32, fake}, {fake + 40, fake}});
    fake += 0x40;
    filled++;
  }
  REQUIRE(top->size > fake - top->address);
  REQUIRE(empty - filled == 11);
  REQUIRE(filled > 100);
  return patches;
}

// locate() alone, with no libc file and no symbols: the memory scan decides.
coresift::glibc::Ctx scan_locate(coresift::Session& s, coresift::ChunkTable& scratch) {
  coresift::glibc::Ctx c(s.core(), scratch);
  for (const auto& m : s.process().modules)
    if (m.path.find("libc.so") != std::string::npos) c.libc = &m;
  REQUIRE(c.libc);
  c.version = {2, 36};
  c.layout = coresift::glibc::layout_for(c.version);
  REQUIRE(coresift::glibc::locate(c));
  return c;
}

}  // namespace

TEST_CASE("damage: a main arena with only 11 empty bins is still located", "[glibc][damage]") {
  PatchedCore* pc = PatchedCore::census();
  REQUIRE(pc);
  auto patches = busy_bins(*pc);
  for (bool nodbg : {false, true}) {
    auto s = pc->walk(patches, nodbg);
    const ChunkTable& t = s->heap();
    INFO((nodbg ? "--no-debuginfo" : "symbols") << "\n" << findings_text(t));
    require_census(t, pc->truth());
    CHECK(t.allocators[0].located_by == (nodbg ? "disassembly" : "symbols"));
    CHECK(!has_finding(t, "arena-ring-broken"));
    CHECK(!has_finding(t, "tcache-bad-pointer"));
    CHECK(has_finding(t, "bin-entry-not-a-chunk"));  // the fake chunks are inside top
  }
}

TEST_CASE("damage: the scan takes the best-validating main_arena candidate", "[glibc][damage]") {
  PatchedCore* pc = PatchedCore::census();
  REQUIRE(pc);
  for (bool busy : {false, true}) {
    INFO((busy ? "11 empty bins" : "clean"));
    auto s = pc->walk(busy ? busy_bins(*pc) : std::vector<std::pair<uint64_t, uint64_t>>{});
    coresift::ChunkTable scratch;
    auto c = scan_locate(*s, scratch);
    CHECK(c.main_arena == main_arena(*pc));
    CHECK(c.located_by == "scan");
    auto real = coresift::glibc::score_malloc_state(c, c.main_arena);
    auto shifted = coresift::glibc::score_malloc_state(c, c.main_arena - 16);
    CHECK(real.valid());
    CHECK(real.points() > shifted.points());
  }
}

TEST_CASE("damage: an implausible system_mem is a finding, glibc stays", "[glibc][damage]") {
  PatchedCore* pc = PatchedCore::census();
  REQUIRE(pc);
  uint64_t off = field_holding(*pc, pc->clean().arenas[0].system_mem, 0x800);
  uint64_t at = main_arena(*pc) + off;
  for (uint64_t v : {1ull << 46, 1ull << 50, 0ull}) {
    for (bool nodbg : {false, true}) {
      auto s = pc->walk({{at, v}}, nodbg);
      const ChunkTable& t = s->heap();
      INFO(fmt::format("system_mem {:#x} {}\n", v, nodbg ? "--no-debuginfo" : "symbols") << findings_text(t));
      require_census(t, pc->truth());
      CHECK(finding_at(t, "arena-bad-system-mem", at));
      CHECK(!has_finding(t, "corrupted-top-size"));  // a bad system_mem bounds nothing
    }
  }
  // A plausible but wrong value: the sbrk heap says how much the main arena obtained.
  auto s = pc->walk({{at, pc->clean().arenas[0].system_mem + 0x1000}}, false);
  INFO(findings_text(s->heap()));
  CHECK(finding_at(s->heap(), "system-mem-mismatch", at));
}

TEST_CASE("damage: one unaligned bin pointer in main_arena is a finding, glibc stays", "[glibc][damage]") {
  PatchedCore* pc = PatchedCore::census();
  REQUIRE(pc);
  uint64_t ma = main_arena(*pc);
  const coresift::Chunk* top = top_of(pc->clean(), 0);
  REQUIRE(top);
  uint64_t slot = ma + field_holding(*pc, top->address - 16) + 16 + 16 * 40;  // bin 41, empty in census
  REQUIRE(pc->read(slot) == slot - 16);
  for (bool nodbg : {false, true}) {
    auto s = pc->walk({{slot, slot - 16 + 3}}, nodbg);
    const ChunkTable& t = s->heap();
    INFO((nodbg ? "--no-debuginfo\n" : "symbols\n") << findings_text(t));
    require_census(t, pc->truth());
    CHECK((has_finding(t, "bin-bad-entry") || has_finding(t, "bin-link-corrupt")));
  }
}

TEST_CASE("damage: random flips in main_arena never lose glibc", "[glibc][damage]") {
  PatchedCore* pc = PatchedCore::census();
  REQUIRE(pc);
  uint64_t ma = main_arena(*pc);
  std::mt19937_64 rng(916);
  int kept = 0, rounds = 30;
  for (int round = 0; round < rounds; ++round) {
    uint64_t at = ma + 8 * (rng() % (0x898 / 8));
    auto s = pc->walk({{at, pc->read(at) ^ (1ull << (rng() % 48))}}, round % 2 == 1);  // symbols, then the scan
    const ChunkTable& t = s->heap();
    kept += t.allocators.size() == 1 && !t.arenas.empty() && t.arenas[0].address == ma;
  }
  CHECK(kept == rounds);
}

TEST_CASE("damage: a wrong large-bin fd_nextsize is a finding", "[glibc][damage]") {
  PatchedCore* pc = PatchedCore::census();
  REQUIRE(pc);
  auto large = rows_in(pc->clean(), ChunkBin::kLargebin, 0);
  REQUIRE(large.size() >= 2);  // one chunk in bin 100, one in bin 119
  uint64_t p = large.front();
  REQUIRE(pc->read(p + 32) == p);  // alone in its bin: its nextsize ring is itself
  auto clean = pc->walk({});
  CHECK(!has_finding(clean->heap(), "largebin-nextsize-corrupt"));
  auto s = pc->walk({{p + 32, large.back()}}, false);
  const ChunkTable& t = s->heap();
  INFO(findings_text(t));
  CHECK(finding_at(t, "largebin-nextsize-corrupt", p + 32));
  require_census(t, pc->truth());
}

TEST_CASE("damage: a corrupt tcache count keeps the tcache's entries", "[glibc][damage]") {
  PatchedCore* pc = PatchedCore::census();
  REQUIRE(pc);
  const ChunkTable& clean = pc->clean();
  // The main thread's tcache struct: the interior chunk of the main heap.
  uint64_t tcache = 0;
  for (const auto& c : clean.chunks)
    if ((c.flags & coresift::kChunkFlagInterior) && c.arena == 0) tcache = c.address;
  REQUIRE(tcache);
  auto cached = rows_in(clean, ChunkBin::kTcache, 0);
  REQUIRE(!cached.empty());
  uint64_t bin = coresift::glibc::tcache_index(pc->read(cached.front() + 8) & ~7ull);
  uint64_t word = tcache + (2 * bin & ~7ull), shift = 8 * ((2 * bin) & 7);
  uint64_t v = (pc->read(word) & ~(0xffffull << shift)) | (0x7fffull << shift);
  auto s = pc->walk({{word, v}}, false);
  const ChunkTable& t = s->heap();
  INFO(findings_text(t));
  CHECK(finding_at(t, "tcache-bad-count", tcache + 2 * bin));
  CHECK(!has_finding(t, "tcache-bad-pointer"));
  CHECK(rows_in(t, ChunkBin::kTcache, 0) == cached);
  require_census(t, pc->truth());
}

TEST_CASE("damage: an mmapped chunk on a 64 MiB boundary is not an arena heap", "[glibc][damage]") {
  PatchedCore* pc = PatchedCore::census();
  REQUIRE(pc);
  // Move the PT_LOAD that starts with one of the census mmapped chunks to a 64 MiB boundary.
  uint64_t chunk = 0;
  for (const auto& a : pc->truth()["allocations"]) {
    if (a["class"] != "mmapped" || a["state"] != "live") continue;
    const coresift::Segment* seg = pc->session().memory().find(hex(a["chunk"]));
    if (seg && seg->start == hex(a["chunk"])) chunk = seg->start;
  }
  REQUIRE(chunk);
  uint64_t moved = 0x7e0000000000ull;
  auto bytes = pc->bytes_with({});
  pc->set_load_field(bytes, chunk, PatchedCore::kVaddr, moved);
  auto s = pc->walk_bytes(bytes, false);
  const ChunkTable& t = s->heap();
  INFO(findings_text(t));
  REQUIRE(t.allocators.size() == 1);
  CHECK(t.allocators[0].mmapped_chunks == 5);
  CHECK(row_at(t, moved + 16) != nullptr);
  const coresift::Mapping* m = s->process().mapping_at(moved);
  REQUIRE(m);
  CHECK(m->label != "[arena-heap]");
  // The real arena heaps keep their label.
  const coresift::Mapping* h = s->process().mapping_at(t.arenas[1].heaps.at(0).first);
  REQUIRE(h);
  CHECK(h->label == "[arena-heap]");
}

TEST_CASE("damage: a heap left out of the core is absent, not zeros", "[glibc][damage]") {
  PatchedCore* pc = PatchedCore::census();
  REQUIRE(pc);
  const ChunkTable& clean = pc->clean();
  auto [lo, hi] = clean.arenas[0].heaps.at(0);
  auto bytes = pc->bytes_with({});
  pc->set_load_field(bytes, lo, PatchedCore::kFilesz, 0);  // what coredump_filter leaves
  for (bool nodbg : {false, true}) {
    auto s = pc->walk_bytes(bytes, nodbg);
    const ChunkTable& t = s->heap();
    std::string warnings;
    for (const auto& w : s->diag().warnings()) warnings += w.to_string() + "\n";
    INFO((nodbg ? "--no-debuginfo\n" : "symbols\n") << findings_text(t) << warnings);
    REQUIRE(t.allocators.size() == 1);
    CHECK(t.arenas.size() == 3);
    CHECK(warnings.find(fmt::format("{:#x}", lo)) != std::string::npos);
    CHECK(warnings.find("not in the core") != std::string::npos);
    for (const char* kind : {"fastbin-index-mismatch", "top-not-reached", "bin-entry-not-a-chunk", "tcache-bad-pointer",
                             "tcache-bad-entry", "tcache-count-mismatch", "bad-chunk-size", "bin-link-corrupt"})
      CHECK(!has_finding(t, kind));
    // Nothing is reported inside the missing heap; the thread arenas are whole.
    for (const auto& c : t.chunks) CHECK(!(c.address >= lo && c.address < hi));
    int outside = 0;
    for (const auto& a : pc->truth()["allocations"]) {
      uint64_t ch = hex(a["chunk"]);
      outside += !(ch >= lo && ch < hi);
    }
    CensusResult r = compare_census(t, pc->truth());
    CHECK(r.ok >= outside);
  }
}

TEST_CASE("damage: data that looks like an mmapped chunk header is left out when mp_ counts", "[glibc][damage]") {
  PatchedCore* pc = PatchedCore::census();
  REQUIRE(pc);
  // A page in the middle of an anonymous mapping that is no heap or stack (the executable's
  // .bss here), whose first two words are zero: a header written there is data.
  uint64_t at = 0;
  for (const auto& m : pc->session().process().mappings) {
    if (at || !m.path.empty() || !(m.label.empty() || m.label == "[anon]") || !(m.perms & coresift::kPermWrite)) continue;
    for (uint64_t p = m.start + 0x1000; p + 0x3000 <= m.end && !at; p += 0x1000)
      if (pc->session().memory().present_parts(p, p + 16).size() == 1 && pc->read(p) == 0 && pc->read(p + 8) == 0) at = p;
  }
  REQUIRE(at);
  auto s = pc->walk({{at + 8, 0x2000 | 2}}, false);
  const ChunkTable& t = s->heap();
  std::string notes;
  for (const auto& n : t.allocators.at(0).notes) notes += n + "\n";
  INFO(fmt::format("header planted at {:#x}\n", at) << findings_text(t) << notes);
  CHECK(t.allocators[0].mmapped_chunks == 5);  // what mp_.n_mmaps says, and the census truth
  CHECK(row_at(t, at + 16) == nullptr);
  CHECK(!has_finding(t, "mmapped-count-mismatch"));
  CHECK(notes.find(fmt::format("{:#x} (0x2000 bytes)", at)) != std::string::npos);
  require_census(t, pc->truth());
}

TEST_CASE("damage: an implausible mp_ found by its symbol is a finding", "[glibc][damage]") {
  PatchedCore* pc = PatchedCore::census();
  REQUIRE(pc);
  // Where the walker found mp_ with symbols: its first note says "main_arena …, mp_ 0x…".
  auto s0 = pc->walk({}, false);
  const std::string& note = s0->heap().allocators.at(0).notes.at(0);
  REQUIRE(note.find("mp_ 0x") != std::string::npos);
  uint64_t mp_addr = std::stoull(note.substr(note.find("mp_ 0x") + 4), nullptr, 16);
  REQUIRE(mp_addr);
  // max_mmapped_mem below mmapped_mem: malloc never leaves mp_ like that.
  uint64_t layout_mmapped = mp_addr + coresift::glibc::layout_for({2, 36}).mp_max_mmapped_mem;
  auto s = pc->walk({{layout_mmapped, 0x1000}}, false);
  const ChunkTable& t = s->heap();
  INFO(findings_text(t));
  CHECK(finding_at(t, "mp-implausible", mp_addr));
  require_census(t, pc->truth());
}
