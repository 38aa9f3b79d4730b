// The input and process layers of one core, built once: its memory (the address space the
// readers made), the process model (threads, mappings, modules) and, on first use, symbols.
// Nothing here changes after open(); the symbolizer and the diagnostics are caches and a log,
// not state the analyses read back. A command may hold several CoreModels at once.
#pragma once
#include <memory>
#include <string>
#include <vector>

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

class CoreModel {
 public:
  // Throws InputError when the inputs give nothing to analyse.
  static std::unique_ptr<CoreModel> open(const Options& opts);

  const Options& options() const { return opts_; }
  const LoadedInputs& inputs() const { return inputs_; }
  const AddressSpace& memory() const { return inputs_.memory; }
  const Process& process() const { return process_; }
  // The input's file name for diagnostics ("" for raw ranges alone).
  std::string file() const { return inputs_.core ? inputs_.core->path : std::string(); }
  Diagnostics& diag() const { return diag_; }
  // Created on first use: loading symbol files costs time the plain commands don't need.
  Symbolizer& symbols() const;

 private:
  CoreModel() = default;
  Options opts_;
  mutable Diagnostics diag_;
  LoadedInputs inputs_;
  Process process_;
  mutable std::unique_ptr<Symbolizer> symbols_;
};

}  // namespace coresift
