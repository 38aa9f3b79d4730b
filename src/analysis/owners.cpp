// analyze_owners: reference graph + root pseudo-nodes → dominator tree → each chunk's owner
// (its own content, else its dominator's) → per-owner bytes, retained bytes and signatures.
// Everything per node lives in preorder-indexed arrays of 2–4 bytes: 10 M chunks must fit in
// well under 64 bytes each, the graph included.
#include <algorithm>
#include <atomic>
#include <exception>
#include <memory>
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

// Content evidence (own) and signature ids (sig) of every chunk node, by node number. Nodes
// are in address order, so the chunks' bytes are read front to back (preorder would jump
// all over a core of gigabytes); blocks of nodes are handed out to the threads as they ask.
// The Signer is built and the classifying started on helper threads while the caller
// computes the dominator tree, then the caller joins in (finish()).
class ChunkClassifier {
 public:
  ChunkClassifier(const HeapModel& s, const std::vector<uint32_t>& chunk_row, OwnerTable& owners, bool want_names)
      : s_(s), chunk_row_(chunk_row), owners_(owners), want_names_(want_names), chunks_(static_cast<uint32_t>(chunk_row.size())),
        blocks_((chunks_ + kBlock - 1) / kBlock), own(chunks_, kNoOwner), sig(want_names ? chunks_ : 0),
        block_worker_(blocks_) {
    // Two at least: the caller and the helper that builds the Signer each have a slot.
    unsigned workers = std::max(2u, std::min(std::thread::hardware_concurrency(), 8u));
    local_.resize(workers);
    helpers_.emplace_back([this] {
      try {
        signer_ = std::make_unique<Signer>(s_);
      } catch (...) {
        error_ = std::current_exception();
      }
      ready_.store(true, std::memory_order_release);
      ready_.notify_all();
      work(1 % local_.size());
    });
    for (unsigned w = 2; w < workers; ++w)
      helpers_.emplace_back([this, w] {
        ready_.wait(false, std::memory_order_acquire);
        work(w);
      });
  }
  ~ChunkClassifier() {
    for (auto& t : helpers_)
      if (t.joinable()) t.join();
  }

  // Joins in until every node is classified; then gives the signature ids one numbering.
  void finish(std::vector<std::string>& sig_names) {
    ready_.wait(false, std::memory_order_acquire);
    work(0);
    for (auto& t : helpers_) t.join();
    if (error_) std::rethrow_exception(error_);
    if (!want_names_) return;
    std::unordered_map<std::string, uint32_t> global;
    std::vector<std::vector<uint32_t>> remap(local_.size());
    for (size_t w = 0; w < local_.size(); ++w) {
      remap[w].resize(local_[w].size());
      for (auto& [name, id] : local_[w]) {
        auto [it, fresh] = global.try_emplace(name, static_cast<uint32_t>(sig_names.size()));
        if (fresh) sig_names.push_back(name);
        remap[w][id] = it->second;
      }
    }
    for (uint32_t b = 0; b < blocks_; ++b) {
      const auto& r = remap[block_worker_[b]];
      for (uint32_t v = b * kBlock, end = std::min(chunks_, v + kBlock); v < end; ++v) sig[v] = r[sig[v]];
    }
  }

 private:
  static constexpr uint32_t kBlock = 16384;

  void work(unsigned w) {
    if (error_) return;
    const ChunkTable& table = s_.table();
    const AddressSpace& mem = s_.memory();
    auto& names = local_[w];
    const std::string* last = nullptr;  // neighbours often share a signature: skip the hash
    uint32_t last_id = 0;
    for (uint32_t b; (b = next_block_.fetch_add(1, std::memory_order_relaxed)) < blocks_;) {
      block_worker_[b] = static_cast<uint8_t>(w);
      for (uint32_t v = b * kBlock, end = std::min(chunks_, v + kBlock); v < end; ++v) {
        const Chunk& c = table.chunks[chunk_row_[v]];
        Signature sg = signer_->classify(c);
        if (want_names_) {
          if (!last || *last != sg.name) {
            auto it = names.try_emplace(std::move(sg.name), static_cast<uint32_t>(names.size())).first;
            last = &it->first;
            last_id = it->second;
          }
          sig[v] = last_id;
        }
        if (!sg.owner.empty()) {
          own[v] = pack(owners_.by_name(sg.owner), OwnerEvidence::kRule);
        } else if (uint16_t a = owners_.agent_code().empty() ? kNoOwner : agent_pointer_owner(mem, owners_, c); a != kNoOwner) {
          own[v] = pack(a, OwnerEvidence::kContent);
        } else if (sg.module >= 0) {
          own[v] = pack(owners_.of_module(sg.module), OwnerEvidence::kContent);
        }
      }
    }
  }

