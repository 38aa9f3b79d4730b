#include "judge.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cctype>
#include <initializer_list>
#include <set>

namespace coresift::damage {

namespace {

std::string lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return s;
}

// True when a message the undamaged core did not print names one of `words`: the loss was
// reported, not just some unrelated damage.
bool explained(const std::set<std::string>& pristine, const std::set<std::string>& damaged,
               std::initializer_list<const char*> words) {
  for (const std::string& m : damaged) {
    if (pristine.count(m)) continue;
    std::string l = lower(m);
    for (const char* w : words)
      if (l.find(w) != std::string::npos) return true;
  }
  return false;
}

void check_count(Verdict& v, const char* what, uint64_t before, uint64_t after, bool said) {
  if (after < before && !said) v.silent_loss.push_back(fmt::format("{} {} -> {} with no warning saying so", what, before, after));
}

}  // namespace

Verdict judge(const Answer& p, const Answer& d) {
  Verdict v;
  v.crashed = d.crashed;
  if (d.crashed) v.broken.push_back("crashed or hung");
  for (int st : {d.info_status, d.heap_status})
    if (st != 0 && st != 3) v.broken.push_back(fmt::format("exit status {}", st));
  if (!v.broken.empty()) return v;
  if (d.info_status == 0) {
    check_count(v, "modules", p.modules, d.modules, explained(p.warnings, d.warnings, {"module", "nt_file", "file note"}));
    check_count(v, "threads", p.threads, d.threads, explained(p.warnings, d.warnings, {"thread", "prstatus"}));
  }
  if (d.heap_status != 0) return v;
  std::set<std::string> said_before = p.warnings, said_after = d.warnings;
  said_before.insert(p.findings.begin(), p.findings.end());
  said_after.insert(d.findings.begin(), d.findings.end());
  for (const auto& [name, n] : p.allocator_chunks) {
    auto it = d.allocator_chunks.find(name);
    uint64_t after = it == d.allocator_chunks.end() ? 0 : it->second;
    if (n > 0 && after == 0)
      check_count(v, (name + " allocator (chunks)").c_str(), n, 0, explained(said_before, said_after, {name.c_str(), "allocator", "arena"}));
  }
  check_count(v, "chunks", p.chunks, d.chunks,
              explained(said_before, said_after, {"chunk", "heap", "arena", "bin", "tcache", "extent", "slab"}));
  return v;
}

}  // namespace coresift::damage
