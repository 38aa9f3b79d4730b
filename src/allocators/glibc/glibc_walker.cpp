// The glibc malloc walker: finds libc, its version and struct layout, main_arena and mp_,
// then walks every arena heap, the tcaches and bins, and the mmapped chunks.
#include <fmt/format.h>

#include "coresift/allocators/walker.hpp"
#include "glibc.hpp"

namespace coresift {
namespace glibc {
namespace {

const Module* find_libc(const Process& p) {
  for (const Module& m : p.modules) {
    std::string base = m.path.substr(m.path.rfind('/') == std::string::npos ? 0 : m.path.rfind('/') + 1);
    if (base.starts_with("libc.so") || (base.starts_with("libc-") && base.find(".so") != std::string::npos)) return &m;
  }
  return nullptr;
}

class GlibcWalker : public AllocatorWalker {
 public:
  const char* name() const override { return "glibc"; }

  std::optional<std::string> detect(const CoreModel& s) const override {
    if (!s.inputs().core) {
      if (s.inputs().raw_ranges.empty()) return std::nullopt;
      return std::string("raw memory ranges (a glibc heap is recognised by its chunk headers)");
    }
    if (const Module* libc = find_libc(s.process())) return libc->path + " is mapped";
    for (const Mapping& m : s.process().mappings)
      if ((m.kind == MappingKind::kHeap || m.kind == MappingKind::kArenaHeap) && m.present_bytes)
        return std::string("heap mappings are present (no libc image: static, or its headers are absent)");
    return std::nullopt;
  }

  bool walk(const CoreModel& s, ChunkTable& out) override {
    if (!locate_all(s)) return false;
    emit(out);
    return true;
  }

 private:
  // Everything detect() only guessed at: libc, its version and layout, main_arena and mp_
  // (findings made on the way wait in scratch_ until the walk).
  bool locate_all(const CoreModel& s) {
    if (!s.inputs().core) {
      if (s.inputs().raw_ranges.empty()) return false;
      ctx_ = std::make_unique<Ctx>(s, scratch_);
      raw_ = setup_raw_arenas(*ctx_);
      return raw_;
    }
    ctx_ = std::make_unique<Ctx>(s, scratch_);
    Ctx& c = *ctx_;
    c.libc = find_libc(s.process());
    if (c.libc && !c.libc->disk_path.empty() && !c.libc->build_id_mismatch) c.libc_image = DiskElf::open(c.libc->disk_path);
    detect_version(c);
    c.layout = layout_for(c.version);
    if (c.libc) {
      c.debug = read_debug_facts(*c.libc, s.options().symbols, c.layout);
      if (c.debug.layout) {
        std::string diff = layout_diff(c.layout, *c.debug.layout);
        if (!diff.empty()) {
          c.notes.push_back("struct layout from DWARF differs from the " + c.layout.source + ": " + diff);
          c.layout = *c.debug.layout;
        } else {
          c.layout.source += " (DWARF agrees)";
        }
      } else if (!c.debug.path.empty() && !c.debug.dwarf_note.empty()) {
        c.notes.push_back("debug file " + c.debug.path + ": " + c.debug.dwarf_note + "; using the layout table");
      }
    }
    bool found = locate(c);
    if (!found && !c.version.known()) {
      // Unknown version: try the pre-2.27 malloc_state layout too.
      c.layout = layout_for({2, 26});
      found = locate(c);
      if (!found) c.layout = layout_for(c.version);
    }
    if (!found) {
      // Without libc's data nothing locates the arenas; the heap mappings present in the core
      // are still walked by their chunk headers, as a raw dump is (degraded: no bins, no mp_).
      std::string why;
      std::vector<RawRange> heaps = heaps_without_libc_data(s, c.libc, why);
      if (!why.empty()) {
        if (!heaps.empty() && setup_raw_arenas(c, heaps)) {
          raw_ = degraded_ = found = true;
          c.located_by = c.libc ? "heap chunk headers (libc data absent)" : "heap chunk headers (libc absent)";
        }
        warn_degraded(s, why, heaps, found);
      }
    }
    if (found) {
      // glibc's malloc was never used (another allocator such as a preloaded jemalloc, or no
      // allocation at all): main_arena is still uninitialized, alone on its ring, and nothing
      // was mmapped. glibc is still reported, with no chunks, so no allocator goes unmentioned.
      ArenaState m;
      uninitialised_ = read_arena(c, c.main_arena, m) && !m.initialized && m.next == c.main_arena &&
                       (!c.mpv.valid || (c.mpv.n_mmaps == 0 && c.mpv.sbrk_base == 0));
    }
    return found;
  }

  // Without libc's writable data (main_arena, mp_), or without libc in the core at all, nothing
  // locates the arenas: the heap mappings' present bytes (from their start) are returned to
  // walk as raw ranges, and `why` says what is missing. Empty when libc's data is there (the
  // arenas are simply not glibc's, or too damaged to use).
  static std::vector<RawRange> heaps_without_libc_data(const CoreModel& s, const Module* libc, std::string& why) {
    std::vector<RawRange> heaps;
    uint64_t absent_lo = 0, absent_hi = 0;
    for (const Mapping& m : s.process().mappings) {
      if (libc && (m.perms & kPermWrite) && m.path == libc->path && m.present_bytes < m.end - m.start && !absent_lo)
        absent_lo = m.start, absent_hi = m.end;
      if ((m.kind == MappingKind::kHeap || m.kind == MappingKind::kArenaHeap) && m.present_bytes) {
        RawRange r;
        r.file = m.label;
        r.base = m.start;
        r.size = m.present_bytes;
        heaps.push_back(r);
      }
    }
    if (libc && !absent_lo) return {};
    why = libc ? fmt::format("libc's data [{:#x}, {:#x}) (main_arena, mp_) is absent from the core", absent_lo, absent_hi)
               : std::string("no libc image is in the core (its headers are absent, or the program is static), so "
                             "main_arena and mp_ cannot be found");
    return heaps;
  }

