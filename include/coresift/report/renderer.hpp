// How a command's result becomes output. Every command builds one JSON document (the --json
// output, docs/json-schema.md); the other formats are renderers of that document, which a
// command provides where they make sense: text always, CSV where the result is a table,
// folded stacks where it is a tree of bytes. A new format is a new member here and a
// renderer per command that has one, not a change to every report.
#pragma once
#include <functional>
#include <nlohmann/json.hpp>
#include <string>

namespace coresift {

enum class OutputFormat { kText, kJson, kCsv, kFolded };

using RenderFn = std::function<std::string(const nlohmann::json&)>;

struct Renderers {
  RenderFn text;
  RenderFn csv{};     // null: the command has no --csv
  RenderFn folded{};  // null: the command has no --folded
};

// The output of `doc` in `format` (JSON pretty-printed; a renderer the command lacks falls
// back to text).
std::string render(const nlohmann::json& doc, OutputFormat format, const Renderers& r);

}  // namespace coresift
