// The command layer's context for one input: the core model, opened once, and its heap
// model, walked on first use (the process commands never walk the heap). Only src/cli and
// the tests name this; the library below takes CoreModel and HeapModel.
#pragma once
#include <memory>

#include "coresift/model/core_model.hpp"
#include "coresift/model/heap_model.hpp"

namespace coresift {

class Session {
 public:
  // Throws InputError when the inputs give nothing to analyse.
  static std::unique_ptr<Session> open(const Options& opts) {
    std::unique_ptr<Session> s(new Session);
    s->core_ = CoreModel::open(opts);
    return s;
  }

  const CoreModel& core() const { return *core_; }
  const HeapModel& heap_model() {
    if (!heap_) heap_ = std::make_unique<HeapModel>(*core_);
    return *heap_;
  }

  // Shorthands for the core model's parts.
  const Options& options() const { return core_->options(); }
  const LoadedInputs& inputs() const { return core_->inputs(); }
  const AddressSpace& memory() const { return core_->memory(); }
  const Process& process() const { return core_->process(); }
  Diagnostics& diag() const { return core_->diag(); }
  Symbolizer& symbols() const { return core_->symbols(); }
  const ChunkTable& heap() { return heap_model().table(); }

 private:
  Session() = default;
  std::unique_ptr<CoreModel> core_;
  std::unique_ptr<HeapModel> heap_;
};

}  // namespace coresift
