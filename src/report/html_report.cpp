// `report`: the HTML page and its document (docs/report.md).
#include "coresift/report/html_report.hpp"

#include <string_view>

#include "coresift/report/folded.hpp"
#include "coresift/report/group_report.hpp"
#include "coresift/report/heap_report.hpp"
#include "coresift/report/leak_report.hpp"
#include "coresift/report/owner_report.hpp"
#include "coresift/report/process_report.hpp"

namespace coresift {
namespace {

using json = nlohmann::json;

// The kind's name in the document ("file", "arena-heap", …): what the page groups by.
const char* kind_name(MappingKind k) {
  switch (k) {
    case MappingKind::kAnonymous: return "anonymous";
    case MappingKind::kFile: return "file";
    case MappingKind::kHeap: return "heap";
    case MappingKind::kArenaHeap: return "arena-heap";
    case MappingKind::kArenaReserve: return "arena-reserve";
    case MappingKind::kStack: return "stack";
    case MappingKind::kGuard: return "guard";
    case MappingKind::kReserved: return "reserved";
    case MappingKind::kVdso: return "vdso";
    case MappingKind::kVvar: return "vvar";
    case MappingKind::kVsyscall: return "vsyscall";
    case MappingKind::kDump: return "dump";
    case MappingKind::kOtherPseudo: return "other";
  }
  return "anonymous";
}

// maps_json with each mapping's kind and label as the heap walk knows them (the process
// model alone guesses `[heap]`).
json maps_with_kinds(const HeapModel& heap) {
  json maps = maps_json(heap.core());
  const auto& mappings = heap.process().mappings;
  json& rows = maps["mappings"];
  for (size_t i = 0; i < mappings.size() && i < rows.size(); ++i) {
    const Mapping& m = mappings[i];
    rows[i]["kind"] = kind_name(heap.kind(m));
    std::string label = heap.label(m);
    rows[i]["label"] = label.empty() ? json(nullptr) : json(label);
  }
  return maps;
}

json summary_json(const json& info, const json& heap_doc, const json& groups, const json& leaks, const Census& census) {
  json s;
  const json& p = info["process"];
  s["pid"] = p.value("pid", json(nullptr));
  s["executable"] = p.value("executable", json(nullptr));
  s["argv"] = p.value("argv", json::array());
  s["signal"] = info.value("signal", json(nullptr));
  s["threads"] = info["totals"].value("threads", 0);
  s["mapped_bytes"] = info["totals"].value("mapped_bytes", 0);
  s["present_bytes"] = info["totals"].value("present_bytes", 0);
  s["inputs"] = info.value("inputs", json::array());
  uint64_t live_chunks = 0, live_bytes = 0, free_chunks = 0, free_bytes = 0;
  json allocators = json::array();
  for (const json& a : heap_doc.value("allocators", json::array())) {
    const json t = a.value("totals", json::object());
    live_chunks += t.value("live_chunks", uint64_t{0});
    live_bytes += t.value("live_bytes", uint64_t{0});
    free_chunks += t.value("free_chunks", uint64_t{0});
    free_bytes += t.value("free_bytes", uint64_t{0});
    allocators.push_back({{"name", a.value("name", "")},
                          {"version", a.value("version", json(nullptr))},
                          {"arenas", t.value("arenas", a.value("arenas", json::array()).size())},
                          {"findings", a.value("findings", json::array()).size()}});
  }
  s["allocators"] = allocators;
  // Live: every chunk the groups count (arena chunks and mmapped ones alike).
  s["live_chunks"] = groups.value("live_chunks", live_chunks), s["live_bytes"] = groups.value("live_bytes", live_bytes);
  s["free_chunks"] = free_chunks, s["free_bytes"] = free_bytes;
  s["leaks"] = leaks.value("summary", json::object());
  json arenas = json::array();
  for (const auto& [name, u] : census.arenas)
    arenas.push_back({{"name", name},
                      {"reserved_bytes", u.reserved},
                      {"live_chunks", u.live_chunks},
                      {"live_bytes", u.live_bytes},
                      {"free_bytes", u.free_bytes}});
  s["arenas"] = arenas;
  return s;
}

}  // namespace

json report_json(const HeapModel& heap, const Census& census, size_t top) {
  json doc;
  json info = info_json(heap.core());
  info.erase("mappings");  // the same rows as maps, which carry the kinds
  json heap_doc = heap_json(heap);
  json leaks = leaks_json(heap, true);
  json groups = groups_json(heap, GroupBy::kSignature, top);
  doc["summary"] = summary_json(info, heap_doc, groups, leaks, census);
  doc["info"] = std::move(info);
  doc["maps"] = maps_with_kinds(heap);
  doc["heap"] = std::move(heap_doc);
  doc["groups"] = std::move(groups);
  doc["leaks"] = std::move(leaks);
  doc["owners"] = owners_json(heap, 0);
  doc["stacks"] = census_stacks_json(census)["stacks"];
  doc["threads"] = threads_json(heap.core());
  return doc;
}

std::string report_html(const json& doc) {
  std::string data = doc.dump();
  std::string safe;
  safe.reserve(data.size() + data.size() / 16);
  for (char c : data) {
    if (c == '<') safe += "\\u003c";  // only inside JSON strings: "</script" can't end the element
    else safe += c;
  }
  std::string_view tmpl = kReportTemplate;
  constexpr std::string_view kSlot = "/*CORESIFT_REPORT_DATA*/";
  size_t at = tmpl.find(kSlot);
  std::string out;
  out.reserve(tmpl.size() + safe.size());
  if (at == std::string_view::npos) return std::string(tmpl);
  out.append(tmpl.substr(0, at));
  out.append(safe);
  out.append(tmpl.substr(at + kSlot.size()));
  return out;
}

}  // namespace coresift
