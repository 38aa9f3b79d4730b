// argv and envp from the initial stack. The kernel lays out, from low to high addresses:
// argc, argv[0..argc), NULL, envp[...], NULL, auxv pairs. The auxv note gives us the pairs,
// so we find them in the stack and walk backwards.
#include <elf.h>

#include <cstring>

#include "builders.hpp"

namespace coresift {
namespace {

constexpr size_t kMaxEntries = 1 << 16;

std::optional<uint64_t> find_auxv_on_stack(const Process& p, const AddressSpace& mem) {
  if (p.auxv.size() < 2) return std::nullopt;
  auto random = p.auxv_value(AT_RANDOM);
  auto execfn = p.auxv_value(AT_EXECFN);
  uint64_t probe = random ? *random : execfn ? *execfn : 0;
  const Segment* s = mem.find(probe);
  if (!s || !s->data) return std::nullopt;
  const uint64_t want[4] = {p.auxv[0].first, p.auxv[0].second, p.auxv[1].first, p.auxv[1].second};
  // The auxv sits below the strings that AT_RANDOM/AT_EXECFN point to.
  uint64_t limit = std::min(probe, s->start + s->present);
  for (uint64_t a = (limit - 32) & ~uint64_t{7}; a >= s->start && a + 32 <= s->start + s->present; a -= 8) {
    auto v = mem.view(a, 32);
    if (!v.empty() && std::memcmp(v.data(), want, 32) == 0) return a;
    if (a == s->start) break;
  }
  return std::nullopt;
}

}  // namespace

void read_command_line(Process& p, const AddressSpace& mem) {
  auto auxv = find_auxv_on_stack(p, mem);
  if (!auxv) return;
  uint64_t a = *auxv - 8;
  if (mem.read_u64(a) != 0u) return;  // envp terminator
  std::vector<uint64_t> env, args;
  for (a -= 8; env.size() < kMaxEntries; a -= 8) {
    auto w = mem.read_u64(a);
    if (!w) return;
    if (*w == 0) break;
    env.push_back(*w);
  }
  for (a -= 8; args.size() < kMaxEntries; a -= 8) {
    auto w = mem.read_u64(a);
    if (!w) return;
    if (*w == args.size()) break;  // argc
    args.push_back(*w);
  }
  for (auto it = args.rbegin(); it != args.rend(); ++it) p.argv.push_back(mem.read_cstring(*it).value_or("?"));
  for (auto it = env.rbegin(); it != env.rend(); ++it) p.envp.push_back(mem.read_cstring(*it).value_or("?"));
}

}  // namespace coresift
