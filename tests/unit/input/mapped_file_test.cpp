// MappedFile: plain files map as-is; zstd/xz/gzip cores decompress to the same bytes and
// load identically; damaged streams keep what decoded, with a warning.
#include <sys/stat.h>

#include <catch2/catch.hpp>

#include "coresift/input/inputs.hpp"
#include "coresift/input/mapped_file.hpp"
#include "unit/input/synthetic_core.hpp"
#include "unit/input/temp_dir.hpp"

using namespace coresift;
using namespace coresift::test;

namespace {

Bytes bytes_of(const MappedFile& mf) { return Bytes(mf.bytes().begin(), mf.bytes().end()); }

bool has_warning(const Diagnostics& d, const std::string& part) {
  for (const Warning& w : d.warnings())
    if (w.to_string().find(part) != std::string::npos) return true;
  return false;
}

// A core big enough that compressed streams span several blocks, with incompressible data.
Bytes larger_core() {
  Bytes noise(300000);
  uint64_t x = 88172645463325252ull;
  for (uint8_t& b : noise) {
    x ^= x << 13, x ^= x >> 7, x ^= x << 17;
    b = static_cast<uint8_t>(x);
  }
  CoreBuilder c = typical_core();
  c.load(0x10000000, noise.size(), noise);
  return c.bytes();
}

}  // namespace

TEST_CASE("detect_compression reads magics and tolerates short heads", "[input][compression]") {
  CHECK(detect_compression(Bytes{0x28, 0xb5, 0x2f, 0xfd}) == Compression::kZstd);
  CHECK(detect_compression(Bytes{0xfd, '7', 'z', 'X', 'Z', 0}) == Compression::kXz);
  CHECK(detect_compression(Bytes{0x1f, 0x8b}) == Compression::kGzip);
  CHECK(detect_compression(Bytes{0x28, 0xb5, 0x2f}) == Compression::kNone);
  CHECK(detect_compression(Bytes{0xfd, '7', 'z', 'X', 'Z'}) == Compression::kNone);
  CHECK(detect_compression(Bytes{0x1f}) == Compression::kNone);
  CHECK(detect_compression(Bytes{}) == Compression::kNone);
  CHECK(detect_compression(Bytes{0x7f, 'E', 'L', 'F'}) == Compression::kNone);
}

TEST_CASE("plain files are mapped byte for byte", "[input][mapped_file]") {
  TempDir dir;
  Bytes b = typical_core().bytes();
  Diagnostics diag;
  auto mf = MappedFile::open(dir.write("core", b), diag);
  CHECK(mf->compression() == Compression::kNone);
  CHECK(bytes_of(*mf) == b);
  CHECK(mf->size() == b.size());
}

TEST_CASE("files that cannot be mapped are InputErrors naming them", "[input][mapped_file]") {
  TempDir dir;
  auto reason = [](const std::string& path) -> std::string {
    Diagnostics diag;
    try {
      MappedFile::open(path, diag);
    } catch (const InputError& e) {
      CHECK(e.file() == path);
      return e.reason();
    }
    FAIL("no InputError for " << path);
    return {};
  };
  CHECK_THAT(reason(dir.path() + "/nope"), Catch::Contains("No such file"));
  CHECK_THAT(reason(dir.write("empty", Bytes{})), Catch::Contains("empty"));
  CHECK_THAT(reason(dir.path()), Catch::Contains("directory"));
  std::string locked = dir.write("locked", Bytes{1, 2, 3});
  ::chmod(locked.c_str(), 0);
  if (::geteuid() != 0) CHECK_THAT(reason(locked), Catch::Contains("Permission denied"));
  // Opening these would block (FIFO) or touch a device; they are refused by type.
  std::string fifo = dir.path() + "/fifo";
  REQUIRE(::mkfifo(fifo.c_str(), 0600) == 0);
  CHECK_THAT(reason(fifo), Catch::Contains("FIFO"));
  CHECK_THAT(reason("/dev/null"), Catch::Contains("character device"));
}

TEST_CASE("compressed cores decompress to the original and load identically", "[input][compression]") {
  TempDir dir;
  Bytes original = larger_core();
  std::string plain = dir.write("core", original);
  Diagnostics plain_diag;
  LoadedInputs want = load_inputs({plain}, plain_diag);

  struct Tool {
    const char* name;
    Compression kind;
  };
  for (Tool t : {Tool{"zstd", Compression::kZstd}, Tool{"xz", Compression::kXz}, Tool{"gzip", Compression::kGzip}}) {
    CAPTURE(t.name);
    std::string packed = compress_with(t.name, plain);
    Diagnostics diag;
    auto mf = MappedFile::open(packed, diag);
    CHECK(mf->compression() == t.kind);
    CHECK(mf->path() == packed);
    CHECK(bytes_of(*mf) == original);
    CHECK(diag.warnings().empty());

    LoadedInputs got = load_inputs({packed}, diag);
    REQUIRE(got.core);
    CHECK(got.core->path == packed);
    CHECK(got.core->threads.size() == want.core->threads.size());
    REQUIRE(got.memory.segments().size() == want.memory.segments().size());
    for (size_t i = 0; i < got.memory.segments().size(); ++i) {
      const Segment &g = got.memory.segments()[i], &w = want.memory.segments()[i];
      CHECK(g.start == w.start);
      CHECK(g.end == w.end);
      CHECK(g.present == w.present);
      CHECK(Bytes(g.data, g.data + g.present) == Bytes(w.data, w.data + w.present));
    }
    CHECK(diag.warnings().empty());
  }
}

