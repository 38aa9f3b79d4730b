// A core cut at every byte offset: inside the ELF header, the program headers, the notes and
// the segment data. Only a cut before anything usable may throw (InputError); otherwise the
// reader warns once with the exact number of missing bytes and serves what is present.
#include <elf.h>

#include <catch2/catch.hpp>

#include "coresift/input/inputs.hpp"
#include "unit/input/synthetic_core.hpp"
#include "unit/input/temp_dir.hpp"

using namespace coresift;
using namespace coresift::test;

namespace {

struct Expect {
  uint64_t headers = 0;  // program headers that fit before the cut
  uint64_t missing = 0;  // bytes of load data promised but cut off
};

// What a cut at `cut` should leave, from the layout alone. The typical core's program
// headers are: the PT_NOTE first, then one PT_LOAD per load.
Expect expected(const CoreImage& img, const std::vector<uint64_t>& filesz, uint64_t cut) {
  Expect e;
  uint64_t total = 1 + filesz.size();
  e.headers = cut < img.layout.phoff ? 0 : std::min<uint64_t>(total, (cut - img.layout.phoff) / sizeof(Elf64_Phdr));
  for (size_t i = 0; i + 1 < e.headers; ++i) {
    uint64_t off = img.layout.load_offsets[i];
    uint64_t have = cut > off ? std::min(cut - off, filesz[i]) : 0;
    e.missing += filesz[i] - have;
  }
  return e;
}

size_t count_warnings(const Diagnostics& d, const std::string& part) {
  size_t n = 0;
  for (const Warning& w : d.warnings()) n += w.message.find(part) != std::string::npos;
  return n;
}

}  // namespace

TEST_CASE("read_elf_core survives a cut at every offset", "[input][truncation]") {
  CoreImage img = typical_core().build();
  const std::vector<uint64_t> filesz = {0x100, 0x80, 0x100};
  for (uint64_t cut = 0; cut <= img.bytes.size(); ++cut) {
    CAPTURE(cut);
    Bytes part(img.bytes.begin(), img.bytes.begin() + cut);
    Diagnostics diag;
    Expect want = expected(img, filesz, cut);
    if (cut < sizeof(Elf64_Ehdr)) {
      CHECK_THROWS_AS(read_elf_core("c", part, diag), InputError);
      continue;
    }
    CoreFile c;
    try {
      c = read_elf_core("c", part, diag);
    } catch (const InputError&) {
      CHECK(want.headers == 0);  // acceptable only when nothing is usable
      continue;
    }
    CHECK(c.loads.size() == (want.headers > 0 ? want.headers - 1 : 0));
    CHECK(c.missing_bytes == want.missing);
    CHECK(count_warnings(diag, "core is truncated") == (want.missing > 0 ? 1u : 0u));
    if (want.missing > 0)
      CHECK(count_warnings(diag, std::to_string(want.missing) + " bytes of memory are missing") == 1);
    if (cut >= img.layout.note_offset + img.layout.note_size) CHECK(c.threads.size() == 1);
    for (const LoadSegment& l : c.loads) CHECK((l.present == 0 || l.offset + l.present <= cut));
  }
}

TEST_CASE("load_inputs on a cut core serves exactly the bytes before the cut", "[input][truncation]") {
  TempDir dir;
  CoreImage img = typical_core().build();
  const uint64_t vaddr[] = {0x400000, 0x600000, 0x7ffd0000};
  const uint64_t memsz[] = {0x100, 0x200, 0x100};
  const std::vector<uint64_t> filesz = {0x100, 0x80, 0x100};
  std::vector<uint64_t> cuts;
  for (uint64_t c = sizeof(Elf64_Ehdr); c <= img.bytes.size(); c += 13) cuts.push_back(c);
  for (uint64_t off : img.layout.load_offsets) cuts.insert(cuts.end(), {off - 1, off, off + 1, off + 0x7f});
  cuts.push_back(img.layout.note_offset + 3);
  for (uint64_t cut : cuts) {
    CAPTURE(cut);
    std::string f = dir.write("cut", Bytes(img.bytes.begin(), img.bytes.begin() + cut));
    Diagnostics diag;
    LoadedInputs in;
    try {
      in = load_inputs({f}, diag);
    } catch (const InputError&) {
      CHECK(expected(img, filesz, cut).headers == 0);
      continue;
    }
    for (size_t i = 0; i < in.core->loads.size(); ++i) {
      uint64_t off = img.layout.load_offsets[i];
      uint64_t have = cut > off ? std::min(cut - off, filesz[i]) : 0;
      Bytes got(memsz[i], 0);
      REQUIRE(in.memory.read(vaddr[i], got.data(), got.size()) == have);
      CHECK(std::equal(got.begin(), got.begin() + have, img.bytes.begin() + off));
      CHECK(in.memory.is_mapped(vaddr[i] + memsz[i] - 1));
      CHECK_FALSE(in.memory.is_present(vaddr[i] + have));
      CHECK(in.memory.view(vaddr[i] + have, 1).empty());
    }
  }
}

// A core cut before its first program header has nothing to analyse: an InputError (exit 3),
// not an empty report.
TEST_CASE("a core cut before its first program header is an InputError", "[input][truncation]") {
  CoreImage img = typical_core().build();
  for (uint64_t cut : {img.layout.phoff, img.layout.phoff + 1, img.layout.phoff + sizeof(Elf64_Phdr) - 1}) {
    CAPTURE(cut);
    Diagnostics diag;
    CHECK_THROWS_WITH(read_elf_core("c", Bytes(img.bytes.begin(), img.bytes.begin() + cut), diag),
                      Catch::Contains("truncated before its first program header"));
  }
  // One whole program header is something to go on: a warning, not an error.
  Diagnostics diag;
  uint64_t one = img.layout.phoff + sizeof(Elf64_Phdr);
  CHECK_NOTHROW(read_elf_core("c", Bytes(img.bytes.begin(), img.bytes.begin() + one), diag));
  CHECK_FALSE(diag.warnings().empty());
}
