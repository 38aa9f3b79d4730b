// Pieces of build_process, one job each. Internal to the process layer.
#pragma once
#include "coresift/process/process.hpp"

namespace coresift {

struct ElfFacts {
  bool is_elf = false;
  uint64_t first_load_vaddr = 0;
  std::string build_id;
};
// The ELF image whose header is mapped at `base` in the process memory / a file on disk.
ElfFacts elf_facts_from_memory(const AddressSpace& mem, uint64_t base);
ElfFacts elf_facts_from_file(const std::string& path);

// Mappings from core load segments + `files` (NT_FILE or recovered), or from raw ranges +
// --maps text.
std::vector<Mapping> build_mappings(const LoadedInputs& in, const std::vector<FileNoteEntry>& files,
                                    const std::vector<MapsEntry>& maps);
// NT_FILE-like entries for a core without a usable NT_FILE note: the ELF images whose headers
// start a load segment, named by the dynamic linker's link map where it is in the core, else
// by their build-id matched to files under --sysroot/--module-dir. Warns what was done.
std::vector<FileNoteEntry> recover_file_entries(const CoreFile& core, const AddressSpace& mem,
                                                const ProcessOptions& opts, Diagnostics& diag);
// Mappings NT_FILE lists where the core has no load segment (gcore omits read-only file
// mappings); none of their bytes are present.
std::vector<Mapping> file_note_only_mappings(const CoreFile& core, const std::vector<FileNoteEntry>& files,
                                             const AddressSpace& mem);
// Names anonymous mappings: heap, stacks, guards, arena heaps, vdso.
void label_mappings(Process& p, const AddressSpace& mem);
// End of the highest PT_LOAD (p_vaddr + p_memsz, .bss included) of the ELF image mapped at
// `base`, read from process memory; nullopt when its headers are not in the core.
std::optional<uint64_t> elf_image_end(const AddressSpace& mem, uint64_t base);
// True when the ELF image mapped at `base` is a program (ET_EXEC, or ET_DYN with PT_INTERP: a
// PIE), not a plain shared library. libc.so.6 is runnable too; callers take the lowest.
bool elf_is_program(const AddressSpace& mem, uint64_t base);
// ELF modules (one per mapped file with an ELF header), with build-ids.
std::vector<Module> build_modules(const std::vector<Mapping>& mappings, const AddressSpace& mem,
                                  const ProcessOptions& opts, Diagnostics& diag);
// argv/envp from the initial process stack (located through the auxv copy).
void read_command_line(Process& p, const AddressSpace& mem);

}  // namespace coresift
