// Broken jemalloc metadata must become findings while the rest of the heap is still walked:
// the test locates extents with the walker's own pieces, patches their metadata in a copy of a
// generated (uncompressed) core, and walks the copy.
#include <catch2/catch.hpp>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <set>

#include "allocators/jemalloc/je_context.hpp"
#include "allocators/jemalloc/je_generated_core.hpp"
#include "cli/session.hpp"

using namespace coresift;
namespace fs = std::filesystem;

namespace {

std::unique_ptr<Session> open_path(const std::string& p) {
  Options o;
  o.inputs = {p};
  return Session::open(o);
}

// The extents of the core, found the way the walker finds them.
std::vector<je::Extent> extents_of(Session& s, je::Layout* layout_out, je::SizeClasses* sc_out, uint64_t* arenas_array = nullptr) {
  ChunkTable scratch;
  je::Context c;
  REQUIRE(coresift::test::prepare_je_context(c, s, scratch));
  bool ok = false;
  for (const je::Layout& l : je::layouts_for("")) {
    c.layout = l;
    if (je::locate_arenas(c) && je::locate_rtree(c)) {
      ok = true;
      break;
    }
  }
  REQUIRE(ok);
  REQUIRE(je::walk_extent_map(c));
  *layout_out = c.layout;
  *sc_out = c.sc;
  if (arenas_array) *arenas_array = c.arenas_array;
  return c.extents;
}

// File offset of virtual address `a` in an uncompressed core.
uint64_t file_offset(const Session& s, uint64_t a) {
  const Segment* seg = s.memory().find(a);
  REQUIRE(seg);
  REQUIRE(seg->has_bytes(a, 8));
  return seg->file_offset + (a - seg->start);
}

bool has_finding(const ChunkTable& t, const std::string& kind, uint64_t addr) {
  for (const Finding& f : t.findings)
    if (f.kind == kind && f.address == addr) return true;
  return false;
}

}  // namespace

TEST_CASE("jemalloc walker: damaged slab bitmaps, extent arenas and sizes are findings", "[jemalloc][je-cores]") {
  const coresift::test::JeCore* core = coresift::test::je_core_or_skip("gcore");
  if (!core) return;
  auto s = open_path(core->core);
  je::Layout l;
  je::SizeClasses sc;
  auto extents = extents_of(*s, &l, &sc);
  const je::Extent* slab = nullptr;
  const je::Extent* slab2 = nullptr;
  const je::Extent* large = nullptr;
  for (const auto& e : extents) {
    if (e.state != je::ExtentState::kActive) continue;
    if (e.slab && e.nfree > 0 && e.nfree + 2 < sc.bins[e.szind].nregs) {
      if (!slab) slab = &e;
      else if (!slab2) slab2 = &e;
    }
    if (!e.slab && !large && e.szind > sc.nbins() && e.szind < 60) large = &e;
  }
  REQUIRE(slab);
  REQUIRE(slab2);
  REQUIRE(large);

  std::vector<char> bytes(fs::file_size(core->core));
  {
    std::ifstream in(core->core, std::ios::binary);
    in.read(bytes.data(), static_cast<std::streamsize>(bytes.size()));
  }
  auto patch = [&](uint64_t addr, auto fn) {
    uint64_t off = file_offset(*s, addr), v;
    std::memcpy(&v, &bytes[off], 8);
    v = fn(v);
    std::memcpy(&bytes[off], &v, 8);
  };
  // 1. A slab's bitmap loses an allocated region (bit set = free) without nfree changing.
  patch(slab->edata + l.e_bitmap, [](uint64_t w) {
    for (int b = 0; b < 64; ++b)
      if (!(w >> b & 1)) return w | (uint64_t{1} << b);
    return w;
  });
  // 2. Another slab names an arena that does not exist.
  patch(slab2->edata + l.e_bits, [&](uint64_t w) {
    uint64_t mask = ((uint64_t{1} << l.f_arena.width) - 1) << l.f_arena.shift;
    return (w & ~mask) | (uint64_t{4000} << l.f_arena.shift);
  });
  // 3. A large extent claims a size smaller than its size class.
  patch(large->edata + l.e_size, [](uint64_t w) { return (w & 0xfff) | 0x1000; });

  std::string path = core->dir + "/patched.core";
  {
    std::ofstream out(path, std::ios::binary | std::ios::trunc);
    out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
  }
  auto s2 = open_path(path);
  const ChunkTable& t = s2->heap();
  for (const Finding& f : t.findings) INFO(f.kind << " at " << std::hex << f.address << ": " << f.detail);
  CHECK(has_finding(t, "jemalloc-slab-nfree-mismatch", slab->addr));
  CHECK(has_finding(t, "jemalloc-extent-bad-arena", slab2->base));
  CHECK(has_finding(t, "jemalloc-large-geometry", large->addr));
  // The emap leaves of the shrunken large extent's last page no longer fall inside it.
  bool emap_mismatch = false;
  for (const Finding& f : t.findings) emap_mismatch |= f.kind == "jemalloc-emap-mismatch";
  CHECK(emap_mismatch);
  // Everything else is still there: every tracked live region outside the damaged extents.
  std::set<uint64_t> damaged = {slab->base, slab2->base, large->base};
  size_t live = 0;
  for (const auto& a : core->truth.allocations) {
    if (a["live"].get<int>() != 1) continue;
    uint64_t p = coresift::test::hex(a["p"]);
    bool in_damaged = false;
    for (const je::Extent* e : {slab, slab2, large}) in_damaged |= p >= e->base && p < e->base + e->size;
    if (in_damaged) continue;
    auto idx = t.find(p);
    REQUIRE(idx);
    CHECK(t.chunks[*idx].address == p);
    CHECK(t.chunks[*idx].state == ChunkState::kLive);
    ++live;
  }
  CHECK(live > 2000);
  fs::remove(path);
}