  const HeapModel& s_;
  const std::vector<uint32_t>& chunk_row_;
  OwnerTable& owners_;
  const bool want_names_;
  const uint32_t chunks_, blocks_;

 public:
  std::vector<uint16_t> own;  // by node
  std::vector<uint32_t> sig;  // by node; thread-local ids until finish()

 private:
  std::vector<uint8_t> block_worker_;
  std::vector<std::unordered_map<std::string, uint32_t>> local_;
  std::unique_ptr<Signer> signer_;
  std::exception_ptr error_;
  std::atomic<bool> ready_{false};
  std::atomic<uint32_t> next_block_{0};
  std::vector<std::thread> helpers_;  // last: started once everything else is in place
};

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

// Each node's owner: its own content evidence when it has one, else the owner of its
// immediate dominator (top-down, in preorder); a pseudo-node owns what it holds. Indexed by
// preorder position. own_node is rewritten in node order with the result.
std::vector<uint16_t> propagate_owners(const DominatorTree& t, uint32_t chunks, const RootPseudoNodes& roots,
                                       std::vector<uint16_t>& own_node) {
  const uint32_t m = static_cast<uint32_t>(t.order.size());
  std::vector<uint16_t> own(m, kNoOwner);
  for (uint32_t i = 1; i < m; ++i)
    if (t.order[i] < chunks) own[i] = own_node[t.order[i]];
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
  // Back to node order, for the sums below: they then read the nodes front to back.
  for (uint32_t i = 1; i < m; ++i)
    if (t.order[i] < chunks) own_node[t.order[i]] = own[i];

  return own;
}

template <typename SizeFn>
void add_owner_totals(OwnerAnalysis& out, const std::vector<uint16_t>& own_node, SizeFn node_size) {
  const uint32_t chunks = static_cast<uint32_t>(own_node.size());
  for (uint32_t v = 0; v < chunks; ++v) {
    OwnerTotals& ot = out.totals[OwnerAnalysis::owner_index(own_node[v])];
    uint64_t b = node_size(v);
    ot.chunks++;
    ot.bytes += b;
    ot.evidence[static_cast<int>(OwnerAnalysis::evidence(own_node[v]))]++;
    out.total_chunks++;
    out.total_bytes += b;
  }
}

// Per owner, its biggest signatures: (signature, owner) → chunks, bytes.
template <typename SizeFn>
void add_top_signatures(OwnerAnalysis& out, const std::vector<uint32_t>& sig, const std::vector<std::string>& sig_names,
                        const std::vector<uint16_t>& own_node, SizeFn node_size, size_t top) {
  const uint32_t chunks = static_cast<uint32_t>(own_node.size());
  const uint64_t k = out.owners.size();
  // (signature, owner) → chunks, bytes: a flat table when it is small (the usual case),
  // else a hash map.
  std::vector<std::pair<uint64_t, uint64_t>> flat;
  std::unordered_map<uint64_t, std::pair<uint64_t, uint64_t>> sparse;
  const bool use_flat = sig_names.size() * k <= (uint64_t{1} << 20);
  if (use_flat) flat.resize(sig_names.size() * k);
  for (uint32_t v = 0; v < chunks; ++v) {
    uint64_t key = uint64_t{sig[v]} * k + OwnerAnalysis::owner_index(own_node[v]);
    auto& sh = use_flat ? flat[key] : sparse[key];
    sh.first++;
    sh.second += node_size(v);
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
    if (v.size() > top) v.resize(top);
  }
}

