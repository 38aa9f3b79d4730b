// `owners`: live heap bytes per owner (module, JVM agent, unknown) with the bytes each one
// retains through the dominator tree, and the biggest signatures of each.
#pragma once
#include <nlohmann/json.hpp>
#include <string>

#include "coresift/model/heap_model.hpp"

namespace coresift {

nlohmann::json owners_json(const HeapModel& s, size_t top);  // top = 0: every owner
std::string owners_text(const nlohmann::json& doc);

}  // namespace coresift
