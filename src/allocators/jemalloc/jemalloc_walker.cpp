// The jemalloc walker: finds libjemalloc in the process, picks a layout that the core
// confirms, and emits every region (live, free in a slab, cached in a tcache), large extent
// and cached free extent, with findings for every broken invariant. Works from the core alone;
// the on-disk library (when its build-id matches) only adds the version and the TLS offset.
#include <fmt/format.h>

#include <algorithm>

#include "coresift/allocators/walker.hpp"
#include "je_context.hpp"

namespace coresift {
namespace {

using namespace je;

class JemallocWalker : public AllocatorWalker {
 public:
  const char* name() const override { return "jemalloc"; }

  std::optional<std::string> detect(const CoreModel& s) const override {
    if (const Module* m = find_jemalloc_module(s.process())) return m->path + " is mapped";
    if (const Module* m = find_static_jemalloc(s.process(), s.memory()))
      return "jemalloc's size-class table is in " + m->path + "'s data";
    return std::nullopt;
  }

  bool walk(const CoreModel& s, ChunkTable& out) override {
    module_ = find_jemalloc_module(s.process());
    static_ = false;
    if (!module_) {
      // Linked statically: recognised by its runtime size-class table in a module's data.
      module_ = find_static_jemalloc(s.process(), s.memory());
      static_ = module_ != nullptr;
    }
    if (!module_) return false;
    Context c;
    c.process = &s.process();
    c.mem = &s.memory();
    c.out = &out;
    c.module = module_;
    c.rw = writable_ranges(s.process(), s.memory(), *module_);
    AllocatorInfo info;
    info.name = "jemalloc";
    if (!module_->disk_path.empty() && !module_->build_id_mismatch) {
      c.disk = DiskElf::open(module_->disk_path);
      if (c.disk) c.version = find_version_string(*c.disk);
    }
    info.version = c.version;
    load_size_classes(c);
    if (static_) info.notes.push_back(fmt::format("linked statically into {}", module_->path));

    c.allocator = out.add_allocator(std::move(info));
    std::vector<std::string> tried;
    bool found = try_layouts(c, out, tried);
    AllocatorInfo& ai = out.allocators[c.allocator];
    if (!found) {
      ai.located_by = "none";
      ai.notes.push_back(fmt::format("{} is mapped but no arena array and extent map matched the layouts of jemalloc {}", module_->path,
                                     fmt::join(tried, ", ")));
      out.add_finding(c.allocator, "jemalloc-not-located", module_->base,
                      "jemalloc's arenas were not found; its regions are not reported");
      return true;  // reported: mapped, not located
    }
    ai.located_by = "scan";
    ai.notes.push_back(fmt::format("layout {} ({}); arenas at {:#x} ({} arenas); extent map at {:#x} (LG_VADDR {}, {} levels)",
                                   c.layout.name,
                                   c.layout.verified ? "built-in table, verified version" : "built-in table, unverified hypothesis",
                                   c.arenas_array, c.arenas.size(), c.rtree_root, c.geom.lg_vaddr, c.geom.levels));
    if (!c.version.empty() && c.version.rfind(c.layout.name.substr(0, 3), 0) != 0)
      out.add_finding(c.allocator, "jemalloc-layout-version-differs", module_->base,
                      fmt::format("library says {}, but only the {} layout matched", c.version, c.layout.name));
    ai.notes.push_back(c.sc.table_address ? fmt::format("size classes from the process ({} classes, {} small bins)",
                                                         c.sc.index2size.size(), c.sc.nbins())
                                          : fmt::format("size classes computed (default configuration, {} small bins)", c.sc.nbins()));
    identify_huge_arena(c);
    for (JeArena& a : c.arenas) {
      ArenaInfo ar;
      ar.address = a.address;
      ar.kind = a.huge ? "huge" : "arena";
      ar.index = static_cast<int>(a.ind);
      ar.allocator = c.allocator;
      a.table_index = out.add_arena(std::move(ar));
    }
    if (!walk_extent_map(c)) {
      c.flush_findings();
      out.add_finding(c.allocator, "jemalloc-extent-map-unreadable", c.rtree_root, "the extent map could not be read; no regions reported");
      return true;
    }
    if (c.stale_large_ends)
      ai.notes.push_back(fmt::format("{} active large extents keep a stale slab flag at their end page in the extent map "
                                     "(jemalloc rewrites only a large extent's head entry; not damage)",
                                     c.stale_large_ends));
    locate_tcaches(c);
    size_t first = emit_chunks(c);
    auto begin = out.chunks.begin() + static_cast<std::ptrdiff_t>(first);
    if (!std::is_sorted(begin, out.chunks.end(), [](const Chunk& a, const Chunk& b) { return a.address < b.address; }))
      std::stable_sort(begin, out.chunks.end(), [](const Chunk& a, const Chunk& b) { return a.address < b.address; });
    if (c.extents_in_transit)
      ai.notes.push_back(fmt::format("{} active extents have no size class: a thread was purging, splitting, handing out or "
                                     "freeing them when the core was taken (neither live nor cached; not damage)",
                                     c.extents_in_transit));
    overlay_tcaches(c, first);
    mark_bookkeeping(c, first);

    note_tcaches(c, ai);
    if (c.tpoff && c.tpoff_source.rfind("malloc", 0) == 0) ai.located_by = "scan+disassembly";
    cross_check_stats(c, out.allocators[c.allocator], first);
    check_layout(c, out);
    return true;
  }

