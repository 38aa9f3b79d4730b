#include "coresift/input/elf_core.hpp"

#include <elf.h>
#include <fmt/format.h>

#include <algorithm>
#include <csignal>
#include <cstring>

namespace coresift {
namespace {

// Bounds-checked little-endian reads out of a byte span.
template <typename T>
bool get(std::span<const uint8_t> b, uint64_t off, T& out) {
  if (off > b.size() || b.size() - off < sizeof(T)) return false;
  std::memcpy(&out, b.data() + off, sizeof(T));
  return true;
}

std::string fixed_string(std::span<const uint8_t> b, uint64_t off, size_t n) {
  if (off > b.size()) return {};
  n = std::min<size_t>(n, b.size() - off);
  const char* p = reinterpret_cast<const char*>(b.data() + off);
  return std::string(p, strnlen(p, n));
}

// Offsets inside the x86-64 kernel structures (see <sys/procfs.h>).
constexpr size_t kPrstatusCursig = 12;
constexpr size_t kPrstatusPid = 32;
constexpr size_t kPrstatusPpid = 36;
constexpr size_t kPrstatusReg = 112;
constexpr size_t kPrstatusMin = kPrstatusReg + kNumRegs * 8;

constexpr size_t kPrpsinfoSize = 136;

class NoteDecoder {
 public:
  NoteDecoder(const std::string& path, CoreFile& core, Diagnostics& diag)
      : path_(path), core_(core), diag_(diag) {}

  void decode(uint32_t type, std::string_view name, std::span<const uint8_t> desc, uint64_t off) {
    if (name == "CORE") {
      switch (type) {
        case NT_PRSTATUS: return prstatus(desc, off);
        case NT_PRPSINFO: return prpsinfo(desc, off);
        case NT_SIGINFO: return siginfo(desc, off);
        case NT_FILE: return file(desc, off);
        case NT_AUXV: return auxv(desc, off);
        default: return;
      }
    }
  }

 private:
  struct NumberedEntry {
    FileNoteEntry e;
    uint64_t index;
    uint64_t offset;
  };

  void prstatus(std::span<const uint8_t> d, uint64_t off) {
    if (d.size() < kPrstatusMin) {
      diag_.warn(path_, off, fmt::format("NT_PRSTATUS note too short ({} bytes), thread skipped", d.size()));
      return;
    }
    ThreadNote t;
    int16_t cursig = 0;
    get(d, kPrstatusCursig, cursig);
    t.cursig = cursig;
    get(d, kPrstatusPid, t.tid);
    get(d, kPrstatusPpid, t.ppid);
    for (int r = 0; r < kNumRegs; ++r) get(d, kPrstatusReg + 8 * r, t.regs[r]);
    t.note_offset = off;
    core_.threads.push_back(t);
  }

  void prpsinfo(std::span<const uint8_t> d, uint64_t off) {
    if (d.size() < kPrpsinfoSize) {
      diag_.warn(path_, off, fmt::format("NT_PRPSINFO note too short ({} bytes), ignored", d.size()));
      return;
    }
    ProcessNote p;
    get(d, 0, p.state);
    get(d, 16, p.uid);
    get(d, 24, p.pid);
    get(d, 28, p.ppid);
    p.fname = fixed_string(d, 40, 16);
    p.psargs = fixed_string(d, 56, 80);
    while (!p.psargs.empty() && p.psargs.back() == ' ') p.psargs.pop_back();
    core_.process = p;
  }

  void siginfo(std::span<const uint8_t> d, uint64_t off) {
    SigInfo s;
    if (!get(d, 0, s.signo) || !get(d, 4, s.errno_) || !get(d, 8, s.code)) {
      diag_.warn(path_, off, "NT_SIGINFO note too short, ignored");
      return;
    }
    bool fault = s.signo == SIGSEGV || s.signo == SIGBUS || s.signo == SIGILL || s.signo == SIGFPE ||
                 s.signo == SIGTRAP;
    if (fault && s.code > 0) {
      uint64_t a;
      if (get(d, 16, a)) s.address = a;
    } else if (s.code <= 0) {  // SI_USER, SI_TKILL, SI_QUEUE…: sent by a process
      int pid;
      if (get(d, 16, pid)) s.sender_pid = pid;
    }
    // The kernel writes one NT_SIGINFO after each thread's NT_PRSTATUS.
    if (!core_.threads.empty() && !core_.threads.back().siginfo) core_.threads.back().siginfo = s;
  }

