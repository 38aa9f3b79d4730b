// read_elf_core on well-formed and damaged synthetic cores: what it decodes, what it warns
// about, and what it refuses.
#include <elf.h>

#include <catch2/catch.hpp>
#include <csignal>

#include "coresift/input/elf_core.hpp"
#include "unit/input/synthetic_core.hpp"

using namespace coresift;
using namespace coresift::test;

namespace {

CoreFile parse(const Bytes& b, Diagnostics& diag) { return read_elf_core("core.bin", b, diag); }

bool has_warning(const Diagnostics& d, const std::string& part) {
  for (const Warning& w : d.warnings())
    if (w.message.find(part) != std::string::npos) return true;
  return false;
}

std::array<uint64_t, kNumRegs> regs_with(uint64_t rip, uint64_t rsp) {
  std::array<uint64_t, kNumRegs> r{};
  r[kRip] = rip;
  r[kRsp] = rsp;
  return r;
}

}  // namespace

TEST_CASE("typical synthetic core decodes every note and load", "[input][elf_core]") {
  Diagnostics diag;
  CoreFile c = parse(typical_core().bytes(), diag);
  CHECK(diag.warnings().empty());
  REQUIRE(c.loads.size() == 3);
  CHECK(c.loads[0].vaddr == 0x400000);
  CHECK(c.loads[0].flags == (PF_R | PF_X));
  CHECK(c.loads[1].memsz == 0x200);
  CHECK(c.loads[1].filesz == 0x80);
  CHECK(c.loads[1].present == 0x80);
  CHECK(c.missing_bytes == 0);  // filesz < memsz is not truncation

  REQUIRE(c.threads.size() == 1);
  const ThreadNote& t = c.threads[0];
  CHECK(t.tid == 1234);
  CHECK(t.cursig == SIGSEGV);
  CHECK(t.regs[kRip] == 0x400010);
  CHECK(t.regs[kRsp] == 0x7ffd0080);
  CHECK(t.regs[kR15] == 0x1000);
  CHECK(t.regs[kGs] == 0x1000 + kGs);
  REQUIRE(t.siginfo);
  CHECK(t.siginfo->signo == SIGSEGV);
  CHECK(t.siginfo->code == SEGV_MAPERR);
  CHECK(t.siginfo->address == 0xdeadu);

  REQUIRE(c.process);
  CHECK(c.process->pid == 1234);
  CHECK(c.process->fname == "true");
  CHECK(c.process->psargs == "/bin/true --flag");
  CHECK(c.auxv.size() == 3);
  REQUIRE(c.files.size() == 1);
  CHECK(c.files[0].path == "/bin/true");
  CHECK(c.files[0].end == 0x401000);
}

TEST_CASE("a core without notes still gives its loads", "[input][elf_core]") {
  Diagnostics diag;
  CoreFile c = parse(CoreBuilder().load(0x1000, 0x10, pattern(0x10)).bytes(), diag);
  CHECK(c.loads.size() == 1);
  CHECK(c.threads.empty());
  CHECK_FALSE(c.process);
  CHECK(c.files.empty());
  CHECK(diag.warnings().empty());
}

TEST_CASE("siginfo attaches to the thread before it; kill() sender is kept", "[input][elf_core]") {
  Diagnostics diag;
  CoreBuilder b;
  b.prstatus(10, regs_with(1, 2)).siginfo(SIGTERM, SI_USER, 4321).prstatus(11, regs_with(3, 4));
  CoreFile c = parse(b.bytes(), diag);
  REQUIRE(c.threads.size() == 2);
  REQUIRE(c.threads[0].siginfo);
  CHECK(c.threads[0].siginfo->sender_pid == 4321);
  CHECK_FALSE(c.threads[0].siginfo->address);
  CHECK_FALSE(c.threads[1].siginfo);
}

TEST_CASE("notes of other owners and unknown types are ignored", "[input][elf_core]") {
  Diagnostics diag;
  CoreBuilder b;
  b.note("LINUX", 0x202 /* NT_X86_XSTATE */, pattern(40)).note("CORE", 0x4242, pattern(3));
  b.note("GNU", NT_PRSTATUS, pattern(400));  // right type, wrong owner
  b.prstatus(7, regs_with(5, 6));
  CoreFile c = parse(b.bytes(), diag);
  REQUIRE(c.threads.size() == 1);
  CHECK(c.threads[0].tid == 7);
  CHECK(diag.warnings().empty());
}

