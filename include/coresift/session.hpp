// The library's one entry point: open inputs, build the process model, and give access to
// the layers above it (symbols, allocators, analysis) as they are needed.
#pragma once
#include <memory>
#include <string>
#include <vector>

#include "coresift/allocators/chunk_table.hpp"
#include "coresift/diag.hpp"
#include "coresift/input/inputs.hpp"
#include "coresift/process/process.hpp"
#include "coresift/process/symbols.hpp"

namespace coresift {

struct Options {
  std::vector<std::string> inputs;      // core files and FILE@0xBASE ranges
  std::vector<std::string> maps_files;  // --maps
  std::vector<std::string> module_dirs; // --module-dir
  std::vector<std::string> rule_files;  // --rules: signature rule files, tried in order
  SymbolOptions symbols;
};

class Session {
 public:
  // Throws InputError when the inputs give nothing to analyse.
  static std::unique_ptr<Session> open(const Options& opts);

  const Options& options() const { return opts_; }
  const LoadedInputs& inputs() const { return inputs_; }
  const AddressSpace& memory() const { return inputs_.memory; }
  const Process& process() const { return process_; }
  Process& mutable_process() { return process_; }
  Diagnostics& diag() { return diag_; }
  // Created on first use: loading symbol files costs time the plain commands don't need.
  Symbolizer& symbols();
  // Every allocator's chunks, walked once on first use.
  const ChunkTable& heap();

 private:
  Session() = default;
  Options opts_;
  Diagnostics diag_;
  LoadedInputs inputs_;
  Process process_;
  std::unique_ptr<Symbolizer> symbols_;
  std::unique_ptr<ChunkTable> heap_;
};

}  // namespace coresift
