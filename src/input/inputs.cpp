#include "coresift/input/inputs.hpp"

#include <elf.h>
#include <fmt/format.h>
#include <sys/stat.h>

#include "parse_number.hpp"

namespace coresift {
namespace {

void add_core(LoadedInputs& in, const MappedFile& mf, Diagnostics& diag) {
  if (in.core) throw InputError(mf.path(), std::nullopt, "only one core file can be analysed at a time");
  in.core = read_elf_core(mf.path(), mf.bytes(), diag);
  uint32_t src = in.memory.add_source(mf.path());
  for (const LoadSegment& l : in.core->loads) {
    Segment s;
    s.start = l.vaddr;
    s.end = l.vaddr + l.memsz;
    s.present = l.present;
    s.data = l.present ? mf.bytes().data() + l.offset : nullptr;
    s.perms = static_cast<uint8_t>(((l.flags & PF_R) ? kPermRead : 0) | ((l.flags & PF_W) ? kPermWrite : 0) |
                                   ((l.flags & PF_X) ? kPermExec : 0));
    s.source = src;
    s.file_offset = l.offset;
    in.memory.add(s);
  }
}

void add_raw(LoadedInputs& in, const MappedFile& mf, uint64_t base) {
  if (mf.size() > ~uint64_t{0} - base)
    throw InputError(mf.path(), std::nullopt, fmt::format("range at {:#x} would wrap the address space", base));
  Segment s;
  s.start = base;
  s.end = base + mf.size();
  s.present = mf.size();
  s.data = mf.bytes().data();
  s.perms = kPermRead | kPermWrite;  // a dumped heap/anonymous range; refined by --maps
  s.source = in.memory.add_source(mf.path());
  in.memory.add(s);
  in.raw_ranges.push_back({mf.path(), base, mf.size()});
}

}  // namespace

std::optional<RawRangeSpec> parse_raw_range(const std::string& arg) {
  auto at = arg.rfind('@');
  if (at == std::string::npos || at == 0) return std::nullopt;
  RawRangeSpec r;
  if (!parse_hex(std::string_view(arg).substr(at + 1), r.base)) return std::nullopt;
  r.file = arg.substr(0, at);
  return r;
}

LoadedInputs load_inputs(const std::vector<std::string>& args, Diagnostics& diag) {
  if (args.empty()) throw InputError("", std::nullopt, "no input given");
  LoadedInputs in;
  for (const std::string& arg : args) {
    std::optional<RawRangeSpec> raw;
    std::string file = arg;
    // A file whose name contains '@' wins over the FILE@BASE reading. stat(), not open():
    // opening a FIFO would wait for a writer.
    struct stat st {};
    if (::stat(arg.c_str(), &st) != 0 && (raw = parse_raw_range(arg))) file = raw->file;
    auto mf = MappedFile::open(file, diag);
    if (raw) {
      add_raw(in, *mf, raw->base);
    } else if (looks_like_elf(mf->bytes())) {
      add_core(in, *mf, diag);
    } else {
      throw InputError(file, 0,
                       "not an ELF core file; for a raw memory range give its start address as FILE@0xADDRESS");
    }
    in.files.push_back(std::move(mf));
  }
  uint64_t shadowed = in.memory.finalize();
  if (shadowed)
    diag.warn("", std::nullopt, fmt::format("{} bytes of overlapping ranges were ignored (the first input wins)", shadowed));
  return in;
}

}  // namespace coresift
