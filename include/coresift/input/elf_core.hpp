// Reader for ELF64 x86-64 core files (kernel and gdb gcore). It only decodes the file
// format: load segments, and the notes the process model needs. All offsets and sizes from
// the file are checked against its real length; damage becomes warnings.
#pragma once
#include <array>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "coresift/diag.hpp"
#include "coresift/input/mapped_file.hpp"

namespace coresift {

struct LoadSegment {
  uint64_t vaddr = 0;
  uint64_t memsz = 0;
  uint64_t filesz = 0;   // as the header claims
  uint64_t offset = 0;
  uint64_t present = 0;  // bytes actually in the file (filesz clipped at end of file)
  uint32_t flags = 0;    // PF_R/W/X
};

// x86-64 user_regs_struct order, as in NT_PRSTATUS pr_reg.
enum Reg : int {
  kR15, kR14, kR13, kR12, kRbp, kRbx, kR11, kR10, kR9, kR8, kRax, kRcx, kRdx, kRsi, kRdi,
  kOrigRax, kRip, kCs, kEflags, kRsp, kSs, kFsBase, kGsBase, kDs, kEs, kFs, kGs, kNumRegs
};
const char* reg_name(int r);

struct SigInfo {
  int signo = 0;
  int errno_ = 0;
  int code = 0;
  std::optional<uint64_t> address;  // si_addr for fault signals
  std::optional<int> sender_pid;    // si_pid for SI_USER/SI_TKILL/SI_QUEUE
};

struct ThreadNote {
  int tid = 0;
  int ppid = 0;
  int cursig = 0;  // pr_cursig: the signal being delivered to this thread
  std::array<uint64_t, kNumRegs> regs{};
  std::optional<SigInfo> siginfo;  // the NT_SIGINFO that follows its NT_PRSTATUS, if any
  uint64_t note_offset = 0;
};

struct ProcessNote {  // NT_PRPSINFO
  int pid = 0;
  int ppid = 0;
  int uid = 0;
  char state = 0;
  std::string fname;   // pr_fname (command name, ≤ 15 chars)
  std::string psargs;  // pr_psargs (first 80 bytes of the command line)
};

struct FileNoteEntry {  // NT_FILE
  uint64_t start = 0;
  uint64_t end = 0;
  uint64_t file_offset = 0;  // in bytes
  std::string path;
};

struct CoreFile {
  std::string path;
  std::vector<LoadSegment> loads;
  std::vector<ThreadNote> threads;
  std::optional<ProcessNote> process;
  std::vector<std::pair<uint64_t, uint64_t>> auxv;
  std::vector<FileNoteEntry> files;
  uint64_t missing_bytes = 0;  // bytes the headers promise beyond the end of the file
  // File offset where note reading stopped early (segment cut by the end of the file, or a
  // corrupt note header): notes from there on are lost.
  std::optional<uint64_t> notes_cut_at;
};

// Parses an ELF core held in `bytes` (named `path` in messages). Throws InputError when the
// file is not an ELF64 x86-64 core at all.
CoreFile read_elf_core(const std::string& path, std::span<const uint8_t> bytes, Diagnostics& diag);

// True if the bytes start with the ELF magic.
bool looks_like_elf(std::span<const uint8_t> bytes);

}  // namespace coresift
