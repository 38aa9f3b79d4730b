// The rule parser and the content tests behind text signatures, on hand-written inputs
// whose answers follow from the documented formats (docs/commands.md, Rule files).
#include <catch2/catch.hpp>

#include "analysis/signatures/parts.hpp"
#include "coresift/analysis/rules.hpp"
#include "coresift/analysis/signatures.hpp"

using namespace coresift;

TEST_CASE("rules: every condition kind parses into its fields", "[signatures][rules]") {
  auto rules = parse_rules(
      "# comment\n"
      "\n"
      "rule net:conn\n"
      "  owner netd\n"
      "  size 64..\n"
      "  size ..0x100\n"
      "  bytes 8 dead BEEF\n"
      "  prefix GET /\n"
      "  text ^GET /[a-z]+\n"
      "  ptr libssl.so*\n"
      "  word 16 libcrypto*\n"
      "rule exact\n"
      "  size 40\n",
      "t.rules");
  REQUIRE(rules.size() == 2);
  const Rule& r = rules[0];
  CHECK(r.name == "net:conn");
  CHECK(r.owner == "netd");
  CHECK(r.source == "t.rules:3");
  REQUIRE(r.conditions.size() == 7);
  CHECK(r.conditions[0].min == 64);
  CHECK(r.conditions[0].max == UINT64_MAX);
  CHECK(r.conditions[1].min == 0);
  CHECK(r.conditions[1].max == 0x100);
  CHECK(r.conditions[2].offset == 8);
  CHECK(r.conditions[2].bytes == std::vector<uint8_t>{0xde, 0xad, 0xbe, 0xef});
  CHECK(r.conditions[3].text == "GET /");
  CHECK(std::regex_search(std::string("GET /index"), r.conditions[4].regex));
  CHECK(r.conditions[5].text == "libssl.so*");
  CHECK(r.conditions[6].offset == 16);
  CHECK(rules[1].conditions[0].min == 40);
  CHECK(rules[1].conditions[0].max == 40);
}

TEST_CASE("rules: errors name the source and line", "[signatures][rules]") {
  auto error_of = [](const char* text) {
    try {
      parse_rules(text, "f.rules");
    } catch (const RuleError& e) {
      return std::string(e.what());
    }
    return std::string("no error");
  };
  CHECK(error_of("rule a b\n") == "f.rules:1: 'rule' needs one signature name without blanks");
  CHECK(error_of("rule a\n  word 3 libc*\n").starts_with("f.rules:2: 'word' needs an 8-aligned offset"));
  CHECK(error_of("rule a\n  bytes x 00\n").starts_with("f.rules:2: 'bytes' needs an offset"));
  CHECK(error_of("rule a\n  size ..\n").starts_with("f.rules:2: bad size range"));
  CHECK(error_of("rule a\n  owner\n") == "f.rules:2: 'owner' needs a name");
  CHECK(error_of("rule a\n  size 1\nrule b\n") == "f.rules:3: rule 'b' has no condition");
}

TEST_CASE("rules: the built-in rules parse", "[signatures][rules]") {
  auto rules = parse_rules(builtin_rules_text(), "built-in");
  CHECK(rules.size() >= 5);
  for (const Rule& r : rules) CHECK_FALSE(r.conditions.empty());
}

TEST_CASE("signatures: JVM descriptors are recognised exactly", "[signatures]") {
  for (const char* yes : {"Ljava/lang/String;", "(Ljava/lang/Object;I)V", "[Ljava/util/Map$Entry;", "()Ljava/lang/String;",
                          "([BII)I", "(J)[Lfoo/Bar;"})
    CHECK(sig::is_jvm_signature(yes));
  for (const char* no : {"Hello world", "Ljava/lang/String", "(Ljava/lang/Object;", "L;", "Lfoo//bar;", "[[II", "IIII",
                         "(Q)V", "Ljava/lang/String;x", "census-small-1"})
    CHECK_FALSE(sig::is_jvm_signature(no));
}

TEST_CASE("signatures: UTF-16 text is found at word boundaries and needs an end", "[signatures]") {
  AddressSpace empty;  // no memory: no word is a pointer
  std::u16string s = u"Hello wide world";
  std::vector<uint8_t> bytes(8, 0xee);  // a header word first
  for (char16_t ch : s) {
    bytes.push_back(static_cast<uint8_t>(ch));
    bytes.push_back(0);
  }
  bytes.push_back(0);
  bytes.push_back(0);
  CHECK(sig::leading_utf16(empty, bytes) == "Hello wide world");
  std::vector<uint8_t> short_unterminated = {'a', 0, 'b', 0, 'c', 0, 'd', 0, 0xff, 0xff};
  CHECK(sig::leading_utf16(empty, short_unterminated).empty());
}

TEST_CASE("signatures: entropy separates random bytes from text and repeats", "[signatures]") {
  std::vector<uint8_t> all_values(1024), text(1024, 'a'), random(1024);
  for (size_t i = 0; i < all_values.size(); ++i) all_values[i] = static_cast<uint8_t>(i);
  uint64_t x = 88172645463325252ull;
  for (auto& b : random) {
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    b = static_cast<uint8_t>(x);
  }
  CHECK(sig::entropy_bits(all_values) == Approx(8.0));
  CHECK(sig::entropy_bits(text) == Approx(0.0));
  CHECK(sig::entropy_bits(random) > 7.5);
}

TEST_CASE("signatures: text normalisation folds ids, keeps names", "[signatures]") {
  CHECK(normalise_text("session-42") == "session-#");
  CHECK(normalise_text("k5-item") == "k5-item");
  CHECK(normalise_text("x86_64-linux") == "x86_#-linux");
  CHECK(normalise_text("Lgen/C0042;") == "Lgen/C#;");
  CHECK(normalise_text("Lgen/C2999;") == "Lgen/C#;");
  CHECK(normalise_text("id deadbeefcafe") == "id #");
  CHECK(normalise_text(std::string(40, 'x')).size() == 32);
}
