// libc's separate debug file: the .symtab (main_arena, mp_, tcache…) and the DWARF types of
// malloc.c (malloc_state, malloc_par, heap_info, tcache_perthread_struct). Debian's
// libc6-dbg carries both; the DWARF layout is used on top of the version table when present.
#include <dwarf.h>
#include <elfutils/libdw.h>
#include <fmt/format.h>
#include <libelf.h>
#include <unistd.h>

#include <map>
#include <mutex>

#include "coresift/process/debug_files.hpp"
#include "glibc.hpp"

namespace coresift::glibc {
namespace {

struct Member {
  uint64_t offset = 0;
  uint64_t elem_size = 0;  // arrays: element size
  uint64_t count = 0;      // arrays: element count
};
struct StructInfo {
  uint64_t size = 0;
  std::map<std::string, Member> members;
  const Member* get(const char* n) const {
    auto it = members.find(n);
    return it == members.end() ? nullptr : &it->second;
  }
};

Dwarf_Die* strip_typedefs(Dwarf_Die* die, Dwarf_Die* mem) {
  for (int i = 0; i < 16 && die; ++i) {
    int tag = dwarf_tag(die);
    if (tag != DW_TAG_typedef && tag != DW_TAG_const_type && tag != DW_TAG_volatile_type) return die;
    Dwarf_Attribute a;
    if (!dwarf_attr(die, DW_AT_type, &a) || !dwarf_formref_die(&a, mem)) return nullptr;
    die = mem;
  }
  return die;
}

void read_array(Dwarf_Die* member, Member& m) {
  Dwarf_Attribute a;
  Dwarf_Die type_mem, elem_mem;
  if (!dwarf_attr(member, DW_AT_type, &a) || !dwarf_formref_die(&a, &type_mem)) return;
  Dwarf_Die* type = strip_typedefs(&type_mem, &type_mem);
  if (!type || dwarf_tag(type) != DW_TAG_array_type) return;
  if (dwarf_attr(type, DW_AT_type, &a) && dwarf_formref_die(&a, &elem_mem)) {
    int sz = dwarf_bytesize(&elem_mem);
    if (sz <= 0) {
      Dwarf_Die inner;
      Dwarf_Die* e = strip_typedefs(&elem_mem, &inner);
      if (e) sz = dwarf_bytesize(e);
    }
    if (sz > 0) m.elem_size = static_cast<uint64_t>(sz);
  }
  Dwarf_Die sub;
  if (dwarf_child(type, &sub) == 0 && dwarf_tag(&sub) == DW_TAG_subrange_type) {
    Dwarf_Word v;
    if (dwarf_attr(&sub, DW_AT_count, &a) && dwarf_formudata(&a, &v) == 0) m.count = v;
    else if (dwarf_attr(&sub, DW_AT_upper_bound, &a) && dwarf_formudata(&a, &v) == 0) m.count = v + 1;
  }
}

StructInfo read_struct(Dwarf_Die* die) {
  StructInfo s;
  int sz = dwarf_bytesize(die);
  if (sz > 0) s.size = static_cast<uint64_t>(sz);
  Dwarf_Die child;
  if (dwarf_child(die, &child) != 0) return s;
  do {
    if (dwarf_tag(&child) != DW_TAG_member) continue;
    const char* name = dwarf_diename(&child);
    Dwarf_Attribute a;
    Dwarf_Word off;
    if (!name || !dwarf_attr(&child, DW_AT_data_member_location, &a) || dwarf_formudata(&a, &off) != 0) continue;
    Member m;
    m.offset = off;
    read_array(&child, m);
    s.members[name] = m;
  } while (dwarf_siblingof(&child, &child) == 0);
  return s;
}

// The malloc structs of malloc.c's compile unit, by name.
std::map<std::string, StructInfo> malloc_structs(Dwarf* dw) {
  std::map<std::string, StructInfo> structs;
  Dwarf_Off off = 0, next;
  size_t hsize;
  while (dwarf_nextcu(dw, off, &next, &hsize, nullptr, nullptr, nullptr) == 0) {
    Dwarf_Die cu;
    if (dwarf_offdie(dw, off + hsize, &cu)) {
      const char* name = dwarf_diename(&cu);
      std::string_view n = name ? name : "";
      if (n == "malloc.c" || n.ends_with("/malloc.c")) {
        Dwarf_Die child;
        if (dwarf_child(&cu, &child) == 0) do {
            if (dwarf_tag(&child) != DW_TAG_structure_type) continue;
            const char* sn = dwarf_diename(&child);
            if (!sn) continue;
            std::string s = sn;
            if (s == "malloc_state" || s == "malloc_par" || s == "_heap_info" || s == "tcache_perthread_struct" ||
                s == "tcache_entry")
              if (!structs.count(s) && dwarf_hasattr(&child, DW_AT_byte_size)) structs[s] = read_struct(&child);
          } while (dwarf_siblingof(&child, &child) == 0);
        if (structs.count("malloc_state")) break;
      }
    }
    off = next;
  }
  return structs;
}

template <typename Field>
void set_offset(const StructInfo& st, const char* n, Field& field) {
  if (const Member* m = st.get(n)) field = static_cast<Field>(m->offset);
}
// A member some versions lack: -1 when absent.
void set_offset_or_absent(const StructInfo& st, const char* n, int32_t& field) {
  const Member* m = st.get(n);
  field = m ? static_cast<int32_t>(m->offset) : -1;
}

void apply_malloc_state(const StructInfo& s, Layout& l) {
  set_offset_or_absent(s, "have_fastchunks", l.ms_have_fastchunks);
  set_offset(s, "fastbinsY", l.ms_fastbins);
  set_offset(s, "top", l.ms_top);
  set_offset(s, "last_remainder", l.ms_last_remainder);
  set_offset(s, "bins", l.ms_bins);
  set_offset(s, "binmap", l.ms_binmap);
  set_offset(s, "next", l.ms_next);
  set_offset(s, "next_free", l.ms_next_free);
  set_offset_or_absent(s, "attached_threads", l.ms_attached_threads);
  set_offset(s, "system_mem", l.ms_system_mem);
  set_offset(s, "max_system_mem", l.ms_max_system_mem);
  if (s.size) l.ms_size = static_cast<uint32_t>(s.size);
}

void apply_malloc_par(const StructInfo& p, Layout& l) {
  set_offset(p, "mmap_threshold", l.mp_mmap_threshold);
  set_offset(p, "n_mmaps", l.mp_n_mmaps);
  set_offset(p, "n_mmaps_max", l.mp_n_mmaps_max);
  set_offset(p, "max_n_mmaps", l.mp_max_n_mmaps);
  set_offset(p, "mmapped_mem", l.mp_mmapped_mem);
  set_offset(p, "max_mmapped_mem", l.mp_max_mmapped_mem);
  set_offset(p, "sbrk_base", l.mp_sbrk_base);
  if (p.get("tcache_small_bins")) set_offset(p, "tcache_small_bins", l.mp_tcache_bins);
  else set_offset_or_absent(p, "tcache_bins", l.mp_tcache_bins);
  set_offset_or_absent(p, "tcache_max_bytes", l.mp_tcache_max_bytes);
  set_offset_or_absent(p, "tcache_count", l.mp_tcache_count);
  if (p.size) l.mp_size = static_cast<uint32_t>(p.size);
}

void apply_tcache(const StructInfo& t, Layout& l) {
  l.tcache = true;
  const Member* counts = t.get("counts");
  if (!counts) {
    counts = t.get("num_slots");
    l.tc_counts_are_free_slots = counts != nullptr;
  }
  if (counts) {
    if (counts->elem_size) l.tc_count_width = static_cast<uint32_t>(counts->elem_size);
    if (counts->count) l.tc_bins = static_cast<uint32_t>(counts->count);
  }
  set_offset(t, "entries", l.tc_entries);
  if (t.size) l.tc_struct_size = static_cast<uint32_t>(t.size);
}

}  // namespace

std::optional<Layout> layout_from_dwarf(void* elf, const Layout& base, std::string* note) {
  Dwarf* dw = dwarf_begin_elf(static_cast<Elf*>(elf), DWARF_C_READ, nullptr);
  if (!dw) {
    if (note) *note = "no DWARF in the debug file";
    return std::nullopt;
  }
  std::map<std::string, StructInfo> structs = malloc_structs(dw);
  dwarf_end(dw);
  auto ms = structs.find("malloc_state");
  if (ms == structs.end()) {
    if (note) *note = "the debug file has no malloc_state type";
    return std::nullopt;
  }
  Layout l = base;
  l.source = "DWARF";
  apply_malloc_state(ms->second, l);
  std::string covered = "malloc_state";
  if (auto hi = structs.find("_heap_info"); hi != structs.end() && hi->second.size) {
    l.heap_info_size = static_cast<uint32_t>(hi->second.size);
    covered += ", heap_info";
  }
  if (auto mp = structs.find("malloc_par"); mp != structs.end()) {
    apply_malloc_par(mp->second, l);
    covered += ", malloc_par";
  }
  if (auto tc = structs.find("tcache_perthread_struct"); tc != structs.end()) {
    apply_tcache(tc->second, l);
    covered += ", tcache_perthread_struct";
  } else if (l.mp_tcache_bins < 0) {
    l.tcache = false;
  }
  if (auto te = structs.find("tcache_entry"); te != structs.end()) l.tc_key = te->second.get("key") != nullptr;
  if (note) *note = "DWARF types: " + covered;
  return l;
}

namespace {

DebugFacts read_debug_facts_uncached(const Module& libc, const SymbolOptions& opts, const Layout& base) {
  DebugFacts f;
  // The symbolizer's search (debug_files.hpp), so both read the same file.
  std::string path = find_by_build_id(opts, libc.build_id, true);
  std::unique_ptr<DiskElf> img = path.empty() ? nullptr : DiskElf::open(path);
  if (!img) return f;
  f.path = img->path();
  f.main_arena = img->symbol("main_arena");
  f.mp = img->symbol("mp_");
  f.global_max_fast = img->symbol("global_max_fast");
  f.tcache_key = img->symbol("tcache_key");
  f.tcache_tls = img->symbol("tcache", true);
  f.layout = layout_from_dwarf(img->elf_handle(), base, &f.dwarf_note);
  return f;
}

}  // namespace

// Cached per process: a batch (triage) reads the same libc's debug file for every core, and
// its DWARF takes longer to read than a small core takes to analyse.
DebugFacts read_debug_facts(const Module& libc, const SymbolOptions& opts, const Layout& base) {
  if (opts.no_debuginfo || libc.build_id.size() < 4) return {};
  std::string key = libc.build_id + "|" + opts.sysroot + "|" + base.source;
  for (const std::string& d : opts.debug_dirs) key += "|" + d;
  static std::mutex mu;
  static std::map<std::string, DebugFacts> cache;
  {
    std::lock_guard<std::mutex> lock(mu);
    if (auto it = cache.find(key); it != cache.end()) return it->second;
  }
  DebugFacts f = read_debug_facts_uncached(libc, opts, base);
  std::lock_guard<std::mutex> lock(mu);
  cache.emplace(key, f);
  return f;
}

}  // namespace coresift::glibc
