// The CLI on bad inputs: exit status 3 and one stderr line naming the file when nothing is
// usable, 2 for usage errors, 0 with a warning for damaged-but-usable cores, and never a
// signal, a sanitizer report or a hang.
#include <elf.h>
#include <sys/stat.h>

#include <catch2/catch.hpp>

#include "run_cli.hpp"
#include "unit/input/synthetic_core.hpp"
#include "unit/input/temp_dir.hpp"

using namespace coresift::test;
using coresift::e2e::Run;
using coresift::e2e::run_cli;

namespace {

// Each command with INPUT in place; `show` takes the address after the inputs.
std::vector<std::vector<std::string>> commands_on(const std::string& input) {
  return {{"info", input}, {"maps", input}, {"threads", input}, {"show", input, "0x400000"}};
}

std::string describe(const Run& r) {
  return "status " + std::to_string(r.status) + (r.signaled ? " (signal)" : "") + (r.timed_out ? " (timeout)" : "") +
         "\nstderr:\n" + r.err + "stdout:\n" + r.out.substr(0, 2000);
}

}  // namespace

TEST_CASE("unusable inputs: exit 3 and one stderr line naming the file", "[cli-hostile]") {
  TempDir dir;
  Bytes elf32 = typical_core().bytes();
  elf32[EI_CLASS] = ELFCLASS32;
  const std::string inputs[] = {
      dir.write("notes.txt", std::string("not a core at all\n")),
      dir.write("empty.core", Bytes{}),
      dir.path() + "/missing.core",
      dir.path(),
      dir.write("arm.core", CoreBuilder().machine(EM_AARCH64).load(0x1000, 0x10, pattern(0x10)).bytes()),
      dir.write("core32", elf32),
      dir.write("exec.elf", CoreBuilder().elf_type(ET_EXEC).bytes()),
      dir.write("garbage.zst", Bytes{0x28, 0xb5, 0x2f, 0xfd, 0xff, 0xff, 0xff, 0xff, 0xff}),
      dir.write("tiny.elf", Bytes{0x7f, 'E', 'L', 'F', 2}),
  };
  for (const std::string& input : inputs) {
    for (const auto& args : commands_on(input)) {
      CAPTURE(input, args[0]);
      Run r = run_cli(args);
      INFO(describe(r));
      CHECK_FALSE(r.signaled);
      CHECK(r.status == 3);
      CHECK(r.err_lines() == 1);
      CHECK_THAT(r.err, Catch::Contains(input));
      CHECK(r.out.empty());
    }
  }
}

TEST_CASE("a real ELF executable is refused as a core", "[cli-hostile]") {
  Run r = run_cli({"info", "/bin/sh"});
  INFO(describe(r));
  CHECK(r.status == 3);
  CHECK(r.err_lines() == 1);
  CHECK_THAT(r.err, Catch::Contains("/bin/sh") && Catch::Contains("not a core"));
}

TEST_CASE("usage errors: exit 2", "[cli-hostile]") {
  TempDir dir;
  std::string core = dir.write("core", typical_core().bytes());
  const std::vector<std::vector<std::string>> cases = {
      {},
      {"--bogus"},
      {"nosuchcommand", core},
      {"info"},
      {"info", "--bogus", core},
      {"maps", core, "--json=maybe"},
      {"threads", core, "--maps"},
      {"show", core},
      {"show", core, "zz"},
      {"show", core, "0x"},
      {"show", core, "0x10", "--length", "lots"},
      {"chunks", core, "--arena", "zz"},
      {"chunks", core, "--arena", "0x99999999999999999999"},
  };
  for (const auto& args : cases) {
    CAPTURE(args);
    Run r = run_cli(args);
    INFO(describe(r));
    CHECK_FALSE(r.signaled);
    CHECK(r.status == 2);
  }
}

