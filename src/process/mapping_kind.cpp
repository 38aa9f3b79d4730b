// Mapping kinds and the labels users see for them (as /proc/PID/maps and pmap name them,
// plus coresift's own for memory the kernel leaves unnamed).
#include <array>
#include <utility>

#include "coresift/process/process.hpp"

namespace coresift {
namespace {

// Kinds with a label of their own; a thread id is appended to the stack and guard ones.
constexpr std::array<std::pair<MappingKind, const char*>, 10> kLabels{{
    {MappingKind::kHeap, "[heap]"},
    {MappingKind::kArenaHeap, "[arena-heap]"},
    {MappingKind::kArenaReserve, "[arena-reserve]"},
    {MappingKind::kStack, "[stack]"},
    {MappingKind::kGuard, "[guard]"},
    {MappingKind::kReserved, "[reserved]"},
    {MappingKind::kVdso, "[vdso]"},
    {MappingKind::kVvar, "[vvar]"},
    {MappingKind::kVsyscall, "[vsyscall]"},
    {MappingKind::kDump, "[dump]"},
}};

}  // namespace

const char* mapping_kind_label(MappingKind k) {
  for (const auto& [kind, label] : kLabels)
    if (kind == k) return label;
  return "";
}

MappingKind mapping_kind_from_name(std::string_view name) {
  if (name.empty()) return MappingKind::kAnonymous;
  if (name.front() != '[') return MappingKind::kFile;
  // "[stack:12]" is a stack as "[stack]" is: compare up to the thread id.
  std::string_view base = name.substr(0, name.find(':'));
  if (base.starts_with("[vvar")) return MappingKind::kVvar;  // "[vvar_vclock]" (Linux 6.12+)
  for (const auto& [kind, label] : kLabels) {
    std::string_view l(label);
    if (base == l || (base.size() + 1 == l.size() && l.substr(0, base.size()) == base && l.back() == ']'))
      return kind;
  }
  return MappingKind::kOtherPseudo;
}

void Mapping::mark(MappingKind k, int tid) {
  kind = k;
  label = mapping_kind_label(k);
  if (tid && (k == MappingKind::kStack || k == MappingKind::kGuard))
    label = label.substr(0, label.size() - 1) + ":" + std::to_string(tid) + "]";
}

}  // namespace coresift
