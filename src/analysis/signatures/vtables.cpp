// C++ objects: the word at offset 0 is the address point V of the class's vtable. The
// Itanium ABI puts offset-to-top at V-16 (0 for the primary vtable of a complete object) and
// the typeinfo pointer at V-8; the typeinfo's second word points to the mangled type name
// ("N3app5OrderE"), which lives in .rodata, so no symbols are needed.
#include <llvm/Demangle/Demangle.h>

#include <algorithm>
#include <cctype>
#include <cstdlib>

#include "parts.hpp"

namespace coresift::sig {
namespace {

bool mangled_type_name(const std::string& s) {
  if (s.empty() || s.size() > 400) return false;
  if (!(std::isdigit(static_cast<unsigned char>(s[0])) || s[0] == 'N' || s[0] == 'S' || s[0] == 'Z')) return false;
  return std::all_of(s.begin(), s.end(), [](char c) { return std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '$' || c == '.'; });
}

// "N3app5OrderE" → "app::Order" (via "typeinfo name for …"), or "" when it is not one.
std::string demangle_type(std::string name) {
  if (!name.empty() && name[0] == '*') name.erase(0, 1);  // internal linkage marker
  if (!mangled_type_name(name)) return {};
  std::string sym = "_ZTS" + name;
  int status = 0;
  char* out = llvm::itaniumDemangle(sym.c_str(), nullptr, nullptr, &status);
  if (!out) return {};
  std::string r = status == 0 ? out : "";
  std::free(out);
  constexpr std::string_view kPrefix = "typeinfo name for ";
  if (!r.starts_with(kPrefix)) return {};
  return r.substr(kPrefix.size());
}

}  // namespace

void VtableTable::build(StaticReader& rd, const ModuleMap& mods, std::vector<uint64_t> candidates) {
  std::sort(candidates.begin(), candidates.end());
  candidates.erase(std::unique(candidates.begin(), candidates.end()), candidates.end());
  for (uint64_t v : candidates) {
    const ModuleRange* r = mods.find(v);
    if (!r || v % 8 != 0 || v < 16) continue;
    auto top = rd.u64(v - 16), ti = rd.u64(v - 8);
    if (!top || *top != 0 || !ti || !mods.find(*ti)) continue;
    auto ti_vptr = rd.u64(*ti), name_ptr = rd.u64(*ti + 8);
    if (!ti_vptr || !mods.find(*ti_vptr) || !name_ptr || !mods.find(*name_ptr)) continue;
    auto mangled = rd.cstring(*name_ptr, 400);
    if (!mangled) continue;
    std::string cls = demangle_type(*mangled);
    if (cls.empty()) continue;
    entries_.push_back({v, r->module, "class:" + cls});
  }
}

const VtableTable::Entry* VtableTable::find(uint64_t v) const {
  auto it = std::lower_bound(entries_.begin(), entries_.end(), v, [](const Entry& e, uint64_t x) { return e.vtable < x; });
  return it != entries_.end() && it->vtable == v ? &*it : nullptr;
}

}  // namespace coresift::sig
