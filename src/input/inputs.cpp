#include "coresift/input/inputs.hpp"

#include <elf.h>
#include <fmt/format.h>

#include <charconv>
#include <fstream>
#include <sstream>

namespace coresift {
namespace {

bool parse_hex(std::string_view s, uint64_t& out) {
  if (s.starts_with("0x") || s.starts_with("0X")) s.remove_prefix(2);
  if (s.empty()) return false;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), out, 16);
  return ec == std::errc() && p == s.data() + s.size();
}

uint8_t parse_perms(std::string_view p) {
  uint8_t perms = 0;
  if (p.size() > 0 && p[0] == 'r') perms |= kPermRead;
  if (p.size() > 1 && p[1] == 'w') perms |= kPermWrite;
  if (p.size() > 2 && p[2] == 'x') perms |= kPermExec;
  return perms;
}

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

std::vector<MapsEntry> read_maps_file(const std::string& path, Diagnostics& diag) {
  std::ifstream f(path);
  if (!f) throw InputError(path, std::nullopt, "cannot open maps file");
  std::vector<MapsEntry> out;
  std::string line;
  size_t lineno = 0;
  while (std::getline(f, line)) {
    ++lineno;
    std::istringstream ls(line);
    std::string first;
    if (!(ls >> first)) continue;
    MapsEntry e;
    auto dash = first.find('-');
    if (dash != std::string::npos) {  // /proc/PID/maps: start-end perms offset dev inode [path]
      std::string perms, off, dev, inode;
      if (!parse_hex(first.substr(0, dash), e.start) || !parse_hex(first.substr(dash + 1), e.end) ||
          !(ls >> perms >> off >> dev >> inode) || !parse_hex(off, e.offset)) {
        diag.warn(path, std::nullopt, fmt::format("line {}: not a maps line, skipped", lineno));
        continue;
      }
      e.perms = parse_perms(perms);
      std::getline(ls >> std::ws, e.path);
    } else {  // pmap -x: Address Kbytes RSS Dirty Mode Mapping;  pmap -X: Address Perm Offset Device Inode Size ...
      uint64_t addr;
      if (!parse_hex(first, addr)) continue;  // header or total line
      std::vector<std::string> cols;
      for (std::string c; ls >> c;) cols.push_back(c);
      e.start = addr;
      if (cols.size() >= 4 && cols[3].size() == 5) {  // pmap -x: Kbytes RSS Dirty Mode(rwxs-) Mapping
        e.end = addr + std::stoull(cols[0]) * 1024;
        e.perms = parse_perms(cols[3]);
        for (size_t i = 4; i < cols.size(); ++i) e.path += (i > 4 ? " " : "") + cols[i];
        if (e.path == "[ anon ]") e.path.clear();
      } else if (cols.size() >= 5 && cols[0].size() == 4) {  // pmap -X: Perm Offset Device Inode Size(kB) ...
        uint64_t off;
        parse_hex(cols[1], off);
        e.offset = off;
        e.perms = parse_perms(cols[0]);
        e.end = addr + std::stoull(cols[4]) * 1024;
        if (cols.back().find_first_not_of("0123456789") != std::string::npos) e.path = cols.back();
      } else {
        diag.warn(path, std::nullopt, fmt::format("line {}: not a pmap line, skipped", lineno));
        continue;
      }
    }
    if (e.end > e.start) out.push_back(std::move(e));
  }
  return out;
}

LoadedInputs load_inputs(const std::vector<std::string>& args, Diagnostics& diag) {
  if (args.empty()) throw InputError("", std::nullopt, "no input given");
  LoadedInputs in;
  for (const std::string& arg : args) {
    std::optional<RawRangeSpec> raw;
    std::string file = arg;
    // A real file whose name contains '@' wins over the FILE@BASE reading.
    if (std::ifstream(arg).good() == false && (raw = parse_raw_range(arg))) file = raw->file;
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