  // A layout is trusted once je_arenas[] validates with it and the extent map decodes.
  // Findings made while trying a layout that is then rejected are dropped with it.
  static bool try_layouts(Context& c, ChunkTable& out, std::vector<std::string>& tried) {
    bool found = false;
    const size_t findings_mark = out.findings.size();
    for (const Layout& l : layouts_for(c.version)) {
      c.layout = l;
      tried.push_back(l.name);
      out.findings.resize(findings_mark);
      c.finding_counts.clear();
      if (!locate_arenas(c)) continue;
      if (!locate_rtree(c)) continue;
      found = true;
      break;
    }
    if (!found) {
      out.findings.resize(findings_mark);
      c.finding_counts.clear();
    }
    return found;
  }

  static void note_tcaches(const Context& c, AllocatorInfo& ai) {
    uint64_t cached = c.cached.size();
    std::string tc_how = c.tpoff ? fmt::format("tpoff {} from {}", *c.tpoff, c.tpoff_source) : "no TLS offset";
    ai.notes.push_back(fmt::format("{} thread caches ({}), {} cached pointers", c.tcaches.size(), tc_how, cached));
    if (!c.tcaches.empty()) {
      std::string per;
      for (const TcacheInfo& t : c.tcaches) {
        std::string who = t.tid ? fmt::format("thread {}", t.tid) : fmt::format("tcache {:#x}", t.tcache);
        std::string ar = t.arena == UINT32_MAX ? "" : fmt::format(" arena {}", t.arena);
        per += fmt::format("{}{}{}: {}", per.empty() ? "" : "; ", who, ar, t.ncached);
      }
      ai.notes.push_back("cached per tcache: " + per);
    }
  }

  // The layout was accepted on the arena array and the extent map; the slab and bin
  // invariants confirm it. Mostly broken ones mean a wrong table, not a corrupt heap.
  static void check_layout(Context& c, ChunkTable& out) {
    c.flush_findings();
    AllocatorInfo& done = out.allocators[c.allocator];
    done.notes.push_back(fmt::format("layout check: {} of {} slabs have nfree equal to their bitmap", c.slabs_checked - c.slabs_nfree_bad,
                                     c.slabs_checked));
    bool doubtful = (c.slabs_checked >= 8 && c.slabs_nfree_bad * 2 > c.slabs_checked) ||
                    (c.bins_checked >= 8 && c.bins_stats_bad * 2 > c.bins_checked);
    if (doubtful)
      out.add_finding(c.allocator, "jemalloc-layout-doubtful", c.arenas_array,
                      fmt::format("most slabs or bin statistics disagree with the {} layout: the process may run a jemalloc "
                                  "build this table does not describe",
                                  c.layout.name));
  }

 private:
  const Module* module_ = nullptr;
  bool static_ = false;
};

}  // namespace

std::unique_ptr<AllocatorWalker> make_jemalloc_walker() { return std::make_unique<JemallocWalker>(); }

}  // namespace coresift
