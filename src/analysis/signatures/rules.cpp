// Parser of the rule format (docs/commands.md, "Rule files").
#include "coresift/analysis/rules.hpp"

#include <fmt/format.h>

#include <charconv>
#include <fstream>
#include <sstream>

namespace coresift {
namespace {

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r')) s.remove_suffix(1);
  return s;
}

// Splits "key rest" at the first blank.
std::pair<std::string_view, std::string_view> split_word(std::string_view s) {
  size_t sp = s.find_first_of(" \t");
  if (sp == std::string_view::npos) return {s, {}};
  return {s.substr(0, sp), trim(s.substr(sp))};
}

bool parse_number(std::string_view s, uint64_t& out) {
  int base = 10;
  if (s.starts_with("0x") || s.starts_with("0X")) {
    s.remove_prefix(2);
    base = 16;
  }
  if (s.empty()) return false;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), out, base);
  return ec == std::errc() && p == s.data() + s.size();
}

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

bool parse_hex_bytes(std::string_view s, std::vector<uint8_t>& out) {
  std::string digits;
  for (char c : s)
    if (c != ' ' && c != '\t') digits += c;
  if (digits.starts_with("0x")) digits.erase(0, 2);
  if (digits.empty() || digits.size() % 2 != 0 || digits.size() > 128) return false;
  for (size_t i = 0; i < digits.size(); i += 2) {
    int hi = hex_value(digits[i]), lo = hex_value(digits[i + 1]);
    if (hi < 0 || lo < 0) return false;
    out.push_back(static_cast<uint8_t>(hi * 16 + lo));
  }
  return true;
}

// "MIN..MAX", "MIN..", "..MAX" or "N".
bool parse_range(std::string_view s, uint64_t& lo, uint64_t& hi) {
  size_t dots = s.find("..");
  if (dots == std::string_view::npos) {
    if (!parse_number(s, lo)) return false;
    hi = lo;
    return true;
  }
  std::string_view a = s.substr(0, dots), b = s.substr(dots + 2);
  if (a.empty() && b.empty()) return false;
  if (!a.empty() && !parse_number(a, lo)) return false;
  if (!b.empty() && !parse_number(b, hi)) return false;
  return lo <= hi;
}

}  // namespace

std::vector<Rule> parse_rules(std::string_view text, const std::string& source_name) {
  std::vector<Rule> rules;
  int line_no = 0;
  auto fail = [&](const std::string& msg) { throw RuleError(fmt::format("{}:{}: {}", source_name, line_no, msg)); };
  auto finish = [&] {
    if (!rules.empty() && rules.back().conditions.empty())
      throw RuleError(fmt::format("{}: rule '{}' has no condition", rules.back().source, rules.back().name));
  };
  std::istringstream in{std::string(text)};
  std::string raw;
  while (std::getline(in, raw)) {
    ++line_no;
    std::string_view line = trim(raw);
    if (line.empty() || line.front() == '#') continue;
    auto [key, rest] = split_word(line);
    if (key == "rule") {
      finish();
      if (rest.empty() || rest.find_first_of(" \t") != std::string_view::npos) fail("'rule' needs one signature name without blanks");
      rules.push_back(Rule{std::string(rest), {}, fmt::format("{}:{}", source_name, line_no), {}});
      continue;
    }
    if (rules.empty()) fail(fmt::format("'{}' before the first 'rule' line", key));
    Rule& r = rules.back();
    if (key == "owner") {
      if (rest.empty()) fail("'owner' needs a name");
      r.owner = std::string(rest);
      continue;
    }
    RuleCondition c;
    if (key == "text") {
      if (rest.empty()) fail("'text' needs a regular expression");
      c.kind = RuleCondition::kText;
      c.text = std::string(rest);
      try {
        c.regex = std::regex(c.text, std::regex::ECMAScript | std::regex::optimize);
      } catch (const std::regex_error& e) {
        fail(fmt::format("bad regular expression '{}': {}", c.text, e.what()));
      }
    } else if (key == "prefix") {
      if (rest.empty()) fail("'prefix' needs a string");
      c.kind = RuleCondition::kPrefix;
      c.text = std::string(rest);
    } else if (key == "bytes") {
      auto [off, hex] = split_word(rest);
      c.kind = RuleCondition::kBytes;
      if (!parse_number(off, c.offset) || c.offset > 4096) fail("'bytes' needs an offset (0..4096) and hex bytes");
      if (!parse_hex_bytes(hex, c.bytes)) fail(fmt::format("bad hex bytes '{}' (an even number of hex digits, at most 64 bytes)", hex));
    } else if (key == "size") {
      c.kind = RuleCondition::kSize;
      if (!parse_range(rest, c.min, c.max)) fail(fmt::format("bad size range '{}' (N, MIN..MAX, MIN.. or ..MAX)", rest));
    } else if (key == "ptr") {
      if (rest.empty()) fail("'ptr' needs a module file-name pattern");
      c.kind = RuleCondition::kPtr;
      c.text = std::string(rest);
    } else if (key == "word") {
      auto [off, glob] = split_word(rest);
      c.kind = RuleCondition::kWord;
      if (!parse_number(off, c.offset) || c.offset > 4096 || c.offset % 8 != 0 || glob.empty())
        fail("'word' needs an 8-aligned offset (0..4096) and a module file-name pattern");
      c.text = std::string(glob);
    } else {
      fail(fmt::format("unknown condition '{}' (text, prefix, bytes, size, ptr, word, owner)", key));
    }
    r.conditions.push_back(std::move(c));
  }
  finish();
  return rules;
}

std::vector<Rule> load_rule_file(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  if (!f) throw RuleError(fmt::format("{}: cannot read the rule file", path));
  std::ostringstream ss;
  ss << f.rdbuf();
  return parse_rules(ss.str(), path);
}

}  // namespace coresift