TEST_CASE("short CORE notes are skipped with a warning", "[input][elf_core]") {
  Diagnostics diag;
  CoreBuilder b;
  b.note("CORE", NT_PRSTATUS, pattern(100)).note("CORE", NT_PRPSINFO, pattern(20));
  b.note("CORE", NT_SIGINFO, pattern(6)).note("CORE", NT_FILE, pattern(10));
  b.prstatus(8, regs_with(1, 1));
  CoreFile c = parse(b.bytes(), diag);
  CHECK(c.threads.size() == 1);
  CHECK_FALSE(c.process);
  CHECK(c.files.empty());
  CHECK(has_warning(diag, "NT_PRSTATUS note too short"));
  CHECK(has_warning(diag, "NT_PRPSINFO note too short"));
  CHECK(has_warning(diag, "NT_SIGINFO note too short"));
  CHECK(has_warning(diag, "NT_FILE note too short"));
}

TEST_CASE("huge note name or data sizes: parsing resumes at the next note header", "[input][elf_core]") {
  for (uint64_t field : {0u, 4u}) {  // namesz, descsz
    for (uint32_t value : {0xffffffffu, 0xfffffffdu, 0x80000000u, 0x10000u}) {
      CAPTURE(field, value);
      CoreImage img = typical_core().build();
      put_u32(img.bytes, img.layout.note_starts[1] + field, value);  // damage the NT_SIGINFO header
      Diagnostics diag;
      CoreFile c = parse(img.bytes, diag);
      CHECK(c.threads.size() == 1);  // the NT_PRSTATUS before it survives
      CHECK(c.process);              // the NT_PRPSINFO after it too: found again by its header
      CHECK((has_warning(diag, "corrupt note header") || has_warning(diag, "the next note header is at")));
      CHECK(c.loads.size() == 3);
    }
  }
}

TEST_CASE("a note segment larger than the file is clipped", "[input][elf_core]") {
  CoreImage img = typical_core().build();
  put_u64(img.bytes, img.layout.phoff + offsetof(Elf64_Phdr, p_filesz), 0xffffffffffffff00ull);
  Diagnostics diag;
  CoreFile c = parse(img.bytes, diag);
  CHECK(c.threads.size() == 1);
  CHECK(has_warning(diag, "note segment is truncated"));

  put_u64(img.bytes, img.layout.phoff + offsetof(Elf64_Phdr, p_offset), ~0ull);
  Diagnostics diag2;
  CHECK(parse(img.bytes, diag2).threads.empty());
  CHECK(has_warning(diag2, "beyond the end of the file"));
}

TEST_CASE("NT_FILE with an absurd entry count is rejected, not allocated", "[input][elf_core]") {
  for (uint64_t count : {~0ull, 1ull << 62, 0x0aaaaaaaaaaaaaabull /* count*24 wraps */, 1000ull}) {
    CAPTURE(count);
    CoreImage img = typical_core().build();
    uint64_t desc = img.layout.note_starts[4] + 12 + 8;  // the NT_FILE note: header, "CORE\0" padded
    put_u64(img.bytes, desc, count);
    Diagnostics diag;
    CoreFile c = parse(img.bytes, diag);
    CHECK(c.files.empty());
    CHECK(has_warning(diag, "NT_FILE note claims"));
    CHECK(c.process);  // other notes unaffected
  }
}

TEST_CASE("NT_FILE whose names run out keeps the named entries", "[input][elf_core]") {
  Bytes d;
  put_u64(d, 0, 2);
  put_u64(d, 8, 0x1000);
  put_u64(d, 16, 0x1000), put_u64(d, 24, 0x2000), put_u64(d, 32, 0);
  put_u64(d, 40, 0x3000), put_u64(d, 48, 0x4000), put_u64(d, 56, 1);
  const char name[] = "/lib/a.so";
  d.insert(d.end(), name, name + sizeof name);  // one name for two entries
  Diagnostics diag;
  CoreFile c = parse(CoreBuilder().note("CORE", NT_FILE, d).bytes(), diag);
  REQUIRE(c.files.size() == 1);
  CHECK(c.files[0].path == "/lib/a.so");
  CHECK(has_warning(diag, "NT_FILE note ends after 1 of 2 names"));
}