void add_per_chunk(OwnerAnalysis& out, const DominatorTree& t, const std::vector<uint16_t>& own,
                   const std::vector<uint32_t>& chunk_row, uint32_t chunks, uint32_t root, size_t rows) {
  const uint32_t m = static_cast<uint32_t>(t.order.size());
  out.chunk_owner.assign(rows, kNoOwner);
  out.chunk_dominator.assign(rows, kDominatorRoot);
  for (uint32_t i = 1; i < m; ++i) {
    uint32_t v = t.order[i];
    if (v >= chunks) continue;
    uint32_t row = chunk_row[v];
    out.chunk_owner[row] = own[i];
    uint32_t d = t.order[t.idom[i]];
    out.chunk_dominator[row] = d < chunks ? chunk_row[d] : d == root ? kDominatorRoot : kDominatorPseudo | (d - chunks);
  }
}

}  // namespace

OwnerAnalysis analyze_owners(const HeapModel& s, const OwnerOptions& opts) {
  const ChunkTable& table = s.table();
  OwnerTable owners(s.process());
  ReferenceGraph g = build_reference_graph(s, table);
  OwnerAnalysis out;
  if (opts.per_chunk_leaks) {
    LeakAnalysis leaks = classify_leaks(g, table);
    out.chunk_leak.assign(table.chunks.size(), LeakKind::kHeap);
    for (uint32_t v = 0; v < leaks.kind.size(); ++v) out.chunk_leak[g.index.chunk_of_node(v)] = leaks.kind[v];
    out.leak_summary = leaks.summary;
  }
  RootPseudoNodes roots = root_pseudo_nodes(s, g, owners);
  std::vector<RootRef>().swap(g.roots);
  // Scanning is over: the index (16 bytes a node) goes before the dominators; what is left
  // to know of a node is its chunk row (sizes are in the chunk table, in the same order).
  const uint32_t chunks = static_cast<uint32_t>(g.index.nodes());
  std::vector<uint32_t> chunk_row(chunks);
  for (uint32_t v = 0; v < chunks; ++v) chunk_row[v] = g.index.chunk_of_node(v);
  static const ChunkTable kNoChunks;
  g.index = ChunkIndex(kNoChunks);
  auto node_size = [&](uint32_t v) -> uint64_t { return table.chunks[chunk_row[v]].size; };

  out.pseudo_names = roots.names;
  out.pseudo_owner = roots.owner;
  FlowGraph fg{g, roots, chunks, {}};
  for (uint32_t p = 0; p < fg.pseudo(); ++p) fg.root_targets.push_back(chunks + p);
  const uint32_t root = fg.root();
  const bool want_names = opts.top_signatures > 0 || opts.per_chunk_signatures;
  ChunkClassifier classifier(s, chunk_row, owners, want_names);  // runs alongside the dominators
  DominatorTree t = compute_dominators(fg, ~kInteriorBit);

  // Chunks no root reaches (leaked) hang off the virtual root.
  {
    std::vector<bool> reached(chunks, false);
    for (uint32_t v : t.order)
      if (v < chunks) reached[v] = true;
    for (uint32_t v = 0; v < chunks; ++v)
      if (!reached[v]) t.order.push_back(v), t.idom.push_back(0);
  }

  // Owners: content evidence first, then top-down from the dominators (in preorder).
  std::vector<std::string> sig_names;
  classifier.finish(sig_names);
  std::vector<uint16_t>& own_node = classifier.own;  // by chunk node
  claim_jvmti_tag_maps(s, table, chunk_row, owners, own_node);  // stale words must not split an agent's tag map
  const std::vector<uint32_t>& sig = classifier.sig;  // by chunk node
  std::vector<uint16_t> own = propagate_owners(t, chunks, roots, own_node);
  out.owners = owners.owners();
  out.agents = owners.agents();
  out.totals.resize(out.owners.size());
  auto bytes_of = [&](uint32_t i) -> uint64_t { return t.order[i] < chunks ? node_size(t.order[i]) : 0; };
  add_owner_totals(out, own_node, node_size);
  add_retained(t, own, bytes_of, out.totals);

  if (opts.top_signatures) add_top_signatures(out, sig, sig_names, own_node, node_size, opts.top_signatures);

  if (opts.per_chunk_signatures) {
    out.chunk_signature.assign(table.chunks.size(), kNoNode);
    for (uint32_t v = 0; v < chunks; ++v) out.chunk_signature[chunk_row[v]] = sig[v];
    out.signature_names = std::move(sig_names);
  }
  if (opts.per_chunk) add_per_chunk(out, t, own, chunk_row, chunks, root, table.chunks.size());
  return out;
}

}  // namespace coresift
