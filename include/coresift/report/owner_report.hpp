// `owners`: live heap bytes per owner (module, JVM agent, unknown) with the bytes each one
// retains through the dominator tree, and the biggest signatures of each.
#pragma once
#include <nlohmann/json.hpp>
#include <string>

#include "coresift/session.hpp"

namespace coresift {

nlohmann::json owners_json(Session& s, size_t top);  // top = 0: every owner
std::string owners_text(const nlohmann::json& doc);

}  // namespace coresift