TEST_CASE("a truncated core: exit 0, a warning on stderr, output on stdout", "[cli-hostile]") {
  TempDir dir;
  CoreImage img = typical_core().build();
  Bytes cut(img.bytes.begin(), img.bytes.begin() + static_cast<long>(img.layout.load_offsets[2] + 0x10));
  std::string core = dir.write("cut.core", cut);
  // Incompressible data, so the decoder has output to hand back before the cut (on small,
  // compressible frames libzstd returns nothing until the frame's end).
  Bytes noise(400000);
  uint64_t x = 0x9e3779b97f4a7c15ull;
  for (uint8_t& b : noise) {
    x ^= x << 13, x ^= x >> 7, x ^= x << 17;
    b = static_cast<uint8_t>(x);
  }
  std::string big = dir.write("big.core", typical_core().load(0x20000000, noise.size(), noise).bytes());
  Bytes z = read_file(compress_with("zstd", big));
  std::string cut_zst = dir.write("cut.core.zst", Bytes(z.begin(), z.end() - z.size() / 4));
  for (const std::string& input : {core, cut_zst}) {
    for (const auto& args : commands_on(input)) {
      CAPTURE(input, args[0]);
      Run r = run_cli(args);
      INFO(describe(r));
      CHECK_FALSE(r.signaled);
      CHECK(r.status == 0);
      CHECK_THAT(r.err, Catch::Contains("warning") && Catch::Contains("truncated"));
      CHECK_FALSE(r.out.empty());
    }
  }
}

TEST_CASE("a synthetic core: every command succeeds without warnings", "[cli-hostile]") {
  TempDir dir;
  std::string core = dir.write("rich.core", rich_core().bytes());
  for (const auto& args : commands_on(core)) {
    CAPTURE(args[0]);
    Run r = run_cli(args);
    INFO(describe(r));
    CHECK(r.status == 0);
    CHECK(r.err.empty());
    CHECK_FALSE(r.out.empty());
  }
  Run show = run_cli({"show", core, "0x400000", "--json"});
  CHECK_THAT(show.out, Catch::Contains("\"present_bytes\": 64"));
}

TEST_CASE("show on absent bytes and at the top of the address space", "[cli-hostile]") {
  TempDir dir;
  std::string core = dir.write("typical.core", typical_core().bytes());
  for (const char* addr : {"0x600070", "0x6001f0", "0xffffffffffffffff", "0", "0x7ffd00f8"}) {
    for (const char* len : {"1", "64", "4096", "2000000"}) {
      CAPTURE(addr, len);
      Run r = run_cli({"show", core, addr, "-n", len});
      INFO(describe(r));
      CHECK_FALSE(r.signaled);
      CHECK(r.status == 0);
    }
  }
  Run r = run_cli({"show", core, "0x600078", "-n", "16"});
  CHECK_THAT(r.out, Catch::Contains("8 of 16 bytes are absent"));
}

TEST_CASE("damaged cores never crash any command", "[cli-hostile]") {
  TempDir dir;
  // Deterministic damage at the places readers trust: header fields, program headers, note
  // headers, NT_FILE counts, and cuts.
  CoreImage img = rich_core().build();
  const CoreLayout& lay = img.layout;
  struct Damage {
    uint64_t offset;
    int width;
    uint64_t value;
  };
  std::vector<Damage> damages = {
      {offsetof(Elf64_Ehdr, e_phoff), 8, ~0ull},
      {offsetof(Elf64_Ehdr, e_phnum), 2, 0xffff},
      {offsetof(Elf64_Ehdr, e_phnum), 2, 0},
      {offsetof(Elf64_Ehdr, e_shoff), 8, 1ull << 40},
      {lay.phoff + offsetof(Elf64_Phdr, p_filesz), 8, ~0ull},
      {lay.phoff + sizeof(Elf64_Phdr) + offsetof(Elf64_Phdr, p_memsz), 8, 1ull << 46},
      {lay.phoff + sizeof(Elf64_Phdr) + offsetof(Elf64_Phdr, p_offset), 8, img.bytes.size() - 1},
      {lay.phoff + 2 * sizeof(Elf64_Phdr) + offsetof(Elf64_Phdr, p_vaddr), 8, 0x400800},  // overlap
      {lay.phoff + 2 * sizeof(Elf64_Phdr) + offsetof(Elf64_Phdr, p_vaddr), 8, ~0ull - 0x800},
  };
  for (uint64_t note : lay.note_starts)
    for (uint64_t field : {0u, 4u})
      for (uint64_t v : {0xffffffffull, 0x7ffffff0ull, 0ull}) damages.push_back({note + field, 4, v});
  for (uint64_t o = 0; o < 0x40; o += 8) damages.push_back({lay.load_offsets[0] + o, 8, ~0ull});  // ELF image
  for (uint64_t o = 0x800; o < 0x880; o += 8) damages.push_back({lay.load_offsets[1] + o, 8, 0x7ffd0c00});  // stack

  std::vector<std::string> files;
  for (size_t i = 0; i < damages.size(); ++i) {
    Bytes b = img.bytes;
    Damage d = damages[i];
    if (d.width == 2) put_u16(b, d.offset, static_cast<uint16_t>(d.value));
    if (d.width == 4) put_u32(b, d.offset, static_cast<uint32_t>(d.value));
    if (d.width == 8) put_u64(b, d.offset, d.value);
    files.push_back(dir.write("damaged" + std::to_string(i), b));
  }
  for (uint64_t cut : {lay.phoff + 3, lay.note_offset + 5, lay.note_starts.back() + 2, lay.load_offsets[1] + 0x801})
    files.push_back(dir.write("cut" + std::to_string(cut), Bytes(img.bytes.begin(), img.bytes.begin() + cut)));

  for (const std::string& f : files) {
    for (auto args : commands_on(f)) {
      CAPTURE(f, args[0]);
      Run r = run_cli(args);
      INFO(describe(r));
      CHECK_FALSE(r.signaled);
      CHECK((r.status == 0 || r.status == 3));
      if (r.status == 3) CHECK(r.err_lines() == 1);
    }
  }
}

