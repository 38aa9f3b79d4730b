#include "coresift/report/leak_report.hpp"

#include <fmt/format.h>

#include <map>

#include "coresift/analysis/leaks.hpp"
#include "coresift/analysis/rollup.hpp"
#include "coresift/analysis/signatures.hpp"
#include "coresift/report/format.hpp"
#include "coresift/report/process_report.hpp"

namespace coresift {
using nlohmann::json;

json leak_summary_json(const LeakSummary& m) {
  return {{"definite_chunks", m.definite_chunks}, {"definite_bytes", m.definite_bytes},
          {"indirect_chunks", m.indirect_chunks}, {"indirect_bytes", m.indirect_bytes},
          {"possible_chunks", m.possible_chunks}, {"possible_bytes", m.possible_bytes},
          {"reachable_chunks", m.reachable_chunks}, {"reachable_bytes", m.reachable_bytes}};
}

json leaks_json(const HeapModel& s, bool summary_only) {
  const ChunkTable& t = s.table();
  ReferenceGraph g = build_reference_graph(s, t);
  LeakAnalysis a = classify_leaks(g, t);
  const LeakSummary& m = a.summary;
  json doc;
  doc["summary"] = leak_summary_json(m);
  doc["scanned"] = {{"root_bytes", g.scanned_root_bytes}, {"heap_bytes", g.scanned_heap_bytes},
                    {"references", g.edge_target.size()}, {"root_references", g.roots.size()}};
  // Groups: (kind, signature) → count, bytes, examples.
  Rollup<std::pair<std::string, std::string>> groups;
  Signer signer(s);
  json leaks = json::array();
  for (uint32_t n = 0; n < a.kind.size(); ++n) {
    if (!is_leaked(a.kind[n])) continue;
    const Chunk& c = t.chunks[g.index.chunk_of_node(n)];
    std::string sig = signer.classify(c).name;
    groups.add({leak_kind_name(a.kind[n]), sig}, c.address, c.size);
    if (!summary_only)
      leaks.push_back({{"address", hex_addr(c.address)}, {"size", static_cast<uint64_t>(c.size)},
                       {"kind", leak_kind_name(a.kind[n])}, {"signature", sig}});
  }
  json gj = json::array();
  for (const auto& [key, gr] : groups.by_bytes()) {
    json ex = json::array();
    for (uint64_t e : gr.examples) ex.push_back(hex_addr(e));
    gj.push_back({{"kind", key.first}, {"signature", key.second}, {"chunks", gr.chunks}, {"bytes", gr.bytes}, {"examples", ex}});
  }
  doc["groups"] = gj;
  if (!summary_only) doc["leaks"] = leaks;
  doc["warnings"] = warnings_json(s.core().diag());
  return doc;
}

std::string leaks_text(const json& d) {
  const json& m = d["summary"];
  std::string out;
  auto line = [&](const char* what, const char* key) {
    out += fmt::format("  {:<10} {:>9} chunks  {}\n", what, m[std::string(key) + "_chunks"].get<uint64_t>(),
                       size_with_bytes(m[std::string(key) + "_bytes"]));
  };
  out += "Leak summary\n";
  line("definite", "definite");
  line("indirect", "indirect");
  line("possible", "possible");
  line("reachable", "reachable");
  if (d["groups"].empty()) return out + "\nno leaked chunks\n";
  Table t({"KIND", "CHUNKS", "BYTES", "SIGNATURE", "EXAMPLES"}, {false, true, true, false, false});
  for (const auto& g : d["groups"]) {
    std::string ex;
    for (const auto& e : g["examples"]) ex += (ex.empty() ? "" : " ") + e.get<std::string>();
    t.add({g["kind"], std::to_string(g["chunks"].get<uint64_t>()), human_size(g["bytes"]), g["signature"], ex});
  }
  return out + "\n" + t.render();
}

}  // namespace coresift
