#include "unit/input/synthetic_core.hpp"

#include <elf.h>
#include <sys/procfs.h>

#include <algorithm>
#include <csignal>
#include <cstring>

namespace coresift::test {
namespace {

uint64_t align_up(uint64_t v, uint64_t a) { return (v + a - 1) / a * a; }

template <typename T>
Bytes as_bytes(const T& v) {
  Bytes b(sizeof v);
  std::memcpy(b.data(), &v, sizeof v);
  return b;
}

template <typename T>
void put(Bytes& b, uint64_t off, const T& v) {
  if (b.size() < off + sizeof v) b.resize(off + sizeof v);
  std::memcpy(b.data() + off, &v, sizeof v);
}

}  // namespace

void put_u16(Bytes& b, uint64_t off, uint16_t v) { put(b, off, v); }
void put_u32(Bytes& b, uint64_t off, uint32_t v) { put(b, off, v); }
void put_u64(Bytes& b, uint64_t off, uint64_t v) { put(b, off, v); }

Bytes pattern(size_t n, uint8_t salt) {
  Bytes b(n);
  for (size_t i = 0; i < n; ++i) b[i] = static_cast<uint8_t>((i * 7 + (i >> 8) + salt) | 1);  // never 0
  return b;
}

Bytes encode_note(const std::string& name, uint32_t type, const Bytes& desc) {
  Bytes b;
  put_u32(b, 0, static_cast<uint32_t>(name.size() + 1));
  put_u32(b, 4, static_cast<uint32_t>(desc.size()));
  put_u32(b, 8, type);
  b.insert(b.end(), name.begin(), name.end());
  b.push_back(0);
  b.resize(align_up(b.size(), 4));
  b.insert(b.end(), desc.begin(), desc.end());
  b.resize(align_up(b.size(), 4));
  return b;
}

CoreBuilder& CoreBuilder::load(uint64_t vaddr, uint64_t memsz, Bytes bytes, uint32_t flags) {
  SynthLoad l;
  l.vaddr = vaddr;
  l.memsz = memsz;
  l.bytes = std::move(bytes);
  l.flags = flags;
  return load(std::move(l));
}

CoreBuilder& CoreBuilder::load(SynthLoad l) {
  loads_.push_back(std::move(l));
  return *this;
}

CoreBuilder& CoreBuilder::note(std::string name, uint32_t type, Bytes desc) {
  notes_.push_back({std::move(name), type, std::move(desc)});
  return *this;
}

CoreBuilder& CoreBuilder::prstatus(int tid, const std::array<uint64_t, kNumRegs>& regs, int cursig, int ppid) {
  elf_prstatus st{};
  static_assert(sizeof st.pr_reg == sizeof regs, "reader's register order must cover user_regs_struct");
  st.pr_cursig = static_cast<short>(cursig);
  st.pr_info.si_signo = cursig;
  st.pr_pid = tid;
  st.pr_ppid = ppid;
  std::memcpy(&st.pr_reg, regs.data(), sizeof st.pr_reg);
  return note("CORE", NT_PRSTATUS, as_bytes(st));
}

CoreBuilder& CoreBuilder::prpsinfo(int pid, const std::string& fname, const std::string& psargs) {
  elf_prpsinfo ps{};
  ps.pr_state = 0;
  ps.pr_sname = 'R';
  ps.pr_uid = 1000;
  ps.pr_pid = pid;
  ps.pr_ppid = 1;
  // Like the kernel: truncated to the field, not necessarily NUL-terminated.
  std::memcpy(ps.pr_fname, fname.data(), std::min(fname.size(), sizeof ps.pr_fname));
  std::memcpy(ps.pr_psargs, psargs.data(), std::min(psargs.size(), sizeof ps.pr_psargs));
  return note("CORE", NT_PRPSINFO, as_bytes(ps));
}

CoreBuilder& CoreBuilder::siginfo(int signo, int code, uint64_t addr_or_pid) {
  siginfo_t si{};
  si.si_signo = signo;
  si.si_code = code;
  if (code > 0)
    si.si_addr = reinterpret_cast<void*>(addr_or_pid);
  else
    si.si_pid = static_cast<pid_t>(addr_or_pid);
  return note("CORE", NT_SIGINFO, as_bytes(si));
}

CoreBuilder& CoreBuilder::file_note(uint64_t page_size, const std::vector<FileNoteEntry>& files) {
  Bytes d;
  put_u64(d, 0, files.size());
  put_u64(d, 8, page_size);
  for (size_t i = 0; i < files.size(); ++i) {
    put_u64(d, 16 + i * 24, files[i].start);
    put_u64(d, 16 + i * 24 + 8, files[i].end);
    put_u64(d, 16 + i * 24 + 16, files[i].file_offset / page_size);
  }
  for (const FileNoteEntry& f : files) {
    d.insert(d.end(), f.path.begin(), f.path.end());
    d.push_back(0);
  }
  return note("CORE", NT_FILE, d);
}

CoreBuilder& CoreBuilder::auxv(const std::vector<std::pair<uint64_t, uint64_t>>& pairs) {
  Bytes d;
  for (auto [k, v] : pairs) {
    put_u64(d, d.size(), k);
    put_u64(d, d.size(), v);
  }
  put_u64(d, d.size(), AT_NULL);
  put_u64(d, d.size(), 0);
  return note("CORE", NT_AUXV, d);
}

CoreImage CoreBuilder::build() const {
  CoreImage img;
  Bytes& b = img.bytes;
  CoreLayout& lay = img.layout;
  const uint64_t phnum = loads_.size() + (notes_.empty() ? 0 : 1);

  Bytes notes;
  for (const SynthNote& n : notes_) {
    lay.note_starts.push_back(notes.size());
    Bytes e = encode_note(n.name, n.type, n.desc);
    notes.insert(notes.end(), e.begin(), e.end());
  }

  lay.phoff = sizeof(Elf64_Ehdr);
  uint64_t pos = lay.phoff + phnum * sizeof(Elf64_Phdr);
  if (!notes.empty()) {
    lay.note_offset = pos;
    lay.note_size = notes.size();
    for (uint64_t& s : lay.note_starts) s += pos;
    pos += notes.size();
  }
  for (const SynthLoad& l : loads_) {
    pos = align_up(pos, 16);
    lay.load_offsets.push_back(pos);
    pos += l.bytes.size();
  }
  if (pn_xnum_) lay.shoff = pos = align_up(pos, 8);
  b.assign(pos + (pn_xnum_ ? sizeof(Elf64_Shdr) : 0), 0);

  Elf64_Ehdr eh{};
  std::memcpy(eh.e_ident, ELFMAG, SELFMAG);
  eh.e_ident[EI_CLASS] = ELFCLASS64;
  eh.e_ident[EI_DATA] = ELFDATA2LSB;
  eh.e_ident[EI_VERSION] = EV_CURRENT;
  eh.e_type = type_;
  eh.e_machine = machine_;
  eh.e_version = EV_CURRENT;
  eh.e_phoff = lay.phoff;
  eh.e_ehsize = sizeof(Elf64_Ehdr);
  eh.e_phentsize = sizeof(Elf64_Phdr);
  eh.e_phnum = static_cast<uint16_t>(pn_xnum_ ? PN_XNUM : phnum);
  if (pn_xnum_) {
    eh.e_shoff = lay.shoff;
    eh.e_shentsize = sizeof(Elf64_Shdr);
    eh.e_shnum = 1;
    Elf64_Shdr sh0{};
    sh0.sh_info = static_cast<uint32_t>(phnum);
    put(b, lay.shoff, sh0);
  }
  put(b, 0, eh);

  uint64_t at = lay.phoff;
  if (!notes.empty()) {
    Elf64_Phdr ph{};
    ph.p_type = PT_NOTE;
    ph.p_offset = lay.note_offset;
    ph.p_filesz = notes.size();
    put(b, at, ph);
    at += sizeof ph;
    std::memcpy(b.data() + lay.note_offset, notes.data(), notes.size());
  }
  for (size_t i = 0; i < loads_.size(); ++i) {
    const SynthLoad& l = loads_[i];
    Elf64_Phdr ph{};
    ph.p_type = PT_LOAD;
    ph.p_flags = l.flags;
    ph.p_offset = lay.load_offsets[i];
    ph.p_vaddr = l.vaddr;
    ph.p_filesz = l.filesz_override >= 0 ? static_cast<uint64_t>(l.filesz_override) : l.bytes.size();
    ph.p_memsz = l.memsz;
    ph.p_align = 0x1000;
    put(b, at, ph);
    at += sizeof ph;
    if (!l.bytes.empty()) std::memcpy(b.data() + lay.load_offsets[i], l.bytes.data(), l.bytes.size());
  }
  return img;
}

CoreBuilder typical_core() {
  constexpr uint64_t kText = 0x400000, kHeap = 0x600000, kStack = 0x7ffd0000;
  Bytes stack = pattern(0x100, 3);
  const char execfn[] = "/bin/true";
  std::memcpy(stack.data() + 0xe0, execfn, sizeof execfn);

  std::array<uint64_t, kNumRegs> regs{};
  for (int r = 0; r < kNumRegs; ++r) regs[r] = 0x1000 + r;
  regs[kRip] = kText + 0x10;
  regs[kRsp] = kStack + 0x80;

  CoreBuilder c;
  c.prstatus(1234, regs, SIGSEGV)
      .siginfo(SIGSEGV, SEGV_MAPERR, 0xdead)
      .prpsinfo(1234, "true", "/bin/true --flag")
      .auxv({{AT_PAGESZ, 0x1000}, {AT_ENTRY, kText + 0x10}, {AT_EXECFN, kStack + 0xe0}})
      .file_note(0x1000, {{kText, kText + 0x1000, 0, "/bin/true"}})
      .load(kText, 0x100, pattern(0x100, 1), PF_R | PF_X)
      .load(SynthLoad{kHeap, 0x200, pattern(0x80, 2), PF_R | PF_W, -1})  // tail absent
      .load(kStack, 0x100, stack, PF_R | PF_W);
  return c;
}

}  // namespace coresift::test

