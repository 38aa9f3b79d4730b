// analyze_owners: reference graph + root pseudo-nodes → dominator tree → each chunk's owner
// (its own content, else its dominator's) → per-owner bytes, retained bytes and signatures.
// Everything per node lives in preorder-indexed arrays of 2–4 bytes: 10 M chunks must fit in
// well under 64 bytes each, the graph included.
#include <algorithm>
#include <cstring>
#include <thread>
#include <unordered_map>

#include "coresift/analysis/dominators.hpp"
#include "coresift/analysis/signatures.hpp"
#include "owners_internal.hpp"

namespace coresift {
namespace {

uint16_t pack(uint16_t owner, OwnerEvidence e) { return static_cast<uint16_t>(owner | static_cast<uint16_t>(e) << 14); }

// Successors for compute_dominators: chunk nodes [0, chunks) use the reference graph's CSR,
// pseudo-nodes [chunks, root) their root references, the virtual root the pseudo-nodes.
struct FlowGraph {
  ReferenceGraph& g;
  RootPseudoNodes& roots;
  uint32_t chunks;
  std::vector<uint32_t> root_targets;

  uint32_t pseudo() const { return static_cast<uint32_t>(roots.names.size()); }
  uint32_t nodes() const { return chunks + pseudo() + 1; }
  uint32_t root() const { return chunks + pseudo(); }
  std::span<uint32_t> successors(uint32_t v) {
    if (v < chunks) return {g.edge_target.data() + g.edge_start[v], g.edge_start[v + 1] - g.edge_start[v]};
    if (v < root()) {
      uint32_t p = v - chunks;
      return {roots.targets.data() + roots.start[p], roots.start[p + 1] - roots.start[p]};
    }
    return root_targets;
  }
  void release_successors() {
    g.edge_target = LazyArray<uint32_t>();
    std::vector<uint32_t>().swap(g.edge_start);
    std::vector<uint32_t>().swap(roots.targets);
    std::vector<uint32_t>().swap(root_targets);
  }
};

// The owner of the first agent-code address among the chunk's words (JVMTI environments keep
// their event callbacks, function pointers into the agent library, inside the env).
uint16_t agent_pointer_owner(const AddressSpace& mem, const OwnerTable& owners, const Chunk& c) {
  auto v = mem.view(c.address, std::min<uint64_t>(c.size, 64 * 1024));
  for (size_t at = 0; at + 8 <= v.size(); at += 8) {
    uint64_t w;
    std::memcpy(&w, v.data() + at, 8);
    uint16_t o = owners.agent_code_owner(w);
    if (o != kNoOwner) return o;
  }
  return kNoOwner;
}

// Content evidence (and signature ids) for every chunk node, split across threads.
void classify_chunks(Session& s, const ReferenceGraph& g, const std::vector<uint32_t>& order, OwnerTable& owners,
                     bool want_names, std::vector<uint16_t>& own, std::vector<uint32_t>& sig,
                     std::vector<std::string>& sig_names) {
  const ChunkTable& table = s.heap();
  const AddressSpace& mem = s.memory();
  Signer signer(s);
  const uint32_t chunks = static_cast<uint32_t>(g.index.nodes());
  const size_t m = order.size();
  unsigned workers = std::max(1u, std::min(std::thread::hardware_concurrency(), 8u));
  if (m < 4096) workers = 1;
  std::vector<std::unordered_map<std::string, uint32_t>> local(workers);
  auto work = [&](unsigned w) {
    size_t lo = m * w / workers, hi = m * (w + 1) / workers;
    for (size_t i = lo; i < hi; ++i) {
      uint32_t v = order[i];
      if (v >= chunks) continue;
      const Chunk& c = table.chunks[g.index.chunk_of_node(v)];
      Signature sg = signer.classify(c);
      if (want_names) sig[i] = local[w].try_emplace(std::move(sg.name), static_cast<uint32_t>(local[w].size())).first->second;
      if (!sg.owner.empty()) {
        own[i] = pack(owners.by_name(sg.owner), OwnerEvidence::kRule);
      } else if (uint16_t a = owners.agent_code().empty() ? kNoOwner : agent_pointer_owner(mem, owners, c); a != kNoOwner) {
        own[i] = pack(a, OwnerEvidence::kContent);
      } else if (sg.module >= 0) {
        own[i] = pack(owners.of_module(sg.module), OwnerEvidence::kContent);
      }
    }
  };
  std::vector<std::thread> pool;
  for (unsigned w = 1; w < workers; ++w) pool.emplace_back(work, w);
  work(0);
  for (auto& t : pool) t.join();
  if (!want_names) return;
  // Thread-local ids → one numbering.
  std::unordered_map<std::string, uint32_t> global;
  for (unsigned w = 0; w < workers; ++w) {
    std::vector<uint32_t> remap(local[w].size());
    for (auto& [name, id] : local[w]) {
      auto [it, fresh] = global.try_emplace(name, static_cast<uint32_t>(sig_names.size()));
      if (fresh) sig_names.push_back(name);
      remap[id] = it->second;
    }
    size_t lo = m * w / workers, hi = m * (w + 1) / workers;
    for (size_t i = lo; i < hi; ++i)
      if (order[i] < chunks) sig[i] = remap[sig[i]];
  }
}

// retained(O) = bytes of the dominator subtrees of the topmost O-owned nodes. Sweeping the
// dominator tree in its own preorder, subtrees are intervals [pos, pos + count); a stack of
// the open intervals of topmost owned nodes (one per owner at most) says which owners hold
// the current node.
void add_retained(const DominatorTree& t, const std::vector<uint16_t>& own, auto&& bytes_of, std::vector<OwnerTotals>& totals) {
  const uint32_t m = static_cast<uint32_t>(t.order.size());
  std::vector<uint32_t> count(m, 1), pos(m, 0), next(m, 0);
  for (uint32_t i = m; i-- > 1;) count[t.idom[i]] += count[i];
  next[0] = 1;
  for (uint32_t i = 1; i < m; ++i) {  // a node's idom comes before it in t.order
    uint32_t d = t.idom[i];
    pos[i] = next[d];
    next[d] += count[i];
    next[i] = pos[i] + 1;
  }
  std::vector<uint32_t>& at_pos = next;  // reused: dominator-tree preorder → index in t.order
  for (uint32_t i = 0; i < m; ++i) at_pos[pos[i]] = i;
  struct Open {
    uint16_t owner;
    uint32_t end;
  };
  std::vector<Open> open;
  std::vector<uint8_t> is_open(totals.size(), 0);
  for (uint32_t p = 1; p < m; ++p) {  // p = 0 is the virtual root, which nobody owns
    uint32_t i = at_pos[p];
    while (!open.empty() && open.back().end <= p) is_open[open.back().owner] = 0, open.pop_back();
    uint16_t o = OwnerAnalysis::owner_index(own[i]);
    if (!is_open[o]) {
      is_open[o] = 1;
      open.push_back({o, p + count[i]});
    }
    uint64_t b = bytes_of(i);
    if (b)
      for (const Open& x : open) totals[x.owner].retained_bytes += b;
  }
}

}  // namespace

OwnerAnalysis analyze_owners(Session& s, const OwnerOptions& opts) {
  const ChunkTable& table = s.heap();
  OwnerTable owners(s.process());
  ReferenceGraph g = build_reference_graph(s, table);
  RootPseudoNodes roots = root_pseudo_nodes(s, g, owners);
  std::vector<RootRef>().swap(g.roots);
  g.index.release_lookup();  // scanning is over: the page tables go before the dominators
  const uint32_t chunks = static_cast<uint32_t>(g.index.nodes());

  OwnerAnalysis out;
  out.pseudo_names = roots.names;
  out.pseudo_owner = roots.owner;
  FlowGraph fg{g, roots, chunks, {}};
  for (uint32_t p = 0; p < fg.pseudo(); ++p) fg.root_targets.push_back(chunks + p);
  const uint32_t root = fg.root();
  DominatorTree t = compute_dominators(fg, ~kInteriorBit);

  // Chunks no root reaches (leaked) hang off the virtual root.
  {
    std::vector<bool> reached(chunks, false);
    for (uint32_t v : t.order)
      if (v < chunks) reached[v] = true;
    for (uint32_t v = 0; v < chunks; ++v)
      if (!reached[v]) t.order.push_back(v), t.idom.push_back(0);
  }
  const uint32_t m = static_cast<uint32_t>(t.order.size());

  // Owners: content evidence first, then top-down from the dominators.
  std::vector<uint16_t> own(m, kNoOwner);
  const bool want_names = opts.top_signatures > 0 || opts.per_chunk_signatures;
  std::vector<uint32_t> sig(want_names ? m : 0);
  std::vector<std::string> sig_names;
  classify_chunks(s, g, t.order, owners, want_names, own, sig, sig_names);
  claim_jvmti_tag_maps(s, g.index, t.order, owners, own);  // stale words must not split an agent's tag map
  for (uint32_t i = 1; i < m; ++i) {
    if (own[i] != kNoOwner) continue;
    uint32_t v = t.order[i];
    if (v >= chunks) {  // a pseudo-node owns what it holds
      own[i] = pack(roots.owner[v - chunks], OwnerEvidence::kDominator);
      continue;
    }
    uint16_t o = t.idom[i] == 0 ? 0 : OwnerAnalysis::owner_index(own[t.idom[i]]);
    own[i] = pack(o, o == 0 ? OwnerEvidence::kNone : OwnerEvidence::kDominator);
  }

  out.owners = owners.owners();
  out.agents = owners.agents();
  out.totals.resize(out.owners.size());
  auto bytes_of = [&](uint32_t i) -> uint64_t { return t.order[i] < chunks ? g.index.node_size(t.order[i]) : 0; };
  for (uint32_t i = 1; i < m; ++i) {
    if (t.order[i] >= chunks) continue;
    OwnerTotals& ot = out.totals[OwnerAnalysis::owner_index(own[i])];
    uint64_t b = bytes_of(i);
    ot.chunks++;
    ot.bytes += b;
    ot.evidence[static_cast<int>(OwnerAnalysis::evidence(own[i]))]++;
    out.total_chunks++;
    out.total_bytes += b;
  }
  add_retained(t, own, bytes_of, out.totals);

  if (opts.top_signatures) {
    const uint64_t k = out.owners.size();
    // (signature, owner) → chunks, bytes: a flat table when it is small (the usual case),
    // else a hash map.
    std::vector<std::pair<uint64_t, uint64_t>> flat;
    std::unordered_map<uint64_t, std::pair<uint64_t, uint64_t>> sparse;
    const bool use_flat = sig_names.size() * k <= (uint64_t{1} << 20);
    if (use_flat) flat.resize(sig_names.size() * k);
    for (uint32_t i = 1; i < m; ++i) {
      if (t.order[i] >= chunks) continue;
      uint64_t key = uint64_t{sig[i]} * k + OwnerAnalysis::owner_index(own[i]);
      auto& sh = use_flat ? flat[key] : sparse[key];
      sh.first++;
      sh.second += bytes_of(i);
    }
    auto add = [&](uint64_t key, const std::pair<uint64_t, uint64_t>& sh) {
      if (sh.first) out.totals[key % k].top_signatures.push_back({sig_names[key / k], sh.first, sh.second});
    };
    for (uint64_t key = 0; key < flat.size(); ++key) add(key, flat[key]);
    for (const auto& [key, sh] : sparse) add(key, sh);
    for (OwnerTotals& ot : out.totals) {
      auto& v = ot.top_signatures;
      std::sort(v.begin(), v.end(), [](const SignatureShare& a, const SignatureShare& b) {
        return a.bytes != b.bytes ? a.bytes > b.bytes : a.signature < b.signature;
      });
      if (v.size() > opts.top_signatures) v.resize(opts.top_signatures);
    }
  }

  if (opts.per_chunk_signatures) {
    out.chunk_signature.assign(table.chunks.size(), kNoNode);
    for (uint32_t i = 1; i < m; ++i)
      if (t.order[i] < chunks) out.chunk_signature[g.index.chunk_of_node(t.order[i])] = sig[i];
    out.signature_names = std::move(sig_names);
  }
  if (opts.per_chunk) {
    out.chunk_owner.assign(table.chunks.size(), kNoOwner);
    out.chunk_dominator.assign(table.chunks.size(), kDominatorRoot);
    for (uint32_t i = 1; i < m; ++i) {
      uint32_t v = t.order[i];
      if (v >= chunks) continue;
      uint32_t row = g.index.chunk_of_node(v);
      out.chunk_owner[row] = own[i];
      uint32_t d = t.order[t.idom[i]];
      out.chunk_dominator[row] = d < chunks ? g.index.chunk_of_node(d) : d == root ? kDominatorRoot : kDominatorPseudo | (d - chunks);
    }
  }
  return out;
}

}  // namespace coresift
