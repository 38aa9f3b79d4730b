// Committed corpus cores damaged one way each (a renamed file, a huge segment size, a cut
// note), then run through the real binary: it must answer from what is intact and say what
// was wrong, by program header index and file offset.
#include <catch2/catch.hpp>
#include <cstdio>
#include <set>
#include <tuple>

#include "coresift/report/byte_strings.hpp"
#include "support/cli.hpp"
#include "unit/input/core_damage.hpp"
#include "unit/input/temp_dir.hpp"

using namespace coresift;
using namespace coresift::test;
using nlohmann::json;

namespace {

std::vector<std::string> with_modules(std::vector<std::string> args) {
  for (const std::string& a : corpus_module_args()) args.push_back(a);
  return args;
}

bool any_path_is(const json& list, const std::string& path) {
  for (const json& m : list)
    if (m.contains("path") && m["path"] == path) return true;
  return false;
}

bool any_warning(const json& warnings, const std::string& part) {
  for (const json& w : warnings)
    if (w.dump().find(part) != std::string::npos) return true;
  return false;
}

}  // namespace

TEST_CASE("bytes_as_utf8 keeps UTF-8 and reads other bytes as Latin-1", "[input][damaged-corpus]") {
  CHECK(bytes_as_utf8("caf\xc3\xa9") == "caf\xc3\xa9");
  CHECK(bytes_as_utf8("caf\xe9") == "caf\xc3\xa9");
  CHECK(bytes_as_utf8("\xff\xfe") == "\xc3\xbf\xc3\xbe");
  CHECK(bytes_as_utf8("\xed\xa0\x80") == "\xc3\xad\xc2\xa0\xc2\x80");  // a UTF-16 surrogate is not UTF-8
  CHECK(bytes_as_utf8("\xe2\x82") == "\xc3\xa2\xc2\x82");              // a cut sequence
  CHECK(printable("es\x1b[31mRED\n") == "es\\x1b[31mRED\\x0a");
  CHECK(printable("a\xc2\x9b" "b") == "a\\u009bb");  // C1 CSI
  CHECK(printable("caf\xc3\xa9") == "caf\xc3\xa9");
}

// #16.1: a program whose file name is Latin-1 (caf\xe9): the path in NT_FILE and the command
// name in NT_PRPSINFO are not UTF-8.
TEST_CASE("a Latin-1 file name in the core gives valid JSON, not an internal error", "[input][damaged-corpus]") {
  TempDir dir;
  CoreBytes core = corpus_core_bytes("crash_segv.gcore.core.zst");
  REQUIRE(replace_in_notes(core, "crash_segv", "caf\xe9__segv") >= 2);
  std::string file = dir.write("latin1.core", core);
  const std::string utf8_path = "caf\xc3\xa9__segv";
  for (const char* command : {"info", "threads", "maps"}) {
    CAPTURE(command);
    json doc = run_json(with_modules({command, file}));
    CHECK(doc.dump().find(utf8_path) != std::string::npos);
  }
  json maps = run_json(with_modules({"maps", file}))["mappings"];
  bool found = false;
  for (const json& m : maps)
    if (m["path"].is_string() && m["path"].get<std::string>().ends_with("/caf\xc3\xa9__segv")) found = true;
  CHECK(found);
  CliResult text = run_cli(with_modules({"info", file}));
  CHECK(text.status == 0);
  CHECK(text.out.find("caf\xc3\xa9__segv") != std::string::npos);
}

// #16.10: a process named es\x1b[31mRED must not colour the terminal.
TEST_CASE("control characters from the core are escaped in text output", "[input][damaged-corpus]") {
  TempDir dir;
  CoreBytes core = corpus_core_bytes("crash_segv.gcore.core.zst");
  REQUIRE(replace_in_notes(core, "crash_segv", "es\x1b[31mRED") >= 2);
  std::string file = dir.write("esc.core", core);
  for (const char* command : {"info", "threads", "maps"}) {
    CAPTURE(command);
    CliResult r = run_cli(with_modules({command, file}));
    REQUIRE(r.status == 0);
    CHECK(r.out.find('\x1b') == std::string::npos);
    CHECK(r.err.find('\x1b') == std::string::npos);
  }
  CHECK(run_cli(with_modules({"info", file})).out.find("es\\x1b[31mRED") != std::string::npos);
  // JSON carries the name exactly (as \u001b), for programs to read.
  json info = run_json(with_modules({"info", file}));
  CHECK(info.dump().find("es\\u001b[31mRED") != std::string::npos);
}