  static void warn_degraded(const CoreModel& s, const std::string& why, const std::vector<RawRange>& heaps, bool walked) {
    uint64_t bytes = 0;
    for (const RawRange& r : heaps) bytes += r.size;
    std::string file = s.inputs().core ? s.inputs().core->path : std::string();
    if (walked)
      s.diag().warn(file, std::nullopt,
                    fmt::format("glibc allocator walked without its data: {}; the {} bytes of heap mappings present are "
                                "walked by their chunk headers alone: bins other than tcache and fastbins are not known "
                                "(free chunks are told by the next chunk's PREV_INUSE bit), glibc's own counters (mp_) "
                                "are not checked",
                                why, bytes));
    else if (bytes)
      s.diag().warn(file, std::nullopt,
                    fmt::format("glibc allocator not walked: {}; {} bytes of heap mappings are present but hold no chain "
                                "of chunk headers",
                                why, bytes));
  }

  void emit(ChunkTable& out) {
    Ctx& c = *ctx_;
    c.table = &out;
    AllocatorInfo info;
    info.name = "glibc";
    info.version = c.version.str();
    info.located_by = c.located_by;
    info.heaps_hold_only_chunks = true;
    info.boundary_tags = true;
    info.metadata_signature = "glibc:tcache";  // the only chunks the heap walk flags interior
    c.alloc = out.add_allocator(info);
    for (const Finding& f : scratch_.findings) out.add_finding(c.alloc, f.kind, f.address, f.detail);
    if (uninitialised_) {
      AllocatorInfo& ai = out.allocators[c.alloc];
      ai.notes.push_back(fmt::format("main_arena {:#x} not initialised: no glibc malloc call before another allocator "
                                     "(e.g. a preloaded jemalloc) took over, or no allocation at all; 0 chunks",
                                     c.main_arena));
      if (c.version.known()) ai.notes.push_back("glibc " + c.version.str() + " from the " + c.version_source);
      return;
    }

    if (!raw_) read_arenas(c);
    probe_layout(c);
    for (ArenaState& a : c.arenas) {
      ArenaInfo ai;
      ai.address = a.address;
      ai.kind = a.main ? "main" : "thread";
      ai.program_break = a.main;
      ai.allocator = c.alloc;
      for (const HeapRegion& h : a.heaps) {
        ai.heaps.push_back({h.info ? h.info : h.first, h.end});
        if (h.info) ai.heap_mappings.push_back(h.info);
      }
      ai.system_mem = a.system_mem;
      ai.top_size = a.top_size;
      a.index = out.add_arena(ai);
    }
    collect_tcaches(c);
    collect_bins(c);
    recover_fastbins(c);
    walk_arena_heaps(c);
    if (!raw_ || degraded_) scan_mmapped(c);
    check_free_refs(c);
    if (!raw_) check_abort_message(c);
    add_bloat_note(c);

    AllocatorInfo& ai = out.allocators[c.alloc];
    std::vector<std::string> notes;
    if (degraded_) notes.push_back("libc's data absent: glibc heap recognised by its chain of chunk headers");
    else if (raw_) notes.push_back("raw memory dump: glibc heap recognised by its chain of chunk headers");
    else notes.push_back(fmt::format("main_arena {:#x}{}", c.main_arena, c.mp ? fmt::format(", mp_ {:#x}", c.mp) : ""));
    if (c.version.known()) notes.push_back("glibc " + c.version.str() + " from the " + c.version_source);
    notes.push_back("struct layout: " + c.layout.source);
    if (c.layout.tcache)
      notes.push_back(fmt::format("tcache: {} thread tcache{} ({})", c.tcaches.size(), c.tcaches.size() == 1 ? "" : "s",
                                  c.tcache_method.empty() ? "none found" : c.tcache_method));
    if (c.mpv.valid)
      notes.push_back(fmt::format("mmapped chunks: {} found, mp_ says {} ({:#x} bytes)", c.mmapped_found, c.mpv.n_mmaps,
                                  c.mpv.mmapped_mem));
    for (const ArenaState& a : c.arenas)
      if (a.last_remainder && a.lists_known) {
        const Chunk* r = nullptr;
        if (auto i = out.find(a.last_remainder + 16)) r = &out.chunks[*i];
        notes.push_back(fmt::format("arena {:#x}: last remainder {:#x}{}", a.address, a.last_remainder,
                                    r && r->address == a.last_remainder + 16
                                        ? fmt::format(" ({} {})", state_name(r->state), bin_name(r->bin) ? bin_name(r->bin) : "")
                                        : ""));
      }
    for (std::string& n : c.notes) notes.push_back(std::move(n));
    ai.notes = std::move(notes);
  }

  bool raw_ = false;
  bool degraded_ = false;  // a core without libc's data, walked like raw ranges
  bool uninitialised_ = false;  // main_arena found but malloc never ran
  ChunkTable scratch_;
  std::unique_ptr<Ctx> ctx_;
};

}  // namespace
}  // namespace glibc

std::unique_ptr<AllocatorWalker> make_glibc_walker() { return std::make_unique<glibc::GlibcWalker>(); }

}  // namespace coresift
