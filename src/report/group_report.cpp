#include "coresift/report/group_report.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <optional>
#include <set>
#include <unordered_map>

#include "coresift/analysis/owners.hpp"
#include "coresift/analysis/signatures.hpp"
#include "coresift/report/format.hpp"
#include "coresift/report/process_report.hpp"

namespace coresift {
using nlohmann::json;

namespace {

struct Group {
  uint64_t chunks = 0, bytes = 0;
  std::set<uint64_t> sizes;  // capped: a few distinct sizes are enough to show
  std::vector<uint64_t> examples;
};

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

json groups_json(Session& s, GroupBy by, size_t top) {
  const ChunkTable& t = s.heap();
  std::unordered_map<std::string, Group> groups;
  uint64_t live_bytes = 0, live_chunks = 0;
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
    live_bytes += c.size;
    ++live_chunks;
    std::string key = by == GroupBy::kSize    ? std::to_string(static_cast<uint64_t>(c.size))
                      : by == GroupBy::kOwner ? owner_key(row)
                                              : signer->classify(c).name;
    Group& g = groups[key];
    g.chunks++;
    g.bytes += c.size;
    if (g.sizes.size() < 8) g.sizes.insert(c.size);
    if (g.examples.size() < 3) g.examples.push_back(c.address);
  }
  std::vector<std::pair<std::string, Group>> sorted(groups.begin(), groups.end());
  std::sort(sorted.begin(), sorted.end(), [](const auto& a, const auto& b) {
    return a.second.bytes != b.second.bytes ? a.second.bytes > b.second.bytes : a.first < b.first;
  });
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
          {"warnings", warnings_json(s.diag())}};
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
