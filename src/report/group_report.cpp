#include "coresift/report/group_report.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <optional>
#include <set>
#include <unordered_map>

#include "coresift/analysis/owners.hpp"
#include "coresift/analysis/rollup.hpp"
#include "coresift/analysis/signatures.hpp"
#include "coresift/report/format.hpp"
#include "coresift/report/process_report.hpp"

namespace coresift {
using nlohmann::json;

namespace {


// Printable text of the chunk's first bytes, or their hex when they are not text.
std::string preview(const AddressSpace& mem, const Chunk& c) {
  auto v = mem.view(c.address, std::min<uint64_t>(c.size, 32));
  if (v.empty()) return "(absent)";
  std::string text = chunk_text(mem, c);
  if (!text.empty()) return "\"" + text.substr(0, 40) + "\"";
  std::string out;
  for (size_t i = 0; i < std::min<size_t>(v.size(), 16); ++i) out += fmt::format("{:02x}", v[i]) + (i % 8 == 7 ? " " : "");
  return out;
}

}  // namespace

json groups_json(const HeapModel& s, GroupBy by, size_t top) {
  const ChunkTable& t = s.table();
  Rollup<std::string, std::unordered_map<std::string, RollupEntry>> groups;
  std::unique_ptr<Signer> signer;
  if (by == GroupBy::kSignature) signer = std::make_unique<Signer>(s);
  std::optional<OwnerAnalysis> owners;
  if (by == GroupBy::kOwner) owners = analyze_owners(s, OwnerOptions{.top_signatures = 0, .per_chunk = true});
  auto owner_key = [&](size_t row) -> std::string {
    uint16_t packed = owners->chunk_owner[row];
    return packed == kNoOwner ? "unknown" : owners->owners[OwnerAnalysis::owner_index(packed)].name;  // empty live chunks
  };
  for (size_t row = 0; row < t.chunks.size(); ++row) {
    const Chunk& c = t.chunks[row];
    if (c.state == ChunkState::kFree) continue;
    std::string key = by == GroupBy::kSize    ? std::to_string(static_cast<uint64_t>(c.size))
                      : by == GroupBy::kOwner ? owner_key(row)
                                              : signer->classify(c).name;
    groups.add(key, c.address, c.size);
  }
  const uint64_t live_bytes = groups.total_bytes(), live_chunks = groups.total_chunks();
  const auto sorted = groups.by_bytes();
  json rows = json::array();
  for (size_t i = 0; i < sorted.size() && (top == 0 || i < top); ++i) {
    const auto& [key, g] = sorted[i];
    json ex = json::array(), sizes = json::array();
    for (uint64_t e : g.examples) ex.push_back(hex_addr(e));
    for (uint64_t z : g.sizes) sizes.push_back(z);
    const Chunk& first = t.chunks[*t.find(g.examples.front())];
    rows.push_back({{"key", key},
                    {"chunks", g.chunks},
                    {"bytes", g.bytes},
                    {"share", live_bytes ? static_cast<double>(g.bytes) / static_cast<double>(live_bytes) : 0.0},
                    {"sizes", sizes},
                    {"examples", ex},
                    {"preview", preview(s.memory(), first)}});
  }
  return {{"by", by == GroupBy::kSize ? "size" : by == GroupBy::kOwner ? "owner" : "signature"},
          {"live_chunks", live_chunks},
          {"live_bytes", live_bytes},
          {"groups_total", groups.size()},
          {"groups", rows},
          {"warnings", warnings_json(s.core().diag())}};
}

std::string groups_text(const json& d) {
  std::string out = fmt::format("{} live chunks, {} in {} groups (by {})\n\n", d["live_chunks"].get<uint64_t>(),
                                size_with_bytes(d["live_bytes"]), d["groups_total"].get<uint64_t>(), d["by"].get<std::string>());
  Table t({"CHUNKS", "BYTES", "SHARE", d["by"] == "size" ? "SIZE" : d["by"] == "owner" ? "OWNER" : "SIGNATURE", "SIZES", "EXAMPLE", "PREVIEW"},
          {true, true, true, false, false, false, false});
  for (const auto& g : d["groups"]) {
    std::string sizes;
    for (const auto& z : g["sizes"]) sizes += (sizes.empty() ? "" : ",") + std::to_string(z.get<uint64_t>());
    t.add({std::to_string(g["chunks"].get<uint64_t>()), human_size(g["bytes"]), fmt::format("{:.1f}%", 100 * g["share"].get<double>()),
           g["key"], sizes, g["examples"][0], g["preview"]});
  }
  return out + t.render();
}

}  // namespace coresift
