// The jemalloc walker against the truth of cores made at test time (gcore and kernel cores of
// je_truth_prog under the installed libjemalloc), plus the pure pieces (size classes, version).
#include <catch2/catch.hpp>
#include <algorithm>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>

#include "allocators/common/disk_elf.hpp"
#include "allocators/common/tls_got.hpp"
#include "allocators/jemalloc/je_context.hpp"
#include "allocators/jemalloc/je_generated_core.hpp"
#include "allocators/jemalloc/je_layout.hpp"
#include "allocators/jemalloc/je_sizeclass.hpp"
#include "cli/session.hpp"
#include "support/skip.hpp"

using namespace coresift;
using coresift::test::hex;
using coresift::test::JeCore;

namespace {

const char* kLib = "/usr/lib/x86_64-linux-gnu/libjemalloc.so.2";

std::unique_ptr<Session> open_core(const std::string& path, const std::string& sysroot = "") {
  Options o;
  o.inputs = {path};
  o.symbols.sysroot = sysroot;
  return Session::open(o);
}

uint8_t jemalloc_index(const ChunkTable& t) {
  for (size_t i = 0; i < t.allocators.size(); ++i)
    if (t.allocators[i].name == "jemalloc") return static_cast<uint8_t>(i);
  FAIL("no jemalloc allocator in the table");
  return 0;
}

// Memory the program itself handed out again after freeing it: the ranges of the live tracked
// allocations and of the double-freed 64-byte regions. With fewer CPUs jemalloc has fewer
// arenas, threads share them, and a later thread's live object sits where an earlier one was
// freed; the truth says so, and that freed record is not checked.
std::vector<std::pair<uint64_t, uint64_t>> reallocated_ranges(const JeCore& core) {
  std::vector<std::pair<uint64_t, uint64_t>> r;
  for (const auto& a : core.truth.allocations)
    if (a["live"].get<int>() == 1) r.emplace_back(hex(a["p"]), hex(a["p"]) + a["usable"].get<uint64_t>());
  for (const auto& d : core.truth.double_frees) r.emplace_back(hex(d["double_free"]), hex(d["double_free"]) + 64);
  std::sort(r.begin(), r.end());
  return r;
}

bool overlaps(const std::vector<std::pair<uint64_t, uint64_t>>& sorted, uint64_t lo, uint64_t hi) {
  auto it = std::upper_bound(sorted.begin(), sorted.end(), std::make_pair(hi, uint64_t{0}));
  for (; it != sorted.begin(); --it) {
    const auto& r = *std::prev(it);
    if (r.second > lo) return true;
    if (r.first + (uint64_t{16} << 20) < lo) break;  // no tracked object is over 16 MiB
  }
  return false;
}

// Every tracked live region at its address with its size class and arena; every freed one
// reported free (tcache, slab bitmap, or inside a free extent), except those whose memory the
// program was handed again (the truth's live objects there) and the few jemalloc handed out
// for the program's later untracked calls (stats, the truth writer).
void check_against_truth(const ChunkTable& t, const JeCore& core) {
  uint8_t je = jemalloc_index(t);
  std::map<int, int> arena_index;  // table index → jemalloc arena ind
  for (size_t i = 0; i < t.arenas.size(); ++i)
    if (t.arenas[i].allocator == je) arena_index[static_cast<int>(i)] = t.arenas[i].index;
  const auto again = reallocated_ranges(core);
  size_t live_ok = 0, freed_ok = 0, reused = 0, handed_again = 0;
  std::map<std::string, size_t> freed_bins;
  for (const auto& a : core.truth.allocations) {
    uint64_t p = hex(a["p"]);
    auto idx = t.find(p);
    INFO("allocation " << a.dump());
    if (a["live"].get<int>() == 1) {
      REQUIRE(idx);
      const Chunk& c = t.chunks[*idx];
      CHECK(c.address == p);
      CHECK(c.allocator == je);
      CHECK(c.state == ChunkState::kLive);
      CHECK(c.size == a["usable"].get<uint64_t>());
      CHECK(arena_index[c.arena] == a["arena"].get<int>());
      ++live_ok;
    } else if (overlaps(again, p, p + a["usable"].get<uint64_t>())) {
      ++handed_again;
    } else {
      if (idx && t.chunks[*idx].state == ChunkState::kFree) {
        const Chunk& c = t.chunks[*idx];
        freed_bins[bin_name(c.bin)]++;
        // At its own address with its size class, or inside a bigger free block (a coalesced
        // free extent, or a region of a slab later carved from the freed pages).
        const uint64_t usable = a["usable"].get<uint64_t>();
        const bool carved = usable >= 16384 && c.size < usable && (c.bin == ChunkBin::kSlab || c.bin == ChunkBin::kTcache);
        if (c.address == p && c.bin != ChunkBin::kExtent && !carved) CHECK(c.size == usable);
        ++freed_ok;
      } else {
        ++reused;  // allocated again by the program's later untracked calls
      }
    }
  }
  INFO("live " << live_ok << ", freed and found free " << freed_ok << ", freed and handed to the program again "
               << handed_again << ", freed and not found free " << reused);
  CHECK(live_ok > 2000);
  CHECK(reused * 100 <= freed_ok);  // at most 1%
  CHECK(freed_bins["tcache"] > 500);
  CHECK(freed_bins["slab"] > 500);
  CHECK(freed_bins["extent"] > 0);
  CHECK(freed_bins["large"] > 0);  // large regions cached in a tcache
}

}  // namespace