TEST_CASE("a truncated compressed core keeps the decoded prefix, with a warning", "[input][compression]") {
  TempDir dir;
  Bytes original = larger_core();
  std::string plain = dir.write("core", original);
  for (const char* tool : {"zstd", "xz", "gzip"}) {
    Bytes packed = read_file(compress_with(tool, plain));
    for (size_t keep : {packed.size() - 1, packed.size() / 2, packed.size() / 5}) {
      CAPTURE(tool, keep);
      std::string cut = dir.write(std::string("cut.") + tool, Bytes(packed.begin(), packed.begin() + keep));
      Diagnostics diag;
      std::unique_ptr<MappedFile> mf;
      try {
        mf = MappedFile::open(cut, diag);
      } catch (const InputError& e) {  // allowed only when nothing at all decoded
        CHECK(e.file() == cut);
        continue;
      }
      Bytes got = bytes_of(*mf);
      CHECK(got.size() <= original.size());
      CHECK(got == Bytes(original.begin(), original.begin() + got.size()));
      REQUIRE(diag.warnings().size() == 1);
      CHECK_THAT(diag.warnings()[0].to_string(), Catch::Contains(tool) && Catch::Contains("bytes decompressed"));
      CHECK(diag.warnings()[0].file == cut);
    }
  }
}

TEST_CASE("a truncated .zst core loads partially: memory present up to the cut", "[input][compression]") {
  TempDir dir;
  Bytes original = larger_core();
  Bytes packed = read_file(compress_with("zstd", dir.write("core", original)));
  std::string cut = dir.write("cut.zst", Bytes(packed.begin(), packed.begin() + packed.size() * 3 / 4));
  Diagnostics diag;
  LoadedInputs in = load_inputs({cut}, diag);
  REQUIRE(in.core);
  CHECK(in.core->threads.size() == 1);
  CHECK(in.core->missing_bytes > 0);
  CHECK(has_warning(diag, "zstd"));
  CHECK(has_warning(diag, "core is truncated"));
  CHECK(in.memory.is_present(0x400000, 0x100));
  CHECK_FALSE(in.memory.is_present(0x10000000, 300000));
}

TEST_CASE("compressed garbage is an InputError naming the file", "[input][compression]") {
  TempDir dir;
  const Bytes streams[] = {
      {0x28, 0xb5, 0x2f, 0xfd, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff},
      {0xfd, '7', 'z', 'X', 'Z', 0, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff},
      {0x1f, 0x8b, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff},
      {0x28, 0xb5, 0x2f, 0xfd},
      {0x1f, 0x8b},
  };
  for (const Bytes& s : streams) {
    std::string f = dir.write("garbage", s);
    Diagnostics diag;
    try {
      MappedFile::open(f, diag);
      FAIL("no InputError");
    } catch (const InputError& e) {
      CHECK(e.file() == f);
    }
  }
}

TEST_CASE("a compressed stream of nothing is an InputError", "[input][compression]") {
  TempDir dir;
  std::string empty = dir.write("empty", Bytes{});
  for (const char* tool : {"zstd", "xz", "gzip"}) {
    std::string packed = compress_with(tool, empty);
    Diagnostics diag;
    CHECK_THROWS_AS(MappedFile::open(packed, diag), InputError);
  }
}

// A concatenated .gz (cat a.gz b.gz, pigz, bgzip) decodes like gzip -d does: every member.
TEST_CASE("concatenated gzip members all decode", "[input][compression]") {
  TempDir dir;
  Bytes original = larger_core();
  Bytes head(original.begin(), original.begin() + 1000), tail(original.begin() + 1000, original.end());
  Bytes a = read_file(compress_with("gzip", dir.write("a", head)));
  Bytes b = read_file(compress_with("gzip", dir.write("b", tail)));
  a.insert(a.end(), b.begin(), b.end());
  Diagnostics diag;
  auto mf = MappedFile::open(dir.write("both.gz", a), diag);
  CHECK(bytes_of(*mf) == original);
  CHECK(diag.warnings().empty());

  // Bytes after the last member that are not gzip: what decoded is kept, with a warning.
  Bytes junk = a;
  junk.insert(junk.end(), {'j', 'u', 'n', 'k'});
  Diagnostics diag2;
  auto mf2 = MappedFile::open(dir.write("junk.gz", junk), diag2);
  CHECK(bytes_of(*mf2) == original);
  CHECK(has_warning(diag2, "4 bytes after the last gzip member"));
}

TEST_CASE("concatenated zstd frames and xz streams all decode", "[input][compression]") {
  TempDir dir;
  Bytes original = larger_core();
  Bytes head(original.begin(), original.begin() + 1000), tail(original.begin() + 1000, original.end());
  for (const char* tool : {"zstd", "xz"}) {
    CAPTURE(tool);
    Bytes a = read_file(compress_with(tool, dir.write("a", head)));
    Bytes b = read_file(compress_with(tool, dir.write("b", tail)));
    a.insert(a.end(), b.begin(), b.end());
    Diagnostics diag;
    auto mf = MappedFile::open(dir.write("both", a), diag);
    CHECK(bytes_of(*mf) == original);
    CHECK(diag.warnings().empty());
  }
}
