// The virtual root's children: every root reference is attributed to the owner of the memory
// that holds it — a module's static data (or .bss), the module of the stack frame whose
// slots hold it (frame k covers [sp_k, sp_k+1)), the module of the thread's innermost frame
// for registers, the module beside a writable data file — or to its anonymous mapping.
#include <fmt/format.h>

#include <algorithm>
#include <string_view>
#include <unordered_map>

#include "owners_internal.hpp"

namespace coresift {
namespace {

struct FrameOwner {
  uint64_t sp;
  uint16_t owner;
};

const Thread* thread_of(const Process& p, int tid) {
  for (const Thread& t : p.threads)
    if (t.tid == tid) return &t;
  return nullptr;
}

std::string_view dir_of(std::string_view path) {
  size_t k = path.rfind('/');
  return k == std::string_view::npos ? std::string_view{} : path.substr(0, k);
}

// The one module whose file is in the same directory as a writable data file the process
// mapped (HotSpot's CDS archive lib/server/classes.jsa beside lib/server/libjvm.so): its
// roots are that module's. -1 for anonymous memory, or when no or several modules are there.
int module_beside(const Process& p, const std::string& path) {
  std::string_view dir = dir_of(path);
  if (dir.empty()) return -1;
  int found = -1;
  for (size_t k = 0; k < p.modules.size(); ++k)
    if (dir_of(p.modules[k].path) == dir && p.modules[k].path != path) {
      if (found >= 0) return -1;
      found = static_cast<int>(k);
    }
  return found;
}

}  // namespace

RootPseudoNodes root_pseudo_nodes(const HeapModel& s, const ReferenceGraph& g, const OwnerTable& owners) {
  const Process& p = s.process();
  RootPseudoNodes out;
  std::unordered_map<uint64_t, uint32_t> pseudo_of;  // owner id, or 1<<32 | mapping index
  auto pseudo = [&](uint64_t key, uint16_t owner, auto&& name) {
    auto [it, fresh] = pseudo_of.try_emplace(key, static_cast<uint32_t>(out.names.size()));
    if (fresh) {
      out.names.push_back(name());
      out.owner.push_back(owner);
    }
    return it->second;
  };
  auto owner_pseudo = [&](uint16_t owner) {
    return pseudo(owner, owner, [&] { return "root:" + owners.owners()[owner].name; });
  };

  std::unordered_map<int, std::vector<FrameOwner>> stacks;  // unwound on first use
  auto frames_of = [&](int tid) -> const std::vector<FrameOwner>& {
    auto [it, fresh] = stacks.try_emplace(tid);
    if (!fresh) return it->second;
    if (const Thread* t = thread_of(p, tid))
      for (const Frame& f : s.core().symbols().backtrace(*t))
        if (f.sp && !f.is_inline) it->second.push_back({f.sp, owners.of_address(p, f.pc)});
    std::stable_sort(it->second.begin(), it->second.end(), [](const FrameOwner& a, const FrameOwner& b) { return a.sp < b.sp; });
    return it->second;
  };
  auto stack_owner = [&](int tid, uint64_t slot) -> uint16_t {
    const auto& frames = frames_of(tid);
    if (frames.empty()) return 0;
    auto it = std::upper_bound(frames.begin(), frames.end(), slot, [](uint64_t a, const FrameOwner& f) { return a < f.sp; });
    return it == frames.begin() ? frames.front().owner : std::prev(it)->owner;  // below sp_0: the red zone of frame 0
  };

  std::vector<std::pair<uint32_t, uint32_t>> edges;  // (pseudo, chunk node)
  edges.reserve(g.roots.size());
  for (const RootRef& r : g.roots) {
    uint32_t ps = 0;
    switch (r.kind) {
      case RootKind::kStatic: ps = owner_pseudo(owners.of_address(p, r.from)); break;
      case RootKind::kStack: ps = owner_pseudo(stack_owner(r.tid, r.from)); break;
      case RootKind::kRegister: {
        const Thread* t = thread_of(p, r.tid);
        ps = owner_pseudo(t ? owners.of_address(p, t->pc()) : 0);
        break;
      }
      case RootKind::kAnon:
      case RootKind::kNone: {
        const Mapping* m = p.mapping_at(r.from);
        if (!m) {
          ps = owner_pseudo(0);
          break;
        }
        if (int k = module_beside(p, m->path); k >= 0) {
          ps = owner_pseudo(owners.of_module(k));
          break;
        }
        uint64_t index = static_cast<uint64_t>(m - p.mappings.data());
        ps = pseudo(uint64_t{1} << 32 | index, 0, [&] {
          return fmt::format("root:anon:{:#x}{}", m->start, m->display_name().empty() ? "" : " " + m->display_name());
        });
        break;
      }
    }
    edges.push_back({ps, r.node});
  }
  std::sort(edges.begin(), edges.end());
  edges.erase(std::unique(edges.begin(), edges.end()), edges.end());
  out.start.assign(out.names.size() + 1, 0);
  out.targets.reserve(edges.size());
  for (auto [ps, node] : edges) {
    out.start[ps + 1]++;
    out.targets.push_back(node);
  }
  for (size_t i = 1; i < out.start.size(); ++i) out.start[i] += out.start[i - 1];
  return out;
}

}  // namespace coresift
