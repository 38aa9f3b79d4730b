// Pieces of the owners analysis shared by its files: the owner table (owners_table.cpp) and
// the root pseudo-nodes (owners_roots.cpp); analyze_owners (owners.cpp) ties them together.
#pragma once
#include <cstdint>
#include <mutex>
#include <string>
#include <vector>

#include "coresift/analysis/owners.hpp"
#include "coresift/analysis/references.hpp"

namespace coresift {

// Owners of a process: "unknown", one per module (or the agent whose library it is), one
// per agent without a library, and owners named by rules as they turn up.
class OwnerTable {
 public:
  explicit OwnerTable(const Process& p);
  uint16_t of_module(int module) const { return module >= 0 && static_cast<size_t>(module) < module_owner_.size() ? module_owner_[module] : 0; }
  uint16_t of_address(const Process& p, uint64_t addr) const;  // module holding addr (or its .bss)
  uint16_t by_name(const std::string& name);  // for rules; thread-safe
  const std::vector<Owner>& owners() const { return owners_; }
  const std::vector<JvmAgent>& agents() const { return agents_; }
  // Executable ranges of agent libraries, sorted: a chunk pointing into one belongs to it.
  struct CodeRange {
    uint64_t lo, hi;
    uint16_t owner;
  };
  const std::vector<CodeRange>& agent_code() const { return agent_code_; }
  uint16_t agent_code_owner(uint64_t word) const;  // owner, or kNoOwner

 private:
  std::vector<Owner> owners_;
  std::vector<uint16_t> module_owner_;
  std::vector<JvmAgent> agents_;
  std::vector<CodeRange> agent_code_;
  std::mutex mutex_;
};

// The virtual root's children: pseudo-nodes per root owner (and per anonymous mapping), with
// the chunk nodes each one references, deduplicated, as a CSR.
struct RootPseudoNodes {
  std::vector<std::string> names;
  std::vector<uint16_t> owner;
  std::vector<uint32_t> start;    // size names.size() + 1
  std::vector<uint32_t> targets;  // chunk nodes
};
RootPseudoNodes root_pseudo_nodes(const HeapModel& s, const ReferenceGraph& g, const OwnerTable& owners);

// Gives an agent the whole tag map of each JVMTI environment it owns by content (map, table,
// buckets, entries, tags that are chunk starts), as content evidence, before the dominator
// pass fills in the rest (owners_jvmti.cpp). own[i] belongs to order[i].
// own: per chunk node (nodes are the live chunks in address order; chunk_row maps a node to
// its row in the chunk table).
void claim_jvmti_tag_maps(const HeapModel& s, const ChunkTable& table, const std::vector<uint32_t>& chunk_row,
                          const OwnerTable& owners, std::vector<uint16_t>& own);

}  // namespace coresift