// #16.4: p_memsz 2^46 on [heap] used to cover libc and the stacks, which were then dropped as
// "overlapping ranges": no allocator.
TEST_CASE("one load segment with an absurd size is clipped, the others kept", "[input][damaged-corpus]") {
  TempDir dir;
  json truth = corpus_truth("census.kcore");
  CoreBytes core = corpus_core_bytes("census.kcore.core.zst");
  json before = run_json(with_modules({"info", corpus_core("census.kcore.core.zst")}));
  uint64_t heap_chunk = std::stoull(truth["allocations"][0]["chunk"].get<std::string>(), nullptr, 16);
  auto heap = load_holding(core, heap_chunk);
  REQUIRE(heap);
  set_phdr_field(core, heap->index, &Elf64_Phdr::p_memsz, uint64_t{1} << 46);
  std::string file = dir.write("bigheap.core", core);

  json info = run_json(with_modules({"info", file}));
  CHECK(info["modules"].size() == before["modules"].size());
  CHECK(info["threads"].size() == truth["threads"].size());
  std::string where = "program header " + std::to_string(heap->index);
  CHECK(any_warning(info["warnings"], where));
  CHECK(any_warning(info["warnings"], "clipped"));
  // The header's own file offset is named.
  char offset[32];
  std::snprintf(offset, sizeof offset, "offset %#llx: ", static_cast<unsigned long long>(heap->offset));
  CHECK(any_warning(info["warnings"], std::string(offset) + where));
  CHECK_FALSE(any_warning(info["warnings"], "overlapping"));
  json maps = run_json(with_modules({"maps", file}))["mappings"];
  CHECK(any_path_is(maps, "/usr/lib/x86_64-linux-gnu/libc.so.6"));
  json heap_doc = run_json(with_modules({"heap", file}));
  REQUIRE(heap_doc["allocators"].size() >= 1);
  CHECK(heap_doc["allocators"][0]["name"] == "glibc");
}

TEST_CASE("a load segment leaving the canonical address space is dropped by index", "[input][damaged-corpus]") {
  TempDir dir;
  CoreBytes core = corpus_core_bytes("census.kcore.core.zst");
  // The highest user segment (the main stack): nothing after it to clip against but vsyscall.
  std::optional<PhdrAt> top;
  for (const PhdrAt& p : program_headers(core))
    if (p.ph.p_type == PT_LOAD && p.ph.p_vaddr < (uint64_t{1} << 47) && (!top || p.ph.p_vaddr > top->ph.p_vaddr)) top = p;
  REQUIRE(top);
  set_phdr_field(core, top->index, &Elf64_Phdr::p_memsz, uint64_t{1} << 46);
  json info = run_json(with_modules({"info", dir.write("noncanonical.core", core)}));
  CHECK(any_warning(info["warnings"], "program header " + std::to_string(top->index) + ": load segment"));
  CHECK(any_warning(info["warnings"], "canonical"));
  CHECK(info["modules"].size() == 3);
}

// #16.11: a note cut by a truncated file is not a "corrupt note header".
TEST_CASE("a core cut inside its notes says the note was cut short", "[input][damaged-corpus]") {
  TempDir dir;
  CoreBytes core = corpus_core_bytes("crash_segv.gcore.core.zst");
  auto file_note = find_note(core, NT_FILE);
  REQUIRE(file_note);
  core.resize(file_note->desc_offset + file_note->descsz / 2);  // gcore writes notes last
  CliResult r = run_cli(with_modules({"info", dir.write("cut.core", core)}));
  CHECK(r.status == 0);
  CHECK(r.err.find("cut short") != std::string::npos);
  CHECK(r.err.find("corrupt note header") == std::string::npos);
}

