// Who can own memory: modules by file name, JVM agents (from argv or known libraries), and
// names that rules give.
#include <algorithm>

#include "owners_internal.hpp"

namespace coresift {
namespace {

std::string basename_of(const std::string& path) {
  size_t k = path.rfind('/');
  return k == std::string::npos ? path : path.substr(k + 1);
}

// "libjdwp.so" → "jdwp"; "/opt/p/libprof.so.1" → "prof".
std::string agent_name_of_library(const std::string& path) {
  std::string b = basename_of(path);
  if (b.starts_with("lib")) b = b.substr(3);
  if (size_t so = b.find(".so"); so != std::string::npos) b = b.substr(0, so);
  return b;
}

int module_where(const Process& p, auto&& pred) {
  for (size_t i = 0; i < p.modules.size(); ++i)
    if (pred(p.modules[i])) return static_cast<int>(i);
  return -1;
}

// Libraries that are JVMTI agents whatever loaded them.
constexpr const char* kKnownAgentLibraries[] = {"libjdwp.so", "libinstrument.so", "libhprof.so",
                                                "libasyncProfiler.so", "libyjpagent.so", "libjprofilerti.so"};

}  // namespace

const char* owner_kind_name(OwnerKind k) {
  switch (k) {
    case OwnerKind::kUnknown: return "unknown";
    case OwnerKind::kModule: return "module";
    case OwnerKind::kAgent: return "agent";
    case OwnerKind::kRule: return "rule";
  }
  return "?";
}

const char* owner_evidence_name(OwnerEvidence e) {
  switch (e) {
    case OwnerEvidence::kNone: return "none";
    case OwnerEvidence::kContent: return "content";
    case OwnerEvidence::kDominator: return "dominator";
    case OwnerEvidence::kRule: return "rule";
  }
  return "?";
}

std::vector<JvmAgent> find_jvm_agents(const Process& p) {
  std::vector<JvmAgent> out;
  auto add = [&](JvmAgent a) {
    bool dup = std::any_of(out.begin(), out.end(), [&](const JvmAgent& o) {
      return o.name == a.name || (a.module >= 0 && o.module == a.module);
    });
    if (!dup) out.push_back(std::move(a));
  };
  // JVM options come before the main class (or -jar FILE); what follows is the program's.
  for (size_t i = 1; i < p.argv.size(); ++i) {
    const std::string& arg = p.argv[i];
    if (arg == "-jar") break;
    if (!arg.starts_with("-")) {
      const std::string& prev = p.argv[i - 1];
      bool option_value = i > 1 && (prev == "-cp" || prev == "-classpath" || prev == "--class-path" || prev == "-p" ||
                                    prev == "--module-path" || prev == "--add-modules");
      if (option_value) continue;
      break;  // the main class
    }
    std::string value = arg.substr(arg.find(':') + 1);
    std::string target = value.substr(0, value.find('='));
    if (arg.starts_with("-agentlib:")) {
      std::string lib = "lib" + target + ".so";
      add({target, module_where(p, [&](const Module& m) { return basename_of(m.path) == lib; }), "agentlib"});
    } else if (arg.starts_with("-agentpath:")) {
      int m = module_where(p, [&](const Module& mod) { return mod.path == target; });
      if (m < 0) m = module_where(p, [&](const Module& mod) { return basename_of(mod.path) == basename_of(target); });
      add({agent_name_of_library(target), m, "agentpath"});
    } else if (arg.starts_with("-javaagent:")) {
      add({basename_of(target), -1, "javaagent"});
    }
  }
  for (size_t i = 0; i < p.modules.size(); ++i)
    for (const char* lib : kKnownAgentLibraries)
      if (basename_of(p.modules[i].path) == lib) add({agent_name_of_library(lib), static_cast<int>(i), "mapped"});
  return out;
}

OwnerTable::OwnerTable(const Process& p) : agents_(find_jvm_agents(p)) {
  owners_.push_back({"unknown", OwnerKind::kUnknown, ""});
  module_owner_.assign(p.modules.size(), 0);
  for (const JvmAgent& a : agents_) {
    auto id = static_cast<uint16_t>(owners_.size());
    owners_.push_back({a.name, OwnerKind::kAgent, a.module >= 0 ? p.modules[a.module].path : ""});
    if (a.module < 0) continue;
    module_owner_[a.module] = id;
    const Module& m = p.modules[a.module];
    size_t before = agent_code_.size();
    for (const Mapping& map : p.mappings)
      if (map.path == m.path && (map.perms & kPermExec)) agent_code_.push_back({map.start, map.end, id});
    if (agent_code_.size() == before) agent_code_.push_back({m.base, m.end, id});  // no mapping list: the whole module
  }
  for (size_t i = 0; i < p.modules.size(); ++i) {
    if (module_owner_[i] || owners_.size() >= 0x3fff) continue;  // the packed per-chunk owner has 14 bits
    module_owner_[i] = static_cast<uint16_t>(owners_.size());
    owners_.push_back({basename_of(p.modules[i].path), OwnerKind::kModule, p.modules[i].path});
  }
  std::sort(agent_code_.begin(), agent_code_.end(), [](const CodeRange& a, const CodeRange& b) { return a.lo < b.lo; });
}

uint16_t OwnerTable::of_address(const Process& p, uint64_t addr) const {
  if (const Module* m = p.module_at(addr)) return of_module(static_cast<int>(m - p.modules.data()));
  // An anonymous mapping right after a module's file mapping is that module's .bss.
  auto it = std::upper_bound(p.mappings.begin(), p.mappings.end(), addr, [](uint64_t a, const Mapping& m) { return a < m.start; });
  if (it == p.mappings.begin() || !(--it)->contains(addr) || it == p.mappings.begin()) return 0;
  const Mapping& prev = *std::prev(it);
  if (prev.end != it->start || prev.path.empty() || !it->path.empty()) return 0;
  const Module* m = p.module_at(prev.start);
  return m ? of_module(static_cast<int>(m - p.modules.data())) : 0;
}

uint16_t OwnerTable::by_name(const std::string& name) {
  std::lock_guard<std::mutex> lock(mutex_);
  for (size_t i = 0; i < owners_.size(); ++i)
    if (owners_[i].name == name) return static_cast<uint16_t>(i);
  if (owners_.size() >= 0x3fff) return 0;  // the packed per-chunk owner has 14 bits
  owners_.push_back({name, OwnerKind::kRule, ""});
  return static_cast<uint16_t>(owners_.size() - 1);
}

uint16_t OwnerTable::agent_code_owner(uint64_t word) const {
  auto it = std::upper_bound(agent_code_.begin(), agent_code_.end(), word, [](uint64_t a, const CodeRange& r) { return a < r.lo; });
  if (it == agent_code_.begin() || word >= (--it)->hi) return kNoOwner;
  return it->owner;
}

}  // namespace coresift
