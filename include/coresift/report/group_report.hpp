// `groups`: live chunks grouped by size, by signature or by owner (owners.hpp), biggest
// first (like `!heap -stat` or chap's `summarize`), with example addresses and a preview of
// the content.
#pragma once
#include <nlohmann/json.hpp>
#include <string>

#include "coresift/model/heap_model.hpp"

namespace coresift {

enum class GroupBy { kSize, kSignature, kOwner };

nlohmann::json groups_json(const HeapModel& s, GroupBy by, size_t top);
std::string groups_text(const nlohmann::json& doc);

}  // namespace coresift
