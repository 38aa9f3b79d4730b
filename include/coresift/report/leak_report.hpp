// `leaks`: chunks no root reaches, grouped by signature.
#pragma once
#include <nlohmann/json.hpp>
#include <string>

#include "coresift/model/heap_model.hpp"

namespace coresift {

nlohmann::json leaks_json(const HeapModel& s, bool summary_only);
std::string leaks_text(const nlohmann::json& doc);

}  // namespace coresift
