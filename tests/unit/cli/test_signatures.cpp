// End-to-end through the CLI: `groups --by signature` on the objects cores shows the class,
// zlib and stdio groups the program recorded; `--rules` files add signatures (tried first),
// and bad rule files are usage errors naming the file and line.
#include <catch2/catch.hpp>

#include <map>

#include "input/temp_dir.hpp"
#include "support/cli.hpp"

using coresift::test::corpus_core;
using coresift::test::corpus_module_args;
using coresift::test::corpus_truth;
using coresift::test::run_cli;
using coresift::test::run_json;
using nlohmann::json;

namespace {

std::map<std::string, uint64_t> group_counts(const json& doc) {
  std::map<std::string, uint64_t> out;
  for (const auto& g : doc["groups"]) out[g["key"]] = g["chunks"];
  return out;
}

std::vector<std::string> groups_args(const std::string& stem, std::vector<std::string> extra = {}) {
  std::vector<std::string> a = {"groups", corpus_core(stem + ".core.zst"), "--top", "0"};
  for (auto& m : corpus_module_args()) a.push_back(m);
  for (auto& e : extra) a.push_back(e);
  return a;
}

// Expected group sizes from the truth's per-allocation signatures.
std::map<std::string, uint64_t> truth_counts(const json& truth) {
  std::map<std::string, uint64_t> out;
  for (const auto& a : truth["allocations"]) out[a["signature"]]++;
  return out;
}

}  // namespace

TEST_CASE("groups: objects cores group into classes, zlib, stdio and text signatures", "[e2e][groups][signatures]") {
  for (std::string stem : {"objects.gcore", "objects.kcore"}) {
    for (bool no_debuginfo : {false, true}) {
      DYNAMIC_SECTION(stem << (no_debuginfo ? " --no-debuginfo" : "")) {
        json truth = corpus_truth(stem);
        std::vector<std::string> extra;
        if (no_debuginfo) extra.push_back("--no-debuginfo");
        auto got = group_counts(run_json(groups_args(stem, extra)));
        for (const auto& [cls, n] : truth["class_counts"].items()) {
          INFO("class " << cls);
          CHECK(got["class:" + cls] == n.get<uint64_t>());
        }
        for (const auto& [name, n] : truth["structure_counts"].items()) {
          INFO(name);
          CHECK(got[name] == n.get<uint64_t>());
        }
        // Every tracked signature group holds at least the tracked chunks (ptr:, text, …).
        for (const auto& [name, n] : truth_counts(truth)) {
          INFO(name);
          CHECK(got[name] >= n);
        }
      }
    }
  }
}

TEST_CASE("groups --rules: user rules come first and name the chunks they match", "[e2e][groups][rules]") {
  coresift::test::TempDir dir;
  std::string rules = dir.write("my.rules",
                                "# test rules\n"
                                "rule my:note\n"
                                "  owner notes-team\n"
                                "  text ^objects-note-1[0-9]+$\n"
                                "  size 16..64\n"
                                "rule my:gzip\n"
                                "  bytes 0 1f8b08\n"
                                "rule my:callbacks\n"
                                "  word 0 objects*\n"
                                "  word 8 objects*\n"
                                "  size 24\n");
  json truth = corpus_truth("objects.kcore");
  auto want = truth_counts(truth);
  auto got = group_counts(run_json(groups_args("objects.kcore", {"--rules", rules})));
  CHECK(got["my:note"] == want["text:objects-note-#"]);
  CHECK(got.count("text:objects-note-#") == 0);
  CHECK(got["my:gzip"] == want["gzip:data"]);  // the user rule wins over the built-in one
  CHECK(got.count("gzip:data") == 0);
  // Two words pointing into the program: only the function-pointer chunks (C++ objects
  // have one, their vtable pointer), and the classes keep their counts.
  CHECK(got["my:callbacks"] == want["ptr:objects"]);
  CHECK(got.count("ptr:objects") == 0);
  for (const auto& [cls, n] : truth["class_counts"].items()) CHECK(got["class:" + cls] == n.get<uint64_t>());
}

TEST_CASE("rule files: bad ones are usage errors that name the file and line", "[e2e][rules]") {
  coresift::test::TempDir dir;
  struct Case {
    const char* text;
    const char* message;
  } cases[] = {
      {"rule a\n  colour red\n", ":2: unknown condition 'colour'"},
      {"rule a\n  text ([a-z\n", ":2: bad regular expression"},
      {"  size 10\n", ":1: 'size' before the first 'rule' line"},
      {"rule a\n  bytes 0 1g\n", ":2: bad hex bytes"},
      {"rule a\n  size 10..5\n", ":2: bad size range"},
      {"rule a\nrule b\n  size 1\n", ":1: rule 'a' has no condition"},
  };
  for (const auto& c : cases) {
    INFO(c.text);
    std::string path = dir.write("bad.rules", std::string(c.text));
    for (const char* cmd : {"groups", "leaks", "chunks"}) {
      auto r = run_cli({cmd, corpus_core("objects.kcore.core.zst"), "--rules", path});
      CHECK(r.status == 2);
      CHECK(r.out.empty());
      CHECK(r.err.find(path + c.message) != std::string::npos);
    }
  }
  auto r = run_cli({"groups", corpus_core("objects.kcore.core.zst"), "--rules", dir.path() + "/missing.rules"});
  CHECK(r.status == 2);
  CHECK(r.err.find("missing.rules: cannot read the rule file") != std::string::npos);
}

TEST_CASE("rule files: chunks and leaks accept a good one", "[e2e][rules]") {
  coresift::test::TempDir dir;
  std::string rules = dir.write("ok.rules", "rule my:any\n  size 1..\n");
  auto leaks = run_json({"leaks", corpus_core("objects.kcore.core.zst"), "--summary", "--rules", rules});
  CHECK(leaks.contains("summary"));
  auto r = run_cli({"chunks", corpus_core("objects.kcore.core.zst"), "--rules", rules});
  CHECK(r.status == 0);
}
