// Builds small ELF64 x86-64 core images in memory, so reader tests can state exactly which
// segments and notes a core holds and then damage any byte of it.
#pragma once
#include <array>
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "coresift/input/elf_core.hpp"

namespace coresift::test {

using Bytes = std::vector<uint8_t>;

struct SynthLoad {
  uint64_t vaddr = 0;
  uint64_t memsz = 0;
  Bytes bytes;         // written to the file; p_filesz = bytes.size() unless overridden
  uint32_t flags = 0;  // PF_R/W/X
  int64_t filesz_override = -1;  // ≥ 0: p_filesz to claim instead
};

struct SynthNote {
  std::string name;  // "CORE", "LINUX", …; written with its NUL
  uint32_t type = 0;
  Bytes desc;
};

// Where each part landed in the image, for tests that cut or corrupt specific bytes.
struct CoreLayout {
  uint64_t phoff = 0;
  uint64_t note_offset = 0;  // PT_NOTE data (0 when there are no notes)
  uint64_t note_size = 0;
  std::vector<uint64_t> note_starts;   // offset of each note header
  std::vector<uint64_t> load_offsets;  // p_offset of each load, in add order
  uint64_t shoff = 0;                  // section header 0 (PN_XNUM only)
};

struct CoreImage {
  Bytes bytes;
  CoreLayout layout;
};

class CoreBuilder {
 public:
  CoreBuilder& load(uint64_t vaddr, uint64_t memsz, Bytes bytes, uint32_t flags = 6 /* PF_R|PF_W */);
  CoreBuilder& load(SynthLoad l);
  CoreBuilder& note(std::string name, uint32_t type, Bytes desc);

  // CORE notes with the kernel's structure layouts (from <sys/procfs.h>, not the reader's).
  CoreBuilder& prstatus(int tid, const std::array<uint64_t, kNumRegs>& regs, int cursig = 0, int ppid = 1);
  CoreBuilder& prpsinfo(int pid, const std::string& fname, const std::string& psargs);
  CoreBuilder& siginfo(int signo, int code, uint64_t addr_or_pid);
  CoreBuilder& file_note(uint64_t page_size, const std::vector<FileNoteEntry>& files);
  CoreBuilder& auxv(const std::vector<std::pair<uint64_t, uint64_t>>& pairs);

  // Header fields, for "this is not a core we accept" tests.
  CoreBuilder& elf_type(uint16_t t) { type_ = t; return *this; }
  CoreBuilder& machine(uint16_t m) { machine_ = m; return *this; }
  // Store the program header count in section 0's sh_info (e_phnum = PN_XNUM).
  CoreBuilder& pn_xnum(bool on = true) { pn_xnum_ = on; return *this; }

  CoreImage build() const;
  Bytes bytes() const { return build().bytes; }

 private:
  std::vector<SynthLoad> loads_;
  std::vector<SynthNote> notes_;
  uint16_t type_ = 4;      // ET_CORE
  uint16_t machine_ = 62;  // EM_X86_64
  bool pn_xnum_ = false;
};

// Encodes one note (header, padded name, padded desc) as the kernel does.
Bytes encode_note(const std::string& name, uint32_t type, const Bytes& desc);

// Little-endian field writes into an image, for corrupting headers in place.
void put_u16(Bytes& b, uint64_t off, uint16_t v);
void put_u32(Bytes& b, uint64_t off, uint32_t v);
void put_u64(Bytes& b, uint64_t off, uint64_t v);

// `n` bytes whose value depends on the position and `salt`, so misplaced reads show.
Bytes pattern(size_t n, uint8_t salt = 0);

// A typical small core: one crashed thread (tid 1234, SIGSEGV at 0xdead), process info,
// auxv, an NT_FILE naming /bin/true, and three loads (text, a partly absent heap, stack).
CoreBuilder typical_core();

// A core the process builder can fully decode: /usr/bin/rich mapped with an ELF header and a
// GNU build-id (0x01..0x14) in memory, and an initial stack holding argc/argv/envp/auxv
// (argv "rich" "-x", envp "HOME=/root") that matches the NT_AUXV note.
CoreBuilder rich_core();

}  // namespace coresift::test
