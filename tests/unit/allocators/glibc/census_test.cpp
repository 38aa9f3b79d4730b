// The glibc walker against the corpus census cores (host glibc 2.36, bullseye 2.31, trixie
// 2.41; gcore and kernel cores), with and without debug info, compared with the truth.
#include <catch2/catch.hpp>
#include <fmt/format.h>

#include <algorithm>
#include <set>

#include "corpus.hpp"

using namespace glibc_test;
using coresift::ChunkBin;
using coresift::ChunkState;
using coresift::ChunkTable;

namespace {

struct Case {
  std::string suite, kind, version;
};

const std::vector<Case>& cases() {
  static const std::vector<Case> c = {
      {"", "gcore", "2.36"},        {"", "kcore", "2.36"},       {"bullseye", "gcore", "2.31"},
      {"bullseye", "kcore", "2.31"}, {"trixie", "gcore", "2.41"}, {"trixie", "kcore", "2.41"},
  };
  return c;
}

std::string label(const Case& c) { return (c.suite.empty() ? "host" : c.suite) + " " + c.kind; }

void check_table(const Case& cs, const ChunkTable& t, const nlohmann::json& truth, const std::string& how) {
  INFO(label(cs) << " " << how);
  REQUIRE(t.allocators.size() == 1);
  CHECK(t.allocators[0].name == "glibc");
  // Arenas: the main arena and each worker's arena, as the program and gdb recorded them.
  REQUIRE(t.arenas.size() == 3);
  std::set<uint64_t> want, got;
  for (const auto& th : truth["threads"]) want.insert(hex(th["arena"]));
  for (const auto& a : t.arenas) got.insert(a.address);
  CHECK(got == want);
  CHECK(t.arenas[0].kind == "main");
  if (truth["main_arena"].is_string()) CHECK(t.arenas[0].address == hex(truth["main_arena"]));
  // Every tracked allocation.
  CensusResult r = compare_census(t, truth);
  for (const auto& p : r.problems) UNSCOPED_INFO(p);
  CHECK(r.problems.empty());
  CHECK(r.ok == r.checked);
  CHECK(r.checked == static_cast<int>(truth["allocations"].size()));
  // A healthy heap has no findings.
  for (const auto& f : t.findings) UNSCOPED_INFO(f.kind << " at " << f.address << ": " << f.detail);
  CHECK(t.findings.empty());
  // 6 mmapped chunks were made, main freed one.
  CHECK(t.allocators[0].mmapped_chunks == 5);
  // One tcache struct per thread, marked interior and live.
  int interior = 0;
  for (const auto& c : t.chunks)
    if (c.flags & coresift::kChunkFlagInterior) {
      interior++;
      CHECK(c.state == ChunkState::kLive);
      CHECK(c.chunk_size() == 0x290);
    }
  CHECK(interior == 3);
  // Exactly one top chunk per arena.
  int tops = 0;
  for (const auto& c : t.chunks) tops += c.bin == ChunkBin::kTop;
  CHECK(tops == 3);
}

bool same_rows(const ChunkTable& a, const ChunkTable& b) {
  if (a.chunks.size() != b.chunks.size()) return false;
  for (size_t i = 0; i < a.chunks.size(); ++i) {
    const auto &x = a.chunks[i], &y = b.chunks[i];
    if (x.address != y.address || x.size != y.size || x.overhead != y.overhead || x.state != y.state || x.bin != y.bin ||
        x.flags != y.flags || x.arena != y.arena)
      return false;
  }
  return true;
}

}  // namespace

TEST_CASE("glibc walker finds every census chunk in its place", "[glibc][corpus]") {
  for (const Case& cs : cases()) {
    std::string core = cores_dir(cs.suite) + "census." + cs.kind + ".core.zst";
    std::string truth_path = cores_dir(cs.suite) + "census." + cs.kind + ".truth.json";
    INFO("committed corpus files " << core << ", " << truth_path);
    REQUIRE(file_exists(core));
    REQUIRE(file_exists(truth_path));
    auto truth = load_json(truth_path);
    auto with = open({core});
    auto without = open({core}, opts(true));
    const ChunkTable& a = with->heap();
    const ChunkTable& b = without->heap();
    check_table(cs, a, truth, "with debug info");
    check_table(cs, b, truth, "--no-debuginfo");
    INFO(label(cs));
    CHECK(same_rows(a, b));
    // The host core has its libc (and libc6-dbg) on this machine: the version is known.
    if (cs.suite.empty()) {
      CHECK(a.allocators[0].version == cs.version);
      CHECK(b.allocators[0].located_by == "disassembly");
    }
    if (cs.suite == "bullseye") CHECK(a.allocators[0].version == "2.31");  // from the libc-2.31.so file name
  }
}