TEST_CASE("a cut inside the program header table says the lost headers' memory is not counted",
          "[input][damaged-corpus]") {
  TempDir dir;
  CoreBytes core = corpus_core_bytes("census.kcore.core.zst");
  std::vector<PhdrAt> headers = program_headers(core);
  REQUIRE(headers.size() > 4);
  core.resize(headers[4].offset + 10);  // headers 0..3 survive
  CliResult r = run_cli({"info", dir.write("cut.core", core)});
  CHECK(r.status == 0);
  CHECK(r.err.find("only 4 of " + std::to_string(headers.size()) + " program headers") != std::string::npos);
  CHECK(r.err.find("not counting the memory of the " + std::to_string(headers.size() - 4) + " lost program headers") !=
        std::string::npos);
}

// #16.9: an empty gzip member, then junk: the empty stream is the problem.
TEST_CASE("an empty gzip member followed by junk is reported as empty", "[input][damaged-corpus]") {
  TempDir dir;
  std::vector<uint8_t> gz = read_file(compress_with("gzip", dir.write("empty", std::string())));
  CoreBytes junk = corpus_core_bytes("crash_segv.kcore.core.zst");
  junk.resize(4096);
  gz.insert(gz.end(), junk.begin(), junk.end());
  CliResult r = run_cli({"info", dir.write("empty-then-junk.gz", gz)});
  CHECK(r.status == 3);
  CHECK(r.err.find("empty") != std::string::npos);
  CHECK(r.err.find("offset 0") != std::string::npos);
}

// #9.6b: gdb's gcore leaves out read-only file mappings (text, .rodata) but lists them in
// NT_FILE. The kernel core of the same program, which has a load segment for every mapping,
// is the truth for what the gcore's maps must list.
TEST_CASE("gcore cores list the file mappings gcore left out, as the kernel core does", "[input][gcore-files]") {
  auto file_mappings = [](const std::string& stem) {
    std::set<std::tuple<std::string, std::string, std::string, std::string, std::string>> out;
    json doc = run_json(with_modules({"maps", corpus_core(stem + ".core.zst")}));
    for (const json& m : doc["mappings"])
      if (m["path"].is_string())
        out.insert(std::make_tuple(m["start"].get<std::string>(), m["end"].get<std::string>(), m["perms"].get<std::string>(),
                                   m["offset"].get<std::string>(), m["path"].get<std::string>()));
    return out;
  };
  auto kernel = file_mappings("crash_segv.kcore");
  auto gcore = file_mappings("crash_segv.gcore");
  CHECK(kernel.size() >= 12);
  CHECK(gcore == kernel);
}

TEST_CASE("show in a text mapping gcore left out names it and reads the module file", "[input][gcore-files]") {
  json truth = corpus_truth("crash_segv.gcore");
  std::string fn = truth["functions"]["crash_here"];
  json doc = run_json(with_modules({"show", corpus_core("crash_segv.gcore.core.zst"), fn, "-n", "16"}));
  REQUIRE(doc["mapping"].is_object());
  CHECK(doc["mapping"]["perms"] == "r-x");
  CHECK(doc["mapping"]["present_bytes"] == 0);
  REQUIRE(doc["symbol"].is_object());
  CHECK(doc["symbol"]["name"] == "crash_here");
  CHECK(doc["present_bytes"] == 0);
  CHECK(doc["file_bytes"] == 16);
  // The bytes are the executable's own, at the mapping's file offset.
  uint64_t addr = std::stoull(fn, nullptr, 16), start = std::stoull(doc["mapping"]["start"].get<std::string>(), nullptr, 16);
  uint64_t offset = std::stoull(doc["mapping"]["offset"].get<std::string>(), nullptr, 16) + (addr - start);
  std::vector<uint8_t> exe = read_file(doc["bytes_file"].get<std::string>());
  REQUIRE(exe.size() >= offset + 16);
  for (size_t i = 0; i < 16; ++i) CHECK(doc["bytes"][i] == exe[offset + i]);
  CHECK(doc["bytes_file"].get<std::string>().ends_with("/crash_segv"));
}

