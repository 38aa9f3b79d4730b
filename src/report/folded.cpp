#include "coresift/report/folded.hpp"

namespace coresift {

std::string folded_line(const std::vector<std::string>& frames, uint64_t value) {
  std::string out;
  for (const std::string& f : frames) {
    if (!out.empty()) out += ';';
    std::string clean = f.empty() ? "(none)" : f;
    for (char& c : clean)
      if (c == ';' || c == '\n' || c == '\r') c = ',';
    out += clean;
  }
  return out + " " + std::to_string(value) + "\n";
}

nlohmann::json census_stacks_json(const Census& c) {
  nlohmann::json stacks = nlohmann::json::array();
  for (const auto& [k, e] : c.live.by_bytes())
    stacks.push_back({{"frames", {k.owner, k.signature, std::to_string(k.size)}}, {"chunks", e.chunks}, {"bytes", e.bytes}});
  return {{"stacks", stacks}};
}

std::string stacks_folded(const nlohmann::json& doc) {
  std::string out;
  for (const auto& s : doc["stacks"]) {
    std::vector<std::string> frames;
    for (const auto& f : s["frames"]) frames.push_back(f.get<std::string>());
    out += folded_line(frames, s["bytes"].get<uint64_t>());
  }
  return out;
}

}  // namespace coresift