TEST_CASE("jemalloc size classes: default geometry matches Debian's 5.3 build", "[jemalloc]") {
  je::SizeClasses sc = je::default_size_classes();
  REQUIRE(sc.nbins() == 36);
  REQUIRE(sc.index2size.size() == 232);
  CHECK(sc.index2size[36] == 16384);
  CHECK(sc.index2size.back() == 0x7000000000000000ull);
  auto check = [&](uint32_t i, uint64_t size, uint32_t nregs, uint64_t slab) {
    CHECK(sc.bins[i].reg_size == size);
    CHECK(sc.bins[i].nregs == nregs);
    CHECK(sc.bins[i].slab_size == slab);
  };
  check(0, 8, 512, 4096);
  check(3, 48, 256, 12288);
  check(13, 320, 64, 20480);
  check(35, 14336, 2, 28672);
  std::vector<uint64_t> words(sc.index2size.begin(), sc.index2size.end());
  words.push_back(5);  // whatever follows the table
  je::SizeClasses from;
  REQUIRE(je::size_classes_from_table(words, from));
  CHECK(from.index2size == sc.index2size);
  words[3] = 40;
  CHECK_FALSE(je::size_classes_from_table(words, from));
}

TEST_CASE("jemalloc layouts: the version's table comes first", "[jemalloc]") {
  auto l = je::layouts_for("5.3.0-0-g54eaed1d8b56b1aa528be3bdd1877e59c56fa90c");
  REQUIRE_FALSE(l.empty());
  CHECK(l.front().name == "5.3.0");
  auto u = je::layouts_for("");
  CHECK(u.size() == l.size());
}

TEST_CASE("jemalloc version string from the installed library's .rodata", "[jemalloc]") {
  if (!std::filesystem::exists(kLib))
    return coresift::test::skip_test(std::string("libjemalloc2 is not installed (no ") + kLib + ")");
  auto elf = DiskElf::open(kLib);
  REQUIRE(elf);
  std::string v = je::find_version_string(*elf);
  CHECK(v.rfind("5.", 0) == 0);
  CHECK(v.find("-g") != std::string::npos);
  CHECK(elf->symbol("malloc"));
  CHECK_FALSE(elf->symbol("no_such_symbol_here"));
  // The toolkit's GOT->%fs matcher names the tsd's GOT slot in malloc's fast path, a TPOFF64 slot.
  auto slots = tls_got_slots(*elf, *elf->symbol("malloc"), 512);
  REQUIRE_FALSE(slots.empty());
  CHECK(elf->has_tpoff_reloc(slots.front()));
}

TEST_CASE("jemalloc walker: gcore of a known heap matches its truth", "[jemalloc][je-cores]") {
  const JeCore* core = coresift::test::je_core_or_skip("gcore");
  if (!core) return;
  auto s = open_core(core->core);
  const ChunkTable& t = s->heap();
  uint8_t je = jemalloc_index(t);
  const AllocatorInfo& a = t.allocators[je];
  CHECK(a.version == core->truth.version);
  CHECK(a.located_by == "scan+disassembly");
  INFO("findings: " << t.findings.size());
  for (const Finding& f : t.findings) INFO(f.kind << " " << f.detail);
  CHECK(t.findings.empty());
  // Arenas: every thread's arena is there, plus the huge arena.
  std::set<int> arena_inds;
  bool huge = false;
  for (const ArenaInfo& ar : t.arenas)
    if (ar.allocator == je) {
      arena_inds.insert(ar.index);
      if (ar.kind == "huge") huge = true;
    }
  for (const auto& th : core->truth.threads) CHECK(arena_inds.count(th["arena"].get<int>()));
  CHECK(huge);
  bool stats_note = false;
  for (const auto& n : a.notes)
    if (n.find("bin statistics:") == 0) {
      stats_note = true;
      CHECK(n.find(" of ") != std::string::npos);
    }
  CHECK(stats_note);
  check_against_truth(t, *core);
}

