#include "coresift/session.hpp"

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

const ChunkTable& Session::heap() {
  if (!heap_) heap_ = std::make_unique<ChunkTable>(walk_heaps(*this));
  return *heap_;
}

}  // namespace coresift
