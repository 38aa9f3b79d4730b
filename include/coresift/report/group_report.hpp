// `groups`: live chunks grouped by size or by signature, biggest first (like `!heap -stat`
// or chap's `summarize`), with example addresses and a preview of the content.
#pragma once
#include <nlohmann/json.hpp>
#include <string>

#include "coresift/session.hpp"

namespace coresift {

enum class GroupBy { kSize, kSignature };

nlohmann::json groups_json(Session& s, GroupBy by, size_t top);
std::string groups_text(const nlohmann::json& doc);

}  // namespace coresift