TEST_CASE("jemalloc walker: a damaged arena array slot costs that arena only", "[jemalloc][je-cores]") {
  const coresift::test::JeCore* core = coresift::test::je_core_or_skip("gcore");
  if (!core) return;
  auto s = open_path(core->core);
  je::Layout l;
  je::SizeClasses sc;
  uint64_t array = 0;
  extents_of(*s, &l, &sc, &array);
  REQUIRE(array);
  std::vector<char> bytes(fs::file_size(core->core));
  {
    std::ifstream in(core->core, std::ios::binary);
    in.read(bytes.data(), static_cast<std::streamsize>(bytes.size()));
  }
  uint64_t off = file_offset(*s, array), garbage = 0x4141414141414140ull;
  std::memcpy(&bytes[off], &garbage, 8);  // je_arenas[0]
  std::string path = core->dir + "/slot0.core";
  {
    std::ofstream out(path, std::ios::binary | std::ios::trunc);
    out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
  }
  auto s2 = open_path(path);
  const ChunkTable& t = s2->heap();
  CHECK(has_finding(t, "jemalloc-arena-slot-corrupt", array));
  std::set<int> inds;
  for (const ArenaInfo& a : t.arenas)
    if (a.kind == "arena" || a.kind == "huge") inds.insert(a.index);
  CHECK_FALSE(inds.count(0));
  // The other threads' regions are all still found with their arenas.
  size_t live = 0;
  for (const auto& a : core->truth.allocations) {
    if (a["live"].get<int>() != 1 || a["arena"].get<int>() == 0) continue;
    auto idx = t.find(coresift::test::hex(a["p"]));
    REQUIRE(idx);
    const Chunk& c = t.chunks[*idx];
    CHECK(c.state == ChunkState::kLive);
    REQUIRE(c.arena < t.arenas.size());
    CHECK(t.arenas[c.arena].index == a["arena"].get<int>());
    ++live;
  }
  CHECK(live > 1500);
  fs::remove(path);
}
