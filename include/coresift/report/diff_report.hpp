// `diff OLD NEW`: the document (docs/json-schema.md, diff) and its text, CSV and folded renderers.
#pragma once
#include <nlohmann/json.hpp>
#include <string>

#include "coresift/analysis/diff.hpp"
#include "coresift/model/heap_model.hpp"

namespace coresift {

// The census of each side is taken by the caller (both at once, on two threads).
nlohmann::json diff_json(const HeapModel& old_heap, const Census& old_census, const HeapModel& new_heap,
                         const Census& new_census, size_t top);
std::string diff_text(const nlohmann::json& doc);
std::string diff_csv(const nlohmann::json& doc);     // the groups table
std::string diff_folded(const nlohmann::json& doc);  // positive growth: owner;signature;size Δbytes

}  // namespace coresift
