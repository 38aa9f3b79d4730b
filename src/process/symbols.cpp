// PLACEHOLDER until the libdwfl implementation lands: knows no symbols, unwinds nothing.
#include "coresift/process/symbols.hpp"

namespace coresift {
struct Symbolizer::Impl {};
std::string demangle(const std::string& name) { return name; }
Symbolizer::Symbolizer(const Process&, const AddressSpace&, const SymbolOptions&, Diagnostics&) {}
Symbolizer::~Symbolizer() = default;
std::optional<Symbol> Symbolizer::symbol_at(uint64_t) { return std::nullopt; }
std::optional<uint64_t> Symbolizer::find_symbol(const std::string&, const std::string&) { return std::nullopt; }
std::vector<Frame> Symbolizer::backtrace(const Thread&) { return {}; }
std::string Symbolizer::symbol_source(const Module&) { return ""; }
}  // namespace coresift
