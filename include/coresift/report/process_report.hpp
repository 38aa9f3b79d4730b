// Reports over the process model. Each command builds its documented JSON document once
// (docs/json-schema.md); the text renderer only formats that document.
#pragma once
#include <nlohmann/json.hpp>
#include <optional>
#include <string>

#include "coresift/model/core_model.hpp"

namespace coresift {

nlohmann::json info_json(const CoreModel& s);
nlohmann::json maps_json(const CoreModel& s);
nlohmann::json threads_json(const CoreModel& s);
nlohmann::json show_json(const CoreModel& s, uint64_t address, uint64_t length);
nlohmann::json warnings_json(const Diagnostics& d);
// "0x…", or null when the value is not known.
nlohmann::json hex_or_null(std::optional<uint64_t> v);

std::string info_text(const nlohmann::json& doc);
std::string maps_text(const nlohmann::json& doc);
std::string threads_text(const nlohmann::json& doc);
std::string show_text(const nlohmann::json& doc);

}  // namespace coresift