TEST_CASE("glibc walker uses a foreign libc from a sysroot", "[glibc][corpus]") {
  for (const Case& cs : cases()) {
    if (cs.suite.empty()) continue;
    std::string core = cores_dir(cs.suite) + "census." + cs.kind + ".core.zst";
    std::string truth_path = cores_dir(cs.suite) + "census." + cs.kind + ".truth.json";
    INFO("committed corpus files " << core << ", " << truth_path << ", " << cores_dir(cs.suite) << "lib/manifest.json");
    REQUIRE(file_exists(core));
    REQUIRE(file_exists(truth_path));
    std::string root = sysroot_for(cs.suite);
    REQUIRE(!root.empty());
    auto truth = load_json(truth_path);
    auto s = open({core}, opts(true, root));
    const ChunkTable& t = s->heap();
    check_table(cs, t, truth, "sysroot " + root);
    if (cs.kind == "kcore") {  // gcore paths carry the chroot prefix, kernel ones the process's view
      INFO(label(cs));
      CHECK(t.allocators[0].version == cs.version);
      CHECK(t.allocators[0].located_by == "disassembly");
      // And the rows equal those of the symbol-free scan without the sysroot.
      auto plain = open({core}, opts(true));
      CHECK(same_rows(t, plain->heap()));
      CHECK(plain->heap().allocators[0].located_by == "scan");
      // Without the libc file the tcache TPOFF comes from scanning the threads' TLS; it must be
      // the offset gdb found (corpus README): fs_base-0x50 on 2.31, fs_base-0x40 on 2.41.
      std::string tpoff = cs.suite == "bullseye" ? "TPOFF -80" : "TPOFF -64";
      bool seen = false;
      for (const auto& n : plain->heap().allocators[0].notes) seen |= n.find(tpoff) != std::string::npos;
      CHECK(seen);
    }
  }
}

TEST_CASE("glibc walker reports the arena-bloat line", "[glibc][corpus]") {
  std::string core = cores_dir() + "census.kcore.core.zst";
  REQUIRE(file_exists(core));
  auto s = open({core});
  const auto& notes = s->heap().allocators.at(0).notes;
  bool found = false;
  for (const auto& n : notes)
    if (n.find("3 arenas reserve") != std::string::npos && n.find("malloc_trim(0) could return") != std::string::npos)
      found = true;
  CHECK(found);
}

TEST_CASE("an unidentified glibc version is probed from the heap", "[glibc][corpus]") {
  // The bullseye kernel core names its libc libc-2.31.so; renamed, nothing tells the version
  // (the host's libc.so.6 has another build-id), so the layout must come from the heap:
  // heap_info 0x20, plain (not safe-linked) lists, the pre-2.35 malloc_par.
  std::string core = cores_dir("bullseye") + "census.kcore.core.zst";
  std::string truth_path = cores_dir("bullseye") + "census.kcore.truth.json";
  REQUIRE(file_exists(core));
  REQUIRE(file_exists(truth_path));
  std::vector<uint8_t> bytes = read_all(core);
  const std::string from = "/usr/lib/x86_64-linux-gnu/libc-2.31.so", to = "/usr/lib/x86_64-linux-gnu/libc.so.2.31";
  int renamed = 0;
  for (auto it = bytes.begin(); (it = std::search(it, bytes.end(), from.begin(), from.end())) != bytes.end(); ++renamed)
    std::copy(to.begin(), to.end(), it);
  REQUIRE(renamed > 0);
  auto s = open({temp_file("bullseye-renamed-libc.core", bytes)}, opts(true));
  const ChunkTable& t = s->heap();
  check_table({"bullseye", "kcore", "2.31"}, t, load_json(truth_path), "renamed libc");
  CHECK(t.allocators[0].version.empty());
  CHECK(t.allocators[0].located_by == "scan");
}
