// Versions, layout tables, bin arithmetic, and the layout/locating facts read from this
// machine's libc (Debian 12, glibc 2.36) and, when present, its libc6-dbg DWARF.
#include <catch2/catch.hpp>

#include "allocators/glibc/glibc.hpp"
#include "corpus.hpp"
#include "support/skip.hpp"

using namespace coresift::glibc;
using coresift::DiskElf;
using coresift::tls_got_slots;

TEST_CASE("glibc versions parse and compare", "[glibc][layout]") {
  CHECK(parse_version("2.36") == Version{2, 36});
  CHECK(parse_version("2.41.9000") == Version{2, 41});
  CHECK(parse_version("2.") == std::nullopt);
  CHECK(parse_version("3.1") == std::nullopt);
  CHECK(parse_version("") == std::nullopt);
  CHECK(Version{2, 31} < Version{2, 36});
  CHECK(Version{2, 36}.str() == "2.36");
  CHECK(Version{}.str().empty());
}

TEST_CASE("layout tables follow the glibc history", "[glibc][layout]") {
  Layout l26 = layout_for({2, 26}), l27 = layout_for({2, 27}), l31 = layout_for({2, 31});
  Layout l36 = layout_for({2, 36}), l41 = layout_for({2, 41}), l42 = layout_for({2, 42});
  // malloc_state: have_fastchunks from 2.27
  CHECK(l26.ms_have_fastchunks == -1);
  CHECK(l26.ms_bins == 0x68);
  CHECK(l27.ms_bins == 0x70);
  CHECK(l36.ms_size == 0x898);
  CHECK(l36.ms_next == l36.ms_bins + 0x800);  // next follows bins[254] and binmap[4]
  CHECK(l26.ms_next == l26.ms_bins + 0x800);
  // heap_info grew in 2.35; the first chunk of a new arena moved with it
  CHECK(l31.heap_info_size == 0x20);
  CHECK(l36.heap_info_size == 0x30);
  CHECK(l31.first_chunk_offset() == 0x8c0);
  CHECK(l36.first_chunk_offset() == 0x8d0);
  // mp_: hugepage fields in 2.35
  CHECK(l31.mp_sbrk_base == 0x48);
  CHECK(l31.mp_tcache_bins == 0x50);
  CHECK(l36.mp_sbrk_base == 0x60);
  CHECK(l36.mp_tcache_bins == 0x68);
  CHECK(l36.mp_n_mmaps == 0x3c);
  CHECK(l36.mp_mmapped_mem == 0x50);
  // tcache
  CHECK(layout_for({2, 29}).tcache_chunk_size() == 0x250);
  CHECK(l31.tcache_chunk_size() == 0x290);
  CHECK(l41.tcache_chunk_size() == 0x290);
  CHECK(l42.tcache_chunk_size() == 0x300);
  CHECK(l42.tc_counts_are_free_slots);
  CHECK(!l31.safe_linking);
  CHECK(l36.safe_linking);
  CHECK(!l31.tc_key_random);
  CHECK(l36.tc_key_random);
  CHECK(!layout_for({2, 28}).tc_key);
  CHECK(layout_for({2, 23}).mp_tcache_bins == -1);
  CHECK(!layout_for({2, 25}).tcache);
  CHECK(layout_diff(l36, l36).empty());
  CHECK(!layout_diff(l31, l36).empty());
}

TEST_CASE("bin arithmetic", "[glibc][layout]") {
  CHECK(smallbin_index(0x20) == 2);
  CHECK(smallbin_index(0x3f0) == 63);
  CHECK(largebin_index(0x400) == 64);
  CHECK(largebin_index(0x1390) == 100);  // census k5
  CHECK(largebin_index(0x9c50) == 119);  // census big
  CHECK(largebin_index(1ull << 30) == 126);
  CHECK(bin_index(0x3f0) == 63);
  CHECK(bin_index(0x400) == 64);
  CHECK(fastbin_index(0x20) == 0);
  CHECK(fastbin_index(0x80) == 6);
  CHECK(tcache_index(0x20) == 0);
  CHECK(tcache_index(0x410) == 63);
  // safe-linking: a list tail stores exactly its own address >> 12
  uint64_t e = 0x555555559a30;
  CHECK(reveal(e, e >> 12) == 0);
  CHECK(reveal(e, (e >> 12) ^ 0x555555559ab0) == 0x555555559ab0);
}

namespace {
const char* const kLibc = "/usr/lib/x86_64-linux-gnu/libc.so.6";
const std::string kNoLibc = std::string("this machine has no ") + kLibc + " (not a Debian x86-64 glibc)";
}

TEST_CASE("this machine's libc: disassembly", "[glibc][layout]") {
  auto img = DiskElf::open(kLibc);
  if (!img) return coresift::test::skip_test(kNoLibc);
  auto trim = img->symbol("malloc_trim");
  REQUIRE(trim);
  auto ma = first_rip_lea(*img, *trim);
  REQUIRE(ma);
  // The same main_arena from every exported function that uses it.
  for (const char* fn : {"mallinfo2", "malloc_stats"})
    if (auto f = img->symbol(fn)) CHECK(first_rip_lea(*img, *f) == ma);
  auto m = img->symbol("malloc");
  REQUIRE(m);
  auto slots = tls_got_slots(*img, *m, 256);
  REQUIRE(!slots.empty());
  // The slot is a TPOFF64 relocation of libc's TLS block.
  bool reloc = false;
  for (auto [slot, addend] : img->tpoff_relocs()) reloc |= slot == slots.front();
  CHECK(reloc);
}

TEST_CASE("this machine's libc: libc6-dbg's DWARF agrees with the layout table", "[glibc][layout]") {
  auto img = DiskElf::open(kLibc);
  if (!img) return coresift::test::skip_test(kNoLibc);
  std::string id = img->build_id();
  std::string dbg = id.size() > 2 ? "/usr/lib/debug/.build-id/" + id.substr(0, 2) + "/" + id.substr(2) + ".debug" : "";
  if (id.size() > 2 && !glibc_test::file_exists(dbg))
    return coresift::test::skip_test("libc6-dbg is not installed (no " + dbg + ")");
  REQUIRE(id.size() > 2);
  auto trim = img->symbol("malloc_trim");
  REQUIRE(trim);
  auto ma = first_rip_lea(*img, *trim);
  REQUIRE(ma);
  // DWARF must agree with the table for the banner's version.
  auto d = DiskElf::open(dbg);
  REQUIRE(d);
  std::string note;
  auto l = layout_from_dwarf(d->elf_handle(), layout_for({2, 36}), &note);
  INFO(note);
  REQUIRE(l);
  CHECK(layout_diff(*l, layout_for({2, 36})).empty());
  CHECK(d->symbol("main_arena") == *ma);
  CHECK(d->symbol("tcache", true) == 0x48u);
}
