// Mappings and their labels.
#include <elf.h>

#include <algorithm>
#include <map>

#include "builders.hpp"
#include "coresift/input/range_layers.hpp"

namespace coresift {
namespace {

constexpr uint64_t kArenaHeapAlign = 64ull << 20;  // glibc HEAP_MAX_SIZE on 64-bit
constexpr uint64_t kBrkRandomRange = 32ull << 20;  // x86-64 brk randomisation

uint64_t present_in(const AddressSpace& mem, uint64_t start, uint64_t end) {
  const auto& segs = mem.segments();  // sorted, non-overlapping
  auto it = std::upper_bound(segs.begin(), segs.end(), start, [](uint64_t a, const Segment& s) { return a < s.end; });
  uint64_t total = 0;
  for (; it != segs.end() && it->start < end; ++it) {
    uint64_t lo = std::max(it->start, start);
    uint64_t hi = std::min(it->start + it->present, end);
    if (hi > lo) total += hi - lo;
  }
  return total;
}

// "Which entry holds addr?" in O(log n). The first entry wins where entries overlap, which
// only a damaged or hostile core has.
template <typename T>
FirstRangeIndex index_ranges(const std::vector<T>& v) {
  std::vector<Range> r;
  r.reserve(v.size());
  for (const T& x : v) r.push_back({x.start, x.end});
  return FirstRangeIndex(r);
}

void apply_pseudo_name(Mapping& m, const std::string& name) {
  m.kind = mapping_kind_from_name(name);
  if (m.kind == MappingKind::kFile) m.path = name;
  else m.label = name;
}

}  // namespace

std::vector<Mapping> build_mappings(const LoadedInputs& in, const std::vector<FileNoteEntry>& file_entries,
                                    const std::vector<MapsEntry>& maps) {
  std::vector<Mapping> out;
  if (in.core) {
    FirstRangeIndex files = index_ranges(file_entries);
    for (const LoadSegment& l : in.core->loads) {
      Mapping m;
      m.start = l.vaddr;
      m.end = l.vaddr + l.memsz;
      m.perms = static_cast<uint8_t>(((l.flags & PF_R) ? kPermRead : 0) | ((l.flags & PF_W) ? kPermWrite : 0) |
                                     ((l.flags & PF_X) ? kPermExec : 0));
      if (auto i = files.find(m.start)) {
        const FileNoteEntry* f = &file_entries[*i];
        m.path = f->path;
        m.offset = f->file_offset + (m.start - f->start);
      }
      out.push_back(std::move(m));
    }
    for (Mapping& m : file_note_only_mappings(*in.core, file_entries, in.memory)) out.push_back(std::move(m));
  }
  // Raw ranges: named by --maps lines where given, else one anonymous mapping each.
  FirstRangeIndex core_mappings = index_ranges(out);
  for (const MapsEntry& e : maps) {
    bool overlaps_input = std::any_of(in.raw_ranges.begin(), in.raw_ranges.end(), [&](const RawRange& r) {
      return e.start < r.base + r.size && r.base < e.end;
    });
    if (core_mappings.find(e.start)) continue;
    if (!overlaps_input && !in.raw_ranges.empty() && in.core) continue;
    Mapping m;
    m.start = e.start;
    m.end = e.end;
    m.perms = e.perms;
    m.offset = e.offset;
    apply_pseudo_name(m, e.path);
    out.push_back(std::move(m));
  }
  for (const RawRange& r : in.raw_ranges) {
    bool covered = std::any_of(out.begin(), out.end(),
                               [&](const Mapping& m) { return m.start <= r.base && r.base + r.size <= m.end; });
    if (covered) continue;
    Mapping m;
    m.start = r.base;
    m.end = r.base + r.size;
    m.perms = kPermRead | kPermWrite;
    m.mark(MappingKind::kDump);
    out.push_back(std::move(m));
  }
  // Stable: mappings that start together (only in damaged cores) keep the core's order.
  std::stable_sort(out.begin(), out.end(), [](const Mapping& a, const Mapping& b) { return a.start < b.start; });
  for (Mapping& m : out) {
    m.present_bytes = present_in(in.memory, m.start, m.end);
    if (!m.path.empty()) m.kind = MappingKind::kFile;
  }
  return out;
}

namespace {

// glibc's heap_info at the start of an arena heap: ar_ptr is a malloc_state right after a
// heap_info (the first heap holds its arena), prev is 0 or another 64 MiB-aligned heap, size
// a page multiple up to 64 MiB. An mmapped chunk that happens to sit on a 64 MiB boundary
// starts with prev_size 0, so it is not taken for one. Absent bytes: keep the old guess.
bool looks_like_heap_info(const AddressSpace& mem, uint64_t start) {
  uint64_t w[3];
  if (mem.read(start, w, sizeof w) != sizeof w) return mem.present_parts(start, start + sizeof w).empty();
  uint64_t ar_off = w[0] & (kArenaHeapAlign - 1);
  return (ar_off == 0x20 || ar_off == 0x30) && (w[1] % kArenaHeapAlign) == 0 && w[2] != 0 && w[2] % 4096 == 0 &&
         w[2] <= kArenaHeapAlign;
}

}  // namespace

void label_mappings(Process& p, const AddressSpace& mem) {
  auto& maps = p.mappings;
  FirstRangeIndex by_address = index_ranges(maps);
  auto index_of = [&](uint64_t addr) -> int {
    auto i = by_address.find(addr);
    return i ? static_cast<int>(*i) : -1;
  };
  auto unnamed = [](const Mapping& m) { return m.path.empty() && m.label.empty(); };
  // PROT_NONE shows as no permissions in kernel cores but as read-only in gcore cores.
  auto inaccessible = [](const Mapping& m) { return m.perms == 0 || m.perms == kPermRead; };

  if (auto vdso = p.auxv_value(AT_SYSINFO_EHDR)) {
    int i = index_of(*vdso);
    if (i >= 0 && unnamed(maps[i])) {
      maps[i].mark(MappingKind::kVdso);
      if (i > 0 && unnamed(maps[i - 1]) && maps[i - 1].end == maps[i].start) maps[i - 1].mark(MappingKind::kVvar);
    }
  }
  for (Mapping& m : maps)
    if (unnamed(m) && m.start == 0xffffffffff600000ull) m.mark(MappingKind::kVsyscall);
  for (const Thread& t : p.threads) {
    int i = index_of(t.sp());
    if (i < 0 || !unnamed(maps[i])) continue;
    maps[i].mark(MappingKind::kStack, t.tid == p.pid ? 0 : t.tid);
    if (i > 0 && unnamed(maps[i - 1]) && maps[i - 1].end == maps[i].start && inaccessible(maps[i - 1]) &&
        maps[i - 1].size() <= (1 << 20))
      maps[i - 1].mark(MappingKind::kGuard, t.tid);
  }
  // glibc arena heaps: 64 MiB-aligned reservations, the used head read-write, the tail PROT_NONE.
  for (size_t i = 0; i < maps.size(); ++i) {
    Mapping& m = maps[i];
    if (!unnamed(m)) continue;
    if (m.start % kArenaHeapAlign == 0 && (m.perms & kPermWrite) && m.size() <= kArenaHeapAlign &&
        looks_like_heap_info(mem, m.start)) {
      m.mark(MappingKind::kArenaHeap);
      if (i + 1 < maps.size() && unnamed(maps[i + 1]) && maps[i + 1].start == m.end && inaccessible(maps[i + 1]) &&
          maps[i + 1].end <= m.start + kArenaHeapAlign)
        maps[i + 1].mark(MappingKind::kArenaReserve);
    }
  }
  // The program break heap starts at or above the page after the executable's .bss (the
  // kernel randomises it by up to 32 MiB). A mapping that starts below that is the .bss
  // itself, unless it reaches beyond it (the heap merged into the .bss mapping).
  const Mapping* exe = nullptr;
  auto entry = p.auxv_value(AT_ENTRY);
  for (const Module& mod : p.modules)
    if (int i = index_of(mod.base); entry && mod.contains(*entry) && i >= 0) exe = &maps[i];
  // No auxv (the notes are lost, e.g. a cut gcore core): the executable is the lowest ELF
  // program image whose header is in memory, named or not.
  for (size_t i = 0; !entry && !exe && i < maps.size(); ++i)
    if (maps[i].offset == 0 && maps[i].present_bytes && elf_is_program(mem, maps[i].start)) exe = &maps[i];
  bool have_heap = std::any_of(maps.begin(), maps.end(), [](const Mapping& m) { return m.kind == MappingKind::kHeap; });
  if (exe && !have_heap) {
    uint64_t exe_end = 0;
    for (const Mapping& m : maps)
      if (!exe->path.empty() && m.path == exe->path) exe_end = std::max(exe_end, m.end);
    exe_end = std::max(exe_end, exe->end);
    uint64_t brk_floor = (elf_image_end(mem, exe->start).value_or(exe_end) + 0xfff) & ~uint64_t{0xfff};
    brk_floor = std::max(brk_floor, exe_end);
    for (Mapping& m : maps) {
      if (m.end <= brk_floor || m.start > brk_floor + kBrkRandomRange + (1 << 20)) continue;
      if (!unnamed(m) || !(m.perms & kPermWrite)) continue;
      m.mark(MappingKind::kHeap);
      break;
    }
  }
  for (Mapping& m : maps)
    if (unnamed(m) && m.perms == 0) m.mark(MappingKind::kReserved);
}

}  // namespace coresift
