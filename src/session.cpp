#include "coresift/session.hpp"

#include <algorithm>

#include "coresift/allocators/walker.hpp"

namespace coresift {

std::unique_ptr<Session> Session::open(const Options& opts) {
  std::unique_ptr<Session> s(new Session);
  s->opts_ = opts;
  s->inputs_ = load_inputs(opts.inputs, s->diag_);
  ProcessOptions popts;
  popts.sysroot = opts.symbols.sysroot;
  popts.maps_files = opts.maps_files;
  popts.module_dirs = opts.module_dirs;
  s->process_ = build_process(s->inputs_, popts, s->diag_);
  return s;
}

Symbolizer& Session::symbols() {
  if (!symbols_) symbols_ = std::make_unique<Symbolizer>(process_, inputs_.memory, opts_.symbols, diag_);
  return *symbols_;
}

namespace {

// The process model guesses `[heap]` from where the executable's .bss ends; glibc's main arena
// knows where the program break heap really starts (mp_.sbrk_base). Later stages (the
// reference scan treats `[heap]` as heap, not as a root) use the corrected label.
void label_sbrk_heap(Process& p, const ChunkTable& t) {
  std::vector<const Mapping*> sbrk_maps;
  for (const ArenaInfo& a : t.arenas) {
    if (!a.program_break) continue;
    for (const auto& [start, end] : a.heaps)
      if (const Mapping* m = p.mapping_at(start)) sbrk_maps.push_back(m);
  }
  if (sbrk_maps.empty()) return;
  for (Mapping& m : p.mappings) {
    bool is_sbrk = std::find(sbrk_maps.begin(), sbrk_maps.end(), &m) != sbrk_maps.end();
    if (is_sbrk && m.path.empty() && (m.label.empty() || m.label == "[anon]")) m.label = "[heap]";
    else if (!is_sbrk && m.label == "[heap]") m.label.clear();  // the guess was wrong
  }
}

}  // namespace

const ChunkTable& Session::heap() {
  if (!heap_) {
    heap_ = std::make_unique<ChunkTable>(walk_heaps(*this));
    label_sbrk_heap(process_, *heap_);
  }
  return *heap_;
}

}  // namespace coresift