  void auxv(std::span<const uint8_t> d, uint64_t) {
    for (uint64_t o = 0; o + 16 <= d.size(); o += 16) {
      uint64_t k = 0, v = 0;
      get(d, o, k);
      get(d, o + 8, v);
      if (k == AT_NULL) break;
      core_.auxv.emplace_back(k, v);
    }
  }

  void file(std::span<const uint8_t> d, uint64_t off) {
    uint64_t count = 0, page = 0;
    if (!get(d, 0, count) || !get(d, 8, page)) {
      diag_.warn(path_, off, "NT_FILE note too short, file names unknown");
      return;
    }
    if (count > (d.size() - 16) / 24) {
      diag_.warn(path_, off, fmt::format("NT_FILE note claims {} entries but holds at most {}; file names unknown",
                                         count, (d.size() - 16) / 24));
      return;
    }
    uint64_t names = 16 + count * 24;
    std::vector<NumberedEntry> out;
    out.reserve(count);
    for (uint64_t i = 0; i < count; ++i) {
      FileNoteEntry e;
      uint64_t pgoff = 0;
      get(d, 16 + i * 24, e.start);
      get(d, 16 + i * 24 + 8, e.end);
      get(d, 16 + i * 24 + 16, pgoff);
      e.file_offset = pgoff * page;
      if (names >= d.size()) {
        diag_.warn(path_, off, fmt::format("NT_FILE note ends after {} of {} names", i, count));
        break;
      }
      const char* p = reinterpret_cast<const char*>(d.data() + names);
      size_t len = strnlen(p, d.size() - names);
      e.path.assign(p, len);
      names += len + 1;
      // "CORE" names pad to 8 bytes: the entry's own file offset, for the warnings.
      uint64_t entry_off = off + 12 + 8 + 16 + i * 24;
      if (const char* why = implausible_entry(e)) {
        warn_entry(i, entry_off, e, why);
        continue;
      }
      out.push_back({std::move(e), i, entry_off});
    }
    core_.files = drop_overlapping_entries(std::move(out));
  }

  static const char* implausible_entry(const FileNoteEntry& e) {
    if (e.end <= e.start) return "ends before it starts";
    if (e.end > (uint64_t{1} << 47)) return "leaves the x86-64 user address space";
    if (e.start % 4096 || e.end % 4096) return "is not page-aligned";
    return nullptr;
  }

  void warn_entry(uint64_t i, uint64_t entry_off, const FileNoteEntry& e, const std::string& why) {
    if (++entry_warnings_ > 16) return;  // a shredded note: the first few say enough
    diag_.warn(path_, entry_off,
               fmt::format("NT_FILE entry #{} [{:#x}, {:#x}) {}; that entry dropped, the others kept", i, e.start, e.end,
                           why));
  }

  // Mappings never overlap: of two NT_FILE entries that do, one was damaged. The larger one
  // is dropped (a damaged end swallows its neighbours), the other entries stay.
  std::vector<FileNoteEntry> drop_overlapping_entries(std::vector<NumberedEntry> v) {
    std::stable_sort(v.begin(), v.end(), [](const auto& a, const auto& b) { return a.e.start < b.e.start; });
    std::vector<NumberedEntry> kept;
    for (NumberedEntry& n : v) {
      if (!kept.empty() && n.e.start < kept.back().e.end) {
        NumberedEntry& prev = kept.back();
        bool drop_prev = prev.e.end - prev.e.start > n.e.end - n.e.start;
        const NumberedEntry& loser = drop_prev ? prev : n;
        const NumberedEntry& winner = drop_prev ? n : prev;
        warn_entry(loser.index, loser.offset, loser.e,
                   fmt::format("overlaps entry #{} [{:#x}, {:#x})", winner.index, winner.e.start, winner.e.end));
        if (drop_prev) prev = std::move(n);
        continue;
      }
      kept.push_back(std::move(n));
    }
    std::vector<FileNoteEntry> out;
    out.reserve(kept.size());
    for (NumberedEntry& n : kept) out.push_back(std::move(n.e));
    return out;
  }

