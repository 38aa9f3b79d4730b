#include "coresift/report/triage_report.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <map>

#include "coresift/report/format.hpp"
#include "coresift/report/process_report.hpp"
#include "coresift/util/paths.hpp"

namespace coresift {
using nlohmann::json;

namespace {

json str_or_null(const std::string& s) { return s.empty() ? json(nullptr) : json(s); }
template <typename T>
json opt(const std::optional<T>& v) { return v ? json(*v) : json(nullptr); }

// "function (module)" or "module+0xOFF" for people.
std::string frame_label(const json& f) {
  std::string mod = f["module"].is_string() ? base_name(f["module"].get<std::string>()) : "?";
  if (f["function"].is_string()) return f["function"].get<std::string>() + " (" + mod + ")";
  return mod + "+" + f["module_offset"].get<std::string>();
}

}  // namespace

std::string iso_time(int64_t t) {
  char buf[32];
  std::time_t tt = static_cast<std::time_t>(t);
  std::tm tm{};
  gmtime_r(&tt, &tm);
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

json json_of_core(const TriageRow& row) {
  json c;
  c["path"] = row.path;
  c["time"] = iso_time(row.time);
  c["time_source"] = row.time_source;
  c["error"] = str_or_null(row.error);
  c["warnings"] = row.warnings;
  if (!row.result) return c;
  const CoreTriage& r = *row.result;
  c["pid"] = opt(r.pid);
  c["executable"] = str_or_null(r.executable);
  c["build_id"] = str_or_null(r.build_id);
  c["crashed_tid"] = opt(r.crashed_tid);
  c["signal"] = opt(r.signal);
  c["signal_name"] = str_or_null(r.signal_name);
  c["si_code"] = opt(r.si_code);
  c["si_code_name"] = str_or_null(r.si_code_name);
  c["fault_address"] = hex_or_null(r.fault_address);
  c["reason"] = {{"kind", r.reason.kind}, {"text", r.reason.text}};
  c["abort_message"] = opt(r.abort_message);
  json frames = json::array();
  for (const TriageFrame& f : r.frames)
    frames.push_back({{"pc", hex_addr(f.pc)},
                      {"module", str_or_null(f.module)},
                      {"build_id", str_or_null(f.build_id)},
                      {"module_offset", hex_addr(f.module_offset)},
                      {"function_start", hex_or_null(f.function_start)},
                      {"function", opt(f.function)},
                      {"source", str_or_null(f.source)},
                      {"in_signature", f.in_signature}});
  c["frames"] = frames;
  c["signature"] = r.signature;
  c["group"] = r.group;
  c["heap_findings"] = r.heap_findings;
  return c;
}

json triage_json(const std::vector<TriageRow>& rows) {
  std::vector<json> cores;
  cores.reserve(rows.size());
  for (const TriageRow& row : rows) cores.push_back(json_of_core(row));
  return triage_document(std::move(cores));
}

json triage_document(std::vector<json> cores) {
  struct Group {
    std::string signature, reason;
    std::vector<std::string> cores;
    std::string first, last;
    json top_frames = json::array();
    size_t named = 0;
  };
  std::map<std::string, Group> groups;
  size_t triaged = 0;
  for (const json& c : cores) {
    if (!c.contains("group")) continue;  // an error row
    ++triaged;
    Group& g = groups[c["group"].get<std::string>()];
    if (g.cores.empty()) {
      g.signature = c["signature"].get<std::string>();
      g.reason = c["reason"]["kind"].get<std::string>();
    }
    // The frames are shown from the core that names most of them (an unstripped build).
    json frames = json::array();
    size_t named = 0;
    for (const json& f : c["frames"])
      if (f["in_signature"].get<bool>()) {
        frames.push_back(frame_label(f));
        named += f["function"].is_string();
      }
    if (g.cores.empty() || named > g.named) {
      g.top_frames = frames;
      g.named = named;
    }
    g.cores.push_back(c["path"].get<std::string>());
    std::string t = c["time"].get<std::string>();
    if (g.first.empty() || t < g.first) g.first = t;
    if (g.last.empty() || t > g.last) g.last = t;
  }
  json gj = json::array();
  for (auto& [id, g] : groups)
    gj.push_back({{"group", id}, {"signature", g.signature}, {"reason", g.reason}, {"count", g.cores.size()},
                  {"cores", g.cores}, {"first_seen", g.first}, {"last_seen", g.last}, {"top_frames", g.top_frames}});
  std::stable_sort(gj.begin(), gj.end(), [](const json& a, const json& b) {
    return a["count"].get<size_t>() > b["count"].get<size_t>();
  });
  json doc;
  const size_t inputs = cores.size();
  doc["cores"] = std::move(cores);
  doc["groups"] = gj;
  doc["totals"] = {{"inputs", inputs}, {"triaged", triaged}, {"errors", inputs - triaged}, {"groups", gj.size()}};
  doc["warnings"] = json::array();
  return doc;
}

std::string triage_text(const json& d) {
  std::string out;
  const json& t = d["totals"];
  out += fmt::format("{} inputs: {} cores triaged, {} errors, {} groups\n\n", t["inputs"].get<size_t>(),
                     t["triaged"].get<size_t>(), t["errors"].get<size_t>(), t["groups"].get<size_t>());
  Table groups({"GROUP", "CORES", "REASON", "TOP FRAMES", "EXAMPLE"}, {false, true, false, false, false});
  for (const json& g : d["groups"]) {
    std::vector<std::string> frames;
    for (const json& f : g["top_frames"]) frames.push_back(f.get<std::string>());
    if (frames.size() > 3) frames.resize(3);
    groups.add({g["group"].get<std::string>(), std::to_string(g["count"].get<size_t>()), g["reason"].get<std::string>(),
                fmt::format("{}", fmt::join(frames, " < ")), base_name(g["cores"][0].get<std::string>())});
  }
  out += groups.render();
  out += "\n";
  Table cores({"CORE", "GROUP", "SIGNAL", "REASON"});
  for (const json& c : d["cores"]) {
    if (c["error"].is_string()) {
      cores.add({base_name(c["path"].get<std::string>()), "-", "-", "error: " + c["error"].get<std::string>()});
      continue;
    }
    std::string sig = c["signal_name"].is_string() ? c["signal_name"].get<std::string>() : "-";
    if (c["si_code_name"].is_string()) sig += "/" + c["si_code_name"].get<std::string>();
    cores.add({base_name(c["path"].get<std::string>()), c["group"].get<std::string>(), sig,
               c["reason"]["text"].get<std::string>()});
  }
  out += cores.render();
  return out;
}

std::string triage_csv(const json& d) {
  // One row per input; the nested reason and the frames flattened into columns.
  json flat = json::array();
  for (const json& c : d["cores"]) {
    json r = c;
    if (c.contains("reason")) {
      r["reason_kind"] = c["reason"]["kind"];
      r["reason"] = c["reason"]["text"];
      std::vector<std::string> frames;
      for (const json& f : c["frames"])
        if (f["in_signature"].get<bool>()) frames.push_back(frame_label(f));
      r["top_frames"] = fmt::format("{}", fmt::join(frames, " < "));
      r["heap_findings"] = c["heap_findings"].size();
    }
    flat.push_back(std::move(r));
  }
  static const CsvTable kTable{"cores",
                               {"path", "group", "reason_kind", "reason", "signal_name", "si_code_name", "fault_address",
                                "abort_message", "top_frames", "heap_findings", "pid", "executable", "build_id",
                                "crashed_tid", "time", "time_source", "error"}};
  return csv_table(json{{"cores", flat}}, kTable);
}

}  // namespace coresift
