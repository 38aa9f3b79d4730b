// Signature rules: a small text format that names chunks by their content (docs/commands.md,
// "Rule files"). User files (--rules) and the built-in rules use the same parser and matcher;
// user rules are tried first, in file order, then the built-in ones.
#pragma once
#include <cstdint>
#include <regex>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace coresift {

// A rule file that cannot be used: the message names the file and line ("x.rules:3: …").
class RuleError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

struct RuleCondition {
  enum Kind : uint8_t {
    kText,    // text REGEX       : the chunk's leading text (ASCII or UTF-16) matches (search)
    kPrefix,  // prefix STRING    : the leading text starts with STRING
    kBytes,   // bytes OFF HEX    : the bytes at offset OFF are HEX
    kSize,    // size MIN..MAX    : usable size in range (either side may be left out)
    kPtr,     // ptr GLOB         : some scanned word points into a module whose file name matches
    kWord,    // word OFF GLOB    : the word at offset OFF points into such a module
  };
  Kind kind = kText;
  uint64_t offset = 0;
  uint64_t min = 0, max = UINT64_MAX;
  std::string text;        // prefix, glob, or the regex source
  std::vector<uint8_t> bytes;
  std::regex regex;        // kText, compiled once
};

struct Rule {
  std::string name;   // the signature it gives
  std::string owner;  // optional owner name
  std::string source; // "file:line" of the `rule` line, for messages
  std::vector<RuleCondition> conditions;  // all must hold
};

// Parses rule text; `source_name` prefixes error messages. Throws RuleError.
std::vector<Rule> parse_rules(std::string_view text, const std::string& source_name);
// Reads and parses a rule file. Throws RuleError (also when it cannot be read).
std::vector<Rule> load_rule_file(const std::string& path);
// The built-in rules, in the same format.
std::string_view builtin_rules_text();

}  // namespace coresift