  const std::string& path_;
  CoreFile& core_;
  Diagnostics& diag_;
  int entry_warnings_ = 0;
};

// A well-formed note header: a short NUL-terminated printable name ("CORE", "LINUX", gdb's
// "GDB", …) and data that fits in the segment as its program header claims it (a truncated
// file may hold only part of the last note). `known_name`: only the names Linux and gdb write,
// for finding the next note again after a damaged size field (data rarely looks like that).
bool plausible_header(std::span<const uint8_t> bytes, uint64_t q, uint64_t end, uint64_t claimed_end, bool known_name = false) {
  uint32_t namesz = 0, descsz = 0;
  if (q + 12 > end || !get(bytes, q, namesz) || !get(bytes, q + 4, descsz)) return false;
  if (namesz == 0 || namesz > 32 || q + 12 + namesz > end) return false;
  std::string_view name(reinterpret_cast<const char*>(bytes.data() + q + 12), namesz);
  if (name.back() != '\0') return false;
  name.remove_suffix(1);
  for (char ch : name)
    if (ch < 0x20 || ch > 0x7e) return false;
  if (known_name && name != "CORE" && name != "LINUX" && name != "GDB") return false;
  uint64_t desc_off = q + 12 + ((uint64_t{namesz} + 3) & ~uint64_t{3});
  return desc_off + uint64_t{descsz} <= std::max(end, claimed_end) + 3;
}

// The first note header with a known name in [from, end), 4-byte aligned from `base`, or 0.
uint64_t next_plausible_header(std::span<const uint8_t> bytes, uint64_t base, uint64_t from, uint64_t end, uint64_t claimed_end) {
  for (uint64_t q = base + ((from - base + 3) & ~uint64_t{3}); q + 12 <= end; q += 4)
    if (plausible_header(bytes, q, end, claimed_end, true)) return q;
  return 0;
}

// `size` is what the file holds of the note segment, `claimed` what its header promised:
// a note that runs past `size` but not past `claimed` was cut short by a truncated file,
// which is not the same as a corrupt header. A damaged size field is survived by finding the
// next plausible header: the notes after it (threads, mapped files) are kept.
void read_notes(const std::string& path, std::span<const uint8_t> bytes, uint64_t offset, uint64_t size,
                uint64_t claimed, CoreFile& core, Diagnostics& diag) {
  NoteDecoder dec(path, core, diag);
  uint64_t end = offset + size;
  uint64_t pos = offset;
  while (pos + 12 <= end) {
    uint32_t namesz = 0, descsz = 0, type = 0;
    get(bytes, pos, namesz);
    get(bytes, pos + 4, descsz);
    get(bytes, pos + 8, type);
    uint64_t name_off = pos + 12;
    uint64_t desc_off = name_off + ((uint64_t{namesz} + 3) & ~uint64_t{3});
    uint64_t next = desc_off + ((uint64_t{descsz} + 3) & ~uint64_t{3});
    const bool fits = !(desc_off > end || next > end + 3 /* last note may lack padding */ || desc_off + descsz > end);
    if (!fits && size < claimed && desc_off + descsz <= offset + claimed) {
      diag.warn(path, pos, fmt::format("note (type {}, {} bytes) is cut short by the end of the file: only {} of its "
                                       "{} bytes are present; it and the notes after it are lost",
                                       type, next - pos, end - pos, next - pos));
      core.notes_cut_at = pos;
      return;
    }
    const uint64_t claimed_end = offset + claimed;
    const bool good_header = plausible_header(bytes, pos, end, claimed_end);
    if (!fits || (good_header && next + 12 <= end && !plausible_header(bytes, next, end, claimed_end))) {
      uint64_t q = next_plausible_header(bytes, offset, good_header ? desc_off : pos + 4, end, claimed_end);
      if (!q) {
        diag.warn(path, pos, fmt::format("corrupt note header (name size {}, data size {}); rest of the notes skipped",
                                         namesz, descsz));
        core.notes_cut_at = pos;
        return;
      }
      if (good_header) {
        diag.warn(path, pos + 4, fmt::format("note type {} claims {} bytes of data but the next note header is at "
                                             "offset {:#x}: its data taken as {} bytes, the notes after it kept",
                                             type, descsz, q, q - desc_off));
        std::string_view name(reinterpret_cast<const char*>(bytes.data() + name_off), namesz - 1);
        dec.decode(type, name, bytes.subspan(desc_off, q - desc_off), pos);
      } else {
        diag.warn(path, pos, fmt::format("corrupt note header (name size {}, data size {}); skipped {} bytes to the "
                                         "next note header at offset {:#x}",
                                         namesz, descsz, q - pos, q));
      }
      pos = q;
      continue;
    }
    std::string_view name(reinterpret_cast<const char*>(bytes.data() + name_off), namesz);
    if (!name.empty() && name.back() == '\0') name.remove_suffix(1);
    dec.decode(type, name, bytes.subspan(desc_off, descsz), pos);
    pos = next;
  }
  if (pos < end || size < claimed) core.notes_cut_at = pos;
  if (pos < end && size < claimed)
    diag.warn(path, pos, fmt::format("note header cut short by the end of the file ({} of 12 bytes present); the notes "
                                     "from here on are lost", end - pos));
}

constexpr uint64_t kMaxSegment = uint64_t{1} << 47;  // no x86-64 mapping is larger
constexpr uint64_t kUserEnd = uint64_t{1} << 47;      // end of the canonical lower half
constexpr uint64_t kKernelStart = ~uint64_t{0} << 47;  // start of the upper half (vsyscall)

struct HeaderedLoad {
  Elf64_Phdr ph;
  uint64_t index;   // in the program header table
  uint64_t offset;  // file offset of the header
};

bool canonical(uint64_t start, uint64_t end) { return end <= kUserEnd || start >= kKernelStart; }

// Cores list their load segments in address order, without overlaps. One segment whose size
// was damaged would otherwise cover (and, first one winning, hide) every later mapping: when
// it covers the whole next segment, cut it at that segment's start. One that still leaves the canonical address space is dropped.
void clip_overrunning_loads(const std::string& path, std::vector<HeaderedLoad>& loads, Diagnostics& diag) {
  std::vector<HeaderedLoad> kept;
  for (size_t k = 0; k < loads.size(); ++k) {
    HeaderedLoad l = loads[k];
    Elf64_Phdr& ph = l.ph;
    if (k + 1 < loads.size()) {
      // Only a segment that swallows the whole next one: a partial overlap is left to the
      // address space (first input wins, with a warning).
      uint64_t next = loads[k + 1].ph.p_vaddr, next_end = next + loads[k + 1].ph.p_memsz;
      if (ph.p_vaddr < next && ph.p_vaddr + ph.p_memsz >= next_end) {
        diag.warn(path, l.offset,
                  fmt::format("program header {}: load segment at {:#x} claims {:#x} bytes and runs into the next "
                              "segment at {:#x}; clipped to {:#x} bytes",
                              l.index, ph.p_vaddr, ph.p_memsz, next, next - ph.p_vaddr));
        ph.p_memsz = next - ph.p_vaddr;
        ph.p_filesz = std::min(ph.p_filesz, ph.p_memsz);
      }
    }
    if (!canonical(ph.p_vaddr, ph.p_vaddr + ph.p_memsz)) {
      diag.warn(path, l.offset,
                fmt::format("program header {}: load segment [{:#x}, {:#x}) leaves the canonical x86-64 address "
                            "space; skipped",
                            l.index, ph.p_vaddr, ph.p_vaddr + ph.p_memsz));
      continue;
    }
    kept.push_back(l);
  }
  loads = std::move(kept);
}

}  // namespace

const char* reg_name(int r) {
  static const char* const names[kNumRegs] = {
      "r15", "r14", "r13", "r12", "rbp", "rbx", "r11", "r10", "r9",      "r8",      "rax", "rcx", "rdx", "rsi",
      "rdi", "orig_rax", "rip", "cs", "eflags", "rsp", "ss", "fs_base", "gs_base", "ds", "es", "fs", "gs"};
  return r >= 0 && r < kNumRegs ? names[r] : "?";
}

bool looks_like_elf(std::span<const uint8_t> b) {
  return b.size() >= 4 && std::memcmp(b.data(), ELFMAG, SELFMAG) == 0;
}

CoreFile read_elf_core(const std::string& path, std::span<const uint8_t> bytes, Diagnostics& diag) {
  if (!looks_like_elf(bytes)) throw InputError(path, 0, "not an ELF file (and not a known compressed format)");
  Elf64_Ehdr eh{};
  if (bytes.size() < EI_NIDENT) throw InputError(path, 0, "ELF header is truncated");
  if (bytes[EI_CLASS] != ELFCLASS64) throw InputError(path, EI_CLASS, "unsupported ELF class (only 64-bit cores)");
  if (bytes[EI_DATA] != ELFDATA2LSB) throw InputError(path, EI_DATA, "unsupported byte order (only little-endian)");
  if (!get(bytes, 0, eh)) throw InputError(path, 0, "ELF header is truncated");
  if (eh.e_type != ET_CORE)
    throw InputError(path, offsetof(Elf64_Ehdr, e_type),
                     fmt::format("ELF file is not a core (e_type {})", eh.e_type));
  if (eh.e_machine != EM_X86_64)
    throw InputError(path, offsetof(Elf64_Ehdr, e_machine),
                     fmt::format("unsupported architecture (e_machine {}; only x86-64)", eh.e_machine));
  if (eh.e_phentsize != sizeof(Elf64_Phdr))
    throw InputError(path, offsetof(Elf64_Ehdr, e_phentsize),
                     fmt::format("unexpected program header size {}", eh.e_phentsize));

  uint64_t phnum = eh.e_phnum;
  if (phnum == PN_XNUM) {  // the real count lives in section header 0's sh_info
    Elf64_Shdr sh0{};
    if (!get(bytes, eh.e_shoff, sh0))
      throw InputError(path, eh.e_shoff, "program header count is in section 0, which is outside the file");
    phnum = sh0.sh_info;
  }
  CoreFile core;
  core.path = path;
  if (eh.e_phoff > bytes.size())
    throw InputError(path, offsetof(Elf64_Ehdr, e_phoff), "program headers start beyond the end of the file");
  uint64_t fit = (bytes.size() - eh.e_phoff) / sizeof(Elf64_Phdr);
  if (phnum > 0 && fit == 0)
    throw InputError(path, eh.e_phoff,
                     fmt::format("file is truncated before its first program header ({} expected): nothing to analyse",
                                 phnum));
  uint64_t lost_headers = phnum > fit ? phnum - fit : 0;
  if (lost_headers) {
    diag.warn(path, eh.e_phoff + fit * sizeof(Elf64_Phdr),
              fmt::format("file is truncated inside the program header table: only {} of {} program headers are "
                          "present; the {} segments (notes or memory) of the others are lost, size unknown",
                          fit, phnum, lost_headers));
    phnum = fit;
  }

  std::vector<HeaderedLoad> loads;
  for (uint64_t i = 0; i < phnum; ++i) {
    uint64_t at = eh.e_phoff + i * sizeof(Elf64_Phdr);
    Elf64_Phdr ph{};
    get(bytes, at, ph);
    if (ph.p_type == PT_NOTE) {
      if (ph.p_offset >= bytes.size()) {
        diag.warn(path, at, fmt::format("note segment at file offset {:#x} lies beyond the end of the file; notes lost",
                                        ph.p_offset));
        core.notes_cut_at = ph.p_offset;
        continue;
      }
      uint64_t size = std::min<uint64_t>(ph.p_filesz, bytes.size() - ph.p_offset);
      if (size < ph.p_filesz)
        diag.warn(path, ph.p_offset,
                  fmt::format("note segment is truncated: {} of its {} bytes are present; later notes are missing",
                              size, ph.p_filesz));
      read_notes(path, bytes, ph.p_offset, size, ph.p_filesz, core, diag);
    } else if (ph.p_type == PT_LOAD) {
      if (ph.p_memsz == 0) continue;
      if (ph.p_memsz > kMaxSegment || ph.p_vaddr + ph.p_memsz < ph.p_vaddr || ph.p_filesz > ph.p_memsz) {
        diag.warn(path, at, fmt::format("program header {}: load segment with absurd address/size (vaddr {:#x}, memsz "
                                        "{:#x}, filesz {:#x}) skipped",
                                        i, ph.p_vaddr, ph.p_memsz, ph.p_filesz));
        continue;
      }
      loads.push_back({ph, i, at});
    }
  }
  clip_overrunning_loads(path, loads, diag);
  for (const HeaderedLoad& l : loads) {
    const Elf64_Phdr& ph = l.ph;
    LoadSegment s;
    s.vaddr = ph.p_vaddr;
    s.memsz = ph.p_memsz;
    s.filesz = ph.p_filesz;
    s.offset = ph.p_offset;
    s.flags = ph.p_flags;
    if (ph.p_filesz > 0) {
      uint64_t avail = ph.p_offset < bytes.size() ? bytes.size() - ph.p_offset : 0;
      s.present = std::min(ph.p_filesz, avail);
      core.missing_bytes += ph.p_filesz - s.present;
    }
    core.loads.push_back(s);
  }
  if (core.missing_bytes > 0)
    diag.warn(path, bytes.size(),
              fmt::format("core is truncated: {} bytes of memory are missing (file is {} bytes){}; answering from what "
                          "is present",
                          core.missing_bytes, bytes.size(),
                          lost_headers ? fmt::format(", not counting the memory of the {} lost program headers", lost_headers)
                                       : std::string()));
  return core;
}

}  // namespace coresift
