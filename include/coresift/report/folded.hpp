// Collapsed stacks (Brendan Gregg's folded format: `frame;frame;frame value` per line) for
// flamegraph.pl, inferno and speedscope: live bytes as owner → signature → chunk size.
#pragma once
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "coresift/analysis/census.hpp"

namespace coresift {

// One line: frames joined by ';' and the value. Frames lose ';' and line breaks (the
// format's separators); an empty frame is "(none)".
std::string folded_line(const std::vector<std::string>& frames, uint64_t value);

// {"stacks": [{"frames": [owner, signature, size], "chunks": n, "bytes": n}, …]}, biggest first.
nlohmann::json census_stacks_json(const Census& c);
std::string stacks_folded(const nlohmann::json& doc);

}  // namespace coresift