TEST_CASE("PN_XNUM: the program header count comes from section 0", "[input][elf_core]") {
  CoreBuilder b = typical_core();
  b.pn_xnum();
  CoreImage img = b.build();
  Diagnostics diag;
  CoreFile c = parse(img.bytes, diag);
  CHECK(c.loads.size() == 3);
  CHECK(c.threads.size() == 1);
  CHECK(diag.warnings().empty());

  SECTION("an absurd sh_info is clipped to the headers that fit") {
    put_u32(img.bytes, img.layout.shoff + offsetof(Elf64_Shdr, sh_info), 0xffffffff);
    Diagnostics d2;
    CoreFile c2 = parse(img.bytes, d2);
    CHECK(c2.loads.size() >= 3);
    CHECK(has_warning(d2, "program headers are present"));
  }
  SECTION("section 0 outside the file is an InputError") {
    put_u64(img.bytes, offsetof(Elf64_Ehdr, e_shoff), img.bytes.size() - 10);
    Diagnostics d2;
    CHECK_THROWS_AS(parse(img.bytes, d2), InputError);
  }
}

TEST_CASE("load segments with absurd sizes are skipped with a warning", "[input][elf_core]") {
  struct Case {
    uint64_t vaddr, memsz, filesz;
  };
  for (Case k : {Case{0x1000, 1ull << 60, 0x10}, Case{~0ull - 0x10, 0x100, 0x10}, Case{0x1000, 0x10, 0x20},
                 Case{0x1000, ~0ull, ~0ull}}) {
    CAPTURE(k.vaddr, k.memsz, k.filesz);
    SynthLoad bad{k.vaddr, k.memsz, pattern(0x10), PF_R, static_cast<int64_t>(k.filesz)};
    Diagnostics diag;
    CoreFile c = parse(CoreBuilder().load(bad).load(0x9000, 0x10, pattern(0x10)).bytes(), diag);
    REQUIRE(c.loads.size() == 1);
    CHECK(c.loads[0].vaddr == 0x9000);
    CHECK(has_warning(diag, "absurd"));
  }
}

TEST_CASE("zero-size loads are dropped silently; filesz beyond the file is missing data", "[input][elf_core]") {
  SynthLoad big{0x5000, 1ull << 40, pattern(0x10), PF_R, 1ll << 40};
  Diagnostics diag;
  CoreFile c = parse(CoreBuilder().load(0x1000, 0, {}).load(big).bytes(), diag);
  REQUIRE(c.loads.size() == 1);
  CHECK(c.loads[0].present == 0x10);
  CHECK(c.missing_bytes == (1ull << 40) - 0x10);
  CHECK(has_warning(diag, "core is truncated"));
}

TEST_CASE("headers we cannot read are InputErrors naming the file", "[input][elf_core]") {
  auto expect_error = [](Bytes b, const std::string& reason) {
    Diagnostics diag;
    try {
      read_elf_core("/some/core.17", b, diag);
      FAIL("no InputError for: " << reason);
    } catch (const InputError& e) {
      CHECK(e.file() == "/some/core.17");
      CHECK_THAT(e.reason(), Catch::Contains(reason));
      CHECK_THAT(std::string(e.what()), Catch::Contains("/some/core.17"));
    }
  };
  Bytes good = typical_core().bytes();
  expect_error(Bytes{'h', 'e', 'l', 'l', 'o'}, "not an ELF file");
  expect_error(Bytes{}, "not an ELF file");
  expect_error(Bytes{0x7f, 'E', 'L', 'F'}, "truncated");
  expect_error(Bytes(good.begin(), good.begin() + 40), "truncated");
  expect_error(CoreBuilder().elf_type(ET_EXEC).bytes(), "not a core");
  expect_error(CoreBuilder().elf_type(ET_DYN).bytes(), "not a core");
  expect_error(CoreBuilder().machine(EM_AARCH64).bytes(), "unsupported architecture");
  expect_error(CoreBuilder().machine(EM_386).bytes(), "unsupported architecture");

  Bytes b32 = good;
  b32[EI_CLASS] = ELFCLASS32;
  expect_error(b32, "64-bit");
  Bytes be = good;
  be[EI_DATA] = ELFDATA2MSB;
  expect_error(be, "byte order");
  Bytes phent = good;
  put_u16(phent, offsetof(Elf64_Ehdr, e_phentsize), 32);
  expect_error(phent, "program header size");
  Bytes phoff = good;
  put_u64(phoff, offsetof(Elf64_Ehdr, e_phoff), good.size() + 1);
  expect_error(phoff, "beyond the end");
}

TEST_CASE("e_phnum larger than the file holds is clipped with a warning", "[input][elf_core]") {
  Bytes b = typical_core().bytes();
  put_u16(b, offsetof(Elf64_Ehdr, e_phnum), 0xfffe);
  Diagnostics diag;
  CoreFile c = parse(b, diag);
  CHECK(c.loads.size() >= 3);
  CHECK(has_warning(diag, "program headers are present"));
}
