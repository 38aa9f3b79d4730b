// Owners: which module (or JVM agent) each live chunk belongs to, and what each owner retains.
//
// The reference graph gets a virtual root whose children are one pseudo-node per root owner:
// the module whose static data holds the root word, the module of the stack frame holding a
// stack slot, the module of a thread's innermost frame for its registers, one node per
// anonymous mapping (owner unknown). Interior pointers count as edges, as they keep memory
// alive for valgrind too (they make its "possible" leaks).
//
// A chunk's owner, strongest evidence first:
//   rule     — a signature rule names the owner;
//   content  — the chunk points into a JVM agent's code (agents beat libjvm), or its
//              signature is evidence for a module (vtable, known structure, module pointers);
//   dominator — else the owner of its immediate dominator (a pseudo-node's owner, or the
//              dominating chunk's);
//   none     — unknown: several root owners share it (idom = virtual root) or it is leaked.
// Retained bytes of O: the dominator-subtree bytes of the topmost O-owned nodes, i.e. what
// would be freed if O let go of everything it holds.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "coresift/process/process.hpp"
#include "coresift/analysis/leaks.hpp"
#include "coresift/model/heap_model.hpp"

namespace coresift {

enum class OwnerKind : uint8_t { kUnknown, kModule, kAgent, kRule };
const char* owner_kind_name(OwnerKind k);  // "unknown", "module", "agent", "rule"

enum class OwnerEvidence : uint8_t { kNone, kContent, kDominator, kRule };
const char* owner_evidence_name(OwnerEvidence e);  // "none", "content", "dominator", "rule"

// A JVM agent: from -agentlib:/-agentpath:/-javaagent: in argv, or a mapped library known to
// be one (libjdwp.so, libinstrument.so, …).
struct JvmAgent {
  std::string name;    // "jdwp", "instrument", "myagent.jar"
  int module = -1;     // its native library in Process::modules, -1 when none (javaagent)
  std::string source;  // "agentlib", "agentpath", "javaagent", "mapped"
};
std::vector<JvmAgent> find_jvm_agents(const Process& p);

struct Owner {
  std::string name;  // module basename, agent name, rule owner or "unknown"
  OwnerKind kind = OwnerKind::kUnknown;
  std::string path;  // the module's (or agent library's) path, "" when none
};

struct SignatureShare {
  std::string signature;
  uint64_t chunks = 0, bytes = 0;
};

struct OwnerTotals {
  uint64_t chunks = 0, bytes = 0, retained_bytes = 0;
  uint64_t evidence[4] = {};  // by OwnerEvidence
  std::vector<SignatureShare> top_signatures;  // biggest first
};

struct OwnerOptions {
  size_t top_signatures = 5;  // per owner; 0 = skip classifying signatures' names
  bool per_chunk = false;     // fill chunk_owner / chunk_dominator
  bool per_chunk_signatures = false;  // fill chunk_signature / signature_names
  bool per_chunk_leaks = false;       // fill chunk_leak (same reference graph: built once)
};

// chunk_dominator values: a chunk-table index, kDominatorPseudo | pseudo index, or
// kDominatorRoot (the virtual root: shared by several root owners, or leaked).
constexpr uint32_t kDominatorPseudo = 0x80000000u;
constexpr uint32_t kDominatorRoot = 0xffffffffu;
constexpr uint16_t kNoOwner = 0xffff;

struct OwnerAnalysis {
  std::vector<Owner> owners;         // owners[0] is "unknown"
  std::vector<OwnerTotals> totals;   // parallel to owners
  std::vector<JvmAgent> agents;
  std::vector<std::string> pseudo_names;  // "root:libc.so.6", "root:anon:0x7f…"
  std::vector<uint16_t> pseudo_owner;
  uint64_t total_chunks = 0, total_bytes = 0;
  // With OwnerOptions::per_chunk, one entry per ChunkTable row (free chunks: kNoOwner and
  // kDominatorRoot). Owner index in the low 14 bits, OwnerEvidence in the top 2.
  std::vector<uint16_t> chunk_owner;
  std::vector<uint32_t> chunk_dominator;
  // With per_chunk_signatures: index into signature_names per ChunkTable row, or kNoNode.
  std::vector<uint32_t> chunk_signature;
  std::vector<std::string> signature_names;
  // With per_chunk_leaks: the LeakKind per ChunkTable row (free chunks: LeakKind::kHeap,
  // never read), and the totals.
  std::vector<LeakKind> chunk_leak;
  LeakSummary leak_summary;

  static uint16_t owner_index(uint16_t packed) { return packed & 0x3fff; }
  static OwnerEvidence evidence(uint16_t packed) { return static_cast<OwnerEvidence>(packed >> 14); }
};

OwnerAnalysis analyze_owners(const HeapModel& s, const OwnerOptions& opts);

}  // namespace coresift
