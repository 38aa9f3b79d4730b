// `leaks`: chunks no root reaches, grouped by signature.
#pragma once
#include <nlohmann/json.hpp>
#include <string>

#include "coresift/analysis/leaks.hpp"
#include "coresift/model/heap_model.hpp"

namespace coresift {

nlohmann::json leaks_json(const HeapModel& s, bool summary_only);
// The summary object of leaks --json (also diff's old_summary / new_summary).
nlohmann::json leak_summary_json(const LeakSummary& m);
std::string leaks_text(const nlohmann::json& doc);

}  // namespace coresift