// Opening a FIFO for reading blocks until a writer appears; inputs are checked with stat()
// first, and only regular files are opened.
TEST_CASE("a FIFO as input is refused, not waited on", "[cli-hostile]") {
  TempDir dir;
  std::string fifo = dir.path() + "/fifo";
  REQUIRE(::mkfifo(fifo.c_str(), 0600) == 0);
  for (const std::string& input : {fifo, fifo + ".gz", std::string("/dev/zero")}) {
    if (input != fifo && input != "/dev/zero") REQUIRE(::mkfifo(input.c_str(), 0600) == 0);
    for (const auto& args : commands_on(input)) {
      CAPTURE(input, args[0]);
      Run r = run_cli(args, 5);
      INFO(describe(r));
      CHECK_FALSE(r.timed_out);
      CHECK(r.status == 3);
      CHECK(r.err_lines() == 1);
      CHECK_THAT(r.err, Catch::Contains(input));
      CHECK(r.out.empty());
    }
  }
  // A FIFO given with --maps is refused the same way.
  std::string raw = dir.write("heap.bin", pattern(0x1000));
  Run r = run_cli({"maps", raw + "@0x1000", "--maps", fifo}, 5);
  INFO(describe(r));
  CHECK_FALSE(r.timed_out);
  CHECK(r.status == 3);
  CHECK_THAT(r.err, Catch::Contains(fifo) && Catch::Contains("FIFO"));
}

// A damaged --maps line is skipped with a warning naming the file and line; the numbers are
// parsed without exceptions (std::stoull's used to escape: "internal error", exit 4).
TEST_CASE("a damaged --maps file is a warning, not an internal error", "[cli-hostile]") {
  TempDir dir;
  std::string raw = dir.write("heap.bin", pattern(0x1000));
  std::string maps = dir.write("maps.txt", std::string("00001000 4 4 0 rw--- [ heap ]\n"
                                                       "00001000 abc 4 0 rw--- [ anon ]\n"
                                                       "00002000 99999999999999999999 4 0 rw--- [ anon ]\n"));
  Run r = run_cli({"maps", raw + "@0x1000", "--maps", maps});
  INFO(describe(r));
  CHECK(r.status == 0);
  CHECK_THAT(r.err, Catch::Contains(maps) && Catch::Contains("line 2") && Catch::Contains("line 3"));
  CHECK_THAT(r.out, Catch::Contains("[heap]"));
}

// A census core damaged by random byte flips (found by fuzzing the analysis commands): no
// NT_FILE note, and load segments that claim terabytes with a few KiB present. The glibc
// locator used to scan every claimed word of every anonymous mapping (minutes); scans must
// only visit bytes that are present.
TEST_CASE("heap-walking commands finish quickly on a core whose mappings claim terabytes", "[cli-hostile]") {
  std::string core = std::string(CORESIFT_E2E_DATA) + "/damaged-census-huge-maps.core.zst";
  for (std::string cmd : {"heap", "chunks", "groups", "leaks", "owners"}) {
    CAPTURE(cmd);
    Run r = run_cli({cmd, core}, 20);
    INFO(describe(r));
    CHECK_FALSE(r.timed_out);
    CHECK_FALSE(r.signaled);
    CHECK((r.status == 0 || r.status == 3));
  }
}
