#include "coresift/report/diff_report.hpp"

#include <fmt/format.h>

#include <algorithm>

#include "coresift/report/csv.hpp"
#include "coresift/report/folded.hpp"
#include "coresift/report/format.hpp"
#include "coresift/report/leak_report.hpp"
#include "coresift/report/process_report.hpp"

namespace coresift {
using nlohmann::json;

namespace {

json side_json(const HeapModel& h, const Delta& total, bool old_side) {
  const Process& p = h.process();
  std::string build_id;
  for (const Module& m : p.modules)
    if (!p.executable.empty() && m.path == p.executable) build_id = m.build_id;
  return {{"input", h.core().file().empty() ? json(nullptr) : json(h.core().file())},
          {"pid", p.pid ? json(p.pid) : json(nullptr)},
          {"executable", p.executable.empty() ? json(nullptr) : json(p.executable)},
          {"build_id", build_id.empty() ? json(nullptr) : json(build_id)},
          {"live_chunks", old_side ? total.old_chunks : total.new_chunks},
          {"live_bytes", old_side ? total.old_bytes : total.new_bytes}};
}

void put_delta(json& row, const Delta& d) {
  row["old_chunks"] = d.old_chunks;
  row["new_chunks"] = d.new_chunks;
  row["delta_chunks"] = d.delta_chunks();
  row["old_bytes"] = d.old_bytes;
  row["new_bytes"] = d.new_bytes;
  row["delta_bytes"] = d.delta_bytes();
}

template <typename Key, typename Fill>
json rows_of(const Deltas<Key>& v, size_t top, Fill fill) {
  json out = json::array();
  for (size_t i = 0; i < v.size() && (top == 0 || i < top); ++i) {
    json row = json::object();
    fill(row, v[i].first);
    put_delta(row, v[i].second);
    out.push_back(std::move(row));
  }
  return out;
}

json use_json(const std::optional<ArenaUse>& u) {
  if (!u) return nullptr;
  return {{"reserved_bytes", u->reserved}, {"live_chunks", u->live_chunks}, {"live_bytes", u->live_bytes}, {"free_bytes", u->free_bytes}};
}

std::string signed_size(int64_t v) {
  return (v > 0 ? "+" : v < 0 ? "-" : "") + human_size(static_cast<uint64_t>(std::llabs(v)));
}
std::string signed_count(int64_t v) { return (v > 0 ? "+" : "") + std::to_string(v); }

}  // namespace

json diff_json(const HeapModel& oh, const Census& oc, const HeapModel& nh, const Census& nc, size_t top) {
  const Process &op = oh.process(), &np = nh.process();
  const bool same_process = op.pid && op.pid == np.pid && op.executable == np.executable;
  HeapDiff d = diff_censuses(oc, nc);
  d.same_process = same_process;
  d.mappings = diff_mappings(oh, nh, same_process);

  json doc;
  doc["old"] = side_json(oh, d.total, true);
  doc["new"] = side_json(nh, d.total, false);
  doc["same_process"] = same_process;
  json total = json::object();
  put_delta(total, d.total);
  doc["totals"] = total;
  doc["groups_total"] = d.groups.size();
  doc["groups"] = rows_of(d.groups, top, [](json& r, const auto& k) { r["signature"] = k.first, r["owner"] = k.second; });
  doc["classes"] = rows_of(d.classes, 0, [](json& r, const CensusKey& k) {
    r["owner"] = k.owner, r["signature"] = k.signature, r["size"] = k.size;
  });
  doc["owners"] = rows_of(d.owners, 0, [](json& r, const std::string& k) { r["owner"] = k; });
  doc["sizes"] = rows_of(d.sizes, 0, [](json& r, uint64_t k) { r["size"] = k; });
  json arenas = json::array();
  for (const ArenaDelta& a : d.arenas) {
    auto reserved = [](const std::optional<ArenaUse>& u) { return u ? static_cast<int64_t>(u->reserved) : 0; };
    auto live = [](const std::optional<ArenaUse>& u) { return u ? static_cast<int64_t>(u->live_bytes) : 0; };
    arenas.push_back({{"name", a.name},
                      {"old", use_json(a.old_use)},
                      {"new", use_json(a.new_use)},
                      {"delta_reserved_bytes", reserved(a.new_use) - reserved(a.old_use)},
                      {"delta_live_bytes", live(a.new_use) - live(a.old_use)}});
  }
  doc["arenas"] = arenas;
  json maps = json::array();
  for (const MappingChange& c : d.mappings) {
    auto range = [](const auto& r) -> json {
      if (!r) return nullptr;
      return {{"start", hex_addr(r->first)}, {"end", hex_addr(r->second)}, {"size", r->second - r->first}};
    };
    maps.push_back({{"change", c.change},
                    {"name", c.name},
                    {"perms", perms_string(c.perms)},
                    {"old", range(c.old_range)},
                    {"new", range(c.new_range)},
                    {"delta_bytes", c.delta_bytes()},
                    {"arena_reservation", c.arena_reservation}});
  }
  doc["mappings"] = maps;
  json leak_groups = rows_of(d.leaks.groups, 0, [](json& r, const LeakKey& k) {
    r["kind"] = k.kind, r["signature"] = k.signature, r["size"] = k.size;
  });
  doc["leaks"] = {{"new_definite_chunks", d.leaks.new_definite_chunks},
                  {"new_definite_bytes", d.leaks.new_definite_bytes},
                  {"new_indirect_chunks", d.leaks.new_indirect_chunks},
                  {"new_indirect_bytes", d.leaks.new_indirect_bytes},
                  {"old_summary", leak_summary_json(d.leaks.old_summary)},
                  {"new_summary", leak_summary_json(d.leaks.new_summary)},
                  {"groups", leak_groups}};
  json warnings = warnings_json(oh.core().diag());
  for (auto& w : warnings_json(nh.core().diag())) warnings.push_back(w);
  const std::string& ob = doc["old"]["build_id"].is_string() ? doc["old"]["build_id"].get_ref<const std::string&>() : "";
  const std::string& nb = doc["new"]["build_id"].is_string() ? doc["new"]["build_id"].get_ref<const std::string&>() : "";
  if (!ob.empty() && !nb.empty() && ob != nb)
    warnings.push_back(fmt::format("the executables differ (build-id {} in OLD, {} in NEW): classes are matched by name, "
                                   "but a changed program changes its allocations too",
                                   ob, nb));
  doc["warnings"] = warnings;
  return doc;
}

std::string diff_text(const json& d) {
  const json &o = d["old"], &n = d["new"], &t = d["totals"];
  auto who = [](const json& s) {
    return fmt::format("{} (pid {})", s["input"].is_string() ? s["input"].get<std::string>() : "raw ranges",
                       s["pid"].is_null() ? std::string("?") : std::to_string(s["pid"].get<int64_t>()));
  };
  std::string out = fmt::format("OLD {}\nNEW {}{}\n", who(o), who(n), d["same_process"].get<bool>() ? "  (same process)" : "");
  out += fmt::format("live: {} chunks, {} → {} chunks, {}  ({} chunks, {})\n", t["old_chunks"].get<uint64_t>(),
                     human_size(t["old_bytes"]), t["new_chunks"].get<uint64_t>(), human_size(t["new_bytes"]),
                     signed_count(t["delta_chunks"]), signed_size(t["delta_bytes"]));
  const json& l = d["leaks"];
  out += fmt::format("new leaks: {} definite chunks ({}), {} indirect ({})\n", l["new_definite_chunks"].get<uint64_t>(),
                     human_size(l["new_definite_bytes"]), l["new_indirect_chunks"].get<uint64_t>(),
                     human_size(l["new_indirect_bytes"]));
  auto delta_table = [&](const char* title, const json& rows, const std::vector<std::string>& key_cols, size_t limit) {
    std::vector<std::string> header{"ΔCHUNKS", "ΔBYTES", "OLD → NEW"};
    std::vector<bool> right{true, true, true};
    for (const auto& k : key_cols) header.push_back(k), right.push_back(false);
    Table tb(header, right);
    size_t changed = 0;
    for (const json& r : rows) {
      if (r["delta_chunks"].get<int64_t>() == 0 && r["delta_bytes"].get<int64_t>() == 0) continue;  // unchanged: JSON only
      if (changed++ >= limit) continue;
      std::vector<std::string> cells{signed_count(r["delta_chunks"]), signed_size(r["delta_bytes"]),
                                     human_size(r["old_bytes"]) + " → " + human_size(r["new_bytes"])};
      for (const auto& k : key_cols) {
        std::string col = k == "SIZE" ? "size" : k == "OWNER" ? "owner" : k == "KIND" ? "kind" : "signature";
        const json& v = r[col];
        cells.push_back(v.is_string() ? v.get<std::string>() : v.dump());
      }
      tb.add(cells);
    }
    if (!changed) return;
    out += fmt::format("\n{}{}\n", title, changed > limit ? fmt::format(" (first {} of {} that changed)", limit, changed) : "");
    out += tb.render();
  };
  delta_table("Growth by signature and owner", d["groups"], {"SIGNATURE", "OWNER"}, 30);
  delta_table("By owner", d["owners"], {"OWNER"}, 15);
  delta_table("By size class", d["sizes"], {"SIZE"}, 15);
  delta_table("Leaks", l["groups"], {"KIND", "SIGNATURE", "SIZE"}, 15);
  Table at({"ARENA", "RESERVED OLD → NEW", "ΔRESERVED", "LIVE OLD → NEW", "ΔLIVE"}, {false, true, true, true, true});
  for (const auto& a : d["arenas"]) {
    auto part = [](const json& u, const char* k) { return u.is_null() ? std::string("-") : human_size(u[k]); };
    at.add({a["name"], part(a["old"], "reserved_bytes") + " → " + part(a["new"], "reserved_bytes"),
            signed_size(a["delta_reserved_bytes"]), part(a["old"], "live_bytes") + " → " + part(a["new"], "live_bytes"),
            signed_size(a["delta_live_bytes"])});
  }
  if (at.rows()) out += "\nArenas\n" + at.render();
  Table mt({"CHANGE", "ΔSIZE", "OLD", "NEW", "PERMS", "MAPPING"}, {false, true, false, false, false, false});
  for (const auto& m : d["mappings"]) {
    auto range = [](const json& r) {
      return r.is_null() ? std::string("-") : fmt::format("{} {}", r["start"].get<std::string>(), human_size(r["size"]));
    };
    mt.add({m["change"], signed_size(m["delta_bytes"]), range(m["old"]), range(m["new"]), m["perms"],
            m["name"].get<std::string>() + (m["arena_reservation"].get<bool>() ? " (arena)" : "")});
  }
  if (mt.rows()) out += "\nMappings that changed\n" + mt.render();
  return out;
}

std::string diff_csv(const json& d) {
  static const CsvTable kDiffCsv{"groups", {"signature", "owner", "old_chunks", "new_chunks", "delta_chunks", "old_bytes",
                                            "new_bytes", "delta_bytes"}};
  return csv_table(d, kDiffCsv);
}

std::string diff_folded(const json& d) {
  std::string out;
  for (const auto& c : d["classes"]) {
    int64_t delta = c["delta_bytes"].get<int64_t>();
    if (delta <= 0) continue;
    out += folded_line({c["owner"].get<std::string>(), c["signature"].get<std::string>(), std::to_string(c["size"].get<uint64_t>())},
                       static_cast<uint64_t>(delta));
  }
  return out;
}

}  // namespace coresift
