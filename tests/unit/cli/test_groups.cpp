// End-to-end: grouping the census heap by signature puts each census class in a group of
// its own, with exactly the live chunks the truth records for it.
#include <catch2/catch.hpp>
#include <map>

#include "support/cli.hpp"

using coresift::test::corpus_core;
using coresift::test::corpus_truth;
using coresift::test::run_json;
using nlohmann::json;

TEST_CASE("groups: each census class forms its own signature group", "[e2e][groups]") {
  for (std::string stem : {"census.kcore", "census.gcore"}) {
    DYNAMIC_SECTION(stem) {
      json truth = corpus_truth(stem);
      std::map<std::string, uint64_t> live_per_prefix;  // tag prefix → live chunks
      std::map<std::string, std::string> class_of_prefix;
      for (const auto& c : truth["classes"]) class_of_prefix[c["tag_prefix"]] = c["name"];
      for (const auto& a : truth["allocations"])
        if (a["state"] == "live")
          for (const auto& c : truth["classes"])
            if (c["name"] == a["class"]) live_per_prefix[c["tag_prefix"]]++;
      json doc = run_json({"groups", corpus_core(stem + ".core.zst"), "--top", "0"});
      for (const auto& [prefix, count] : live_per_prefix) {
        INFO("class " << class_of_prefix[prefix]);
        const json* group = nullptr;
        for (const auto& g : doc["groups"])
          if (g["key"] == "text:" + prefix + "#") {
            CHECK(group == nullptr);  // exactly one group per class
            group = &g;
          }
        REQUIRE(group);
        CHECK((*group)["chunks"] == count);
      }
    }
  }
}
