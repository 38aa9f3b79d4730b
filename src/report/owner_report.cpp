#include "coresift/report/owner_report.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <numeric>

#include "coresift/analysis/owners.hpp"
#include "coresift/report/format.hpp"
#include "coresift/report/process_report.hpp"

namespace coresift {
using nlohmann::json;

json owners_json(const HeapModel& s, size_t top) {
  OwnerAnalysis a = analyze_owners(s, OwnerOptions{});
  std::vector<size_t> idx(a.owners.size());
  std::iota(idx.begin(), idx.end(), 0);
  // Owners that hold nothing (most modules) are left out, except `unknown`.
  idx.erase(std::remove_if(idx.begin(), idx.end(), [&](size_t i) { return i != 0 && a.totals[i].chunks == 0 && a.totals[i].retained_bytes == 0; }),
            idx.end());
  std::sort(idx.begin(), idx.end(), [&](size_t x, size_t y) {
    const OwnerTotals &p = a.totals[x], &q = a.totals[y];
    if (p.bytes != q.bytes) return p.bytes > q.bytes;
    return a.owners[x].name < a.owners[y].name;
  });
  json owners = json::array();
  for (size_t k = 0; k < idx.size() && (top == 0 || k < top); ++k) {
    const Owner& o = a.owners[idx[k]];
    const OwnerTotals& t = a.totals[idx[k]];
    json sigs = json::array();
    for (const SignatureShare& sh : t.top_signatures)
      sigs.push_back({{"signature", sh.signature}, {"chunks", sh.chunks}, {"bytes", sh.bytes}});
    owners.push_back({{"name", o.name},
                      {"kind", owner_kind_name(o.kind)},
                      {"path", o.path.empty() ? json(nullptr) : json(o.path)},
                      {"chunks", t.chunks},
                      {"bytes", t.bytes},
                      {"retained_bytes", t.retained_bytes},
                      {"evidence",
                       {{"content", t.evidence[static_cast<int>(OwnerEvidence::kContent)]},
                        {"dominator", t.evidence[static_cast<int>(OwnerEvidence::kDominator)]},
                        {"rule", t.evidence[static_cast<int>(OwnerEvidence::kRule)]},
                        {"none", t.evidence[static_cast<int>(OwnerEvidence::kNone)]}}},
                      {"top_signatures", sigs}});
  }
  json agents = json::array();
  for (const JvmAgent& ag : a.agents)
    agents.push_back({{"name", ag.name}, {"source", ag.source},
                      {"library", ag.module >= 0 ? json(s.process().modules[ag.module].path) : json(nullptr)}});
  return {{"owners", owners},
          {"owners_total", idx.size()},
          {"agents", agents},
          {"total_chunks", a.total_chunks},
          {"total_bytes", a.total_bytes},
          {"warnings", warnings_json(s.core().diag())}};
}

std::string owners_text(const json& d) {
  std::string out = fmt::format("{} live chunks, {} by owner (retained: freed if the owner let go)\n",
                                d["total_chunks"].get<uint64_t>(), size_with_bytes(d["total_bytes"]));
  for (const auto& ag : d["agents"])
    out += fmt::format("JVM agent {} ({}{})\n", ag["name"].get<std::string>(), ag["source"].get<std::string>(),
                       ag["library"].is_string() ? ", " + ag["library"].get<std::string>() : "");
  Table t({"OWNER", "KIND", "CHUNKS", "BYTES", "EXACT", "RETAINED", "TOP SIGNATURES"}, {false, false, true, true, true, true, false});
  for (const auto& o : d["owners"]) {
    std::string sigs;
    for (const auto& sg : o["top_signatures"]) {
      if (sigs.size() > 60) break;
      sigs += (sigs.empty() ? "" : ", ") + fmt::format("{} ({})", sg["signature"].get<std::string>(), human_size(sg["bytes"]));
    }
    t.add({o["name"], o["kind"], std::to_string(o["chunks"].get<uint64_t>()), human_size(o["bytes"]),
           std::to_string(o["bytes"].get<uint64_t>()), human_size(o["retained_bytes"]), sigs});
  }
  return out + "\n" + t.render();
}

}  // namespace coresift
