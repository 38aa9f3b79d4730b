// Writes the fuzz seed corpus (tests/fuzz/seeds/) from the synthetic core builder:
//   make_seeds DIR
// Each seed is small (a few KiB) so the fuzzer's mutations stay dense over the headers.
// Names avoid *.core, which .gitignore keeps for real dumps.
#include <elf.h>

#include <cstdio>
#include <cstdlib>
#include <string>

#include "unit/input/synthetic_core.hpp"
#include "unit/input/temp_dir.hpp"

using namespace coresift;
using namespace coresift::test;

namespace {

void write(const std::string& dir, const std::string& name, const Bytes& b) {
  std::FILE* f = std::fopen((dir + "/" + name).c_str(), "wb");
  if (!f || std::fwrite(b.data(), 1, b.size(), f) != b.size() || std::fclose(f) != 0) {
    std::perror(name.c_str());
    std::exit(1);
  }
}

CoreBuilder three_threads() {
  CoreBuilder c;
  std::array<uint64_t, kNumRegs> regs{};
  for (int tid : {100, 101, 102}) {
    regs[kRsp] = 0x10000 + 0x100 * static_cast<uint64_t>(tid - 100);
    c.prstatus(tid, regs, tid == 100 ? 11 : 0);
    if (tid == 100) c.siginfo(11, 1, 0x10);
  }
  c.note("LINUX", 0x202, pattern(64));  // an XSTATE note the reader skips
  c.load(0x10000, 0x300, pattern(0x300, 4));
  return c;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: %s DIR\n", argv[0]);
    return 2;
  }
  const std::string dir = argv[1];
  CoreImage typical = typical_core().build();
  write(dir, "core-typical", typical.bytes);
  write(dir, "core-rich", rich_core().bytes());
  write(dir, "core-threads", three_threads().bytes());
  write(dir, "core-pn_xnum", typical_core().pn_xnum().bytes());
  write(dir, "core-no_notes", CoreBuilder().load(0x1000, 0x40, pattern(0x40)).bytes());
  write(dir, "core-overlap",
        CoreBuilder().load(0x1000, 0x80, pattern(0x80, 1)).load(0x1040, 0x80, pattern(0x80, 2)).bytes());
  Bytes cut(typical.bytes.begin(), typical.bytes.begin() + static_cast<long>(typical.layout.load_offsets[2] + 8));
  write(dir, "core-truncated", cut);

  // Compressed copies: one per format, and one cut short.
  TempDir tmp;
  std::string plain = tmp.write("core-typical", typical.bytes);
  write(dir, "core-typical.zst", read_file(compress_with("zstd", plain)));
  write(dir, "core-typical.xz", read_file(compress_with("xz", plain)));
  write(dir, "core-typical.gz", read_file(compress_with("gzip", plain)));
  Bytes zst = read_file(plain + ".zst");
  zst.resize(zst.size() * 2 / 3);
  write(dir, "core-truncated.zst", zst);
  return 0;
}