TEST_CASE("jemalloc walker: kernel core of a known heap matches its truth", "[jemalloc][je-cores]") {
  const JeCore* core = coresift::test::je_core_or_skip("kcore");
  if (!core) return;
  auto s = open_core(core->core);
  const ChunkTable& t = s->heap();
  CHECK(t.findings.empty());
  check_against_truth(t, *core);
}

TEST_CASE("jemalloc walker: without the library file (tcaches from the arenas' lists)", "[jemalloc][je-cores]") {
  const JeCore* core = coresift::test::je_core_or_skip("gcore");
  if (!core) return;
  std::string empty = core->dir + "/empty-sysroot";
  std::filesystem::create_directories(empty);
  auto s = open_core(core->core, empty);
  const ChunkTable& t = s->heap();
  uint8_t je = jemalloc_index(t);
  CHECK(t.allocators[je].version.empty());
  CHECK(t.allocators[je].located_by == "scan");
  CHECK(t.findings.empty());
  check_against_truth(t, *core);
}

TEST_CASE("jemalloc walker: double frees into the tcache are findings", "[jemalloc][je-cores]") {
  const JeCore* core = coresift::test::je_core_or_skip("gcore", "corrupt");
  if (!core) return;
  auto s = open_core(core->core);
  const ChunkTable& t = s->heap();
  REQUIRE(core->truth.double_frees.size() == 2);
  std::map<std::string, uint64_t> want;
  for (const auto& d : core->truth.double_frees) want[d["kind"]] = hex(d["double_free"]);
  bool dup = false, flushed = false;
  for (const Finding& f : t.findings) {
    if (f.kind == "jemalloc-tcache-duplicate" && f.address == want["duplicate"]) dup = true;
    if (f.kind == "jemalloc-tcache-double-free" && f.address == want["flushed"]) flushed = true;
  }
  CHECK(dup);
  CHECK(flushed);
  // The rest of the heap is still walked.
  check_against_truth(t, *core);
}

TEST_CASE("jemalloc walker: truncated and scrambled cores do not crash it", "[jemalloc][je-cores]") {
  const JeCore* core = coresift::test::je_core_or_skip("kcore");
  if (!core) return;
  auto size = std::filesystem::file_size(core->core);
  std::ifstream in(core->core, std::ios::binary);
  std::vector<char> bytes(size);
  in.read(bytes.data(), static_cast<std::streamsize>(size));
  std::string path = core->dir + "/damaged.core";
  for (double cut : {0.3, 0.6, 0.9}) {
    std::ofstream out(path, std::ios::binary | std::ios::trunc);
    out.write(bytes.data(), static_cast<std::streamsize>(static_cast<double>(size) * cut));
    out.close();
    auto s = open_core(path);
    CHECK_NOTHROW(s->heap());
  }
  // Scramble: overwrite every 61st word with a pseudo-random value (pointers, counts, bits).
  std::vector<char> scrambled = bytes;
  uint64_t x = 0x9e3779b97f4a7c15ull;
  for (size_t off = 4096; off + 8 <= scrambled.size(); off += 61 * 8) {
    x ^= x << 13, x ^= x >> 7, x ^= x << 17;
    std::memcpy(&scrambled[off], &x, 8);
  }
  {
    std::ofstream out(path, std::ios::binary | std::ios::trunc);
    out.write(scrambled.data(), static_cast<std::streamsize>(scrambled.size()));
  }
  auto s = open_core(path);
  CHECK_NOTHROW(s->heap());
  std::filesystem::remove(path);
}

TEST_CASE("jemalloc walker: statically linked jemalloc is found and walked", "[jemalloc][je-cores]") {
  const JeCore* core = coresift::test::je_core_or_skip("gcore", "static");
  if (!core) return;
  auto s = open_core(core->core);
  const ChunkTable& t = s->heap();
  uint8_t je = jemalloc_index(t);
  const AllocatorInfo& a = t.allocators[je];
  CHECK(a.version == core->truth.version);
  bool static_note = false;
  for (const auto& n : a.notes) static_note |= n.rfind("linked statically into ", 0) == 0;
  CHECK(static_note);
  CHECK(t.findings.empty());
  check_against_truth(t, *core);
}