namespace {

// The allocators' answers that do not name files: arenas, chunk/extent census, findings.
json heap_census(const json& heap) {
  json out = json::array();
  for (const json& a : heap["allocators"])
    out.push_back({{"name", a["name"]}, {"arenas", a["arenas"]}, {"mmapped", a["mmapped"]}, {"findings", a["findings"]}});
  return out;
}

}  // namespace

TEST_CASE("a gcore core cut before its notes recovers its modules from memory", "[input][damaged-corpus][recover]") {
  TempDir dir;
  CoreBytes core = corpus_core_bytes("census_je.gcore.core.zst");
  auto first = notes(core);
  REQUIRE_FALSE(first.empty());
  uint64_t cut = first.front().offset + 100;  // gcore writes its notes after all the memory
  core.resize(cut);
  std::string path = dir.write("cut.core", core);

  json info = run_json(with_modules({"info", path}));
  for (const char* lib : {"libc.so.6", "libjemalloc.so.2", "ld-linux-x86-64.so.2"}) {
    bool found = false;
    for (const json& m : info["modules"]) found |= m["path"].get<std::string>().ends_with(lib);
    CHECK(found);
  }
  // The executable, absent from the link map's names, is found by build-id under --module-dir.
  json whole_info = run_json(with_modules({"info", corpus_core("census_je.gcore.core.zst")}));
  CHECK(info["modules"].size() == whole_info["modules"].size());
  char at[32];
  std::snprintf(at, sizeof at, "%#llx", static_cast<unsigned long long>(first.front().offset));
  CHECK(any_warning(info["warnings"], "no NT_FILE note"));
  CHECK(any_warning(info["warnings"], std::string("cut at file offset ") + at));
  CHECK(any_warning(info["warnings"], "link map"));

  // The heap census is the undamaged core's (whose census the corpus tests check against truth).
  json cut_heap = run_json(with_modules({"heap", path}));
  json whole_heap = run_json(with_modules({"heap", corpus_core("census_je.gcore.core.zst")}));
  REQUIRE(cut_heap["allocators"].size() == 2);
  CHECK(heap_census(cut_heap) == heap_census(whole_heap));
}

TEST_CASE("one implausible NT_FILE entry is dropped alone, by index and offset", "[input][damaged-corpus][ntfile]") {
  // Fuzz finding fuzz_heap-slow-scan-census_je-ntfile: byte 6 of entry #2's end flipped took
  // 6 of 7 modules with it, silently. Also an end still inside user space that overlaps the rest.
  json whole = run_json(with_modules({"heap", corpus_core("census_je.kcore.core.zst")}));
  json whole_info = run_json(with_modules({"info", corpus_core("census_je.kcore.core.zst")}));
  for (uint64_t new_end_hi : {0u, 1u}) {
    TempDir dir;
    CoreBytes core = corpus_core_bytes("census_je.kcore.core.zst");
    auto note = find_note(core, NT_FILE);
    REQUIRE(note);
    uint64_t entry2 = note->desc_offset + 16 + 2 * 24, end_at = entry2 + 8;
    if (new_end_hi == 0) core[end_at + 6] ^= 0xff;
    else for (int i = 0; i < 8; ++i) core[end_at + i] = static_cast<uint8_t>(uint64_t{0x7ffff0000000} >> (8 * i));
    std::string path = dir.write("ntfile.core", core);
    json info = run_json(with_modules({"info", path}));
    // Every module kept, at its base with its build-id (the dropped entry's own mapping is unnamed).
    auto modules = [](const json& doc) {
      std::set<std::tuple<std::string, std::string, std::string>> out;
      for (const json& m : doc["modules"]) out.insert({m["base"].get<std::string>(), m["path"].get<std::string>(), m["build_id"].get<std::string>()});
      return out;
    };
    CHECK(whole_info["modules"].size() == 7);
    CHECK(modules(info) == modules(whole_info));
    char at[32];
    std::snprintf(at, sizeof at, "offset %#llx", static_cast<unsigned long long>(entry2));
    CHECK(any_warning(info["warnings"], "NT_FILE entry #2"));
    CHECK(any_warning(info["warnings"], at));
    json heap = run_json(with_modules({"heap", path}));
    CHECK(heap_census(heap) == heap_census(whole));
  }
}
