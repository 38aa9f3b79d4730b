// `leaks`: chunks no root reaches, grouped by signature.
#pragma once
#include <nlohmann/json.hpp>
#include <string>

#include "coresift/session.hpp"

namespace coresift {

nlohmann::json leaks_json(Session& s, bool summary_only);
std::string leaks_text(const nlohmann::json& doc);

}  // namespace coresift
