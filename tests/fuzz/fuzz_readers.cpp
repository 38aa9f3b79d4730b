// Fuzz target over the input readers. An input is taken as:
//  - a compressed stream (zstd/xz/gzip magic): decoded with an output cap, then, when small
//    enough to be safe, loaded through MappedFile the way the CLI would;
//  - anything else: a core file, run through load_inputs (open, mmap, ELF core reader,
//    address space) and build_process (threads, mappings, modules, command line).
// InputError is the readers' way to refuse input and is fine; any other exception, crash,
// sanitizer report or hang is a finding.
#include <fcntl.h>
#include <sys/mman.h>
#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <span>
#include <stdexcept>
#include <string>

#include "coresift/input/inputs.hpp"
#include "coresift/input/mapped_file.hpp"
#include "coresift/process/process.hpp"
#include "fuzz/mem_file.hpp"
#include "input/decompress.hpp"

namespace {

using namespace coresift;
using coresift::fuzz::MemFile;

// Decoded output beyond this is cut off: a few bytes of zstd can promise gigabytes.
constexpr uint64_t kMaxDecoded = 2 << 20;
// The decoders write in chunks of up to this size (see decompress.cpp).
constexpr uint64_t kDecoderChunk = 1 << 20;

void check(bool ok, const char* what) {
  if (!ok) throw std::logic_error(what);
}

// Reads through what the process model points at, so stale or out-of-range pointers into
// the mapped input show up under ASan.
void touch(const Process& p, const AddressSpace& mem) {
  uint8_t buf[64];
  for (const Thread& t : p.threads) {
    mem.read(t.sp(), buf, sizeof buf);
    mem.read(t.pc(), buf, sizeof buf);
  }
  for (const Mapping& m : p.mappings) {
    mem.read(m.start, buf, sizeof buf);
    mem.read(m.end - 1, buf, 1);
    (void)mem.read_cstring(m.start, 256);
    (void)mem.view(m.start, m.present_bytes);
  }
}

void load_and_build(const std::string& path) {
  Diagnostics diag;
  try {
    LoadedInputs in = load_inputs({path}, diag);
    ProcessOptions opts;
    opts.sysroot = "/nonexistent-coresift-fuzz-sysroot";  // never open host files named by the core
    Process p = build_process(in, opts, diag);
    touch(p, in.memory);
  } catch (const InputError&) {
  }
}

void fuzz_core(std::span<const uint8_t> bytes) {
  static MemFile file("core");
  file.assign(bytes);
  load_and_build(file.path());
}

void fuzz_compressed(Compression kind, std::span<const uint8_t> bytes) {
  // The output memfd is sealed at kMaxDecoded: writes past it fail, ending the decoder.
  static int out = [] {
    int fd = ::memfd_create("decoded", MFD_CLOEXEC | MFD_ALLOW_SEALING);
    check(fd >= 0 && ::ftruncate(fd, kMaxDecoded) == 0, "decoded memfd");
    check(::fcntl(fd, F_ADD_SEALS, F_SEAL_GROW | F_SEAL_SHRINK) == 0, "seal");
    return fd;
  }();
  check(::lseek(out, 0, SEEK_SET) == 0, "lseek");
  DecompressResult r = decompress_to_fd(kind, bytes, out);
  check(r.written <= kMaxDecoded, "decoder wrote past the cap");
  check(r.error.empty() || r.error_offset <= bytes.size(), "error offset beyond the input");
  // Room for another chunk means the cap never cut the stream, so the uncapped decode inside
  // MappedFile::open produces the same bounded output.
  if (r.written + kDecoderChunk <= kMaxDecoded) {
    static MemFile packed("packed");
    packed.assign(bytes);
    load_and_build(packed.path());
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::span<const uint8_t> bytes(data, size);
  Compression kind = detect_compression(bytes.first(std::min<size_t>(size, 8)));
  if (kind != Compression::kNone)
    fuzz_compressed(kind, bytes);
  else
    fuzz_core(bytes);
  return 0;
}
