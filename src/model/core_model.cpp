#include "coresift/model/core_model.hpp"

namespace coresift {

std::unique_ptr<CoreModel> CoreModel::open(const Options& opts) {
  std::unique_ptr<CoreModel> c(new CoreModel);
  c->opts_ = opts;
  c->inputs_ = load_inputs(opts.inputs, c->diag_);
  ProcessOptions popts;
  popts.sysroot = opts.symbols.sysroot;
  popts.maps_files = opts.maps_files;
  popts.module_dirs = opts.module_dirs;
  c->process_ = build_process(c->inputs_, popts, c->diag_);
  return c;
}

Symbolizer& CoreModel::symbols() const {
  if (!symbols_) symbols_ = std::make_unique<Symbolizer>(process_, inputs_.memory, opts_.symbols, diag_);
  return *symbols_;
}

}  // namespace coresift