namespace coresift::test {
namespace {

// An ELF64 header, one PT_LOAD and one PT_NOTE holding a 20-byte GNU build-id.
Bytes mini_elf_image(uint64_t vaddr) {
  Bytes b(0x200, 0);
  Elf64_Ehdr eh{};
  std::memcpy(eh.e_ident, ELFMAG, SELFMAG);
  eh.e_ident[EI_CLASS] = ELFCLASS64;
  eh.e_ident[EI_DATA] = ELFDATA2LSB;
  eh.e_type = ET_EXEC;
  eh.e_machine = EM_X86_64;
  eh.e_phoff = sizeof eh;
  eh.e_phentsize = sizeof(Elf64_Phdr);
  eh.e_phnum = 2;
  put(b, 0, eh);
  Bytes id(20);
  for (size_t i = 0; i < id.size(); ++i) id[i] = static_cast<uint8_t>(i + 1);
  Bytes note = encode_note("GNU", NT_GNU_BUILD_ID, id);
  const uint64_t note_off = 0x100;
  Elf64_Phdr load{PT_LOAD, PF_R | PF_X, 0, vaddr, vaddr, 0x200, 0x200, 0x1000};
  Elf64_Phdr pnote{PT_NOTE, PF_R, note_off, vaddr + note_off, vaddr + note_off, note.size(), note.size(), 4};
  put(b, sizeof eh, load);
  put(b, sizeof eh + sizeof load, pnote);
  std::memcpy(b.data() + note_off, note.data(), note.size());
  return b;
}

}  // namespace

CoreBuilder rich_core() {
  constexpr uint64_t kText = 0x400000, kStack = 0x7ffd0000, kSp0 = kStack + 0x800, kStr = kStack + 0xc00;
  Bytes stack(0x1000, 0);
  // Strings at the top of the stack, as the kernel places them.
  const char strings[] = "rich\0-x\0HOME=/root\0/usr/bin/rich\0RANDOM16BYTES!!!";
  std::memcpy(stack.data() + (kStr - kStack), strings, sizeof strings);
  const uint64_t arg0 = kStr, arg1 = kStr + 5, env0 = kStr + 8, execfn = kStr + 19, random = kStr + 33;
  const std::vector<std::pair<uint64_t, uint64_t>> aux = {
      {AT_PHDR, kText + 64}, {AT_PAGESZ, 0x1000}, {AT_ENTRY, kText + 0x180}, {AT_RANDOM, random}, {AT_EXECFN, execfn}};
  // argc, argv…, NULL, envp…, NULL, auxv pairs, AT_NULL.
  std::vector<uint64_t> words = {2, arg0, arg1, 0, env0, 0};
  for (auto [k, v] : aux) words.insert(words.end(), {k, v});
  words.insert(words.end(), {AT_NULL, 0});
  for (size_t i = 0; i < words.size(); ++i) put(stack, kSp0 - kStack + 8 * i, words[i]);

  std::array<uint64_t, kNumRegs> regs{};
  regs[kRip] = kText + 0x180;
  regs[kRsp] = kSp0 - 0x100;
  CoreBuilder c;
  c.prstatus(4242, regs, SIGABRT)
      .siginfo(SIGABRT, SI_TKILL, 4242)
      .prpsinfo(4242, "rich", "rich -x")
      .auxv(aux)
      .file_note(0x1000, {{kText, kText + 0x1000, 0, "/usr/bin/rich"}})
      .load(kText, 0x1000, mini_elf_image(kText), PF_R | PF_X)
      .load(kStack, 0x1000, stack, PF_R | PF_W);
  return c;
}

}  // namespace coresift::test
