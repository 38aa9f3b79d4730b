// Strings taken from a core (file names, argv, thread names, symbol names) are bytes, not
// text: they may be invalid UTF-8 and may hold terminal control sequences. These helpers are
// the one place that turns them into valid JSON strings and into safe terminal text
// (convention: docs/json-schema.md, "Strings from the core").
#pragma once
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>

namespace coresift {

// Valid UTF-8 sequences pass through; every other byte 0xXX becomes the character U+00XX
// (its Latin-1 reading), so the result is always valid UTF-8 and never fails to serialise.
std::string bytes_as_utf8(std::string_view bytes);
// bytes_as_utf8 applied to every string value and object key of `doc`.
void make_json_safe(nlohmann::json& doc);

// For terminals: control characters (C0, DEL and the C1 range U+0080..U+009F) become
// "\xNN" / "\u00NN" escapes; a backslash stays as is. Input must be valid UTF-8.
std::string printable(std::string_view utf8);
// printable applied to every string value of `doc` (after make_json_safe).
void make_text_safe(nlohmann::json& doc);

}  // namespace coresift
