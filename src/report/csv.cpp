#include "coresift/report/csv.hpp"

namespace coresift {
namespace {

std::string csv_quote(const std::string& s) {
  if (s.find_first_of(",\"\r\n") == std::string::npos && (s.empty() || (s.front() != ' ' && s.back() != ' '))) return s;
  std::string out = "\"";
  for (char c : s) {
    if (c == '"') out += '"';
    out += c;
  }
  return out + "\"";
}

std::string cell(const nlohmann::json& v) {
  if (v.is_null()) return "";
  if (v.is_string()) return csv_quote(v.get<std::string>());
  if (v.is_array()) {
    bool scalars = true;
    for (const auto& e : v) scalars = scalars && !e.is_structured();
    if (scalars) {
      std::string joined;
      for (const auto& e : v) joined += (joined.empty() ? "" : " ") + (e.is_string() ? e.get<std::string>() : e.dump());
      return csv_quote(joined);
    }
  }
  return v.is_structured() ? csv_quote(v.dump()) : v.dump();
}

}  // namespace

std::string csv_table(const nlohmann::json& doc, const CsvTable& table) {
  std::string out;
  for (size_t i = 0; i < table.columns.size(); ++i) out += (i ? "," : "") + table.columns[i];
  out += "\n";
  auto rows = doc.find(table.rows);
  if (rows == doc.end() || !rows->is_array()) return out;
  for (const auto& row : *rows) {
    for (size_t i = 0; i < table.columns.size(); ++i) {
      auto v = row.find(table.columns[i]);
      out += (i ? "," : "") + (v == row.end() ? std::string() : cell(*v));
    }
    out += "\n";
  }
  return out;
}

const CsvTable kMapsCsv{"mappings", {"start", "end", "size", "present_bytes", "perms", "offset", "label", "path"}};
const CsvTable kGroupsCsv{"groups", {"key", "chunks", "bytes", "share", "sizes", "examples", "preview"}};
const CsvTable kLeaksCsv{"leaks", {"address", "size", "kind", "signature"}};
const CsvTable kLeakGroupsCsv{"groups", {"kind", "signature", "chunks", "bytes", "examples"}};
const CsvTable kOwnersCsv{"owners", {"name", "kind", "path", "chunks", "bytes", "retained_bytes"}};

std::string heap_csv(const nlohmann::json& doc) {
  nlohmann::json rows = nlohmann::json::array();
  for (const auto& a : doc.value("allocators", nlohmann::json::array()))
    for (auto ar : a.value("arenas", nlohmann::json::array())) {
      ar["allocator"] = a.value("name", "");
      rows.push_back(std::move(ar));
    }
  return csv_table(nlohmann::json{{"arenas", rows}}, CsvTable{"arenas", {"allocator", "kind", "address", "system_mem", "live_chunks", "live_bytes",
                                                   "free_chunks", "free_bytes", "top_size"}});
}

std::string threads_csv(const nlohmann::json& doc) {
  nlohmann::json rows = nlohmann::json::array();
  for (const auto& t : doc.value("threads", nlohmann::json::array())) {
    int n = 0;
    for (auto f : t.value("frames", nlohmann::json::array())) {
      f["tid"] = t["tid"];
      f["thread_name"] = t["name"];
      f["crashed"] = t["crashed"];
      f["frame"] = n++;
      rows.push_back(std::move(f));
    }
  }
  return csv_table(nlohmann::json{{"frames", rows}}, CsvTable{"frames", {"tid", "thread_name", "crashed", "frame", "pc", "module", "module_offset", "function",
                                        "function_offset", "inline", "source"}});
}

}  // namespace coresift
